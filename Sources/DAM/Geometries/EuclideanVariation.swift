/// The variation of a divergence between vectors, as the Euclidean geometry consumes it.
///
/// The vector divergences of the package are quadratic: `∇D(ξ, X) = c (ξ - t)` with a constant
/// curvature `c` and a target `t` (the pattern itself for the dot-product and squared Euclidean
/// divergences). Added in that form (``addTarget(_:weight:curvature:)``), the fixed-point update
/// `Σ wᵢ cᵢ tᵢ / Σ wᵢ cᵢ` is computed without cancellation, so a one-hot weight lands exactly on
/// the pattern. Divergences of other shapes add a gradient and a curvature bound instead
/// (``addGradient(_:weight:curvature:)``).
public struct EuclideanVariation: Sendable, Hashable {
  /// `Σ wᵢ cᵢ tᵢ` over the contributions given as targets.
  public private(set) var weightedTargets: [Double]
  /// `Σ wᵢ gᵢ` over the contributions given as gradients.
  public private(set) var weightedGradients: [Double]
  /// `Σ wᵢ cᵢ` over the contributions given as targets.
  public private(set) var targetCurvature: Double
  /// `Σ wᵢ cᵢ` over all contributions.
  public private(set) var curvature: Double
  /// Whether a gradient contribution was added.
  public private(set) var hasGradients: Bool

  /// The zero variation in dimension `dimension`.
  public init(dimension: Int) {
    weightedTargets = [Double](repeating: 0, count: dimension)
    weightedGradients = [Double](repeating: 0, count: dimension)
    targetCurvature = 0
    curvature = 0
    hasGradients = false
  }

  /// The variation `Σ wᵢ cᵢ (ξ - tᵢ)` of target form, from its sums.
  init(weightedTargets: [Double], targetCurvature: Double) {
    self.weightedTargets = weightedTargets
    weightedGradients = [Double](repeating: 0, count: weightedTargets.count)
    self.targetCurvature = targetCurvature
    curvature = targetCurvature
    hasGradients = false
  }

  /// Adds `weight × c (ξ - target)`.
  public mutating func addTarget(_ target: [Double], weight: Double, curvature c: Double) {
    let scale = weight * c
    weightedTargets.withUnsafeMutableBufferPointer { sum in
      target.withUnsafeBufferPointer { t in
        for k in 0..<sum.count { sum[k] += scale * t[k] }
      }
    }
    addCurvature(scale, target: true)
  }

  /// Adds `weight × gradient`, with `c` a curvature (Hessian) scale of the divergence used by
  /// the fixed-point update.
  public mutating func addGradient(_ gradient: [Double], weight: Double, curvature c: Double) {
    weightedGradients.withUnsafeMutableBufferPointer { sum in
      gradient.withUnsafeBufferPointer { g in
        for k in 0..<sum.count { sum[k] += weight * g[k] }
      }
    }
    addCurvature(weight * c, target: false)
  }

  mutating func addCurvature(_ amount: Double, target: Bool) {
    curvature += amount
    if target { targetCurvature += amount } else { hasGradients = true }
  }

  /// The aggregated gradient `Σ wᵢ ∇D(ξ, Xᵢ)` at `state`.
  public func gradient(at state: [Double]) -> [Double] {
    var result = [Double](repeating: 0, count: state.count)
    for k in 0..<state.count {
      result[k] = targetCurvature * state[k] - weightedTargets[k] + weightedGradients[k]
    }
    return result
  }
}
