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
    try _requireInverseTemperature(beta)
    if case .softmaxMass(let bound) = pruning, !(bound >= 0 && bound < 1) {
      throw DAMError.invalid("pruning", "the dropped weight bound must be in [0, 1), got \(bound)")
    }
    let parallelism = parallelism ?? coreCount
    guard parallelism >= 1 else { throw DAMError.invalid("parallelism", "must be >= 1, got \(parallelism)") }
    self.memory = memory
    self.separation = separation
    self.geometry = geometry
    self.beta = beta
    self.stopping = stopping
    self.pruning = pruning
    self.parallelism = parallelism
  }

  /// Evaluates divergences, weights and energy at a state; `previous` (the snapshot of the
  /// previous step) lets iterative divergences warm-start.
  public func snapshot(at state: D.State, previous: Snapshot? = nil) throws -> Snapshot {
    do {
      return try snapshotBatch([state], previous: [previous])[0]
    } catch let failure as BatchFailure {
      throw failure.error
    }
  }

  /// The energy `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))` at a state.
  public func energy(at state: D.State) throws -> Double {
    try snapshot(at: state).energy
  }

  /// One step of the dynamics from the state of a snapshot.
  public func step(from snapshot: Snapshot) throws -> D.State {
    do {
      return try stepBatch([snapshot])[0]
    } catch let failure as BatchFailure {
      throw failure.error
    }
  }

  /// The snapshots of a batch of states, computed together as one step of
  /// ``retrieve(batch:recordingTrajectory:)`` does (`previous`: the snapshots of the previous step,
  /// in the same order, for warm starts).
  ///
  /// - Throws: the error of the first failing state, its argument renamed to `states[i]`.
  public func snapshots(at states: [D.State], previous: [Snapshot]? = nil) throws -> [Snapshot] {
    if let previous, previous.count != states.count {
      throw DAMError.mismatch("previous", "has \(previous.count) snapshots for \(states.count) states")
    }
    try checkBatchSize(states.count, argument: "states")
    do {
      return try snapshotBatch(states, previous: previous ?? [Snapshot?](repeating: nil, count: states.count))
    } catch let failure as BatchFailure {
      throw Self.renamed(failure, "states")
    }
  }

  /// One step from the state of every snapshot, computed together (one block accumulation).
  ///
  /// - Throws: the error of the first failing snapshot, its argument renamed to `snapshots[i]`.
  public func steps(from snapshots: [Snapshot]) throws -> [D.State] {
    do {
      return try stepBatch(snapshots)
    } catch let failure as BatchFailure {
      throw Self.renamed(failure, "snapshots")
    }
  }

  /// A batch failure's error, its argument named by the failing position in `collection`.
  private static func renamed(_ failure: BatchFailure, _ collection: String) -> any Error {
    guard let error = failure.error as? DAMError else { return failure.error }
    return error.renamingArgument { name in
      name == "query" ? "\(collection)[\(failure.item)]" : "\(collection)[\(failure.item)] (\(name))"
    }
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
      return try retrieveBatch([query], recordingTrajectory: recordingTrajectory)[0]
    } catch let failure as BatchFailure {
      throw failure.error
    }
  }

  /// Retrieves from every query of a batch at once: the same results as
  /// ``retrieve(_:recordingTrajectory:)`` query by query (to round-off where the divergence
  /// evaluates a block with a matrix product), computed together.
  ///
  /// The queries step in lockstep: each step evaluates the block of queries still moving against
  /// the memory in one call of the divergence (``Divergence/evaluate(_:)-(EvaluationBlock<Self>)``),
  /// and a query leaves the batch when its stopping rule holds. Pruning, if enabled, runs per
  /// query with the same certificates as alone.
  ///
  /// - Throws: ``DAMError`` naming `queries` if the batch is empty; otherwise the error of the
  ///   first failing query (lowest index), with its argument renamed to `queries[i]` (a
  ///   ``DAMError`` naming `query` or `step` alone names `queries[i]` or `queries[i] (step)`).
  public func retrieve(batch queries: [D.State], recordingTrajectory: Bool = false) throws
    -> [RetrievalResult<D.State>]
  {
    guard !queries.isEmpty else {
      throw DAMError.invalid("queries", "is empty; give at least one query")
    }
    do {
      return try retrieveBatch(queries, recordingTrajectory: recordingTrajectory)
    } catch let failure as BatchFailure {
      throw Self.renamed(failure, "queries")
    }
  }

  // MARK: The batched dynamics

  /// One query's retrieval in progress.
  private struct Progress {
    var energies: [Double]
    var trajectory: [D.State]?
    var lastChange = StateChange(position: 0)
    var steps = 0
    var calmSteps = 0
    var reason = StopReason.stepLimit
    var evaluationCount: Int
    var droppedWeightBound: Double
  }

  /// The dynamics of a batch; failures carry the position of their query in `queries`.
  private func retrieveBatch(_ queries: [D.State], recordingTrajectory: Bool) throws -> [RetrievalResult<
    D.State
  >] {
    try checkBatchSize(queries.count, argument: "queries")
    let divergence = memory.divergence
    let reference = memory.pattern(at: 0)
    for (b, query) in queries.enumerated() {
      do {
        try divergence.checkQuery(query, against: reference)
      } catch let error as DAMError {
        throw BatchFailure(item: b, error: error.renamingArgument { $0 == "query" ? $0 : "query (\($0))" })
      } catch {
        throw BatchFailure(item: b, error: error)
      }
    }
    // The B x N scratch of every step's block products, made once for the whole retrieval.
    let scratch = BlockScratch()
    var current = try snapshotBatch(
      queries, previous: [Snapshot?](repeating: nil, count: queries.count), scratch: scratch)
    var progress = current.map { snapshot in
      Progress(
        energies: [snapshot.energy], trajectory: recordingTrajectory ? [snapshot.state] : nil,
        evaluationCount: snapshot.evaluationCount, droppedWeightBound: snapshot.droppedWeightBound)
    }
    var active = stopping.maxSteps > 0 ? Array(queries.indices) : []
    let budget = currentBudget()
    while !active.isEmpty {
      try budget?.check(iterations: 1) {
        let step = progress[active[0]].steps + 1
        return
          "retrieval step \(step) of at most \(stopping.maxSteps), \(active.count) of \(queries.count) \(queries.count == 1 ? "query" : "queries") still moving"
      }
      var steppedFrom = active.map { current[$0] }
      let next: [D.State]
      let nextSnapshots: [Snapshot]
      do {
        next = try stepBatch(steppedFrom, scratch: scratch)
      } catch let failure as BatchFailure {
        throw BatchFailure(item: active[failure.item], error: failure.error)
      }
      // The weights and divergences of the states just left are not needed again, nor their
      // evaluations unless the divergence warm-starts from them: free them before the next
      // B x N arrays.
      let keepEvaluations = memory.divergence.usesPreviousEvaluations
      for (k, b) in active.enumerated() {
        current[b].weights = []
        current[b].divergences = []
        steppedFrom[k].weights = []
        steppedFrom[k].divergences = []
        if !keepEvaluations {
          current[b].evaluations = Evaluations()
          steppedFrom[k].evaluations = Evaluations()
        }
      }
      do {
        nextSnapshots = try snapshotBatch(next, previous: steppedFrom, scratch: scratch)
      } catch let failure as BatchFailure {
        let b = active[failure.item]
        // A state out of range, or (a refusal of ε for the problem's scale, which the query
        // passed) a state whose scale the step changed: the step's fault, not the query's or ε's.
        if let error = failure.error as? DAMError,
          (error.kind == .numericalFailure && error.argument == "query")
            || (error.kind == .invalidArgument && error.argument == "epsilon")
        {
          throw BatchFailure(
            item: b,
            error: DAMError(
              .numericalFailure, argument: "step",
              "the dynamics diverged at step \(progress[b].steps + 1): \(error.argument == "epsilon" ? "the moved state's scale refuses epsilon, which " : "")\(error.message); reduce the step size"
            ))
        }
        throw BatchFailure(item: b, error: failure.error)
      }
      var stillMoving: [Int] = []
      for (k, b) in active.enumerated() {
        let snapshot = nextSnapshots[k]
        let change = geometry.change(from: current[b].state, to: next[k])
        var record = progress[b]
        record.evaluationCount += snapshot.evaluationCount
        record.droppedWeightBound = max(record.droppedWeightBound, snapshot.droppedWeightBound)
        // A descent step never raises the energy this far: the dynamics diverged (a step too
        // large for the geometry), and going on would only end in overflow.
        let initial = record.energies[0]
        guard snapshot.energy - initial <= divergedEnergyRise * (1 + abs(initial)) else {
          throw BatchFailure(
            item: b,
            error: DAMError(
              .numericalFailure, argument: "step",
              "the dynamics diverged: the energy rose from \(initial) to \(snapshot.energy) in \(record.steps + 1) steps; reduce the step size"
            ))
        }
        record.steps += 1
        record.energies.append(snapshot.energy)
        record.trajectory?.append(next[k])
        let energyChange = snapshot.energy - current[b].energy
        current[b] = snapshot
        record.lastChange = change
        var stopped = false
        if change.isZero {
          record.reason = .fixedPoint
          stopped = true
        } else if stopping.isConverged(energyChange: energyChange, energy: snapshot.energy, change: change) {
          record.calmSteps += 1
          if record.calmSteps >= stopping.patience {
            record.reason = .converged
            stopped = true
          }
        } else {
          record.calmSteps = 0
        }
        progress[b] = record
        if !stopped && record.steps < stopping.maxSteps { stillMoving.append(b) }
      }
      active = stillMoving
    }
    return queries.indices.map { b in
      let snapshot = current[b]
      let record = progress[b]
      return RetrievalResult(
        state: snapshot.state, weights: snapshot.weights, divergences: snapshot.divergences,
        energies: record.energies, steps: record.steps, stopReason: record.reason,
        lastChange: record.lastChange,
        trajectory: record.trajectory, evaluated: snapshot.evaluations.isAll ? nil : snapshot.evaluated,
        evaluationCount: record.evaluationCount, droppedWeightBound: record.droppedWeightBound)
    }
  }

  /// Throws a ``DAMError/Kind/resourceLimit`` error naming `argument` when `count` states against
  /// the memory would hold more than ``ResourceLimits/current`` allows, before any of it is
  /// allocated. Per state and pattern a step holds the divergence, the weight and the value of
  /// the snapshot it leaves and of the one it makes, and one or two evaluations (two when the
  /// divergence warm-starts from the previous step): `5 × 8` bytes plus the evaluations' own
  /// size, which counts what an evaluation holds inline only (a point cloud's potentials are
  /// more), so the estimate is a lower bound.
  private func checkBatchSize(_ count: Int, argument: String) throws(DAMError) {
    let evaluations = (memory.divergence.usesPreviousEvaluations ? 2 : 1) * MemoryLayout<D.Evaluation>.stride
    let bytes = ResourceLimits.bytes([count, memory.count], elementSize: 5 * 8 + evaluations)
    try ResourceLimits.current.check(
      bytes: bytes, for: argument,
      "a batch of \(count) \(count == 1 ? "state" : "states") against \(memory.count) patterns (the divergences, weights and evaluations of every pair)",
      remedy: "retrieve in smaller batches")
  }

  /// The snapshots of a batch of states (`previous[b]`: the snapshot of the same query at the
  /// previous step, for warm starts). Failures carry the position of their state.
  private func snapshotBatch(_ states: [D.State], previous: [Snapshot?], scratch: BlockScratch? = nil) throws
    -> [Snapshot]
  {
    let divergence = memory.divergence
    let count = memory.count
    let queries = try perItem(states.count) { b in
      try divergence.prepareQuery(states[b], previous: previous[b]?.query)
    }
    // Each state's bounds and first round, states on the engine's threads.
    let planned = try perItem(states.count) { b -> (PruningRun?, PatternIndices) in
      guard var run = pruningRun(states[b], query: queries[b]) else { return (nil, .all(count)) }
      let first = run.first()
      return (run, .some(first))
    }
    var runs = planned.map(\.0)
    var evaluations = [Evaluations<D.Evaluation>](repeating: Evaluations(), count: states.count)
    var requests: [(item: Int, indices: PatternIndices)] = planned.enumerated().map { ($0, $1.1) }
    while !requests.isEmpty {
      let items = requests.map { request in
        EvaluationBlock<D>.Item(
          state: states[request.item], query: queries[request.item], indices: request.indices,
          previous: previous[request.item]?.evaluations)
      }
      let results = try evaluateBlock(items, owners: requests.map(\.item), scratch: scratch)
      // Every value must be finite (checked per request on the engine's threads).
      let checked = requests
      let rowValues = try perItem(requests.count) { k in
        let values = divergenceValues(results[k])
        if values.withUnsafeBufferPointer(_allFinite) { return values }
        for (position, value) in values.enumerated() where !value.isFinite {
          throw BatchFailure(
            item: checked[k].item,
            error: DAMError(
              .numericalFailure, argument: "query",
              "the divergence to pattern \(checked[k].indices[position]) is \(value); the query or the pattern is out of range"
            ))
        }
        return values
      }
      var nextRequests: [(item: Int, indices: PatternIndices)] = []
      for (k, request) in requests.enumerated() {
        let b = request.item
        let values = rowValues[k]
        if request.indices.isAll {
          evaluations[b] = Evaluations(all: results[k], values: values)
        } else {
          evaluations[b].append(Array(request.indices), results[k], values: values)
          if let next = runs[b]!.next(after: evaluations[b], separation: separation) {
            nextRequests.append((b, .some(next)))
          }
        }
      }
      requests = nextRequests
    }
    let separation = separation
    let beta = beta
    let runsDone = runs
    let evaluationsDone = evaluations
    return try perItem(states.count) { b in
      var evaluations = evaluationsDone[b]
      evaluations.sortByIndex()
      // Only the evaluated patterns are separated: the others have weight zero, by their
      // zero-weight rule (which leaves the weights and Ω* unchanged whatever their scores) or
      // because the map's bound on their weight allows dropping them (a score of -∞).
      let separated = try separation.separate(divergences: evaluations.values, beta: beta)
      var divergences = evaluations.values
      var weights = separated.weights
      if !evaluations.isAll {
        divergences = runsDone[b]?.order.bounds ?? [Double](repeating: 0, count: count)
        weights = [Double](repeating: 0, count: count)
        for k in 0..<evaluations.count {
          let i = evaluations.index(at: k)
          divergences[i] = evaluations.values[k]
          weights[i] = separated.weights[k]
        }
      }
      // The support, stored as "every pattern" when no weight is zero (softmax, usually).
      var nonzero = 0
      for w in weights where w != 0 { nonzero += 1 }
      var support = PatternIndices.all(count)
      if nonzero < count {
        var indices: [Int] = []
        indices.reserveCapacity(nonzero)
        for i in weights.indices where weights[i] != 0 { indices.append(i) }
        support = .some(indices)
      }
      return Snapshot(
        state: states[b], divergences: divergences, weights: weights, energy: -separated.conjugate / beta,
        evaluationCount: evaluations.count, droppedWeightBound: runsDone[b]?.droppedWeightBound ?? 0,
        query: queries[b], evaluations: evaluations, support: support)
    }
  }

  /// The values of a row of evaluations (the row itself when evaluations are values).
  private func divergenceValues(_ evaluations: [D.Evaluation]) -> [Double] {
    if D.Evaluation.self == Double.self { return unsafeBitCast(evaluations, to: [Double].self) }
    let divergence = memory.divergence
    return evaluations.map { divergence.value(of: $0) }
  }

  /// The divergence's block evaluation; `owners[k]` is the state of item `k`. On failure, the
  /// items are retried one by one to name the first failing state.
  private func evaluateBlock(_ items: [EvaluationBlock<D>.Item], owners: [Int], scratch: BlockScratch?) throws
    -> [[D.Evaluation]]
  {
    let divergence = memory.divergence
    let results: [[D.Evaluation]]
    do {
      results = try divergence.evaluate(
        EvaluationBlock(memory: memory, items: items, parallelism: parallelism, scratch: scratch))
    } catch {
      for (k, item) in items.enumerated() {
        do {
          _ = try divergence.evaluate(
            EvaluationBlock(memory: memory, items: [item], parallelism: parallelism))
        } catch {
          throw BatchFailure(item: owners[k], error: error)
        }
      }
      throw BatchFailure(item: owners[0], error: error)
    }
    for (k, item) in items.enumerated() where k >= results.count || results[k].count != item.indices.count {
      throw BatchFailure(
        item: owners[k],
        error: DAMError(
          .numericalFailure, argument: "divergence",
          "its block evaluation returned \(k < results.count ? results[k].count : 0) evaluations for \(item.indices.count) patterns"
        ))
    }
    return results
  }

  /// One step from each snapshot's state. Failures carry the position of their snapshot.
  private func stepBatch(_ snapshots: [Snapshot], scratch: BlockScratch? = nil) throws -> [D.State] {
    let divergence = memory.divergence
    let items = snapshots.map { snapshot in
      AccumulationBlock<D>.Item(
        state: snapshot.state, query: snapshot.query, weights: snapshot.weights, support: snapshot.support,
        evaluations: snapshot.evaluations)
    }
    let variations: [D.Variation]
    do {
      variations = try divergence.accumulate(
        AccumulationBlock(memory: memory, items: items, parallelism: parallelism, scratch: scratch))
    } catch {
      for (k, item) in items.enumerated() {
        do {
          _ = try divergence.accumulate(
            AccumulationBlock(memory: memory, items: [item], parallelism: parallelism))
        } catch {
          throw BatchFailure(item: k, error: error)
        }
      }
      throw BatchFailure(item: 0, error: error)
    }
    guard variations.count == snapshots.count else {
      throw BatchFailure(
        item: min(variations.count, snapshots.count - 1),
        error: DAMError(
          .numericalFailure, argument: "divergence",
          "its block accumulation returned \(variations.count) variations for \(snapshots.count) states"))
    }
    let geometry = geometry
    return try perItem(snapshots.count) { b in
      try geometry.step(from: snapshots[b].state, along: variations[b])
    }
  }

  /// `body(b)` for every `b` in `0..<count`, on up to ``parallelism`` threads; the first failure
  /// (lowest `b`) is thrown as a ``BatchFailure`` naming `b`.
  private func perItem<T>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
    let results = concurrentMap(count, workers: parallelism) { b in Result { try body(b) } }
    var values: [T] = []
    values.reserveCapacity(count)
    for (b, result) in results.enumerated() {
      switch result {
      case .success(let value): values.append(value)
      case .failure(let error): throw error as? BatchFailure ?? BatchFailure(item: b, error: error)
      }
    }
    return values
  }
}

extension RetrievalEngine where D.State: Equatable {
  /// One step of the dynamics from a state whose snapshot is known.
  ///
  /// - Throws: ``DAMError`` naming `snapshot` if it was taken at another state.
  public func step(from state: D.State, snapshot: Snapshot) throws -> D.State {
    guard snapshot.state == state else {
      throw DAMError.invalid(
        "snapshot", "was taken at another state; take it with snapshot(at:) at this state")
    }
    return try step(from: snapshot)
  }
}

/// A failure of one query of a batch: its position and its error.
struct BatchFailure: Error {
  let item: Int
  let error: any Error
}

/// How far above its initial value, in units of `1 + |E₀|`, the energy may rise before
/// ``RetrievalEngine/retrieve(_:recordingTrajectory:)`` reports that the dynamics diverged.
/// Oscillating SHK steps rise by single-digit factors; a diverging step grows geometrically.
let divergedEnergyRise = 1e6
