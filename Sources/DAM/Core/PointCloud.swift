/// A weighted point cloud `μ = Σⱼ wⱼ δ_{yⱼ}`: `n` atoms in `ℝᵈ` with probability weights.
public struct PointCloud: Sendable, Hashable {
  /// The atoms, one per row (`count x dimension`).
  public let points: Matrix
  /// The weights, non-negative and summing to 1.
  public let weights: [Double]
  /// The weighted mean `Σ wⱼ yⱼ`, computed once at creation.
  public let mean: [Double]
  /// The spread `√(Σ wⱼ ‖yⱼ - m‖²)` (root of the total variance), computed once at creation for
  /// the pruning bounds.
  let spread: Double
  /// The weighted covariance `(c₁₁, c₁₂, c₂₂)` of a cloud in one or two dimensions (`c₁₁` alone in
  /// one; zero above two), computed once at creation for the Gelbrich term of the pruning bounds.
  let planarCovariance: SIMD3<Double>
  /// The mean in one or two dimensions as a vector (zero above two), for the pruning bounds.
  let planarMean: SIMD2<Double>

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
      self.weights = try probabilityWeights(weights, "weights", normalize: normalize)
    } else {
      self.weights = [Double](repeating: 1 / Double(points.rows), count: points.rows)
    }
    self.points = points
    var mean = [Double](repeating: 0, count: points.columns)
    for j in 0..<points.rows {
      for k in 0..<points.columns { mean[k] += self.weights[j] * points[j, k] }
    }
    self.mean = mean
    var variance = 0.0
    for j in 0..<points.rows {
      var squared = 0.0
      for k in 0..<points.columns { squared += (points[j, k] - mean[k]) * (points[j, k] - mean[k]) }
      variance += self.weights[j] * squared
    }
    self.spread = variance.squareRoot()
    var covariance = SIMD3<Double>(0, 0, 0)
    if points.columns <= 2 {
      for j in 0..<points.rows {
        let first = points[j, 0] - mean[0]
        let second = points.columns == 2 ? points[j, 1] - mean[1] : 0
        covariance += self.weights[j] * SIMD3(first * first, first * second, second * second)
      }
    }
    self.planarCovariance = covariance
    self.planarMean =
      points.columns == 1 ? SIMD2(mean[0], 0) : points.columns == 2 ? SIMD2(mean[0], mean[1]) : SIMD2(0, 0)
  }

  /// The number of atoms.
  public var count: Int { points.rows }
  /// The dimension of the space.
  public var dimension: Int { points.columns }
}
