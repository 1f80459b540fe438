/// The Euclidean geometry on vectors.
///
/// - ``Update-swift.enum/fixedPoint``: the concave-convex (CCCP) update, which minimises the
///   energy's convex majorant: `ξ ← ξ - g / c` with `g` the aggregated gradient and `c` the
///   aggregated curvature. For the dot-product divergence this is the classic
///   `q ← Xᵀ ŷ(β X q)` of modern Hopfield networks; the energy never increases along it.
/// - ``Update-swift.enum/gradient(step:)``: a plain (damped) gradient step `ξ ← ξ - τ g`. With the
///   squared Euclidean divergence (curvature 2), `τ = 1/2` is the fixed-point update and smaller
///   steps damp it.
public struct EuclideanGeometry: Geometry {
  /// How a step is taken.
  public enum Update: Sendable, Hashable {
    /// The CCCP fixed-point update.
    case fixedPoint
    /// A gradient step of size `step > 0`.
    case gradient(step: Double)
  }

  /// The update rule.
  public let update: Update

  /// A Euclidean geometry.
  ///
  /// - Throws: ``DAMError`` naming `step` if a gradient step size is not finite and above 0.
  public init(update: Update = .fixedPoint) throws(DAMError) {
    if case .gradient(let step) = update { try _requirePositive(step, "step") }
    self.update = update
  }

  /// The next state.
  public func step(from state: [Double], along variation: EuclideanVariation) throws(DAMError)
    -> [Double]
  {
    switch update {
    case .fixedPoint:
      guard variation.curvature > 0 else {
        throw DAMError(
          .numericalFailure, argument: "geometry",
          "the fixed-point update needs a positive aggregated curvature, got \(variation.curvature)")
      }
      if !variation.hasGradients && variation.targetCurvature == variation.curvature {
        let scale = variation.curvature
        return variation.weightedTargets.map { $0 / scale }
      }
      let gradient = variation.gradient(at: state)
      return zip(state, gradient).map { $0 - $1 / variation.curvature }
    case .gradient(let step):
      let gradient = variation.gradient(at: state)
      return zip(state, gradient).map { $0 - step * $1 }
    }
  }

  /// The largest coordinate change.
  public func change(from old: [Double], to new: [Double]) -> StateChange {
    var largest = 0.0
    for (a, b) in zip(old, new) { largest = max(largest, abs(a - b)) }
    return StateChange(position: largest)
  }
}
