/// `c(x, y) = (x - y)ᵀ M (x - y)` for a symmetric positive definite `M`: the squared distance in
/// the metric `M` (for `M = L Lᵀ`, the squared Euclidean distance between `Lᵀx` and `Lᵀy`).
public struct MahalanobisCost: Cost, Hashable {
  /// The metric `M`, `d x d`.
  public let metric: Matrix

  /// The largest eigenvalue of ``metric``.
  private let largestEigenvalue: Double

  /// The squared distance in the metric `metric`.
  ///
  /// - Throws: ``DAMError`` naming `metric` unless it is square, finite, symmetric (to `1e-10` of
  ///   its largest entry) and positive definite (its smallest eigenvalue above `1e-12` of the
  ///   largest).
  public init(metric: Matrix) throws(DAMError) {
    let spectrum = try SymmetricEigendecomposition(metric, argument: "metric").eigenvalues
    guard let smallest = spectrum.first, let largest = spectrum.last, smallest > 1e-12 * largest else {
      throw DAMError.invalid(
        "metric",
        "must be positive definite, got eigenvalues from \(spectrum.first ?? 0) to \(spectrum.last ?? 0)")
    }
    self.metric = metric
    largestEigenvalue = largest
  }

  public func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    let d = x.count
    var sum = 0.0
    for s in 0..<d {
      var row = 0.0
      for t in 0..<d { row += metric[s, t] * (x[t] - y[t]) }
      sum += (x[s] - y[s]) * row
    }
    return max(0, sum)
  }

  /// `2 M (x - y)`.
  public func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>
  ) {
    let d = x.count
    for s in 0..<d {
      var row = 0.0
      for t in 0..<d { row += metric[s, t] * (x[t] - y[t]) }
      gradient[s] = 2 * row
    }
  }

  /// The largest eigenvalue of `M` times the squared diameter of the joint bounding box.
  public func largestCost(_ x: Matrix, _ y: Matrix) -> Double { largestEigenvalue * squaredReach(x, y) }

  public func validate(dimension: Int) throws(DAMError) {
    guard dimension == metric.rows else {
      throw DAMError.mismatch(
        "cost", "has a \(metric.rows) x \(metric.rows) metric for points of dimension \(dimension)")
    }
  }

  public var description: String { "mahalanobis(\(metric.rows)x\(metric.rows))" }
}
