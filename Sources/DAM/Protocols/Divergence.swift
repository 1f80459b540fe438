/// A divergence between the state of a query and a stored pattern: the `D(ξ, Xᵢ)` of the energy
/// `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))`, and the *variation* a ``Geometry`` needs to move `ξ`.
///
/// The seam is batch-first: the retrieval engine hands a divergence a *block* of work, several
/// query states each at several stored patterns, and the divergence answers the whole block in one
/// call (vectors: one matrix product for every score of the block). A simple divergence implements
/// only the per-pair methods; the block methods' defaults call them for every pair, on the
/// block's threads.
///
/// The engine drives a divergence in a fixed order, which is also its contract:
/// 1. ``prepare(_:)`` once per pattern when it is stored: validate the pattern and compute the
///    query-independent data it will need (a norm, a matrix square root, a self-transport cost);
///    ``prepareMemory(patterns:caches:)`` once per memory, before its first retrieval, for data
///    about all patterns together (the patterns packed into one matrix).
/// 2. ``prepareQuery(_:previous:)`` once per state and step: query-only work shared by all
///    patterns (the query's own entropic self-transport problem, for example).
/// 3. ``evaluate(_:)-(EvaluationBlock<Self>)`` for a block of states and patterns: the values and
///    whatever the variations will need later (potentials, a transport map), as ``Evaluation``s.
/// 4. ``accumulate(_:)-(AccumulationBlock<Self>)`` for a block of states, each with the patterns
///    whose separation weight is nonzero: the weighted sum `Σ wᵢ × variation(ξ, Xᵢ)` per state.
///
/// Results must not depend on how the engine forms blocks: a state's evaluations and its
/// variation are the same whether it comes alone or in a batch, and for every thread count (up to
/// round-off where a block uses a matrix product, whose summation order BLAS chooses).
///
/// Conform a type of your own to plug in a divergence the package does not have; nothing in the
/// package needs to change. ``DivergenceConformance`` checks a conformance numerically.
public protocol Divergence: Sendable {
  /// The query state being moved by retrieval (a vector, a point cloud, a Gaussian).
  associatedtype State: Sendable
  /// A stored pattern.
  associatedtype Pattern: Sendable
  /// Query-independent data computed once per stored pattern.
  associatedtype PatternCache: Sendable = Void
  /// Query-independent data about all the patterns of a memory together.
  associatedtype MemoryCache: Sendable = Void
  /// Query-only data computed once per retrieval step.
  associatedtype QueryCache: Sendable = Void
  /// The result of evaluating the divergence at one pattern.
  associatedtype Evaluation: Sendable
  /// What a geometry consumes to move the state; combined linearly across patterns.
  associatedtype Variation: Sendable
  /// The gradient `∇_ξ D(ξ, X)` with respect to the state; `Never` (the default) for a divergence
  /// without gradients.
  associatedtype StateGradient: GradientVector = Never
  /// The gradient `∇_X D(ξ, X)` with respect to the pattern; `Never` (the default) for a divergence
  /// without gradients.
  associatedtype PatternGradient: GradientVector = Never

  /// Validates a pattern and computes its cache; called once, when the pattern is stored.
  func prepare(_ pattern: Pattern) throws -> PatternCache

  /// Computes the memory-wide cache from every stored pattern and its cache; called at most once
  /// per memory value, before its first block of work (and again after an append).
  func prepareMemory(patterns: [Pattern], caches: [PatternCache]) -> MemoryCache

  /// Throws if `pattern` cannot be stored in a memory whose first pattern is `reference`
  /// (for example a different dimension). The default accepts everything.
  func checkCompatible(_ pattern: Pattern, with reference: Pattern) throws

  /// Throws if `state` cannot be compared with patterns like `reference`. The default accepts
  /// everything.
  func checkQuery(_ state: State, against reference: Pattern) throws

  /// Query-only work for one step, shared by every pattern; `previous` is the same query's cache
  /// at the previous step, if any (a warm start for iterative solvers).
  func prepareQuery(_ state: State, previous: QueryCache?) throws -> QueryCache

  /// Evaluates the divergence between the state and one stored pattern; `previous` is the
  /// evaluation at the same pattern in the previous step, if known (a warm start).
  func evaluate(
    _ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache, previous: Evaluation?
  ) throws -> Evaluation

  /// Whether ``evaluate(_:query:pattern:cache:previous:)`` (or the block form) uses the previous
  /// step's evaluations, so that the engine keeps them from one step to the next. The default is
  /// `true`; divergences without warm starts say `false`, and a batch then holds one step's
  /// evaluations at a time instead of two.
  var usesPreviousEvaluations: Bool { get }

  /// Evaluates every state of the block at its patterns: one array per item of
  /// ``EvaluationBlock/items``, in the order of the item's ``EvaluationBlock/Item/indices``.
  ///
  /// The default calls ``evaluate(_:query:pattern:cache:previous:)`` for every pair, on up to
  /// ``EvaluationBlock/parallelism`` threads; override it to share work across the block (a
  /// matrix product for all scores, say). Throw the first failure in item order.
  func evaluate(_ block: EvaluationBlock<Self>) throws -> [[Evaluation]]

  /// The value `D(ξ, X)` held by an evaluation.
  func value(of evaluation: Evaluation) -> Double

  /// A certified lower bound on the divergence from `state` to `pattern`, much cheaper than
  /// ``evaluate(_:query:pattern:cache:previous:)``, or `nil` if there is none (the default).
  /// Engines with ``Pruning`` enabled evaluate patterns in the order of their bounds and skip those
  /// whose bound proves their weight zero (or negligible), so a bound above the true value changes
  /// retrievals.
  func lowerBound(_ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache) -> Double?

  /// ``lowerBound(_:query:pattern:cache:)`` for the patterns at `indices` of `patterns`, in order,
  /// or `nil` if any has none. The default calls it pattern by pattern; engines call this on
  /// blocks of the memory, several at once.
  func lowerBounds(
    _ state: State, query: QueryCache, patterns: [Pattern], caches: [PatternCache], indices: Range<Int>
  ) -> [Double]?

  /// The additive identity for variations at `state`.
  func zeroVariation(at state: State) -> Variation

  /// Adds `weight × variation(ξ, X)` into `variation`.
  func accumulate(
    _ weight: Double, of evaluation: Evaluation, at state: State, query: QueryCache,
    pattern: Pattern, cache: PatternCache, into variation: inout Variation) throws

  /// The weighted variation `Σᵢ wᵢ × variation(ξ, Xᵢ)` of every item of the block, over its
  /// ``AccumulationBlock/Item/support`` (the patterns with nonzero weight).
  ///
  /// The default starts each item at ``zeroVariation(at:)`` and calls
  /// ``accumulate(_:of:at:query:pattern:cache:into:)`` in pattern order, items on up to
  /// ``AccumulationBlock/parallelism`` threads; override it to compute variations together (one
  /// matrix product for all items) or concurrently within an item (reducing in a fixed order),
  /// or to skip contributions below round-off, saying so in the documentation.
  func accumulate(_ block: AccumulationBlock<Self>) throws -> [Variation]

  /// `D(ξ, X)` and its gradients in both arguments at a pair already evaluated (and `∂D/∂ε` for an
  /// entropic divergence), from what the evaluation holds (potentials, transport maps).
  ///
  /// The default, for divergences whose gradient types are `Never`, throws a ``DAMError`` saying
  /// the divergence is not differentiable. ``valueAndGradient(_:_:)`` calls it for one pair from
  /// scratch; ``RetrievalEngine/energyGradient(at:)`` combines it over the patterns with nonzero
  /// weight.
  func gradient(
    _ evaluation: Evaluation, at state: State, query: QueryCache, pattern: Pattern, cache: PatternCache
  ) throws -> DivergenceGradient<StateGradient, PatternGradient>
}

extension Divergence {
  /// ``prepareQuery(_:previous:)`` without a previous step.
  public func prepareQuery(_ state: State) throws -> QueryCache {
    try prepareQuery(state, previous: nil)
  }

  /// ``evaluate(_:query:pattern:cache:previous:)`` without a previous step.
  public func evaluate(_ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache) throws
    -> Evaluation
  {
    try evaluate(state, query: query, pattern: pattern, cache: cache, previous: nil)
  }

  /// Every pair of the block by ``evaluate(_:query:pattern:cache:previous:)``, in fixed chunks on
  /// the block's threads.
  public func evaluate(_ block: EvaluationBlock<Self>) throws -> [[Evaluation]] {
    try block.evaluatePairs(self)
  }

  /// Each item by ``accumulate(_:of:at:query:pattern:cache:into:)`` in pattern order, items on
  /// the block's threads.
  public func accumulate(_ block: AccumulationBlock<Self>) throws -> [Variation] {
    try block.accumulatePairs(self)
  }

  /// The engine keeps the previous step's evaluations.
  public var usesPreviousEvaluations: Bool { true }

  /// Accepts every pattern.
  public func checkCompatible(_ pattern: Pattern, with reference: Pattern) throws {}

  /// Accepts every query.
  public func checkQuery(_ state: State, against reference: Pattern) throws {}

  /// No bound: every pattern is evaluated exactly.
  public func lowerBound(_ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache) -> Double?
  {
    nil
  }

  /// Calls ``lowerBound(_:query:pattern:cache:)`` for each pattern in turn (compiled for each
  /// conformance, so the patterns are read in place rather than copied).
  public func lowerBounds(
    _ state: State, query: QueryCache, patterns: [Pattern], caches: [PatternCache], indices: Range<Int>
  ) -> [Double]? {
    lowerBoundsOneByOne(state, query: query, patterns: patterns, caches: caches, indices: indices)
  }

  /// ``lowerBounds(_:query:patterns:caches:indices:)`` by ``lowerBound(_:query:pattern:cache:)``
  /// pattern by pattern: the default, and the fallback of conformances with a faster path.
  func lowerBoundsOneByOne(
    _ state: State, query: QueryCache, patterns: [Pattern], caches: [PatternCache], indices: Range<Int>
  ) -> [Double]? {
    var bounds: [Double] = []
    bounds.reserveCapacity(indices.count)
    for i in indices {
      guard let bound = lowerBound(state, query: query, pattern: patterns[i], cache: caches[i]) else {
        return nil
      }
      bounds.append(bound)
    }
    return bounds
  }
}

extension Divergence where QueryCache == Void {
  /// No query-only work.
  public func prepareQuery(_ state: State, previous: Void?) throws {}
}

extension Divergence where PatternCache == Void {
  /// No cached data; override to validate patterns.
  public func prepare(_ pattern: Pattern) throws {}
}

extension Divergence where MemoryCache == Void {
  /// No memory-wide data.
  public func prepareMemory(patterns: [Pattern], caches: [PatternCache]) {}
}

extension Divergence where Evaluation == Double {
  /// The evaluation is the value itself.
  @inlinable
  public func value(of evaluation: Double) -> Double { evaluation }
}
