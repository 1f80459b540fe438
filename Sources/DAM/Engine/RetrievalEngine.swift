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

  /// Composes an engine.
  ///
  /// - Throws: ``DAMError`` if the memory is empty or `beta` is not a finite number above 0.
  public init(
    memory: Memory<D>, separation: S, geometry: G, beta: Double, stopping: StoppingRule = .default
  ) throws(DAMError) {
    guard !memory.isEmpty else { throw DAMError.invalid("memory", "is empty; store at least one pattern") }
    try _requirePositive(beta, "beta")
    self.memory = memory
    self.separation = separation
    self.geometry = geometry
    self.beta = beta
    self.stopping = stopping
  }

  /// Everything the engine knows at one state.
  public struct Snapshot: Sendable {
    /// The divergences to every pattern.
    public var divergences: [Double]
    /// The separation weights.
    public var weights: [Double]
    /// The energy.
    public var energy: Double
    /// The query-only cache of this state.
    var query: D.QueryCache
    /// The evaluation at every pattern.
    var evaluations: [D.Evaluation]
  }

  /// Evaluates divergences, weights and energy at a state; `previous` (the snapshot of the
  /// previous step) lets iterative divergences warm-start.
  public func snapshot(at state: D.State, previous: Snapshot? = nil) throws -> Snapshot {
    let query = try memory.divergence.prepareQuery(state, previous: previous?.query)
    let divergence = memory.divergence
    let evaluations = try divergence.evaluateAll(
      state, query: query, patterns: memory.patterns, caches: memory.caches, previous: previous?.evaluations)
    var divergences: [Double] = []
    divergences.reserveCapacity(memory.count)
    var scores: [Double] = []
    scores.reserveCapacity(memory.count)
    for i in 0..<memory.count {
      let value = divergence.value(of: evaluations[i])
      guard value.isFinite else {
        throw DAMError(
          .numericalFailure, argument: "query",
          "the divergence to pattern \(i) is \(value); the query or the pattern is out of range")
      }
      divergences.append(value)
      scores.append(-beta * value)
    }
    let separated = try separation.separate(scores)
    return Snapshot(
      divergences: divergences, weights: separated.weights, energy: -separated.conjugate / beta,
      query: query, evaluations: evaluations)
  }

  /// The energy `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))` at a state.
  public func energy(at state: D.State) throws -> Double {
    try snapshot(at: state).energy
  }

  /// One step of the dynamics from a state whose snapshot is known.
  public func step(from state: D.State, snapshot: Snapshot) throws -> D.State {
    let divergence = memory.divergence
    var variation = divergence.zeroVariation(at: state)
    try divergence.accumulateAll(
      snapshot.weights, of: snapshot.evaluations, at: state, query: snapshot.query, patterns: memory.patterns,
      caches: memory.caches, into: &variation)
    return try geometry.step(from: state, along: variation)
  }

  /// Retrieves from a query: runs the dynamics until the ``StoppingRule`` says stop.
  ///
  /// - Parameters:
  ///   - query: the initial state.
  ///   - recordingTrajectory: whether to keep every visited state in the result.
  /// - Throws: ``DAMError`` naming `query` if it does not fit the memory, or any error of the
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
    while steps < stopping.maxSteps {
      let next = try step(from: state, snapshot: current)
      let change = geometry.change(from: state, to: next)
      let nextSnapshot = try snapshot(at: next, previous: current)
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
      steps: steps, stopReason: reason, lastChange: lastChange, trajectory: trajectory)
  }
}
