import CLinearAlgebra

/// A Gaussian `N(m, S)` with a full or diagonal covariance.
public struct Gaussian: Sendable, Hashable {
  /// A covariance matrix, stored in full or as its diagonal.
  public enum Covariance: Sendable, Hashable {
    /// A symmetric positive semi-definite `d x d` matrix.
    case full(Matrix)
    /// The variances of a diagonal covariance, all positive.
    case diagonal([Double])
  }

  /// The mean `m`.
  public let mean: [Double]
  /// The covariance `S`.
  public let covariance: Covariance

  /// The relative asymmetry `max|S - Sᵀ| / max|S|` accepted and symmetrised away by
  /// ``init(mean:covariance:)``: covariances read from float32 files or computed by products are
  /// symmetric only up to round-off.
  public static let symmetryTolerance = 1e-8

  /// A Gaussian with a full covariance.
  ///
  /// The covariance may be singular (positive semi-definite): ``BuresWasserstein`` distances and
  /// maps, and stored patterns of a retrieval, take it; a retrieval's query (its state) must be
  /// positive definite, since the step inverts it.
  ///
  /// - Throws: ``DAMError`` naming `mean` or `covariance` if a value is not finite, the sizes
  ///   disagree, the covariance is not symmetric within ``symmetryTolerance``, or it is not
  ///   positive semi-definite (an eigenvalue below minus the round-off floor of
  ///   ``EigenvalueFloor``; checked only when a Cholesky factorisation fails).
  public init(mean: [Double], covariance: Matrix) throws(DAMError) {
    let d = mean.count
    guard d > 0 else { throw DAMError.invalid("mean", "is empty") }
    try _requireFinite(mean, "mean")
    guard covariance.rows == d, covariance.columns == d else {
      throw DAMError.mismatch(
        "covariance", "is \(covariance.rows) x \(covariance.columns), the mean has dimension \(d)")
    }
    try _requireFinite(covariance.elements, "covariance")
    let scale = covariance.maxAbs
    let asymmetry = covariance.asymmetry
    guard asymmetry <= Self.symmetryTolerance * scale else {
      throw DAMError.invalid(
        "covariance",
        "is not symmetric: max |S[i,j] - S[j,i]| = \(asymmetry), more than \(Self.symmetryTolerance) of max |S| = \(scale)"
      )
    }
    let symmetric = covariance._symmetrized()
    var factor = symmetric.elements
    let info = factor.withUnsafeMutableBufferPointer {
      LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(d), $0.baseAddress, Int32(d))
    }
    if info != 0 {
      // Not positive definite: accepted if positive semi-definite (a degenerate Gaussian, whose
      // W₂² to any other is still well defined), with eigenvalues down to minus the round-off
      // floor (``EigenvalueFloor``) counted as 0.
      let eigen = try SymmetricEigendecomposition(symmetric, argument: "covariance")
      let tiny = EigenvalueFloor.default.value(for: eigen.eigenvalues)
      if let smallest = eigen.eigenvalues.first, smallest < -tiny {
        throw DAMError(
          .notPositiveDefinite, argument: "covariance",
          "is indefinite: its smallest eigenvalue is \(smallest), below the round-off floor -\(tiny); a covariance must be positive definite or semi-definite"
        )
      }
    }
    self.mean = mean
    self.covariance = .full(symmetric)
  }

  /// A Gaussian with a diagonal covariance `diag(variances)`.
  ///
  /// - Throws: ``DAMError`` naming `mean` or `variances` if a value is not finite, the sizes
  ///   disagree, or a variance is not positive.
  public init(mean: [Double], variances: [Double]) throws(DAMError) {
    guard !mean.isEmpty else { throw DAMError.invalid("mean", "is empty") }
    try _requireFinite(mean, "mean")
    guard variances.count == mean.count else {
      throw DAMError.mismatch(
        "variances", "has \(variances.count) values, the mean has dimension \(mean.count)")
    }
    for (i, v) in variances.enumerated() where !(v > 0 && v.isFinite) {
      throw DAMError(
        .notPositiveDefinite, argument: "variances", "must be finite and > 0, got \(v) at index \(i)")
    }
    self.mean = mean
    self.covariance = .diagonal(variances)
  }

  /// The dimension `d`.
  public var dimension: Int { mean.count }

  /// The covariance as a full matrix.
  public var covarianceMatrix: Matrix {
    switch covariance {
    case .full(let matrix): matrix
    case .diagonal(let variances): Matrix(diagonal: variances)
    }
  }
}
