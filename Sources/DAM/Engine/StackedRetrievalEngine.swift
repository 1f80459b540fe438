/// Retrieval of structured patterns by a vector engine on their stacked coordinates
/// (``Stacking``): the Euclidean baselines of the papers, for point clouds (atoms concatenated in
/// stored order) and Gaussians (`(m, vec S)`).
///
/// Each query is stacked, the vector engine retrieves, and every state of the result (the final
/// one and, when recorded, the trajectory) is unstacked; weights, divergences, energies, steps
/// and the stop reason are the vector engine's.
public struct StackedRetrievalEngine<Pattern: Sendable>: Sendable {
  /// The engine that runs on the stacked vectors.
  public let vectorEngine: AnyRetrievalEngine<[Double]>
  /// The encoding of patterns and queries.
  public let stacking: Stacking<Pattern>

  /// An engine over `vectorEngine`, whose memory holds the stacked patterns.
  public init(_ vectorEngine: AnyRetrievalEngine<[Double]>, stacking: Stacking<Pattern>) {
    self.vectorEngine = vectorEngine
    self.stacking = stacking
  }

  /// Retrieves from one query.
  ///
  /// - Throws: what stacking the query, the vector engine or unstacking a state throws.
  public func retrieve(_ query: Pattern, recordingTrajectory: Bool = false) throws -> RetrievalResult<Pattern>
  {
    let result = try vectorEngine.retrieve(
      try stacking.stack(query), recordingTrajectory: recordingTrajectory)
    return try result.mapStates { try stacking.unstack($0, query) }
  }

  /// Retrieves from every query of a batch together (``RetrievalEngine/retrieve(batch:recordingTrajectory:)``).
  ///
  /// - Throws: what stacking a query, the vector engine or unstacking a state throws.
  public func retrieve(batch queries: [Pattern], recordingTrajectory: Bool = false) throws
    -> [RetrievalResult<Pattern>]
  {
    let results = try vectorEngine.retrieve(
      batch: try queries.map(stacking.stack), recordingTrajectory: recordingTrajectory)
    return try zip(queries, results).map { query, result in
      try result.mapStates { try stacking.unstack($0, query) }
    }
  }
}
