/// Entropic optimal transport between weighted point clouds, in the log domain (no under- or
/// overflow at small ε), with ε-scaling, warm starts and symmetric self problems.
///
/// Conventions: cost `‖x - y‖²` (not halved), regularisation `ε KL(π | a ⊗ b)`, value = dual
/// objective. See ``EntropicTransport``.
public enum Sinkhorn {
  /// Solves `OT_ε(x, y)`.
  ///
  /// - Parameters:
  ///   - x: the source cloud (weights `a`).
  ///   - y: the target cloud (weights `b`), of the same dimension.
  ///   - options: ε, the tolerance, the backend and the other solver settings.
  ///   - warmStart: potentials `(f, g)` from a nearby problem (the previous retrieval step, say);
  ///     the solve then starts at the target ε without annealing.
  /// - Throws: ``DAMError`` if the clouds' dimensions differ, ε is more than 1e6 times the squared
  ///   diameter of their bounding box (the potentials would carry round-off of about `ε · 1e-16`;
  ///   ``selfTransport(_:options:warmStart:)`` uses the cloud's own box), a warm start has the
  ///   wrong size, a non-finite value appears, or the solve does not converge and
  ///   `allowsUnconverged` is false.
  public static func transport(
    from x: PointCloud, to y: PointCloud, options: SinkhornOptions,
    warmStart: (f: [Double], g: [Double])? = nil
  ) throws(DAMError) -> EntropicTransport {
    try _checkDimensions(x, y)
    try _requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: _boundingBoxSquaredDiameter(x, y), scale: _cloudScale)
    let cost = _CostMatrix(x.points, y.points)
    return try _transport(cost, x.weights, y.weights, options, warmStart)
  }

  /// Solves the symmetric problem `OT_ε(x, x)`.
  public static func selfTransport(_ x: PointCloud, options: SinkhornOptions, warmStart: [Double]? = nil)
    throws(DAMError) -> SelfTransport
  {
    try _requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: _boundingBoxSquaredDiameter(x, x), scale: _cloudScale)
    return try _selfTransport(_CostMatrix(x.points, x.points), x.weights, options, warmStart)
  }

  /// The debiased Sinkhorn divergence `S_ε(x, y)`.
  ///
  /// - Throws: ``DAMError`` as ``transport(from:to:options:warmStart:)`` does; ε above 1e6 times
  ///   the squared diameter of the two clouds' bounding box is refused (naming `epsilon`): the
  ///   potentials would carry round-off of about `ε · 1e-16`, while the divergence there is
  ///   already within `D²/8e6` of its limit for large ε, the squared distance between the means.
  public static func divergence(_ x: PointCloud, _ y: PointCloud, options: SinkhornOptions)
    throws(DAMError) -> SinkhornDivergenceValue
  {
    try _checkDimensions(x, y)
    try _requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: _boundingBoxSquaredDiameter(x, y), scale: _cloudScale)
    return SinkhornDivergenceValue(
      crossTerm: try _transport(_CostMatrix(x.points, y.points), x.weights, y.weights, options, nil),
      firstSelfTerm: try _selfTransport(_CostMatrix(x.points, x.points), x.weights, options, nil),
      secondSelfTerm: try _selfTransport(_CostMatrix(y.points, y.points), y.weights, options, nil))
  }

  /// The barycentric projection of the optimal coupling: `T(xⱼ) = Σₖ πⱼₖ yₖ / Σₖ πⱼₖ`, the
  /// average destination of the mass at `xⱼ` (equal to `Σₖ πⱼₖ yₖ / aⱼ` at convergence). One row
  /// per atom of `x`.
  public static func barycentricMap(from x: PointCloud, to y: PointCloud, transport: EntropicTransport)
    throws(DAMError) -> Matrix
  {
    try _checkDimensions(x, y)
    guard transport.f.count == x.count, transport.g.count == y.count else {
      throw DAMError.mismatch("transport", "its potentials do not fit these clouds")
    }
    let cost = _CostMatrix(x.points, y.points)
    return _barycentricMap(cost, y, transport.epsilon, y.weights.map(_log), transport.g)
  }
}

func _checkDimensions(_ x: PointCloud, _ y: PointCloud) throws(DAMError) {
  guard x.dimension == y.dimension else {
    throw DAMError.mismatch("y", "has atoms of dimension \(y.dimension), x has \(x.dimension)")
  }
}

/// The largest ε, as a multiple of a problem's squared diameter `D²`, that the solvers accept.
///
/// The potentials are `ε` times logarithms of sums of `exp(-C/ε)`-weighted masses, quantities of
/// size `D²/ε` computed to round-off (about 1e-16), so their absolute error grows like `ε · 1e-16`
/// (measured on an 8 x 8 grid, D² = 98: 17.1399999965 instead of 17.1400000011 at ε = 1e8, about
/// `0.2 ε · 2.2e-16` off). At ε = 1e300 the values were `0` or `±1e284`. Nothing is lost by the
/// limit: `OT_ε(a, b)` lies in `[E_{a⊗b} C - D⁴/(8ε), E_{a⊗b} C]` (the independent coupling above,
/// Hoeffding's lemma on the unconstrained problem below), so at ε = 1e6 D² the Sinkhorn
/// divergence is within `D²/8e6` of its limit as ε grows, `‖m(a) - m(b)‖²` (the squared distance
/// between the means, for the squared Euclidean cost).
let _largestRelativeEpsilon = 1e6

/// Throws, naming `epsilon`, when `epsilon > 1e6 · squaredDiameter` (see
/// ``_largestRelativeEpsilon``); `scale` says what the diameter is of. A diameter of 0 (every
/// cost 0) is exempt: the potentials are then 0 at every ε.
func _requireTrustworthyEpsilon(_ epsilon: Double, squaredDiameter: Double, scale: String) throws(DAMError) {
  let largest = _largestRelativeEpsilon * squaredDiameter
  guard squaredDiameter > 0, epsilon > largest else { return }
  throw DAMError.invalid(
    "epsilon",
    "is \(epsilon), more than 1e6 times \(scale) (D^2 = \(squaredDiameter)): the potentials would carry round-off of about epsilon x 1e-16, so the result could not be trusted; at epsilon = 1e6 D^2 the Sinkhorn divergence is already within D^2/8e6 of its limit for large epsilon (the squared distance between the means), so use an epsilon <= \(largest)"
  )
}

/// The squared diameter of the bounding box of two clouds (of one if both are the same).
func _boundingBoxSquaredDiameter(_ x: PointCloud, _ y: PointCloud) -> Double {
  var total = 0.0
  let d = x.dimension
  for t in 0..<d {
    var low = Double.infinity
    var high = -Double.infinity
    for cloud in [x, y] {
      for j in 0..<cloud.count {
        let v = cloud.points.elements[j * d + t]
        low = min(low, v)
        high = max(high, v)
      }
    }
    total += (high - low) * (high - low)
  }
  return total
}

let _cloudScale = "the squared diameter of the clouds' bounding box"

/// Sinkhorn iterations at the target ε after which a solve that has not converged switches to
/// Newton's method (when allowed) in any case; it usually switches earlier, as soon as
/// ``_newtonPays(_:tolerance:rows:columns:kernel:)`` predicts a saving. Kernel-backend
/// iterations are cheaper, so that backend waits ``_kernelNewtonAfter`` iterations.
let _newtonAfter = 100
let _kernelNewtonAfter = 1000

/// Whether switching to Newton now is predicted to be cheaper than continuing Sinkhorn: the
/// linear rate θ of the last 5 iterations predicts `log(error/tolerance)/log(1/θ)` more
/// iterations; a polish takes up to about 8 Newton steps. In the log domain a Newton step costs
/// about `1.5 + (m + m²/3n)/20` Sinkhorn iterations (one coupling, a rank-n update of an m x m
/// matrix, a Cholesky factorisation and a line search). A kernel-backend iteration is two
/// memory-bound matrix-vector products, far cheaper than `2 n m` exponentials, so there a step
/// costs about `10 + m/10` iterations while the kernel fits in cache (measured at n = m = 1024:
/// two Newton steps cost as much as about 220 iterations) and `10 + m/20` beyond `n m = 2^22`,
/// where each iteration streams the kernel from memory (measured at n = m = 4096, d = 64: a step
/// took as long as about 215 iterations; Newton from 400 rather than 700 iterations cut the eps =
/// 0.005 solve from 34 s to 26 s). Looked at from the 10th iteration at the target ε on.
func _newtonPays(_ errors: [Double], tolerance: Double, rows n: Int, columns m: Int, kernel: Bool = false)
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
/// `O(n m² + m³)` per step (at n = m = 4096 on 2 AVX2 cores: about 1.5 s, 200 kernel-backend
/// iterations) and holds about five `n x m` arrays (700 MB peak at n = m = 4096); at d = 64 and
/// n = m = 4096 plain Sinkhorn iterations take minutes to reach a marginal error of 1e-6, Newton
/// steps seconds. Was 3000 until the dense system's residual used BLAS (see
/// `_SinkhornNewton.direction`).
let _newtonSizeLimit = 8192

/// The ε schedule of the annealing: from the largest cost down to (not including) the target.
func _annealingSchedule(_ maximumCost: Double, _ options: SinkhornOptions, selfProblem: Bool = false) -> [Double] {
  guard let q = options.epsilonScaling else { return [] }
  // The symmetric problem's averaged update converges in a few iterations from zero potentials
  // at every ε (16-17 at n = 1024, d = 2, against 27-33 with annealing): it is not annealed.
  if selfProblem { return [] }
  var schedule: [Double] = []
  var e = maximumCost
  while e > options.epsilon {
    schedule.append(e)
    e *= q
  }
  return schedule
}

func _requireFinitePotential(_ values: [Double], _ epsilon: Double) throws(DAMError) {
  for v in values where !v.isFinite {
    throw DAMError(
      .numericalFailure, argument: "epsilon",
      "the Sinkhorn potentials became non-finite (\(v)) at epsilon = \(epsilon); the problem is badly scaled")
  }
}

/// The largest `n m` for which the kernel (scaling-domain) solver is used: its kernel is an `n x m`
/// matrix of doubles next to the cost (2 x 256 MiB at the limit). Larger problems run in the log
/// domain.
let _kernelSizeLimit = 1 << 25

func _usesKernel(_ cost: _CostMatrix, _ options: SinkhornOptions) -> Bool {
  switch options.backend {
  case .automatic: cost.rows * cost.columns <= _kernelSizeLimit
  case .kernel: true
  case .logDomain: false
  }
}

/// Solves `OT_ε` on a cost matrix: in the scaling domain on a stabilised kernel when it fits
/// (``_kernelSizeLimit``), else in the log domain. Both stop at the same marginal error.
func _transport(
  _ cost: _CostMatrix, _ a: [Double], _ b: [Double], _ options: SinkhornOptions,
  _ warmStart: (f: [Double], g: [Double])?
) throws(DAMError) -> EntropicTransport {
  if _usesKernel(cost, options) { return try _kernelTransport(cost, a, b, options, warmStart) }
  return try _logTransport(cost, a, b, options, warmStart)
}

/// Solves the symmetric `OT_ε(x, x)`; see ``_transport(_:_:_:_:_:)``.
func _selfTransport(_ cost: _CostMatrix, _ a: [Double], _ options: SinkhornOptions, _ warmStart: [Double]?)
  throws(DAMError) -> SelfTransport
{
  if _usesKernel(cost, options) { return try _kernelSelfTransport(cost, a, options, warmStart) }
  return try _logSelfTransport(cost, a, options, warmStart)
}

/// Entropic transport in the log domain: every update is a soft-minimum over a row or column of
/// `-C/ε + potential` (`n m` exponentials), which cannot under- or overflow. The cost is formed
/// on the fly, a block of rows at a time, so memory stays `O(n + m)` (Newton's method, used only
/// for `n + m <= 8192`, materialises it).
func _logTransport(
  _ cost: _CostMatrix, _ a: [Double], _ b: [Double], _ options: SinkhornOptions,
  _ warmStart: (f: [Double], g: [Double])?
) throws(DAMError) -> EntropicTransport {
  let n = cost.rows
  let m = cost.columns
  let costTransposed = cost.transposed()
  let logA = a.map(_log)
  let logB = b.map(_log)
  var f = [Double](repeating: 0, count: n)
  var g = [Double](repeating: 0, count: m)
  var iterations = 0
  if let warmStart {
    guard warmStart.f.count == n, warmStart.g.count == m else {
      throw DAMError.mismatch(
        "warmStart",
        "has potentials of sizes \(warmStart.f.count) and \(warmStart.g.count), the clouds have \(n) and \(m) atoms"
      )
    }
    try _requireFinitePotential(warmStart.f, options.epsilon)
    try _requireFinitePotential(warmStart.g, options.epsilon)
    f = warmStart.f
    g = warmStart.g
  } else {
    for e in _annealingSchedule(cost.maximum, options) {
      for _ in 0..<options.iterationsPerStage {
        _softmin(costTransposed, epsilon: e, logWeights: logA, potential: f, into: &g)
        _softmin(cost, epsilon: e, logWeights: logB, potential: g, into: &f)
        iterations += 1
      }
    }
  }
  let epsilon = options.epsilon
  var relaxation = _RelaxationController(options.relaxation)
  var omega = relaxation.omega
  var fTilde = [Double](repeating: 0, count: n)
  var gTilde = [Double](repeating: 0, count: m)
  var error = Double.infinity
  var mass = 1.0
  var converged = false
  var finalIterations = 0
  var newtonSteps = 0
  var errors: [Double] = []
  var newtonAttempts = 0
  var newtonAllowed =
    options.newton && n + m <= _newtonSizeLimit && !a.contains(0) && !b.contains(0)
  var stagnation = _Stagnation(
    tolerance: options.tolerance, maxIterations: options.maxIterations,
    allowsUnconverged: options.allowsUnconverged)
  while true {
    // g-update from f, relaxed; the column error of (f, g) follows from g̃ - g.
    _softmin(costTransposed, epsilon: epsilon, logWeights: logA, potential: f, into: &gTilde)
    var columnError = 0.0
    for k in 0..<m {
      let updated = g[k] + omega * (gTilde[k] - g[k])
      g[k] = updated
      columnError += b[k] * abs(_exp((updated - gTilde[k]) / epsilon) - 1)
    }
    // f̃ from g gives the row marginal of (f, g) without another pass.
    _softmin(cost, epsilon: epsilon, logWeights: logB, potential: g, into: &fTilde)
    var rowError = 0.0
    mass = 0
    for j in 0..<n {
      let ratio = _exp((f[j] - fTilde[j]) / epsilon)
      mass += a[j] * ratio
      rowError += a[j] * abs(ratio - 1)
    }
    try _requireFinitePotential(fTilde, epsilon)
    error = rowError + columnError
    iterations += 1
    finalIterations += 1
    if error <= options.tolerance {
      converged = true
      break
    }
    if finalIterations >= options.maxIterations { break }
    if !newtonAllowed, stagnation.isHopeless(error: error, iteration: finalIterations) { break }
    errors.append(error)
    if newtonAllowed,
      errors.count >= _newtonAfter
        || _newtonPays(errors, tolerance: options.tolerance, rows: n, columns: m)
    {
      // Sinkhorn is slow here (small ε): finish with Newton's method on the dual.
      var newF = f
      var newG = g
      let newton = _SinkhornNewton(
        cost: cost, values: cost.materialized(), a: a, b: b, logA: logA, logB: logB, epsilon: epsilon)
      if let polished = newton.polish(&newF, &newG, tolerance: options.tolerance, maxSteps: 60) {
        newtonSteps += polished.steps
        if polished.error < error {
          f = newF
          g = newG
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
    omega = relaxation.next(error: error)
    for j in 0..<n { f[j] += omega * (fTilde[j] - f[j]) }
  }
  if !converged, warmStart != nil {
    // A warm start from a distant problem can leave Newton's method a badly conditioned system
    // and Sinkhorn a sublinear tail; a cold, annealed solve is robust. Iterations are added up.
    let cold = try _logTransport(cost, a, b, options, nil)
    return EntropicTransport(
      epsilon: cold.epsilon, value: cold.value, f: cold.f, g: cold.g,
      iterations: iterations + cold.iterations,
      newtonSteps: newtonSteps + cold.newtonSteps, marginalError: cold.marginalError,
      converged: cold.converged)
  }
  guard converged || options.allowsUnconverged else {
    throw _notConverged(
      "Sinkhorn", tolerance: options.tolerance, maxIterations: options.maxIterations,
      epsilon: epsilon, error: error, advice: true, stagnation: stagnation)
  }
  let value = _dualValue(epsilon: epsilon, mass: mass, a, f, b, g)
  return EntropicTransport(
    epsilon: epsilon, value: value, f: f, g: g, iterations: iterations, newtonSteps: newtonSteps,
    marginalError: error, converged: converged)
}

/// The symmetric problem in the log domain, with averaged updates `p ← (p + p̃)/2`.
func _logSelfTransport(_ cost: _CostMatrix, _ a: [Double], _ options: SinkhornOptions, _ warmStart: [Double]?)
  throws(DAMError) -> SelfTransport
{
  let n = cost.rows
  let logA = a.map(_log)
  var p = [Double](repeating: 0, count: n)
  var pTilde = [Double](repeating: 0, count: n)
  var iterations = 0
  if let warmStart {
    guard warmStart.count == n else {
      throw DAMError.mismatch("warmStart", "has \(warmStart.count) values for \(n) atoms")
    }
    try _requireFinitePotential(warmStart, options.epsilon)
    p = warmStart
  } else {
    for e in _annealingSchedule(cost.maximum, options, selfProblem: true) {
      for _ in 0..<options.iterationsPerStage {
        _softmin(cost, epsilon: e, logWeights: logA, potential: p, into: &pTilde)
        for j in 0..<n { p[j] = 0.5 * (p[j] + pTilde[j]) }
        iterations += 1
      }
    }
  }
  let epsilon = options.epsilon
  var error = Double.infinity
  var mass = 1.0
  var converged = false
  var finalIterations = 0
  var stagnation = _Stagnation(
    tolerance: options.tolerance, maxIterations: options.maxIterations,
    allowsUnconverged: options.allowsUnconverged)
  while true {
    _softmin(cost, epsilon: epsilon, logWeights: logA, potential: p, into: &pTilde)
    try _requireFinitePotential(pTilde, epsilon)
    var rowError = 0.0
    mass = 0
    for j in 0..<n {
      let ratio = _exp((p[j] - pTilde[j]) / epsilon)
      mass += a[j] * ratio
      rowError += a[j] * abs(ratio - 1)
    }
    error = 2 * rowError  // rows and columns agree by symmetry
    iterations += 1
    finalIterations += 1
    if error <= options.tolerance {
      converged = true
      break
    }
    if finalIterations >= options.maxIterations { break }
    if stagnation.isHopeless(error: error, iteration: finalIterations) { break }
    for j in 0..<n { p[j] = 0.5 * (p[j] + pTilde[j]) }
  }
  if !converged, warmStart != nil {
    let cold = try _logSelfTransport(cost, a, options, nil)
    return SelfTransport(
      epsilon: cold.epsilon, value: cold.value, potential: cold.potential,
      iterations: iterations + cold.iterations,
      marginalError: cold.marginalError, converged: cold.converged)
  }
  guard converged || options.allowsUnconverged else {
    throw _notConverged(
      "the symmetric Sinkhorn problem", tolerance: options.tolerance, maxIterations: options.maxIterations,
      epsilon: epsilon, error: error, advice: false, stagnation: stagnation)
  }
  let value = _selfDualValue(epsilon: epsilon, mass: mass, a, p)
  return SelfTransport(
    epsilon: epsilon, value: value, potential: p, iterations: iterations, marginalError: error,
    converged: converged)
}

/// `T(xⱼ) = Σₖ softmaxₖ(log bₖ + (gₖ - Cⱼₖ)/ε) yₖ`.
func _barycentricMap(_ cost: _CostMatrix, _ y: PointCloud, _ epsilon: Double, _ logB: [Double], _ g: [Double])
  -> Matrix
{
  let n = cost.rows
  let m = cost.columns
  let d = y.dimension
  var result = [Double](repeating: 0, count: n * d)
  // Rows a block at a time: costs, the exponents, one vectorised exp over the block.
  let blockRows = max(1, min(n, 4096 / max(m, 1)))
  var block = [Double](repeating: 0, count: blockRows * m)
  let inverse = 1 / epsilon
  block.withUnsafeMutableBufferPointer { buffer in
    let h = buffer.baseAddress!
    var start = 0
    while start < n {
      let rows = min(blockRows, n - start)
      cost.fill(rows: start..<(start + rows), into: h)
      for r in 0..<rows {
        let line = h + r * m
        var largest = -Double.infinity
        for k in 0..<m {
          let value = logB[k] + (g[k] - line[k]) * inverse
          line[k] = value
          if value > largest { largest = value }
        }
        for k in 0..<m { line[k] -= largest }
      }
      _expInPlace(h, count: rows * m)
      for r in 0..<rows {
        let line = h + r * m
        let j = start + r
        var sum = 0.0
        for k in 0..<m { sum += line[k] }
        let scale = 1 / sum
        for k in 0..<m where line[k] > 0 {
          let w = line[k] * scale
          for t in 0..<d { result[j * d + t] += w * y.points[k, t] }
        }
      }
      start += rows
    }
  }
  return Matrix(_rows: n, columns: d, elements: result)
}

/// Chooses ω iteration by iteration; see ``Relaxation``.
struct _RelaxationController {
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
func _notConverged(
  _ what: String, tolerance: Double, maxIterations: Int, epsilon: Double, error: Double, advice: Bool,
  stagnation: _Stagnation? = nil, remedy: String = "raise epsilon"
) -> DAMError {
  if let stagnation, let stop = stagnation.stop {
    let span = stagnation.window * _Stagnation.span
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
        "fell only from \(stop.earlier) to \(stop.best) over the last \(span) iterations, a pace that needs about \(_roundedForHumans($0)) more"
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
struct _Stagnation {
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
func _roundedForHumans(_ x: Double) -> String {
  guard x.isFinite, x > 0 else { return "\(x)" }
  let digits = Int((_log(x) / _log(10)).rounded(.down))
  let scale = _pow(10, Double(digits - 1))
  let rounded = (x / scale).rounded() * scale
  return digits >= 1 && digits < 15 ? "\(Int(rounded))" : "\(rounded)"
}

/// The dual objective `⟨a, f⟩ + ⟨b, g⟩ - ε (mass - 1)` at the solution, skipping atoms of weight 0
/// (their potentials are arbitrary).
func _dualValue(epsilon: Double, mass: Double, _ a: [Double], _ f: [Double], _ b: [Double], _ g: [Double])
  -> Double
{
  var value = -epsilon * (mass - 1)
  for j in a.indices where a[j] > 0 { value += a[j] * f[j] }
  for k in b.indices where b[k] > 0 { value += b[k] * g[k] }
  return value
}

/// The dual objective `2 ⟨a, p⟩ - ε (mass - 1)` of a symmetric problem.
func _selfDualValue(epsilon: Double, mass: Double, _ a: [Double], _ p: [Double]) -> Double {
  var value = -epsilon * (mass - 1)
  for j in a.indices where a[j] > 0 { value += 2 * a[j] * p[j] }
  return value
}
