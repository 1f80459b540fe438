/// The evaluation work of one retrieval step: several query states of a batch, each at some of
/// the memory's patterns (all of them, or those a pruning round selected).
///
/// The engine builds blocks and hands them to ``Divergence/evaluate(_:)-(EvaluationBlock<Self>)``;
/// a divergence that shares work across pairs (one matrix product for every score) overrides
/// that method, and the default evaluates the pairs one by one on ``parallelism`` threads.
public struct EvaluationBlock<D: Divergence>: Sendable {
  /// One state and the patterns to evaluate it at.
  public struct Item: Sendable {
    /// The state.
    public let state: D.State
    /// The state's query-only cache (``Divergence/prepareQuery(_:previous:)``).
    public let query: D.QueryCache
    /// The patterns, by index in the memory, in increasing order.
    public let indices: PatternIndices
    /// The previous step's evaluations of the same query, by pattern index.
    let previousEvaluations: Evaluations<D.Evaluation>?

    /// An item; `previous` holds the previous step's evaluations of the same query, if any.
    init(
      state: D.State, query: D.QueryCache, indices: PatternIndices, previous: Evaluations<D.Evaluation>?
    ) {
      self.state = state
      self.query = query
      self.indices = indices
      self.previousEvaluations = previous
    }

    /// An item without previous evaluations (a cold start), for divergences that build blocks of
    /// their own.
    public init(state: D.State, query: D.QueryCache, indices: PatternIndices) {
      self.init(state: state, query: query, indices: indices, previous: nil)
    }

    /// The previous step's evaluation of this query at the pattern `index` (a warm start), or nil.
    public func previous(at index: Int) -> D.Evaluation? { previousEvaluations?[index] }
  }

  /// The memory whose patterns are evaluated.
  public let memory: Memory<D>
  /// The states and their patterns.
  public let items: [Item]
  /// How many threads the block may use.
  public let parallelism: Int
  /// The scratch buffer of the retrieval this block belongs to, if the engine made one.
  let scratch: BlockScratch?

  /// A block of work; `parallelism` must be at least 1.
  public init(memory: Memory<D>, items: [Item], parallelism: Int) {
    self.init(memory: memory, items: items, parallelism: parallelism, scratch: nil)
  }

  init(memory: Memory<D>, items: [Item], parallelism: Int, scratch: BlockScratch?) {
    self.memory = memory
    self.items = items
    self.parallelism = max(1, parallelism)
    self.scratch = scratch
  }

  /// Every pair by the per-pair method, in fixed chunks of the flattened pairs on up to
  /// ``parallelism`` threads (every evaluation is independent, so the result is the same for every
  /// thread count). The first failure in item order, then pattern order, is thrown.
  func evaluatePairs(_ divergence: D) throws -> [[D.Evaluation]] {
    var starts = [0]
    for item in items { starts.append(starts.last! + item.indices.count) }
    let total = starts.last!
    guard total > 0 else { return items.map { _ in [] } }
    let chunks = min(total, parallelism == 1 ? 1 : parallelism * 8)
    let slots = Slots<D.Evaluation?>(count: total, initial: nil)
    let failures = Slots<(any Error)?>(count: chunks, initial: nil)
    let items = items
    let memory = memory
    let patterns = memory.patterns
    let starts0 = starts
    forEachChunk(chunks, workers: parallelism) { chunk in
      var item = 0
      for position in blockRange(chunk, of: chunks, count: total) {
        while position >= starts0[item + 1] { item += 1 }
        let entry = items[item]
        let index = entry.indices[position - starts0[item]]
        do {
          slots[position] = try divergence.evaluate(
            entry.state, query: entry.query, pattern: patterns[index], cache: memory.caches[index],
            previous: entry.previous(at: index))
        } catch {
          failures[chunk] = error
          return
        }
      }
    }
    if let failure = failures.firstNonNil() { throw failure }
    let all = slots.values
    return items.indices.map { k in all[starts[k]..<starts[k + 1]].map { $0! } }
  }
}
