/// The dot-product "divergence" of modern Hopfield networks: `D(ξ, X) = ½‖ξ‖² - ⟨ξ, X⟩`.
///
/// With it the engine's energy is exactly the Hopfield-Fenchel-Young energy (eq. 8 of the
/// sparse and structured Hopfield networks paper), `E(ξ) = -(1/β) Ω*(β X ξ) + ½‖ξ‖²`, because
/// the `½‖ξ‖²` term is the same for every pattern and `Ω*` commutes with constant shifts. Its
/// separation weights are `ŷ(β X ξ)` and the fixed-point update of ``EuclideanGeometry`` is
/// `ξ ← Xᵀ ŷ(β X ξ)`. It is not a divergence in the strict sense (it can be negative); it is
/// `½‖ξ - X‖² - ½‖X‖²`.
public struct DotProductDivergence: Divergence {
  /// The dot-product divergence.
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

  /// The patterns packed into one matrix.
  public func prepareMemory(patterns: [[Double]], caches: [Void]) -> _PackedVectors {
    _PackedVectors(patterns)
  }

  /// `½‖ξ‖²`, shared by every pattern.
  public func prepareQuery(_ state: [Double], previous: Double?) -> Double {
    state.withUnsafeBufferPointer { 0.5 * _dot($0, $0) }
  }

  /// `½‖ξ‖² - ⟨ξ, X⟩`.
  @inlinable
  public func evaluate(
    _ state: [Double], query halfSquaredNorm: Double, pattern: [Double], cache: Void, previous: Double?
  ) -> Double {
    let dot = state.withUnsafeBufferPointer { s in pattern.withUnsafeBufferPointer { _dot(s, $0) } }
    return halfSquaredNorm - dot
  }

  /// `½‖ξ‖² - ⟨ξ, X⟩` for the whole block: the inner products of all its states with all patterns by
  /// one matrix product (BLAS-3), in chunks of states. Blocks of selected patterns go pair by pair.
  public func evaluate(_ block: EvaluationBlock<Self>) throws -> [[Double]] {
    guard block.items.allSatisfy(\.indices.isAll) else { return try block.evaluatePairs(self) }
    let items = block.items
    return VectorBlocks.evaluate(
      states: items.map(\.state), packed: block.memory.memoryCache, parallelism: block.parallelism,
      scratch: block.scratch
    ) { b, products, values in
      let halfSquaredNorm = items[b].query
      for i in 0..<products.count { values[i] = halfSquaredNorm - products[i] }
    }
  }

  /// `Σ wᵢ Xᵢ` and `Σ wᵢ` per state: the rows with many nonzero weights by one matrix product `W X`,
  /// the sparse ones pattern by pattern.
  public func accumulate(_ block: AccumulationBlock<Self>) -> [EuclideanVariation] {
    VectorBlocks.accumulate(block, packed: block.memory.memoryCache, curvature: 1)
  }

  /// No warm start: evaluations are closed forms.
  public var usesPreviousEvaluations: Bool { false }

  /// The zero variation.
  public func zeroVariation(at state: [Double]) -> EuclideanVariation {
    EuclideanVariation(dimension: state.count)
  }

  /// Adds `weight × (ξ - X)`: target `X`, curvature 1.
  public func accumulate(
    _ weight: Double, of evaluation: Double, at state: [Double], query: Double, pattern: [Double],
    cache: Void, into variation: inout EuclideanVariation
  ) {
    variation.addTarget(pattern, weight: weight, curvature: 1)
  }

  /// `½‖ξ‖² - ⟨ξ, X⟩` with `∇_ξ = ξ - X` and `∇_X = -ξ`.
  public func gradient(
    _ evaluation: Double, at state: [Double], query: Double, pattern: [Double], cache: Void
  ) -> DivergenceGradient<[Double], [Double]> {
    DivergenceGradient(
      value: evaluation, state: zip(state, pattern).map { $0 - $1 }, pattern: state.map { -$0 })
  }
}

extension Divergence where Self == DotProductDivergence {
  /// The dot-product divergence `½‖ξ‖² - ⟨ξ, X⟩`.
  public static var dotProduct: DotProductDivergence { DotProductDivergence() }
}
