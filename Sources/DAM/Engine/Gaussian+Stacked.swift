extension Gaussian {
  /// The Eu-DAM encoding of the Gaussian: `(m, vec S)`, the mean followed by the covariance's
  /// `d²` entries in row-major order (`d + d²` values; a diagonal covariance is written in full).
  /// The vectors of ``Stacking/meanAndCovariance``.
  public var stacked: [Double] {
    mean + covarianceMatrix.elements
  }

  /// The Gaussian encoded by a vector `(m, vec S)` of `d + d²` values (the inverse of
  /// ``stacked``); `S` is symmetrised, `(S + Sᵀ)/2`, whatever its asymmetry.
  ///
  /// - Throws: ``DAMError`` naming `vector` if its length is not `d + d²` for a `d ≥ 1`, a value
  ///   is not finite, or the covariance is not positive definite.
  public init(stacked vector: [Double]) throws(DAMError) {
    // d² + d = n  ⇒  d = (√(1 + 4n) - 1) / 2.
    let n = vector.count
    let d = Int(((1 + 4 * Double(n)).squareRoot() - 1) / 2 + 0.5)
    guard d >= 1, d * d + d == n else {
      throw DAMError.mismatch("vector", "has \(n) values, not d + d² for any dimension d >= 1")
    }
    try _requireFinite(vector, "vector")
    let covariance = Matrix(_rows: d, columns: d, elements: Array(vector[d...]))._symmetrized()
    do throws(DAMError) {
      try self.init(mean: Array(vector[..<d]), covariance: covariance)
    } catch {
      throw DAMError(error.kind, argument: "vector", "does not encode a Gaussian: \(error)")
    }
  }
}
