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
