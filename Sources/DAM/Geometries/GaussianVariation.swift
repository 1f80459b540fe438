/// The aggregated variation of a divergence between Gaussians, for the Bures-Wasserstein
/// geometry: the separation-weighted sums `(Σᵢ λᵢ μᵢ, Σᵢ λᵢ Aᵢ, Σᵢ λᵢ)` of the patterns' means,
/// of the matrices `Aᵢ` of the optimal maps `Tᵢ(x) = μᵢ + Aᵢ (x - m)` from the state `N(m, W)` to
/// the patterns, and of the weights.
///
/// The gradient of `Σᵢ λᵢ W₂²(ξ, Xᵢ)` it represents is, with respect to the mean,
/// `2 (Σλ m - Σλμ)` (``meanGradient(at:)``) and, with respect to the covariance,
/// `Σλ I - Σλ A` (``covarianceGradient()``); in the Bures metric the Wasserstein gradient is
/// the affine field `x ↦ 2 Σᵢ λᵢ (x - Tᵢ(x))`.
///
/// The sum of maps stays diagonal while every added map is diagonal, and is promoted to a full
/// matrix by the first full one.
public struct GaussianVariation: Sendable, Hashable {
  /// `Σᵢ λᵢ μᵢ`.
  public private(set) var weightedMeans: [Double]
  /// `Σᵢ λᵢ Aᵢ`, diagonal or full (stored like a covariance).
  public private(set) var weightedMaps: Gaussian.Covariance
  /// `Σᵢ λᵢ`, the total separation weight accumulated (1 on the simplex, k for k-subsets).
  public private(set) var totalWeight: Double

  /// The zero variation in dimension `d`.
  public init(dimension: Int) {
    weightedMeans = [Double](repeating: 0, count: dimension)
    weightedMaps = .diagonal([Double](repeating: 0, count: dimension))
    totalWeight = 0
  }

  /// The dimension `d`.
  public var dimension: Int { weightedMeans.count }

  /// Adds `weight × (μ, A, 1)`: the contribution of a pattern with mean `mean` whose optimal map
  /// from the state has matrix `map`.
  ///
  /// - Throws: ``DAMError`` naming `mean` or `map` if its size is not the variation's dimension.
  public mutating func add(_ weight: Double, mean: [Double], map: Gaussian.Covariance) throws(DAMError) {
    let d = dimension
    guard mean.count == d else {
      throw DAMError.mismatch("mean", "has \(mean.count) values, the variation has dimension \(d)")
    }
    for k in 0..<d { weightedMeans[k] += weight * mean[k] }
    switch (weightedMaps, map) {
    case (.diagonal(var sum), .diagonal(let values)):
      guard values.count == d else {
        throw DAMError.mismatch("map", "has \(values.count) values, the variation has dimension \(d)")
      }
      for k in 0..<d { sum[k] += weight * values[k] }
      weightedMaps = .diagonal(sum)
    case (_, .diagonal(let values)):
      guard values.count == d else {
        throw DAMError.mismatch("map", "has \(values.count) values, the variation has dimension \(d)")
      }
      var sum = BuresWasserstein.fullMatrix(weightedMaps)
      for k in 0..<d { sum._elements[k * d + k] += weight * values[k] }
      weightedMaps = .full(sum)
    case (_, .full(let matrix)):
      guard matrix.rows == d, matrix.columns == d else {
        throw DAMError.mismatch(
          "map", "is \(matrix.rows) x \(matrix.columns), the variation has dimension \(d)")
      }
      var sum = BuresWasserstein.fullMatrix(weightedMaps)
      for k in 0..<(d * d) { sum._elements[k] += weight * matrix._elements[k] }
      weightedMaps = .full(sum)
    }
    totalWeight += weight
  }

  /// Adds another variation of the same dimension (its sums of means, maps and weights).
  mutating func add(_ other: GaussianVariation) throws(DAMError) {
    guard other.dimension == dimension else {
      throw DAMError.mismatch("variation", "has dimension \(other.dimension), this one has \(dimension)")
    }
    for k in 0..<dimension { weightedMeans[k] += other.weightedMeans[k] }
    let total = totalWeight + other.totalWeight
    // The sum of maps with weight 1 (and a zero mean, which leaves the means exactly as they are),
    // through `add` for its diagonal/full promotion rules.
    try add(1, mean: [Double](repeating: 0, count: dimension), map: other.weightedMaps)
    totalWeight = total
  }

  /// Adds `weight × μ` to the means and `weight` to the total, leaving the maps alone: for a
  /// pattern whose map contribution is below round-off (see
  /// ``BuresWassersteinDivergence/accumulate(_:)``).
  mutating func addMeanOnly(_ weight: Double, mean: [Double]) throws(DAMError) {
    guard mean.count == dimension else {
      throw DAMError.mismatch("mean", "has \(mean.count) values, the variation has dimension \(dimension)")
    }
    for k in 0..<dimension { weightedMeans[k] += weight * mean[k] }
    totalWeight += weight
  }

  /// The gradient with respect to the mean at a state with mean `m`: `2 (Σλ m - Σλ μ)`.
  public func meanGradient(at state: Gaussian) -> [Double] {
    zip(state.mean, weightedMeans).map { 2 * (totalWeight * $0 - $1) }
  }

  /// The gradient with respect to the covariance `W` (a symmetric matrix, paired with a symmetric
  /// direction `H` by `tr(G H)`): `Σλ I - Σλ A`.
  public func covarianceGradient() -> Matrix {
    let d = dimension
    var gradient = BuresWasserstein.fullMatrix(weightedMaps)
    for k in 0..<(d * d) { gradient._elements[k] = -gradient._elements[k] }
    for k in 0..<d { gradient._elements[k * d + k] += totalWeight }
    return gradient
  }
}
