/// What a retrieval returns.
public struct RetrievalResult<State: Sendable>: Sendable {
  /// The final state.
  public var state: State
  /// The separation weights at the final state, one per stored pattern.
  public var weights: [Double]
  /// The divergences `D(ξ, Xᵢ)` at the final state.
  public var divergences: [Double]
  /// The energy at the initial state and after each step (`steps + 1` values).
  public var energies: [Double]
  /// The number of steps taken.
  public var steps: Int
  /// Why the retrieval stopped.
  public var stopReason: StopReason
  /// The change made by the last step (zero if no step was taken).
  public var lastChange: StateChange
  /// The states visited, starting with the query, when the trajectory was requested.
  public var trajectory: [State]?
  /// Which patterns were evaluated exactly at the final state, or `nil` if all were. With
  /// pruning, ``divergences`` holds lower bounds for the others.
  public var evaluated: [Bool]?
  /// The number of exact divergence evaluations over the whole retrieval (`N` per state
  /// without pruning).
  public var evaluationCount: Int
  /// A bound on the weight that pruning with ``Pruning/softmaxMass(_:)`` dropped, the largest
  /// over the states visited (0 otherwise).
  public var droppedWeightBound: Double

  /// A result; engines of your own (or adapters around ours) build one.
  public init(
    state: State, weights: [Double], divergences: [Double], energies: [Double], steps: Int,
    stopReason: StopReason, lastChange: StateChange, trajectory: [State]? = nil, evaluated: [Bool]? = nil,
    evaluationCount: Int? = nil, droppedWeightBound: Double = 0
  ) {
    self.state = state
    self.weights = weights
    self.divergences = divergences
    self.energies = energies
    self.steps = steps
    self.stopReason = stopReason
    self.lastChange = lastChange
    self.trajectory = trajectory
    self.evaluated = evaluated
    self.evaluationCount = evaluationCount ?? weights.count * (steps + 1)
    self.droppedWeightBound = droppedWeightBound
  }

  /// The index of the stored pattern with the smallest divergence to the final state (the
  /// lowest such index on ties), among the patterns evaluated exactly.
  public var nearestPattern: Int {
    divergences.withUnsafeBufferPointer { values in
      var best = -1
      if let evaluated {
        for i in values.indices where evaluated[i] && (best < 0 || values[i] < values[best]) { best = i }
      } else {
        for i in values.indices where best < 0 || values[i] < values[best] { best = i }
      }
      return max(best, 0)
    }
  }

  /// The final energy.
  public var energy: Double { energies.last ?? .nan }

  /// The indices of the patterns with nonzero weight.
  public var support: [Int] { weights.indices.filter { weights[$0] != 0 } }
}

extension RetrievalResult {
  /// The same result with its states (the final one and the trajectory) mapped by `transform`.
  public func mapStates<Other: Sendable>(_ transform: (State) throws -> Other) rethrows
    -> RetrievalResult<Other>
  {
    RetrievalResult<Other>(
      state: try transform(state), weights: weights, divergences: divergences, energies: energies,
      steps: steps,
      stopReason: stopReason, lastChange: lastChange, trajectory: try trajectory?.map(transform),
      evaluated: evaluated, evaluationCount: evaluationCount, droppedWeightBound: droppedWeightBound)
  }
}
