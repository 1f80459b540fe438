extension RetrievalEngine {
  /// Everything the engine knows at one state.
  public struct Snapshot: Sendable {
    /// The state the snapshot was taken at.
    public let state: D.State
    /// The divergences to every pattern: exact for evaluated patterns, the divergence's lower
    /// bound for patterns skipped by pruning.
    public var divergences: [Double]
    /// The separation weights (zero on skipped patterns).
    public var weights: [Double]
    /// The energy.
    public var energy: Double
    /// The number of exact evaluations.
    public var evaluationCount: Int
    /// A bound on the total weight the skipped patterns would have had: 0 unless
    /// ``Pruning/softmaxMass(_:)`` skipped patterns.
    public var droppedWeightBound: Double
    /// The query-only cache of this state.
    var query: D.QueryCache
    /// The evaluations, by pattern index.
    var evaluations: Evaluations<D.Evaluation>
    /// The patterns with nonzero weight, by increasing index.
    var support: PatternIndices

    /// Which patterns were evaluated exactly (all of them without pruning).
    public var evaluated: [Bool] {
      guard !evaluations.isAll else { return [Bool](repeating: true, count: weights.count) }
      var evaluated = [Bool](repeating: false, count: weights.count)
      for k in 0..<evaluations.count { evaluated[evaluations.index(at: k)] = true }
      return evaluated
    }
  }
}
