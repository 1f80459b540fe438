/// A retrieval engine with its components erased, for choosing them at run time (as the `dam`
/// command-line tool does). Wrapping costs one indirect call per retrieval, not per step.
public struct AnyRetrievalEngine<State: Sendable>: Sendable {
  private let erasedRetrieve: @Sendable (State, Bool) throws -> RetrievalResult<State>
  private let erasedEnergy: @Sendable (State) throws -> Double
  private let erasedRetrieveBatch: @Sendable ([State], Bool) throws -> [RetrievalResult<State>]

  /// The number of stored patterns.
  public let patternCount: Int
  /// The inverse temperature.
  public let beta: Double
  /// The separation map's name.
  public let separationName: String

  /// Erases the component types of an engine.
  public init<D, S, G>(_ engine: RetrievalEngine<D, S, G>) where D.State == State {
    erasedRetrieve = { try engine.retrieve($0, recordingTrajectory: $1) }
    erasedEnergy = { try engine.energy(at: $0) }
    erasedRetrieveBatch = { try engine.retrieve(batch: $0, recordingTrajectory: $1) }
    patternCount = engine.memory.count
    beta = engine.beta
    separationName = engine.separation.name
  }

  /// See ``RetrievalEngine/retrieve(_:recordingTrajectory:)``.
  public func retrieve(_ query: State, recordingTrajectory: Bool = false) throws
    -> RetrievalResult<State>
  {
    try erasedRetrieve(query, recordingTrajectory)
  }

  /// See ``RetrievalEngine/retrieve(batch:recordingTrajectory:)``.
  public func retrieve(batch queries: [State], recordingTrajectory: Bool = false) throws
    -> [RetrievalResult<State>]
  {
    try erasedRetrieveBatch(queries, recordingTrajectory)
  }

  /// See ``RetrievalEngine/energy(at:)``.
  public func energy(at state: State) throws -> Double { try erasedEnergy(state) }
}
