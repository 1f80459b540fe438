/// The patterns by increasing lower bound (ties by index), revealed as far as a pruned snapshot
/// needs (usually a few hundred of 100,000; see ``_stableArgsortPrefix(_:count:)``), with a
/// summary of the rest: its smallest bound and, for softmax, `log Σ exp(-β L)` over it.
struct BoundOrder {
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
  private var suffix = SuffixMass()

  init(_ bounds: [Double], beta: Double, masses: Bool) {
    self.bounds = bounds
    self.beta = beta
    self.masses = masses
  }

  /// Makes the prefix at least `count` long (four times longer at least, at most every pattern).
  mutating func reveal(through count: Int) {
    let total = bounds.count
    guard count > prefix.count, prefix.count < total else { return }
    let length = min(total, max(count, 4 * prefix.count, boundOrderFirstPrefix))
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
    suffix = SuffixMass(prefix.map { bounds[$0] }, beta: beta)
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
let boundOrderFirstPrefix = 1024

/// The first `count` patterns in bound order as a pruned softmax snapshot sees them, and
/// `log Σ_{q ≥ p} exp(-β L_order[q])` at every position `p` up to the prefix's end (for tests).
@_spi(Testing) public func _boundOrderSuffixLogMasses(_ bounds: [Double], beta: Double, through count: Int)
  -> (prefix: [Int], logMasses: [Double])
{
  var order = BoundOrder(bounds, beta: beta, masses: true)
  order.reveal(through: count)
  return (order.prefix, (0...order.prefix.count).map { order.logSuffixMass(at: $0) })
}
