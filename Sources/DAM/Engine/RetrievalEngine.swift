import Dispatch

/// A retrieval engine: a memory, a separation map and a geometry composed into the dynamics that
/// descend the energy `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))`.
///
/// One step is: divergences to every stored pattern → scores `θ = -β D` → weights `ŷ(θ)` →
/// the weighted sum of the variations of the patterns with nonzero weight → the geometry's
/// step → the stopping test. By the envelope theorem the energy's gradient is exactly that
/// weighted sum, so patterns with weight zero never need their variation.
///
/// The engine is generic, so that a concrete composition is specialised by the compiler; use
/// ``AnyRetrievalEngine`` to choose components at run time.
public struct RetrievalEngine<D: Divergence, S: SeparationMap, G: Geometry>: Sendable
where G.State == D.State, G.Variation == D.Variation {
  /// The stored patterns and the divergence.
  public let memory: Memory<D>
  /// The separation map.
  public let separation: S
  /// The geometry.
  public let geometry: G
  /// The inverse temperature `β > 0`.
  public let beta: Double
  /// When to stop.
  public let stopping: StoppingRule
  /// Whether far patterns may be skipped by their divergence's lower bound.
  public let pruning: Pruning
  /// How many patterns are evaluated at once (threads). Results do not depend on it: every
  /// evaluation is independent and every reduction runs in pattern order.
  public let parallelism: Int

  /// Composes an engine.
  ///
  /// - Throws: ``DAMError`` if the memory is empty or `beta` is not a finite number above 0.
  ///   `parallelism` must be at least 1 (the default is the number of active processors).
  public init(
    memory: Memory<D>, separation: S, geometry: G, beta: Double, stopping: StoppingRule = .default,
    pruning: Pruning = .none, parallelism: Int? = nil
  ) throws(DAMError) {
    guard !memory.isEmpty else { throw DAMError.invalid("memory", "is empty; store at least one pattern") }
    try _requirePositive(beta, "beta")
    if case .softmaxMass(let bound) = pruning, !(bound >= 0 && bound < 1) {
      throw DAMError.invalid("pruning", "the dropped weight bound must be in [0, 1), got \(bound)")
    }
    let parallelism = parallelism ?? _coreCount
    guard parallelism >= 1 else { throw DAMError.invalid("parallelism", "must be >= 1, got \(parallelism)") }
    self.memory = memory
    self.separation = separation
    self.geometry = geometry
    self.beta = beta
    self.stopping = stopping
    self.pruning = pruning
    self.parallelism = parallelism
  }

  /// Everything the engine knows at one state.
  public struct Snapshot: Sendable {
    /// The divergences to every pattern: exact for evaluated patterns, the divergence's lower
    /// bound for patterns skipped by pruning.
    public var divergences: [Double]
    /// The separation weights (zero on skipped patterns).
    public var weights: [Double]
    /// The energy.
    public var energy: Double
    /// Which patterns were evaluated exactly (all of them without pruning).
    public var evaluated: [Bool]
    /// The number of exact evaluations.
    public var evaluationCount: Int
    /// A bound on the total weight the skipped patterns would have had: 0 unless
    /// ``Pruning/softmaxMass(_:)`` skipped patterns.
    public var droppedWeightBound: Double
    /// The query-only cache of this state.
    var query: D.QueryCache
    /// The evaluations, by pattern index.
    var evaluations: _Evaluations<D.Evaluation>
  }

  /// Evaluates divergences, weights and energy at a state; `previous` (the snapshot of the
  /// previous step) lets iterative divergences warm-start.
  public func snapshot(at state: D.State, previous: Snapshot? = nil) throws -> Snapshot {
    let query = try memory.divergence.prepareQuery(state, previous: previous?.query)
    let count = memory.count
    var evaluations = _Evaluations<D.Evaluation>()
    var droppedWeightBound = 0.0

    func evaluate(_ indices: [Int]) throws {
      let results = try _evaluateConcurrently(
        indices, state: state, query: query, previous: previous, parallelism: parallelism)
      for (i, evaluation) in zip(indices, results) {
        let value = memory.divergence.value(of: evaluation)
        guard value.isFinite else {
          throw DAMError(
            .numericalFailure, argument: "query",
            "the divergence to pattern \(i) is \(value); the query or the pattern is out of range")
        }
        evaluations.append(i, evaluation, value: value)
      }
    }

    let plan = try pruningPlan(state, query: query)
    if var order = plan?.order, let rule = plan?.rule {
      // Patterns in the order of their lower bounds: a first fixed batch, then up to the first
      // position from which the rest is certified negligible by what is known so far (more
      // evaluations only make that test easier, so the position is sufficient), at most doubling
      // the count evaluated before testing again. Every choice depends on values alone, so the set
      // evaluated does not depend on the thread count.
      var position = 0
      var end = min(_pruningFirstBatch, count)
      while position < count {
        order.reveal(through: end)
        try evaluate(Array(order.prefix[position..<end]))
        position = end
        guard position < count else { break }
        // The first position (up to the end of the known order, where the rest's summary stands
        // for the next bound) whose remaining patterns are certified negligible; `known + 1` if none.
        let known = order.prefix.count
        let sufficient: Int
        switch rule {
        case .zeroWeight(let rule):
          guard evaluations.count >= rule.rank else {
            end = min(position + _pruningBatch, count)
            continue
          }
          // The rank-th smallest exact divergence so far is at least the true one: patterns whose
          // bound-based score is `gap` below its score have weight zero.
          let reference = evaluations.values.sorted()[rule.rank - 1]
          sufficient = _firstPosition(from: position, to: known + 1) { p in
            -beta * order.bound(at: p) <= -beta * reference - rule.gap
          }
        case .softmaxMass(let allowed):
          // Weights of the rest sum to at most Σ exp(-β Lᵢ) / Σ_evaluated exp(-β Dⱼ).
          let logEvaluated = logSumExp(evaluations.values.map { -beta * $0 })
          sufficient = _firstPosition(from: position, to: known + 1) { p in
            _exp(order.logSuffixMass(at: p) - logEvaluated) <= allowed
          }
          if sufficient == position {
            droppedWeightBound = _exp(order.logSuffixMass(at: position) - logEvaluated)
          }
        }
        if sufficient == position { break }
        let doubled = min(count, position + max(_pruningBatch, position))
        end = sufficient > known ? doubled : min(sufficient, doubled)
      }
    } else {
      try evaluate(Array(0..<count))
    }
    evaluations.sortByIndex()

    var divergences = plan?.order.bounds ?? [Double](repeating: 0, count: count)
    var evaluated = [Bool](repeating: plan == nil, count: count)
    for (i, value) in zip(evaluations.indices, evaluations.values) {
      divergences[i] = value
      evaluated[i] = true
    }
    // Only the evaluated patterns are separated: the others have weight zero, by their zero-weight
    // rule (which leaves the weights and Ω* unchanged whatever their scores) or because softmax
    // drops them (a score of -∞).
    let separated = try separation.separate(evaluations.values.map { -beta * $0 })
    var weights = [Double](repeating: 0, count: count)
    for (i, weight) in zip(evaluations.indices, separated.weights) { weights[i] = weight }
    return Snapshot(
      divergences: divergences, weights: weights, energy: -separated.conjugate / beta, evaluated: evaluated,
      evaluationCount: evaluations.count, droppedWeightBound: droppedWeightBound, query: query,
      evaluations: evaluations)
  }

  /// The bounds, order and rule of a pruned snapshot, or nil when every pattern is to be evaluated.
  private func pruningPlan(_ state: D.State, query: D.QueryCache) throws -> _PruningPlan? {
    let rule: _PruningPlan.Rule
    switch pruning {
    case .none: return nil
    case .exact:
      guard let zeroWeight = separation.zeroWeightRule else { return nil }
      rule = .zeroWeight(zeroWeight)
    case .softmaxMass(let allowed):
      if let zeroWeight = separation.zeroWeightRule {
        rule = .zeroWeight(zeroWeight)
      } else if _isSoftmax(separation) {
        rule = .softmaxMass(allowed)
      } else {
        return nil
      }
    }
    guard let bounds = _lowerBounds(state, query: query) else { return nil }
    var isSoftmax = false
    if case .softmaxMass = rule { isSoftmax = true }
    return _PruningPlan(rule: rule, order: _BoundOrder(bounds, beta: beta, masses: isSoftmax))
  }

  /// The lower bound of every pattern, or nil when the divergence has none (or one is NaN).
  /// The divergence's ``Divergence/lowerBounds(_:query:patterns:caches:indices:)`` on fixed
  /// blocks, up to `parallelism` at a time (each bound depends on its pattern only). That
  /// method is compiled for the divergence itself, so the patterns are read in place: calling
  /// ``Divergence/lowerBound(_:query:pattern:cache:)`` from this generic engine copied each
  /// pattern (reference counting on its arrays, a tenth of a pruned step against 100,000 clouds).
  private func _lowerBounds(_ state: D.State, query: D.QueryCache) -> [Double]? {
    let count = memory.count
    let blocks = min(parallelism, max(1, count / _boundBlock))
    let divergence = memory.divergence
    let memory = memory
    let results = _Slots<[Double]?>(count: blocks, initial: nil)
    _forEachChunk(blocks, workers: blocks) { block in
      results[block] = divergence.lowerBounds(
        state, query: query, patterns: memory.patterns, caches: memory.caches,
        indices: _blockRange(block, of: blocks, count: count))
    }
    var bounds: [Double] = []
    bounds.reserveCapacity(count)
    for block in 0..<blocks {
      guard let part = results[block], !part.contains(where: \.isNaN) else { return nil }
      bounds += part
    }
    return bounds
  }

  /// Evaluates the given patterns, up to `parallelism` at a time; the results are in the order
  /// of `indices` and independent of the thread count. The first failing index (in that order)
  /// throws.
  private func _evaluateConcurrently(
    _ indices: [Int], state: D.State, query: D.QueryCache, previous: Snapshot?, parallelism: Int
  ) throws -> [D.Evaluation] {
    // Contiguous chunks of `indices`, each evaluated by the divergence's `evaluateAll` (which a
    // divergence may batch); chunk boundaries depend only on the count, and every evaluation is
    // independent of the others, so the thread count changes nothing.
    let chunks = min(max(parallelism, 1), indices.count)
    let box = _ResultsBox<[D.Evaluation]>(count: chunks)
    let divergence = memory.divergence
    let memory = memory
    let work: @Sendable (Int) -> Void = { chunk in
      let range = _blockRange(chunk, of: chunks, count: indices.count)
      let selected = range.map { indices[$0] }
      var previousEvaluations: [D.Evaluation]? = nil
      if let previous {
        let found = selected.compactMap { previous.evaluations[$0] }
        guard found.count == selected.count else {
          // Some were skipped at the previous state: evaluate one by one, warm where possible.
          box.set(
            chunk,
            Result {
              try selected.map { i in
                try divergence.evaluate(
                  state, query: query, pattern: memory.patterns[i], cache: memory.caches[i],
                  previous: previous.evaluations[i])
              }
            })
          return
        }
        previousEvaluations = found
      }
      box.set(
        chunk,
        Result {
          try divergence.evaluateAll(
            state, query: query, patterns: selected.map { memory.patterns[$0] },
            caches: selected.map { memory.caches[$0] }, previous: previousEvaluations)
        })
    }
    if chunks <= 1 {
      for chunk in 0..<chunks { work(chunk) }
    } else {
      DispatchQueue.concurrentPerform(iterations: chunks, execute: work)
    }
    return try box.values().flatMap { $0 }
  }

  /// The energy `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))` at a state.
  public func energy(at state: D.State) throws -> Double {
    try snapshot(at: state).energy
  }

  /// One step of the dynamics from a state whose snapshot is known.
  public func step(from state: D.State, snapshot: Snapshot) throws -> D.State {
    let divergence = memory.divergence
    var variation = divergence.zeroVariation(at: state)
    // Only evaluated patterns with nonzero weight contribute (skipped ones have weight 0).
    let evaluations = snapshot.evaluations
    if evaluations.count == memory.count {
      try divergence.accumulateAll(
        snapshot.weights, of: evaluations.evaluations, at: state, query: snapshot.query,
        patterns: memory.patterns, caches: memory.caches, into: &variation)
    } else {
      let positions = evaluations.indices.indices.filter { snapshot.weights[evaluations.indices[$0]] != 0 }
      let indices = positions.map { evaluations.indices[$0] }
      try divergence.accumulateAll(
        indices.map { snapshot.weights[$0] }, of: positions.map { evaluations.evaluations[$0] }, at: state,
        query: snapshot.query, patterns: indices.map { memory.patterns[$0] },
        caches: indices.map { memory.caches[$0] }, into: &variation)
    }
    return try geometry.step(from: state, along: variation)
  }

  /// Retrieves from a query: runs the dynamics until the ``StoppingRule`` says stop.
  ///
  /// - Parameters:
  ///   - query: the initial state.
  ///   - recordingTrajectory: whether to keep every visited state in the result.
  /// - Throws: ``DAMError`` naming `query` if it does not fit the memory; a `numericalFailure`
  ///   naming `step` if the dynamics diverge (a divergence becomes non-finite after a step, or the
  ///   energy rises above `E₀ + 10⁶ (1 + |E₀|)`, which no descent step does); or any error of the
  ///   components.
  public func retrieve(_ query: D.State, recordingTrajectory: Bool = false) throws
    -> RetrievalResult<D.State>
  {
    do {
      try memory.divergence.checkQuery(query, against: memory.patterns[0])
    } catch let error as DAMError {
      throw error.renamingArgument { $0 == "query" ? $0 : "query (\($0))" }
    }
    var state = query
    var current = try snapshot(at: state)
    var energies = [current.energy]
    var trajectory: [D.State]? = recordingTrajectory ? [state] : nil
    var lastChange = StateChange(position: 0)
    var steps = 0
    var calmSteps = 0
    var reason = StopReason.stepLimit
    var evaluationCount = current.evaluationCount
    var droppedWeightBound = current.droppedWeightBound
    while steps < stopping.maxSteps {
      let next = try step(from: state, snapshot: current)
      let change = geometry.change(from: state, to: next)
      let nextSnapshot: Snapshot
      do {
        nextSnapshot = try snapshot(at: next, previous: current)
      } catch let error as DAMError where error.kind == .numericalFailure && error.argument == "query" {
        throw DAMError(
          .numericalFailure, argument: "step",
          "the dynamics diverged at step \(steps + 1): \(error.message); reduce the step size")
      }
      evaluationCount += nextSnapshot.evaluationCount
      droppedWeightBound = max(droppedWeightBound, nextSnapshot.droppedWeightBound)
      // A descent step never raises the energy this far: the dynamics diverged (a step too large
      // for the geometry), and going on would only end in overflow.
      guard nextSnapshot.energy - energies[0] <= _divergedEnergyRise * (1 + abs(energies[0])) else {
        throw DAMError(
          .numericalFailure, argument: "step",
          "the dynamics diverged: the energy rose from \(energies[0]) to \(nextSnapshot.energy) in \(steps + 1) steps; reduce the step size"
        )
      }
      steps += 1
      energies.append(nextSnapshot.energy)
      trajectory?.append(next)
      let energyChange = nextSnapshot.energy - current.energy
      state = next
      current = nextSnapshot
      lastChange = change
      if change.isZero {
        reason = .fixedPoint
        break
      }
      if stopping.isConverged(energyChange: energyChange, energy: current.energy, change: change) {
        calmSteps += 1
        if calmSteps >= stopping.patience {
          reason = .converged
          break
        }
      } else {
        calmSteps = 0
      }
    }
    return RetrievalResult(
      state: state, weights: current.weights, divergences: current.divergences, energies: energies,
      steps: steps, stopReason: reason, lastChange: lastChange, trajectory: trajectory,
      evaluated: current.evaluated.allSatisfy { $0 } ? nil : current.evaluated,
      evaluationCount: evaluationCount, droppedWeightBound: droppedWeightBound)
  }
}

/// How many patterns a pruned snapshot evaluates before its first pruning test.
let _pruningFirstBatch = 16

/// How many patterns a pruned snapshot evaluates between two pruning tests while the test cannot
/// yet say how many are needed (a k-subsets map with fewer than k evaluated).
let _pruningBatch = 64

/// `log Σ_{q ≥ p} exp(-β L_q)` at every position `p` of bounds in increasing order (`-∞` at the end).
///
/// In bound order the terms `tₚ = -β L_order[p]` do not increase, so `Sₚ = Σ_{q ≥ p} exp(t_q - tₚ)`
/// obeys `Sₚ = 1 + S_{p+1} exp(t_{p+1} - tₚ)` with every exponent `<= 0` (nothing overflows;
/// `1 <= Sₚ <= N`), and the suffix is `tₚ + log Sₚ`: one vectorised exponential per pattern, and
/// a logarithm only where a suffix is asked for.
struct _SuffixMass {
  /// `tₚ`.
  private var terms: [Double] = []
  /// `Sₚ`.
  private var sums: [Double] = []

  init() {}

  /// The suffix masses of bounds in increasing order.
  init(_ sortedBounds: [Double], beta: Double) {
    let count = sortedBounds.count
    terms = sortedBounds.map { -beta * $0 }
    var steps = [Double](repeating: -.infinity, count: count)
    for p in 0..<max(count - 1, 0) {
      // Past a term of -∞ every later one is -∞ too (and -∞ - -∞ is NaN).
      steps[p] = terms[p] == -.infinity ? -.infinity : terms[p + 1] - terms[p]
    }
    steps.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { _expInPlace(base, count: count) } }
    sums = [Double](repeating: 1, count: count)
    if count >= 2 {
      for p in stride(from: count - 2, through: 0, by: -1) { sums[p] = 1 + sums[p + 1] * steps[p] }
    }
  }

  /// `log Σ_{q ≥ p} exp(-β L_q)`; `-∞` for `p` at the end.
  func logarithm(at p: Int) -> Double {
    guard p < terms.count, terms[p] != -.infinity else { return -.infinity }
    return terms[p] + _log(sums[p])
  }
}

/// The fewest patterns a thread bounds (smaller memories are bounded on one thread).
let _boundBlock = 4096

struct _PruningPlan {
  enum Rule {
    case zeroWeight(ZeroWeightRule)
    case softmaxMass(Double)
  }
  let rule: Rule
  /// The patterns by increasing bound, revealed as far as needed (with every pattern's bound).
  let order: _BoundOrder
}

/// The patterns by increasing lower bound (ties by index), revealed as far as a pruned snapshot
/// needs (usually a few hundred of 100,000; see ``_stableArgsortPrefix(_:count:)``), with a
/// summary of the rest: its smallest bound and, for softmax, `log Σ exp(-β L)` over it.
struct _BoundOrder {
  /// The lower bound of every pattern.
  let bounds: [Double]
  let beta: Double
  /// Whether suffix masses are kept (softmax).
  let masses: Bool
  /// The first patterns in bound order.
  private(set) var prefix: [Int] = []
  /// The smallest bound outside the prefix (`+∞` if there is none).
  private var restMinimum = Double.infinity
  /// `log Σ exp(-β Lᵢ)` outside the prefix (`-∞` if there is none).
  private var restLogMass = -Double.infinity
  /// The prefix's suffix masses.
  private var suffix = _SuffixMass()

  init(_ bounds: [Double], beta: Double, masses: Bool) {
    self.bounds = bounds
    self.beta = beta
    self.masses = masses
  }

  /// Makes the prefix at least `count` long (four times longer at least, at most every pattern).
  mutating func reveal(through count: Int) {
    let total = bounds.count
    guard count > prefix.count, prefix.count < total else { return }
    let length = min(total, max(count, 4 * prefix.count, _boundOrderFirstPrefix))
    // One more than needed gives the smallest bound of the rest.
    var order = _stableArgsortPrefix(bounds, count: min(length + 1, total))
    if order.count > length {
      restMinimum = bounds[order[length]]
      order.removeLast()
    } else {
      restMinimum = .infinity
    }
    prefix = order
    guard masses else { return }
    suffix = _SuffixMass(prefix.map { bounds[$0] }, beta: beta)
    restLogMass = -.infinity
    guard length < total, restMinimum != .infinity else { return }
    // The rest's terms relative to its largest, each <= 0: one vector exponential.
    var inPrefix = [Bool](repeating: false, count: total)
    for i in prefix { inPrefix[i] = true }
    let top = -beta * restMinimum
    var exponents: [Double] = []
    exponents.reserveCapacity(total - length)
    for i in 0..<total where !inPrefix[i] { exponents.append(-beta * bounds[i] - top) }
    exponents.withUnsafeMutableBufferPointer {
      if let base = $0.baseAddress { _expInPlace(base, count: $0.count) }
    }
    var sum = 0.0
    for term in exponents { sum += term }
    restLogMass = top + _log(sum)
  }

  /// The bound at position `p` of the order, `p <= prefix.count`; at the end of the prefix, the
  /// smallest bound of the rest.
  func bound(at p: Int) -> Double {
    p < prefix.count ? bounds[prefix[p]] : restMinimum
  }

  /// `log Σ_{q ≥ p} exp(-β L_order[q])`, `p <= prefix.count`.
  func logSuffixMass(at p: Int) -> Double {
    let inside = suffix.logarithm(at: p)
    let (high, low) = inside >= restLogMass ? (inside, restLogMass) : (restLogMass, inside)
    guard high != -.infinity else { return -.infinity }
    return low == -.infinity ? high : high + _log1p(_exp(low - high))
  }
}

/// The length of the first bound order a pruned snapshot reveals.
let _boundOrderFirstPrefix = 1024

/// Evaluations by pattern index: the indices in increasing order once sorted, with their values.
struct _Evaluations<Evaluation: Sendable>: Sendable {
  private(set) var indices: [Int] = []
  private(set) var evaluations: [Evaluation] = []
  /// The divergence of each evaluation.
  private(set) var values: [Double] = []

  var count: Int { indices.count }

  mutating func append(_ index: Int, _ evaluation: Evaluation, value: Double) {
    indices.append(index)
    evaluations.append(evaluation)
    values.append(value)
  }

  /// Puts the evaluations in index order (reductions over them run in pattern order).
  mutating func sortByIndex() {
    guard zip(indices, indices.dropFirst()).contains(where: { $0 > $1 }) else { return }
    let order = indices.indices.sorted { indices[$0] < indices[$1] }
    indices = order.map { indices[$0] }
    evaluations = order.map { evaluations[$0] }
    values = order.map { values[$0] }
  }

  /// The evaluation at a pattern index (after ``sortByIndex()``), or nil.
  subscript(index: Int) -> Evaluation? {
    let position = _firstPosition(from: 0, to: indices.count) { indices[$0] >= index }
    return position < indices.count && indices[position] == index ? evaluations[position] : nil
  }
}

func _isSoftmax(_ map: some SeparationMap) -> Bool {
  if map is Softmax { return true }
  if let any = map as? AnySeparationMap { return any.base is Softmax }
  return false
}

/// Results written by concurrent workers at disjoint positions.
final class _ResultsBox<Value: Sendable>: Sendable {
  private let slots: _Lock<[Result<Value, any Error>?]>

  init(count: Int) { slots = _Lock(Array(repeating: nil, count: count)) }

  func set(_ position: Int, _ result: Result<Value, any Error>) {
    slots.withLock { $0[position] = result }
  }

  /// The position of the first failure, if any.
  func firstFailure() -> Int? {
    slots.withLock { slots in
      slots.firstIndex { if case .failure = $0 { true } else { false } }
    }
  }

  /// The values in order, or the first error in order.
  func values() throws -> [Value] {
    let all = slots.withLock { $0 }
    return try all.map { try $0!.get() }
  }
}

/// How far above its initial value, in units of `1 + |E₀|`, the energy may rise before
/// ``RetrievalEngine/retrieve(_:recordingTrajectory:)`` reports that the dynamics diverged.
/// Oscillating SHK steps rise by single-digit factors; a diverging step grows geometrically.
let _divergedEnergyRise = 1e6

/// The first `count` patterns in bound order as a pruned softmax snapshot sees them, and
/// `log Σ_{q ≥ p} exp(-β L_order[q])` at every position `p` up to the prefix's end (for tests).
@_spi(Testing) public func _boundOrderSuffixLogMasses(_ bounds: [Double], beta: Double, through count: Int)
  -> (prefix: [Int], logMasses: [Double])
{
  var order = _BoundOrder(bounds, beta: beta, masses: true)
  order.reveal(through: count)
  return (order.prefix, (0...order.prefix.count).map { order.logSuffixMass(at: $0) })
}
