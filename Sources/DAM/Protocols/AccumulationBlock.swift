/// The accumulation work of one retrieval step: several query states of a batch, each with the
/// patterns whose separation weight is nonzero.
public struct AccumulationBlock<D: Divergence>: Sendable {
  /// One state, its weights and its evaluations.
  public struct Item: Sendable {
    /// The state.
    public let state: D.State
    /// The state's query-only cache.
    public let query: D.QueryCache
    /// The separation weight of every stored pattern (zero outside ``support``).
    public let weights: [Double]
    /// The patterns with nonzero weight, by increasing index.
    public let support: PatternIndices
    /// The evaluations of this state, by pattern index.
    let evaluations: Evaluations<D.Evaluation>

    init(
      state: D.State, query: D.QueryCache, weights: [Double], support: PatternIndices,
      evaluations: Evaluations<D.Evaluation>
    ) {
      self.state = state
      self.query = query
      self.weights = weights
      self.support = support
      self.evaluations = evaluations
    }

    /// The evaluation at a pattern of the ``support``.
    public func evaluation(at index: Int) -> D.Evaluation { evaluations[index]! }
  }

  /// The memory.
  public let memory: Memory<D>
  /// The states.
  public let items: [Item]
  /// How many threads the block may use.
  public let parallelism: Int
  /// The scratch buffer of the retrieval this block belongs to, if the engine made one.
  let scratch: BlockScratch?

  init(memory: Memory<D>, items: [Item], parallelism: Int, scratch: BlockScratch? = nil) {
    self.memory = memory
    self.items = items
    self.parallelism = max(1, parallelism)
    self.scratch = scratch
  }

  /// Each item from the zero variation, pattern by pattern in index order; items on up to
  /// ``parallelism`` threads. The first failure in item order is thrown.
  func accumulatePairs(_ divergence: D) throws -> [D.Variation] {
    let slots = Slots<Result<D.Variation, any Error>?>(count: items.count, initial: nil)
    let items = items
    let memory = memory
    let patterns = memory.patterns
    forEachChunk(items.count, workers: parallelism) { k in
      let item = items[k]
      slots[k] = Result {
        var variation = divergence.zeroVariation(at: item.state)
        for i in item.support {
          try divergence.accumulate(
            item.weights[i], of: item.evaluation(at: i), at: item.state, query: item.query,
            pattern: patterns[i], cache: memory.caches[i], into: &variation)
        }
        return variation
      }
    }
    return try slots.values.map { try $0!.get() }
  }
}
