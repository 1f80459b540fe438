/// Stops a solve early when its marginal error shows that it cannot reach the tolerance within
/// its iteration budget (tiny ε, where Sinkhorn slows to a crawl or stalls), instead of running
/// out the budget before failing with the same error.
///
/// The iterations at the target ε are cut into windows of `max(100, maxIterations / 50)` and the
/// best (smallest) error of each window is kept. At the end of each window from the sixth on, the
/// best error of the last window is compared with that of the window `span` = 5 windows earlier
/// (10% of the default budget). The solve is hopeless when the error did not fall at all over
/// that span, or when its pace (a linear rate fitted to the two best errors) needs more than 10
/// times the iterations left in the budget to reach the tolerance. Sinkhorn's error decays at
/// least linearly once it converges, so a solve that reaches the tolerance within the budget
/// goes faster than that and is not stopped; the margin of 10 allows for a rate that improves
/// later. Not used when `allowsUnconverged` is set (the caller wants the budget spent) and, in
/// the solvers, only once Newton's method will no longer be tried.
struct Stagnation {
  /// The window, in iterations.
  let window: Int
  /// How many windows apart the compared best errors are.
  static let span = 5
  private let tolerance: Double
  private let maxIterations: Int
  private let enabled: Bool
  private var bests: [Double] = []
  private var best = Double.infinity
  /// Where and why the solve was found hopeless.
  private(set) var stop: (iteration: Int, best: Double, earlier: Double, needed: Double?)?

  init(tolerance: Double, maxIterations: Int, allowsUnconverged: Bool) {
    self.tolerance = tolerance
    self.maxIterations = maxIterations
    window = max(100, maxIterations / 50)
    enabled = !allowsUnconverged
  }

  /// Records the marginal error of the `iteration`-th iteration at the target ε; true when the
  /// solve cannot reach the tolerance within the budget (then ``stop`` says why).
  mutating func isHopeless(error: Double, iteration: Int) -> Bool {
    guard enabled else { return false }
    if error < best { best = error }  // NaN never becomes the best
    guard iteration % window == 0 else { return false }
    bests.append(best)
    best = .infinity
    guard bests.count > Self.span else { return false }
    let (current, earlier) = (bests[bests.count - 1], bests[bests.count - 1 - Self.span])
    // An infinite best error (the marginals overflow) that stays infinite is no progress.
    guard current > tolerance else { return false }
    guard current < earlier else {
      stop = (iteration, current, earlier, nil)
      return true
    }
    let ratePerIteration = _log(current / earlier) / Double(window * Self.span)  // < 0
    let needed = _log(tolerance / current) / ratePerIteration
    let left = Double(maxIterations - iteration)
    guard needed > 10 * left else { return false }
    stop = (iteration, current, earlier, needed)
    return true
  }
}
