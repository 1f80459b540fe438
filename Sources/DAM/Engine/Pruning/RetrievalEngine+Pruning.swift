/// The fewest patterns a thread bounds (smaller memories are bounded on one thread).
let boundBlock = 4096

extension RetrievalEngine {
  /// The pruning of one state's snapshot, or nil when every pattern is to be evaluated.
  func pruningRun(_ state: D.State, query: D.QueryCache) -> PruningRun? {
    let rule: PruningRun.Rule
    switch pruning {
    case .none: return nil
    case .exact:
      guard let zeroWeight = separation.zeroWeightRule else { return nil }
      rule = .zeroWeight(zeroWeight)
    case .softmaxMass(let allowed):
      if let zeroWeight = separation.zeroWeightRule {
        rule = .zeroWeight(zeroWeight)
      } else if separation.unevaluatedWeightBound(evaluatedLogMass: 0, otherLogMass: 0) != nil {
        rule = .massBound(allowed)
      } else {
        return nil
      }
    }
    guard let bounds = allLowerBounds(state, query: query) else { return nil }
    return PruningRun(rule: rule, bounds: bounds, beta: beta)
  }

  /// The lower bound of every pattern, or nil when the divergence has none (or one is NaN).
  /// The divergence's ``Divergence/lowerBounds(_:query:patterns:caches:indices:)`` on fixed
  /// blocks, up to `parallelism` at a time (each bound depends on its pattern only). That
  /// method is compiled for the divergence itself, so the patterns are read in place.
  func allLowerBounds(_ state: D.State, query: D.QueryCache) -> [Double]? {
    let count = memory.count
    let blocks = min(parallelism, max(1, count / boundBlock))
    let divergence = memory.divergence
    let memory = memory
    let patterns = memory.patterns
    let results = Slots<[Double]?>(count: blocks, initial: nil)
    forEachChunk(blocks, workers: blocks) { block in
      results[block] = divergence.lowerBounds(
        state, query: query, patterns: patterns, caches: memory.caches,
        indices: blockRange(block, of: blocks, count: count))
    }
    var bounds: [Double] = []
    bounds.reserveCapacity(count)
    for block in 0..<blocks {
      guard let part = results[block], !part.contains(where: \.isNaN) else { return nil }
      bounds += part
    }
    return bounds
  }
}
