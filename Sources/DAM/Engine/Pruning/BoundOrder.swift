/// The order in which a pruned snapshot evaluates patterns, and the masses its softmax test needs.

/// How many patterns a pruned snapshot evaluates before its first pruning test.
let _pruningFirstBatch = 16

/// How many patterns a pruned snapshot evaluates between two pruning tests while the test cannot
/// yet say how many are needed (a k-subsets map with fewer than k evaluated).
let _pruningBatch = 64

/// `log Σ_{q ≥ p} exp(-β L_q)` at every position `p` of bounds in increasing order (`-∞` at the end).
///
/// In bound order the terms `tₚ = -β L_order[p]` do not increase, so `Sₚ = Σ_{q ≥ p} exp(t_q - tₚ)`
/// obeys `Sₚ = 1 + S_{p+1} exp(t_{p+1} - tₚ)` with every exponent `<= 0` (nothing overflows;
/// `1 <= Sₚ <= N`), and the suffix is `tₚ + log Sₚ`: one vectorised exponential per pattern, and
/// a logarithm only where a suffix is asked for.
struct _SuffixMass {
  /// `tₚ`.
  private var terms: [Double] = []
  /// `Sₚ`.
  private var sums: [Double] = []

  init() {}

  /// The suffix masses of bounds in increasing order.
  init(_ sortedBounds: [Double], beta: Double) {
    let count = sortedBounds.count
    terms = sortedBounds.map { -beta * $0 }
    var steps = [Double](repeating: -.infinity, count: count)
    for p in 0..<max(count - 1, 0) {
      // Past a term of -∞ every later one is -∞ too (and -∞ - -∞ is NaN).
      steps[p] = terms[p] == -.infinity ? -.infinity : terms[p + 1] - terms[p]
    }
    steps.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { _expInPlace(base, count: count) } }
    sums = [Double](repeating: 1, count: count)
    if count >= 2 {
      for p in stride(from: count - 2, through: 0, by: -1) { sums[p] = 1 + sums[p + 1] * steps[p] }
    }
  }

  /// `log Σ_{q ≥ p} exp(-β L_q)`; `-∞` for `p` at the end.
  func logarithm(at p: Int) -> Double {
    guard p < terms.count, terms[p] != -.infinity else { return -.infinity }
    return terms[p] + _log(sums[p])
  }
}

/// The fewest patterns a thread bounds (smaller memories are bounded on one thread).
let _boundBlock = 4096

/// One query's pruned snapshot in progress: which patterns to evaluate next, in rounds.
///
/// Patterns in the order of their lower bounds: a first fixed batch, then up to the first position
/// from which the rest is certified negligible by what is known so far (more evaluations only
/// make that test easier, so the position is sufficient), at most doubling the count evaluated
/// before testing again. Every choice depends on values alone, so the set evaluated does not
/// depend on the thread count or on the other queries of a batch.
struct _PruningRun {
  enum Rule {
    /// The separation map's zero-weight certificate.
    case zeroWeight(ZeroWeightRule)
    /// The separation map's bound on unevaluated weight, with the allowed total.
    case massBound(Double)
  }
  let rule: Rule
  let beta: Double
  /// The patterns by increasing bound, revealed as far as needed (with every pattern's bound).
  private(set) var order: _BoundOrder
  /// Evaluated (or requested) positions of the order end here.
  private var end: Int
  /// The bound on the weight left out, once the mass test passed.
  private(set) var droppedWeightBound = 0.0

  init(rule: Rule, bounds: [Double], beta: Double) {
    var masses = false
    if case .massBound = rule { masses = true }
    self.rule = rule
    self.beta = beta
    order = _BoundOrder(bounds, beta: beta, masses: masses)
    end = min(_pruningFirstBatch, bounds.count)
  }

  /// The first patterns to evaluate.
  mutating func first() -> [Int] {
    order.reveal(through: end)
    return Array(order.prefix[0..<end])
  }

  /// The next patterns to evaluate, given every evaluation so far (whose last round ended at the
  /// previous request), or nil when the rest is certified negligible or nothing is left.
  mutating func next(after evaluations: _Evaluations<some Sendable>, separation: some SeparationMap) -> [Int]?
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
        end = min(position + _pruningBatch, count)
        order.reveal(through: end)
        return Array(order.prefix[position..<end])
      }
      // The rank-th smallest exact divergence so far is at least the true one: patterns whose
      // bound-based score is `gap` below its score have weight zero.
      let reference = evaluations.values.sorted()[rule.rank - 1]
      let beta = beta
      let order = order
      sufficient = _firstPosition(from: position, to: known + 1) { p in
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
      sufficient = _firstPosition(from: position, to: known + 1) { bound($0) <= allowed }
      if sufficient == position { droppedWeightBound = bound(position) }
    }
    if sufficient == position { return nil }
    let doubled = min(count, position + max(_pruningBatch, position))
    end = sufficient > known ? doubled : min(sufficient, doubled)
    order.reveal(through: end)
    return Array(order.prefix[position..<end])
  }
}

/// The patterns by increasing lower bound (ties by index), revealed as far as a pruned snapshot
/// needs (usually a few hundred of 100,000; see ``_stableArgsortPrefix(_:count:)``), with a
/// summary of the rest: its smallest bound and, for softmax, `log Σ exp(-β L)` over it.
struct _BoundOrder {
  /// The lower bound of every pattern.
  let bounds: [Double]
  let beta: Double
  /// Whether suffix masses are kept (softmax).
  let masses: Bool
  /// The first patterns in bound order.
  private(set) var prefix: [Int] = []
  /// The smallest bound outside the prefix (`+∞` if there is none).
  private var restMinimum = Double.infinity
  /// `log Σ exp(-β Lᵢ)` outside the prefix (`-∞` if there is none).
  private var restLogMass = -Double.infinity
  /// The prefix's suffix masses.
  private var suffix = _SuffixMass()

  init(_ bounds: [Double], beta: Double, masses: Bool) {
    self.bounds = bounds
    self.beta = beta
    self.masses = masses
  }

  /// Makes the prefix at least `count` long (four times longer at least, at most every pattern).
  mutating func reveal(through count: Int) {
    let total = bounds.count
    guard count > prefix.count, prefix.count < total else { return }
    let length = min(total, max(count, 4 * prefix.count, _boundOrderFirstPrefix))
    // One more than needed gives the smallest bound of the rest.
    var order = _stableArgsortPrefix(bounds, count: min(length + 1, total))
    if order.count > length {
      restMinimum = bounds[order[length]]
      order.removeLast()
    } else {
      restMinimum = .infinity
    }
    prefix = order
    guard masses else { return }
    suffix = _SuffixMass(prefix.map { bounds[$0] }, beta: beta)
    restLogMass = -.infinity
    guard length < total, restMinimum != .infinity else { return }
    // The rest's terms relative to its largest, each <= 0: one vector exponential.
    var inPrefix = [Bool](repeating: false, count: total)
    for i in prefix { inPrefix[i] = true }
    let top = -beta * restMinimum
    var exponents: [Double] = []
    exponents.reserveCapacity(total - length)
    for i in 0..<total where !inPrefix[i] { exponents.append(-beta * bounds[i] - top) }
    exponents.withUnsafeMutableBufferPointer {
      if let base = $0.baseAddress { _expInPlace(base, count: $0.count) }
    }
    var sum = 0.0
    for term in exponents { sum += term }
    restLogMass = top + _log(sum)
  }

  /// The bound at position `p` of the order, `p <= prefix.count`; at the end of the prefix, the
  /// smallest bound of the rest.
  func bound(at p: Int) -> Double {
    p < prefix.count ? bounds[prefix[p]] : restMinimum
  }

  /// `log Σ_{q ≥ p} exp(-β L_order[q])`, `p <= prefix.count`.
  func logSuffixMass(at p: Int) -> Double {
    let inside = suffix.logarithm(at: p)
    let (high, low) = inside >= restLogMass ? (inside, restLogMass) : (restLogMass, inside)
    guard high != -.infinity else { return -.infinity }
    return low == -.infinity ? high : high + _log1p(_exp(low - high))
  }
}

/// The length of the first bound order a pruned snapshot reveals.
let _boundOrderFirstPrefix = 1024

/// The first `count` patterns in bound order as a pruned softmax snapshot sees them, and
/// `log Σ_{q ≥ p} exp(-β L_order[q])` at every position `p` up to the prefix's end (for tests).
@_spi(Testing) public func _boundOrderSuffixLogMasses(_ bounds: [Double], beta: Double, through count: Int)
  -> (prefix: [Int], logMasses: [Double])
{
  var order = _BoundOrder(bounds, beta: beta, masses: true)
  order.reveal(through: count)
  return (order.prefix, (0...order.prefix.count).map { order.logSuffixMass(at: $0) })
}
