/// A divergence between the state of a query and a stored pattern: the `D(ξ, Xᵢ)` of the energy
/// `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))`, and the *variation* a ``Geometry`` needs to move `ξ`.
///
/// The retrieval engine drives a divergence in a fixed order, which is also its contract:
/// 1. ``prepare(_:)`` once per pattern when it is stored: validate the pattern and compute the
///    query-independent data it will need (a norm, a matrix square root, a self-transport cost).
/// 2. ``prepareQuery(_:)`` once per step: query-only work shared by all patterns (the query's own
///    entropic self-transport problem, for example).
/// 3. ``evaluate(_:query:pattern:cache:)`` for every stored pattern: the value and whatever the
///    variation will need later (potentials, a transport map), in an ``Evaluation``.
/// 4. ``accumulate(_:of:at:query:pattern:cache:into:)`` only for patterns whose separation weight
///    is nonzero, adding `weight × variation` into a running sum started by
///    ``zeroVariation(at:)``. Variations of different patterns are combined linearly.
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
  /// Query-only data computed once per retrieval step.
  associatedtype QueryCache: Sendable = Void
  /// The result of evaluating the divergence at one pattern.
  associatedtype Evaluation: Sendable
  /// What a geometry consumes to move the state; combined linearly across patterns.
  associatedtype Variation: Sendable

  /// Validates a pattern and computes its cache; called once, when the pattern is stored.
  func prepare(_ pattern: Pattern) throws -> PatternCache

  /// Throws if `pattern` cannot be stored in a memory whose first pattern is `reference`
  /// (for example a different dimension). The default accepts everything.
  func checkCompatible(_ pattern: Pattern, with reference: Pattern) throws

  /// Throws if `state` cannot be compared with patterns like `reference`. The default accepts
  /// everything.
  func checkQuery(_ state: State, against reference: Pattern) throws

  /// Query-only work for one step, shared by every pattern.
  func prepareQuery(_ state: State) throws -> QueryCache

  /// Evaluates the divergence between the state and one stored pattern.
  func evaluate(_ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache) throws
    -> Evaluation

  /// Query-only work for one step, given that of the previous step (a warm start for iterative
  /// solvers). The default ignores `previous`.
  func prepareQuery(_ state: State, previous: QueryCache?) throws -> QueryCache

  /// Evaluates at one pattern, given the evaluation at the same pattern in the previous step (a
  /// warm start for iterative solvers). The default ignores `previous`.
  func evaluate(
    _ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache, previous: Evaluation?
  ) throws -> Evaluation

  /// Evaluates at every stored pattern, in order (`previous`: the previous step's evaluations, in
  /// the same order). The default calls ``evaluate(_:query:pattern:cache:previous:)`` for each
  /// pattern in turn; override it to evaluate patterns concurrently or in batches. The result must
  /// not depend on how the work is scheduled.
  func evaluateAll(
    _ state: State, query: QueryCache, patterns: [Pattern], caches: [PatternCache], previous: [Evaluation]?
  ) throws -> [Evaluation]
  /// The value `D(ξ, X)` held by an evaluation.
  func value(of evaluation: Evaluation) -> Double

  /// A certified lower bound on the divergence from `state` to `pattern`, much cheaper than
  /// ``evaluate(_:query:pattern:cache:)``, or `nil` if there is none (the default). Engines with
  /// ``Pruning`` enabled evaluate patterns in the order of their bounds and skip those whose
  /// bound proves their weight zero (or negligible), so a bound above the true value changes
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
  /// Adds `weights[i] × variation(ξ, Xᵢ)` into `variation` for every pattern with nonzero weight.
  /// The default calls ``accumulate(_:of:at:query:pattern:cache:into:)`` in pattern order;
  /// override it to compute variations concurrently (reducing in a fixed order) or to skip
  /// contributions below round-off, saying so in the documentation.
  func accumulateAll(
    _ weights: [Double], of evaluations: [Evaluation], at state: State, query: QueryCache,
    patterns: [Pattern],
    caches: [PatternCache], into variation: inout Variation) throws
}

extension Divergence {
  /// Ignores the previous step's query cache.
  public func prepareQuery(_ state: State, previous: QueryCache?) throws -> QueryCache {
    try prepareQuery(state)
  }

  /// Ignores the previous step's evaluation.
  public func evaluate(
    _ state: State, query: QueryCache, pattern: Pattern, cache: PatternCache, previous: Evaluation?
  ) throws -> Evaluation {
    try evaluate(state, query: query, pattern: pattern, cache: cache)
  }

  /// Evaluates the patterns one after the other.
  public func evaluateAll(
    _ state: State, query: QueryCache, patterns: [Pattern], caches: [PatternCache], previous: [Evaluation]?
  ) throws -> [Evaluation] {
    var evaluations: [Evaluation] = []
    evaluations.reserveCapacity(patterns.count)
    for i in patterns.indices {
      evaluations.append(
        try evaluate(state, query: query, pattern: patterns[i], cache: caches[i], previous: previous?[i]))
    }
    return evaluations
  }
  /// Accumulates the patterns with nonzero weight one after the other, in order.
  public func accumulateAll(
    _ weights: [Double], of evaluations: [Evaluation], at state: State, query: QueryCache,
    patterns: [Pattern],
    caches: [PatternCache], into variation: inout Variation
  ) throws {
    for i in patterns.indices where weights[i] != 0 {
      try accumulate(
        weights[i], of: evaluations[i], at: state, query: query, pattern: patterns[i], cache: caches[i],
        into: &variation)
    }
  }
  /// Accepts every pattern.
  public func checkCompatible(_ pattern: Pattern, with reference: Pattern) throws {}

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
    _lowerBoundsOneByOne(state, query: query, patterns: patterns, caches: caches, indices: indices)
  }

  /// ``lowerBounds(_:query:patterns:caches:indices:)`` by ``lowerBound(_:query:pattern:cache:)``
  /// pattern by pattern: the default, and the fallback of conformances with a faster path.
  func _lowerBoundsOneByOne(
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

  /// Accepts every query.
  public func checkQuery(_ state: State, against reference: Pattern) throws {}
}

extension Divergence where QueryCache == Void {
  /// No query-only work.
  public func prepareQuery(_ state: State) throws {}
}

extension Divergence where PatternCache == Void {
  /// No cached data; override to validate patterns.
  public func prepare(_ pattern: Pattern) throws {}
}

extension Divergence where Evaluation == Double {
  /// The evaluation is the value itself.
  @inlinable
  public func value(of evaluation: Double) -> Double { evaluation }
}
