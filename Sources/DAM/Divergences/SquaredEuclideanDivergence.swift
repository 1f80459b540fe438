/// The squared Euclidean distance `D(ξ, X) = ‖ξ - X‖²` (not halved, as every cost in the package).
///
/// Its gradient is `2 (ξ - X)`, so the fixed-point update of ``EuclideanGeometry`` is
/// `ξ ← Σ ŷᵢ Xᵢ` with weights `ŷ(-β ‖ξ - X·‖²)`. For patterns of equal norm these weights are
/// those of the dot-product divergence at inverse temperature `2β`.
public struct SquaredEuclideanDivergence: Divergence {
  /// The squared Euclidean divergence.
  public init() {}

  /// Checks the pattern is non-empty and finite.
  public func prepare(_ pattern: [Double]) throws(DAMError) { try _VectorChecks.pattern(pattern) }

  /// Checks the dimensions agree.
  public func checkCompatible(_ pattern: [Double], with reference: [Double]) throws(DAMError) {
    try _VectorChecks.compatible(pattern, reference)
  }

  /// Checks the query's dimension and values.
  public func checkQuery(_ state: [Double], against reference: [Double]) throws(DAMError) {
    try _VectorChecks.query(state, reference)
  }

  /// `‖ξ - X‖²`, summed directly (no cancellation near the pattern).
  @inlinable
  public func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void) -> Double {
    state.withUnsafeBufferPointer { s in pattern.withUnsafeBufferPointer { _squaredDistance(s, $0) } }
  }

  /// The zero variation.
  public func zeroVariation(at state: [Double]) -> EuclideanVariation {
    EuclideanVariation(dimension: state.count)
  }

  /// Adds `weight × 2 (ξ - X)`: target `X`, curvature 2.
  public func accumulate(
    _ weight: Double, of evaluation: Double, at state: [Double], query: Void, pattern: [Double],
    cache: Void, into variation: inout EuclideanVariation
  ) {
    variation.addTarget(pattern, weight: weight, curvature: 2)
  }
}

extension Divergence where Self == SquaredEuclideanDivergence {
  /// The squared Euclidean divergence `‖ξ - X‖²`.
  public static var squaredEuclidean: SquaredEuclideanDivergence { SquaredEuclideanDivergence() }
}
