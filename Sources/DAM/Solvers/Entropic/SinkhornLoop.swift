/// The dense problem that Newton's method polishes: the cost and the weights of both sides.
struct NewtonProblem {
  let cost: CostMatrix
  let a: [Double]
  let b: [Double]
}

/// The one entropic optimal-transport loop (see ``SinkhornScheme``).
///
/// A cold solve runs the annealing `schedule` (``annealingSchedule(_:_:)``), `iterationsPerStage`
/// plain iterations per ε; a warm one starts at the target. At the target the iterations stop
/// when the L1 marginal error is at most the tolerance, after `maxIterations`, or when the early
/// stop (``Stagnation``) finds the tolerance out of reach. Updates are over-relaxed as
/// `options.relaxation` says. When `newton` is given, a solve that ``newtonPays(_:tolerance:rows:columns:kernel:)``
/// predicts slow is polished by Newton's method (``SinkhornNewton``), at most three times. A warm
/// start that does not converge is retried cold (a distant warm start can leave Newton a badly
/// conditioned system and Sinkhorn a sublinear tail), iterations added up.
struct SinkhornLoop<Backend: Sendable & Hashable> {
  let options: EntropicOptions<Backend>
  /// The cold solve's annealing ε's.
  let schedule: [Double]
  /// The problem Newton's method may polish, or nil (symmetric and grid problems).
  let newton: NewtonProblem?

  /// Solves from `warmStart` (nil: cold), with a scheme made by `make` for a start (its
  /// potentials, or nil for zeros) at an ε (the first of the schedule, or the target).
  func solve<S: SinkhornScheme>(
    warmStart: (f: [Double], g: [Double])?,
    _ make: ((f: [Double], g: [Double])?, Double) throws(DAMError) -> S
  ) throws(DAMError) -> SinkhornRun {
    try options.check()
    var scheme = try make(warmStart, warmStart == nil ? schedule.first ?? options.epsilon : options.epsilon)
    let run = try iterate(&scheme, schedule: warmStart == nil ? schedule : [])
    guard !run.converged, !run.underflowed, warmStart != nil else { return run }
    var cold = try make(nil, schedule.first ?? options.epsilon)
    return try iterate(&cold, schedule: schedule).adding(run)
  }

  private func iterate<S: SinkhornScheme>(_ scheme: inout S, schedule: [Double]) throws(DAMError)
    -> SinkhornRun
  {
    var iterations = 0
    var newtonSteps = 0
    var error = Double.infinity
    var mass = 1.0
    var converged = false
    var stagnation = Stagnation(
      tolerance: options.tolerance, maxIterations: options.maxIterations,
      allowsUnconverged: options.allowsUnconverged)
    func stopped(underflowed: Bool) -> SinkhornRun {
      let (f, g) = scheme.potentials()
      return SinkhornRun(
        f: f, g: g, iterations: iterations, newtonSteps: newtonSteps, error: error, mass: mass,
        converged: converged, stagnation: stagnation, underflowed: underflowed)
    }
    // The work budget, if any, is checked every `every` iterations, before every Newton step
    // (which counts as an iteration) and once at the end (so that the iterations of short solves
    // count too). A failure is reported as the budget's error when the budget is spent: work that
    // gave up its rest once the time limit passed (a soft-minimum's rows, a kernel's entries) can
    // leave values that fail a later test.
    let budget = currentBudget()
    let every = WorkBudget.checkInterval(work: scheme.rows * scheme.columns)
    var checked = 0
    // Newton steps begun (each counts as an iteration); within a polish, the step about to be
    // taken (1-based) and the marginal error before it.
    var newtonCounted = 0
    var newtonStep = 0
    var newtonError = Double.infinity
    func checkBudget(force: Bool = false) throws(DAMError) {
      let counted = iterations + newtonCounted
      guard let budget, force || counted > checked else { return }
      defer { checked = counted }
      try budget.check(iterations: counted - checked) {
        let stage =
          newtonStep > 0
          ? "Newton step \(newtonStep) of at most 60, marginal error \(newtonError)"
          : error.isFinite ? "marginal error \(error)" : "annealing epsilon"
        return
          "an entropic transport solve (\(scheme.rows) x \(scheme.columns)) at epsilon \(options.epsilon), iteration \(iterations) (at most \(options.maxIterations) at the target), \(stage)"
      }
    }
    do throws(SchemeError) {
      for (index, e) in schedule.enumerated() {
        if index > 0 { scheme.move(to: e, exact: false) }
        for _ in 0..<options.iterationsPerStage {
          try scheme.annealingIteration()
          iterations += 1
          if budget != nil, iterations % every == 0 {
            do { try checkBudget() } catch { throw .failure(error) }
          }
        }
      }
      if !schedule.isEmpty { scheme.move(to: options.epsilon, exact: true) }

      var relaxation = RelaxationController(options.relaxation)
      var omega = relaxation.omega
      var finalIterations = 0
      var errors: [Double] = []
      var newtonAttempts = 0
      // Made on the first polish and kept for the others (the materialised cost is `n m` doubles).
      var newtonSolver: SinkhornNewton? = nil
      var newtonAllowed =
        options.newton
        && newton.map {
          $0.a.count + $0.b.count <= newtonSizeLimit && !$0.a.contains(0) && !$0.b.contains(0)
        }
          ?? false
      // Scaling-domain iterations are cheap: the rate is judged once over-relaxation (decided
      // from the first plain iterations) shows in it, and Newton waits longer before it is
      // forced.
      let (judgedFrom, forcedAfter) = S.cheapIterations ? (40, kernelNewtonAfter) : (10, newtonAfter)
      while true {
        (error, mass) = try scheme.measure(omega: omega)
        iterations += 1
        finalIterations += 1
        if budget != nil, iterations % every == 0 {
          do { try checkBudget() } catch { throw .failure(error) }
        }
        if error <= options.tolerance {
          converged = true
          break
        }
        if finalIterations >= options.maxIterations { break }
        if !newtonAllowed, stagnation.isHopeless(error: error, iteration: finalIterations) { break }
        if newtonAllowed, let newton {
          errors.append(error)
          if errors.count >= forcedAfter
            || (errors.count >= judgedFrom
              && newtonPays(
                errors, tolerance: options.tolerance, rows: scheme.rows, columns: scheme.columns,
                kernel: S.cheapIterations))
          {
            // Sinkhorn is slow here (small ε): finish with Newton's method on the dual.
            var (f, g) = scheme.potentials()
            let solver =
              newtonSolver
              ?? SinkhornNewton(
                cost: newton.cost, values: newton.cost.materialized(), a: newton.a, b: newton.b,
                logA: newton.a.map(_log), logB: newton.b.map(_log), epsilon: options.epsilon)
            newtonSolver = solver
            let polish: (error: Double, mass: Double, steps: Int)?
            do {
              polish = try solver.polish(&f, &g, tolerance: options.tolerance, maxSteps: 60) {
                (steps: Int, stepError: Double) throws(DAMError) in
                guard budget != nil else { return }
                newtonCounted += 1
                newtonStep = steps + 1
                newtonError = stepError
                try checkBudget()
              }
            } catch {
              throw .failure(error)
            }
            newtonStep = 0
            if let polished = polish {
              newtonSteps += polished.steps
              if polished.error < error {
                scheme.reset(f: f, g: g)
                error = polished.error
                mass = polished.mass
              }
              if error <= options.tolerance {
                converged = true
                break
              }
            }
            // Retry later (at most three polishes) if Sinkhorn keeps crawling.
            newtonAttempts += 1
            newtonAllowed = newtonAttempts < 3
            errors.removeAll()
            continue
          }
        }
        let previousOmega = omega
        omega = relaxation.next(error: error)
        // The rate Newton's method is judged by is that of the current ω: a new ω's first
        // iterations raise the error before it falls faster, which read as a stall would send to
        // Newton solves that plain Sinkhorn is about to finish.
        if omega != previousOmega { errors.removeAll() }
        scheme.advance(omega: omega)
      }
    } catch {
      switch error {
      case .underflow:
        try checkBudget(force: true)
        return stopped(underflowed: true)
      case .failure(let failure):
        if failure.kind != .budgetExceeded { try checkBudget(force: true) }
        throw failure
      }
    }
    try checkBudget()
    return stopped(underflowed: false)
  }
}

/// Sinkhorn iterations at the target ε after which a solve that has not converged switches to
/// Newton's method (when allowed) in any case; it usually switches earlier, as soon as
/// ``newtonPays(_:tolerance:rows:columns:kernel:)`` predicts a saving. Scaling-domain
/// iterations are cheaper, so those solves wait ``kernelNewtonAfter`` iterations.
let newtonAfter = 100
let kernelNewtonAfter = 1000

/// Whether switching to Newton now is predicted to be cheaper than continuing Sinkhorn: the
/// linear rate θ of the last 5 iterations predicts `log(error/tolerance)/log(1/θ)` more
/// iterations; a polish takes up to about 8 Newton steps. In the log domain a Newton step costs
/// about `1.5 + (m + m²/3n)/20` Sinkhorn iterations (one coupling, a rank-n update of an m x m
/// matrix, a Cholesky factorisation and a line search). A kernel-backend iteration is two
/// memory-bound matrix-vector products, far cheaper than `2 n m` exponentials, so there a step
/// costs about `10 + m/10` iterations while the kernel fits in cache and `10 + m/20` beyond
/// `n m = 2^22`, where each iteration streams the kernel from memory (the measurements behind
/// both: Docs/performance.md, "Against the peers: latest run"). Looked at from the 10th iteration
/// at the target ε on.
func newtonPays(_ errors: [Double], tolerance: Double, rows n: Int, columns m: Int, kernel: Bool = false)
  -> Bool
{
  let window = 5
  guard errors.count >= 10, let last = errors.last, last > tolerance else { return false }
  let earlier = errors[errors.count - 1 - window]
  guard earlier > 0, last > 0 else { return false }
  let theta = _pow(last / earlier, 1 / Double(window))
  let stepCost =
    kernel
    ? 10 + Double(m) / (n * m <= 1 << 22 ? 10 : 20)
    : 1.5 + (Double(m) + Double(m) * Double(m) / (3 * Double(n))) / 20
  let newtonCost = 8 * stepCost
  guard theta < 1 else { return true }  // stalled
  let remaining = _log(last / max(tolerance, 1e-300)) / -_log(theta)
  return remaining > newtonCost
}

/// The largest `n + m` for which Newton's method is used. Its dense `m x m` system costs
/// `O(n m² + m³)` per step and holds about five `n x m` arrays; at d = 64 and n = m = 4096 plain
/// Sinkhorn iterations take minutes to reach a marginal error of 1e-6, Newton steps seconds; above
/// this limit a step's time and memory grow too large (Docs/performance.md, "Against the peers:
/// latest run").
let newtonSizeLimit = 8192

/// The ε schedule of a cold solve's annealing: from `start` (a bound on the largest cost) down by
/// `options.epsilonScaling` to (not including) the target; empty without scaling.
func annealingSchedule<Backend>(from start: Double, _ options: EntropicOptions<Backend>) -> [Double] {
  // A factor outside (0, 1) is refused by the loop (`EntropicOptions.check`); here it must not
  // loop forever first.
  // An infinite start (a cost that overflows, refused before any solve) must not append
  // infinities forever either.
  guard let q = options.epsilonScaling, q > 0, q < 1, start.isFinite else { return [] }
  var schedule: [Double] = []
  var e = start
  while e > options.epsilon {
    schedule.append(e)
    e *= q
  }
  return schedule
}

/// Throws (naming `epsilon`) when a potential of the `what` solver ("Sinkhorn", "grid
/// Sinkhorn") is not finite.
func requireFinitePotential(_ values: [Double], _ epsilon: Double, _ what: String = "Sinkhorn")
  throws(DAMError)
{
  for v in values where !v.isFinite {
    throw DAMError(
      .numericalFailure, argument: "epsilon",
      "the \(what) potentials became non-finite (\(v)) at epsilon = \(epsilon); the problem is badly scaled")
  }
}

/// Checks a warm start's potentials (one for a symmetric problem, two for a cross one): their
/// sizes against `expected` (which `described` puts in words: "the clouds have 3 and 4 atoms"),
/// and their values.
func checkWarmStart(
  _ potentials: [[Double]], expected: [Int], described: String, epsilon: Double, what: String
)
  throws(DAMError)
{
  let sizes = potentials.map(\.count)
  guard sizes == expected else {
    let given = sizes.count == 1 ? "\(sizes[0]) values" : "potentials of sizes \(sizes[0]) and \(sizes[1])"
    throw DAMError.mismatch("warmStart", "has \(given), \(described)")
  }
  for values in potentials { try requireFinitePotential(values, epsilon, what) }
}

/// The run of the scaling-domain solve when the kernel is used, redone by the log-domain solve
/// (iterations added up) should it underflow; the log-domain run when the kernel is not used.
func scalingOrLog(
  usesKernel: Bool, scaling: () throws(DAMError) -> SinkhornRun, log: () throws(DAMError) -> SinkhornRun
) throws(DAMError) -> SinkhornRun {
  guard usesKernel else { return try log() }
  let run = try scaling()
  return run.underflowed ? try log().adding(run) : run
}
