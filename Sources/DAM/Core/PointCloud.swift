/// A weighted point cloud `μ = Σⱼ wⱼ δ_{yⱼ}`: `n` atoms in `ℝᵈ` with probability weights.
public struct PointCloud: Sendable, Hashable {
  /// The atoms, one per row (`count x dimension`).
  public let points: Matrix
  /// The weights, non-negative and summing to 1.
  public let weights: [Double]

  /// A point cloud with the given atoms and weights (uniform when `nil`).
  ///
  /// Weights must be finite and non-negative, not all zero, and sum to 1 within
  /// ``probabilitySumTolerance`` (they are then renormalised exactly). Zero weights and repeated
  /// atoms are allowed.
  /// - Throws: ``DAMError`` naming `points` or `weights`.
  public init(points: Matrix, weights: [Double]? = nil) throws(DAMError) {
    try self.init(points: points, weights: weights, normalize: false)
  }

  /// A point cloud whose weights are proportional to `masses` (any positive total).
  public init(points: Matrix, masses: [Double]) throws(DAMError) {
    try self.init(points: points, weights: masses, normalize: true)
  }

  private init(points: Matrix, weights: [Double]?, normalize: Bool) throws(DAMError) {
    guard points.rows > 0 else { throw DAMError.invalid("points", "has no atoms") }
    guard points.columns > 0 else { throw DAMError.invalid("points", "has dimension 0") }
    try _requireFinite(points.elements, "points")
    if let weights {
      guard weights.count == points.rows else {
        throw DAMError.mismatch("weights", "has \(weights.count) values for \(points.rows) atoms")
      }
      self.weights = try _probabilityWeights(weights, "weights", normalize: normalize)
    } else {
      self.weights = [Double](repeating: 1 / Double(points.rows), count: points.rows)
    }
    self.points = points
  }

  /// The number of atoms.
  public var count: Int { points.rows }
  /// The dimension of the space.
  public var dimension: Int { points.columns }

  /// The weighted mean `Σ wⱼ yⱼ`.
  public var mean: [Double] {
    var result = [Double](repeating: 0, count: dimension)
    for j in 0..<count {
      for k in 0..<dimension { result[k] += weights[j] * points[j, k] }
    }
    return result
  }
}
