/// The squared Euclidean distance `D(ξ, X) = ‖ξ - X‖²` (not halved, as every cost in the package).
///
/// Its gradient is `2 (ξ - X)`, so the fixed-point update of ``EuclideanGeometry`` is
/// `ξ ← Σ ŷᵢ Xᵢ` with weights `ŷ(-β ‖ξ - X·‖²)`. For patterns of equal norm these weights are
/// those of the dot-product divergence at inverse temperature `2β`.
public struct SquaredEuclideanDivergence: Divergence {
  /// The squared Euclidean divergence.
  public init() {}

  /// Checks the pattern is non-empty and finite.
  public func prepare(_ pattern: [Double]) throws(DAMError) { try VectorChecks.pattern(pattern) }

  /// Checks the dimensions agree.
  public func checkCompatible(_ pattern: [Double], with reference: [Double]) throws(DAMError) {
    try VectorChecks.compatible(pattern, reference)
  }

  /// Checks the query's dimension and values.
  public func checkQuery(_ state: [Double], against reference: [Double]) throws(DAMError) {
    try VectorChecks.query(state, reference)
  }

  /// The patterns packed into one matrix, with their squared norms.
  public func prepareMemory(patterns: [[Double]], caches: [Void]) -> _PackedVectors {
    _PackedVectors(patterns)
  }

  /// `‖ξ - X‖²`, summed directly (no cancellation near the pattern).
  @inlinable
  public func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void, previous: Double?)
    -> Double
  {
    state.withUnsafeBufferPointer { s in pattern.withUnsafeBufferPointer { _squaredDistance(s, $0) } }
  }

  /// `‖ξ - X‖²` for the whole block, as `‖ξ‖² - 2⟨ξ, X⟩ + ‖X‖²` with the inner products of all its
  /// states and patterns by one matrix product (BLAS-3). That form loses digits when `ξ` is near
  /// `X` (it subtracts numbers of size `‖ξ‖² + ‖X‖²`), so wherever it gives less than
  /// `2⁻¹⁰` times that size the distance is summed directly: every value is within a few units of
  /// round-off times `2¹⁰` of the direct sum, relative. Blocks of selected
  /// patterns go pair by pair.
  public func evaluate(_ block: EvaluationBlock<Self>) throws -> [[Double]] {
    guard block.items.allSatisfy(\.indices.isAll) else { return try block.evaluatePairs(self) }
    let states = block.items.map(\.state)
    let norms = states.map { state in state.withUnsafeBufferPointer { _dot($0, $0) } }
    let packed = block.memory.memoryCache
    let d = packed.columns
    return VectorBlocks.evaluate(
      states: states, packed: packed, parallelism: block.parallelism, scratch: block.scratch
    ) {
      b, products, values in
      let norm = norms[b]
      packed.squaredNorms.withUnsafeBufferPointer { patternNorms in
        for i in 0..<products.count {
          let scale = norm + patternNorms[i]
          let expanded = scale - 2 * products[i]
          values[i] = expanded
          guard expanded < Self.exactBelow * scale else { continue }
          values[i] = states[b].withUnsafeBufferPointer { s in
            packed.elements.withUnsafeBufferPointer { x in
              _squaredDistance(s, UnsafeBufferPointer(rebasing: x[(i * d)..<((i + 1) * d)]))
            }
          }
        }
      }
    }
  }

  /// The relative size below which a block's expanded distance is replaced by the direct sum.
  static let exactBelow = 0x1p-10

  /// `Σ 2wᵢ Xᵢ` and `Σ 2wᵢ` per state: the rows with many nonzero weights by one matrix product `W X`,
  /// the sparse ones pattern by pattern.
  public func accumulate(_ block: AccumulationBlock<Self>) -> [EuclideanVariation] {
    VectorBlocks.accumulate(block, packed: block.memory.memoryCache, curvature: 2)
  }

  /// No warm start: evaluations are closed forms.
  public var usesPreviousEvaluations: Bool { false }

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

  /// `‖ξ - X‖²` with `∇_ξ = 2 (ξ - X)` and `∇_X = -2 (ξ - X)`.
  public func gradient(_ evaluation: Double, at state: [Double], query: Void, pattern: [Double], cache: Void)
    -> DivergenceGradient<[Double], [Double]>
  {
    let difference = zip(state, pattern).map { 2 * ($0 - $1) }
    return DivergenceGradient(value: evaluation, state: difference, pattern: difference.map { -$0 })
  }
}

extension Divergence where Self == SquaredEuclideanDivergence {
  /// The squared Euclidean divergence `‖ξ - X‖²`.
  public static var squaredEuclidean: SquaredEuclideanDivergence { SquaredEuclideanDivergence() }
}
