/// How many patterns a pruned snapshot evaluates before its first pruning test.
let pruningFirstBatch = 16

/// How many patterns a pruned snapshot evaluates between two pruning tests while the test cannot
/// yet say how many are needed (a k-subsets map with fewer than k evaluated).
let pruningBatch = 64

/// One query's pruned snapshot in progress: which patterns to evaluate next, in rounds.
///
/// Patterns in the order of their lower bounds: a first fixed batch, then up to the first position
/// from which the rest is certified negligible by what is known so far (more evaluations only
/// make that test easier, so the position is sufficient), at most doubling the count evaluated
/// before testing again. Every choice depends on values alone, so the set evaluated does not
/// depend on the thread count or on the other queries of a batch.
struct PruningRun {
  enum Rule {
    /// The separation map's zero-weight certificate.
    case zeroWeight(ZeroWeightRule)
    /// The separation map's bound on unevaluated weight, with the allowed total.
    case massBound(Double)
  }
  let rule: Rule
  let beta: Double
  /// The patterns by increasing bound, revealed as far as needed (with every pattern's bound).
  private(set) var order: BoundOrder
  /// Evaluated (or requested) positions of the order end here.
  private var end: Int
  /// The bound on the weight left out, once the mass test passed.
  private(set) var droppedWeightBound = 0.0

  init(rule: Rule, bounds: [Double], beta: Double) {
    var masses = false
    if case .massBound = rule { masses = true }
    self.rule = rule
    self.beta = beta
    order = BoundOrder(bounds, beta: beta, masses: masses)
    end = min(pruningFirstBatch, bounds.count)
  }

  /// The first patterns to evaluate.
  mutating func first() -> [Int] {
    order.reveal(through: end)
    return Array(order.prefix[0..<end])
  }

  /// The next patterns to evaluate, given every evaluation so far (whose last round ended at the
  /// previous request), or nil when the rest is certified negligible or nothing is left.
  mutating func next(after evaluations: Evaluations<some Sendable>, separation: some SeparationMap) -> [Int]?
  {
    let count = order.bounds.count
    let position = end
    guard position < count else { return nil }
    // The first position (up to the end of the known order, where the rest's summary stands for
    // the next bound) whose remaining patterns are certified negligible; `known + 1` if none.
    let known = order.prefix.count
    let sufficient: Int
    switch rule {
    case .zeroWeight(let rule):
      guard evaluations.count >= rule.rank else {
        end = min(position + pruningBatch, count)
        order.reveal(through: end)
        return Array(order.prefix[position..<end])
      }
      // The rank-th smallest exact divergence so far is at least the true one: patterns whose
      // bound-based score is `gap` below its score have weight zero.
      let reference = evaluations.values.sorted()[rule.rank - 1]
      let beta = beta
      let order = order
      sufficient = firstPosition(from: position, to: known + 1) { p in
        -beta * order.bound(at: p) <= -beta * reference - rule.gap
      }
    case .massBound(let allowed):
      let beta = beta
      let logEvaluated = logSumExp(evaluations.values.map { -beta * $0 })
      let order = order
      func bound(_ p: Int) -> Double {
        separation.unevaluatedWeightBound(
          evaluatedLogMass: logEvaluated, otherLogMass: order.logSuffixMass(at: p))
          ?? .infinity
      }
      sufficient = firstPosition(from: position, to: known + 1) { bound($0) <= allowed }
      if sufficient == position { droppedWeightBound = bound(position) }
    }
    if sufficient == position { return nil }
    let doubled = min(count, position + max(pruningBatch, position))
    end = sufficient > known ? doubled : min(sufficient, doubled)
    order.reveal(through: end)
    return Array(order.prefix[position..<end])
  }
}
