/// Chooses ω iteration by iteration; see ``Relaxation``.
struct RelaxationController {
  private(set) var omega: Double
  private let adaptive: Bool
  private var history: [Double] = []
  private var smallest = Double.infinity
  private var decided = false

  init(_ relaxation: Relaxation) {
    switch relaxation {
    case .none:
      omega = 1
      adaptive = false
    case .fixed(let value):
      omega = value
      adaptive = false
    case .adaptive:
      omega = 1
      adaptive = true
    }
  }

  /// The ω for the next update, given the marginal error just measured.
  mutating func next(error: Double) -> Double {
    smallest = min(smallest, error)
    if omega > 1 && error > 10 * smallest {
      omega = 1  // diverging: fall back to plain Sinkhorn for good
      decided = true
      return omega
    }
    guard adaptive, !decided else { return omega }
    history.append(error)
    // Estimate θ once two successive windows of plain iterations show the same rate: the linear
    // (asymptotic) regime, where the SOR formula applies. Early transients decay faster and would
    // give too small an ω.
    let window = 5
    guard history.count > 2 * window else { return omega }
    let count = history.count
    let latest = _pow(history[count - 1] / history[count - 1 - window], 1 / Double(window))
    let previous = _pow(history[count - 1 - window] / history[count - 1 - 2 * window], 1 / Double(window))
    guard latest > 0, latest < 1, previous > 0, previous < 1,
      abs(latest - previous) <= 0.05 * (1 - latest)
    else {
      if count > 400 { decided = true }  // no stable rate: stay plain
      return omega
    }
    omega = min(1.95, 2 / (1 + (1 - latest).squareRoot()))
    decided = true
    return omega
  }
}

/// The error of a solve that used up its iterations above the marginal tolerance, or that
/// `stagnation` stopped early; `what` names the problem ("Sinkhorn", "the symmetric Sinkhorn
/// problem", ...), and `remedy` what to do about a stall (raising ε, for problems that only
/// stall when ε is small).
func notConverged(
  _ what: String, tolerance: Double, maxIterations: Int, epsilon: Double, error: Double, advice: Bool,
  stagnation: Stagnation? = nil, remedy: String = "raise epsilon"
) -> DAMError {
  if let stagnation, let stop = stagnation.stop {
    let span = stagnation.window * Stagnation.span
    let stopped =
      "\(what) cannot reach the marginal tolerance \(tolerance) within \(maxIterations) iterations at epsilon = \(epsilon): stopped after \(stop.iteration), as the error (now \(error))"
    guard tolerance > 0 else {
      return DAMError(
        .numericalFailure, argument: "tolerance",
        "\(stopped) stays above 0 (best \(stop.best)), and a tolerance of 0 needs an exact solution; give a tolerance > 0"
      )
    }
    let pace =
      stop.needed.map {
        "fell only from \(stop.earlier) to \(stop.best) over the last \(span) iterations, a pace that needs about \(roundedForHumans($0)) more"
      } ?? "did not fall over the last \(span) iterations (best \(stop.best), \(stop.earlier) before)"
    return DAMError(.numericalFailure, argument: "epsilon", "\(stopped) \(pace); \(remedy)")
  }
  return DAMError(
    .numericalFailure, argument: "maxIterations",
    "\(what) did not reach the marginal tolerance \(tolerance) in \(maxIterations) iterations at epsilon = \(epsilon) (error \(error))"
      + (advice ? "; raise maxIterations or epsilon" : ""))
}

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

/// A positive number to 2 significant digits, for messages.
func roundedForHumans(_ x: Double) -> String {
  guard x.isFinite, x > 0 else { return "\(x)" }
  let digits = Int((_log(x) / _log(10)).rounded(.down))
  let scale = _pow(10, Double(digits - 1))
  let rounded = (x / scale).rounded() * scale
  return digits >= 1 && digits < 15 ? "\(Int(rounded))" : "\(rounded)"
}

/// The dual objective `⟨a, f⟩ + ⟨b, g⟩ - ε (mass - 1)` at the solution, skipping atoms of weight 0
/// (their potentials are arbitrary).
func dualValue(epsilon: Double, mass: Double, _ a: [Double], _ f: [Double], _ b: [Double], _ g: [Double])
  -> Double
{
  var value = -epsilon * (mass - 1)
  for j in a.indices where a[j] > 0 { value += a[j] * f[j] }
  for k in b.indices where b[k] > 0 { value += b[k] * g[k] }
  return value
}

/// The dual objective `2 ⟨a, p⟩ - ε (mass - 1)` of a symmetric problem.
func selfDualValue(epsilon: Double, mass: Double, _ a: [Double], _ p: [Double]) -> Double {
  var value = -epsilon * (mass - 1)
  for j in a.indices where a[j] > 0 { value += 2 * a[j] * p[j] }
  return value
}
