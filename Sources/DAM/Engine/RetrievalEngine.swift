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
    /// The evaluation at every evaluated pattern.
    var evaluations: [D.Evaluation?]
  }

  /// Evaluates divergences, weights and energy at a state; `previous` (the snapshot of the
  /// previous step) lets iterative divergences warm-start.
  public func snapshot(at state: D.State, previous: Snapshot? = nil) throws -> Snapshot {
    let query = try memory.divergence.prepareQuery(state, previous: previous?.query)
    let count = memory.count
    var evaluations = [D.Evaluation?](repeating: nil, count: count)
    var divergences = [Double](repeating: 0, count: count)
    var evaluated = [Bool](repeating: false, count: count)
    let plan = try pruningPlan(state, query: query)
    var droppedWeightBound = 0.0
    var evaluationCount = 0

    func evaluateBatch(_ indices: ArraySlice<Int>) throws {
      let results = try _evaluateConcurrently(
        Array(indices), state: state, query: query, previous: previous, parallelism: parallelism)
      for (i, evaluation) in zip(indices, results) {
        let value = memory.divergence.value(of: evaluation)
        guard value.isFinite else {
          throw DAMError(
            .numericalFailure, argument: "query",
            "the divergence to pattern \(i) is \(value); the query or the pattern is out of range")
        }
        evaluations[i] = evaluation
        divergences[i] = value
        evaluated[i] = true
      }
      evaluationCount += indices.count
    }

    if let plan {
      // Patterns in the order of their lower bounds, a fixed-size batch at a time (so the set
      // evaluated does not depend on the thread count), until the rest are proven negligible.
      var position = 0
      var evaluatedValues: [Double] = []
      while position < count {
        let batch = plan.order[position..<min(position + _pruningBatch, count)]
        try evaluateBatch(batch)
        evaluatedValues.append(contentsOf: batch.map { divergences[$0] })
        position += batch.count
        guard position < count else { break }
        let nextBound = plan.bounds[plan.order[position]]
        switch plan.rule {
        case .zeroWeight(let rule):
          guard evaluatedValues.count >= rule.rank else { continue }
          // The rank-th smallest exact divergence so far is at least the true one.
          let reference = evaluatedValues.sorted()[rule.rank - 1]
          if -beta * nextBound <= -beta * reference - rule.gap {
            position = count
          }
        case .softmaxMass(let allowed):
          // Weights of the rest sum to at most Σ exp(-β Lᵢ) / Σ_evaluated exp(-β Dⱼ).
          let logEvaluated = logSumExp(evaluatedValues.map { -beta * $0 })
          let dropped = _exp(plan.suffixLogMass[position / _pruningBatch] - logEvaluated)
          if dropped <= allowed {
            droppedWeightBound = dropped
            position = count
          }
        }
      }
      for i in 0..<count where !evaluated[i] { divergences[i] = plan.bounds[i] }
    } else {
      try evaluateBatch(ArraySlice(0..<count))
    }

    var scores = [Double](repeating: -.infinity, count: count)
    for i in 0..<count {
      if evaluated[i] {
        scores[i] = -beta * divergences[i]
      } else if case .zeroWeight = plan?.rule {
        // A bound-based score: the map gives it weight zero and it leaves Ω* unchanged.
        scores[i] = -beta * divergences[i]
      }
    }
    let separated = try separation.separate(scores)
    var weights = separated.weights
    for i in 0..<count where !evaluated[i] { weights[i] = 0 }
    return Snapshot(
      divergences: divergences, weights: weights, energy: -separated.conjugate / beta, evaluated: evaluated,
      evaluationCount: evaluationCount, droppedWeightBound: droppedWeightBound, query: query,
      evaluations: evaluations)
  }

  /// The order and rule of a pruned snapshot, or nil when every pattern is to be evaluated.
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
    let order = _stableArgsort(bounds)
    var suffixLogMass: [Double] = []
    if case .softmaxMass = rule {
      suffixLogMass = Self._suffixLogMasses(bounds, order: order, beta: beta)
    }
    return _PruningPlan(rule: rule, bounds: bounds, order: order, suffixLogMass: suffixLogMass)
  }

  /// `log Σ_{p ≥ b·B} exp(-β L_order[p])` for every batch start `b·B` (`B` = ``_pruningBatch``),
  /// plus `-∞` past the end.
  ///
  /// In bound order the terms `tₚ = -β L_order[p]` do not increase, so `Sₚ = Σ_{q ≥ p} exp(t_q - tₚ)`
  /// obeys `Sₚ = 1 + S_{p+1} exp(t_{p+1} - tₚ)` with every exponent `<= 0` (nothing overflows;
  /// `1 <= Sₚ <= N`), and the suffix is `tₚ + log Sₚ`: one vectorised exponential per pattern and
  /// a logarithm per batch, instead of two exponentials and a logarithm per pattern.
  static func _suffixLogMasses(_ bounds: [Double], order: [Int], beta: Double) -> [Double] {
    let count = order.count
    guard count > 0 else { return [-.infinity] }
    var steps = [Double](repeating: -.infinity, count: count)
    for p in 0..<(count - 1) {
      let here = -beta * bounds[order[p]]
      // Past a term of -∞ every later one is -∞ too (and -∞ - -∞ is NaN).
      steps[p] = here == -.infinity ? -.infinity : -beta * bounds[order[p + 1]] - here
    }
    steps.withUnsafeMutableBufferPointer { _expInPlace($0.baseAddress!, count: count) }
    let batches = (count + _pruningBatch - 1) / _pruningBatch
    var result = [Double](repeating: -.infinity, count: batches + 1)
    var sum = 1.0
    for p in stride(from: count - 1, through: 0, by: -1) {
      sum = p == count - 1 ? 1 : 1 + sum * steps[p]
      if p % _pruningBatch == 0 {
        let term = -beta * bounds[order[p]]
        result[p / _pruningBatch] = term == -.infinity ? -.infinity : term + _log(sum)
      }
    }
    return result
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
    var indices: [Int] = []
    for i in 0..<memory.count where snapshot.weights[i] != 0 && snapshot.evaluations[i] != nil {
      indices.append(i)
    }
    if indices.count == memory.count {
      try divergence.accumulateAll(
        snapshot.weights, of: snapshot.evaluations.map { $0! }, at: state, query: snapshot.query,
        patterns: memory.patterns, caches: memory.caches, into: &variation)
    } else {
      try divergence.accumulateAll(
        indices.map { snapshot.weights[$0] }, of: indices.map { snapshot.evaluations[$0]! }, at: state,
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

/// How many patterns a pruned snapshot evaluates between two pruning tests.
let _pruningBatch = 64

/// The fewest patterns a thread bounds (smaller memories are bounded on one thread).
let _boundBlock = 4096

struct _PruningPlan {
  enum Rule {
    case zeroWeight(ZeroWeightRule)
    case softmaxMass(Double)
  }
  let rule: Rule
  /// The lower bound of every pattern.
  let bounds: [Double]
  /// Pattern indices by increasing bound (ties by index).
  let order: [Int]
  /// `log Σ_{p ≥ b·B} exp(-β L_order[p])` at every batch start `b·B`, `B` = ``_pruningBatch``
  /// (softmax only).
  let suffixLogMass: [Double]
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
