/// Sinkhorn in the scaling domain on a stabilised Gibbs kernel (see ``_GibbsKernel``).
///
/// The iteration is the log-domain one of `_logTransport` written for scalings: with
/// `f = f̂ + ε log u` and `g = ĝ + ε log v`, the soft-minimum `g̃ = c-transform(f)` is
/// `ĝ + ε log ṽ` with `ṽ = 1 / K̂ᵀ(a ∘ u)`, and likewise for `f̃`. The L1 marginal errors,
/// over-relaxation (`v ← v (ṽ/v)^ω`), Newton polishing and the value are those of the log domain,
/// so both solvers stop at the same point; this one spends two matrix-vector products per
/// iteration instead of `2 n m` exponentials, and `n m` exponentials per kernel rebuild: one at
/// the start, one at the target ε, one per absorption. The annealing stages from ε to ε/2 square
/// the scaled kernel instead (`(K̂ⱼₖ uⱼ vₖ)²`, no exponentials).
///
/// A scaling is absorbed into the kernel when `|log u|` or `|log v|` exceeds
/// 200 (``_absorptionBound``), so products never overflow. After a u-update every row sum
/// `Σₖ bₖ K̂ⱼₖ vₖ uⱼ` is exactly 1, so squaring cannot empty a row (Jensen); should a sum still
/// underflow, the solve restarts in the log domain, which cannot.
func _kernelTransport(
  _ cost: _CostMatrix, _ a: [Double], _ b: [Double], _ options: SinkhornOptions,
  _ warmStart: (f: [Double], g: [Double])?
) throws(DAMError) -> EntropicTransport {
  let n = cost.rows
  let m = cost.columns
  var f0 = [Double](repeating: 0, count: n)
  var g0 = [Double](repeating: 0, count: m)
  if let warmStart {
    guard warmStart.f.count == n, warmStart.g.count == m else {
      throw DAMError.mismatch(
        "warmStart",
        "has potentials of sizes \(warmStart.f.count) and \(warmStart.g.count), the clouds have \(n) and \(m) atoms"
      )
    }
    try _requireFinitePotential(warmStart.f, options.epsilon)
    try _requireFinitePotential(warmStart.g, options.epsilon)
    f0 = warmStart.f
    g0 = warmStart.g
  }
  let epsilon = options.epsilon
  let schedule = warmStart == nil ? _annealingSchedule(cost.maximum, options) : []
  var kernel = try _GibbsKernel(
    cost: cost, epsilon: schedule.first ?? epsilon, f: f0, g: g0)
  var u = [Double](repeating: 1, count: n)
  var v = [Double](repeating: 1, count: m)
  var weightedU = [Double](repeating: 0, count: n)
  var weightedV = [Double](repeating: 0, count: m)
  var rowSum = [Double](repeating: 0, count: n)
  var columnSum = [Double](repeating: 0, count: m)
  var iterations = 0

  func logDomainFallback() throws(DAMError) -> EntropicTransport {
    let solved = try _logTransport(cost, a, b, options, warmStart)
    return EntropicTransport(
      epsilon: solved.epsilon, value: solved.value, f: solved.f, g: solved.g,
      iterations: iterations + solved.iterations, newtonSteps: solved.newtonSteps,
      marginalError: solved.marginalError, converged: solved.converged)
  }

  for (index, e) in schedule.enumerated() {
    for _ in 0..<options.iterationsPerStage {
      for j in 0..<n { weightedU[j] = a[j] * u[j] }
      kernel.multiplyTransposed(weightedU, into: &columnSum)
      guard _allPositiveFinite(columnSum) else { return try logDomainFallback() }
      for k in 0..<m { v[k] = 1 / columnSum[k] }
      for k in 0..<m { weightedV[k] = b[k] * v[k] }
      kernel.multiply(weightedV, into: &rowSum)
      guard _allPositiveFinite(rowSum) else { return try logDomainFallback() }
      for j in 0..<n { u[j] = 1 / rowSum[j] }
      iterations += 1
    }
    let next = index + 1 < schedule.count ? schedule[index + 1] : epsilon
    _ = e
    kernel.absorb(&u, &v, newEpsilon: next, cost: cost, exact: next == epsilon)
  }

  var relaxation = _RelaxationController(options.relaxation)
  var omega = relaxation.omega
  var power = _PowerNearOne(omega)
  var ratio = [Double](repeating: 0, count: m)
  var uRatio = [Double](repeating: 0, count: n)
  var uTilde = [Double](repeating: 0, count: n)
  var error = Double.infinity
  var mass = 1.0
  var converged = false
  var finalIterations = 0
  var newtonSteps = 0
  var errors: [Double] = []
  var newtonAttempts = 0
  var newtonAllowed =
    options.newton && n + m <= _newtonSizeLimit && !a.contains(0) && !b.contains(0)
  var retriedAfterAbsorbing = false
  var stagnation = _Stagnation(
    tolerance: options.tolerance, maxIterations: options.maxIterations,
    allowsUnconverged: options.allowsUnconverged)
  while true {
    // v-update from u, relaxed; the column error of (u, v) follows from ṽ / v.
    for j in 0..<n { weightedU[j] = a[j] * u[j] }
    kernel.multiplyTransposed(weightedU, into: &columnSum)
    guard _allPositiveFinite(columnSum) else {
      if retriedAfterAbsorbing { return try logDomainFallback() }
      retriedAfterAbsorbing = true
      kernel.absorb(&u, &v, newEpsilon: epsilon, cost: cost, exact: true)
      continue
    }
    var columnError = 0.0
    // ṽ = 1 / columnSum; v ← v (ṽ / v)^ω; the error term is |v_new / ṽ - 1|.
    if omega == 1 {
      for k in 0..<m { v[k] = 1 / columnSum[k] }
    } else {
      for k in 0..<m { ratio[k] = (1 / columnSum[k]) / v[k] }
      power.apply(&ratio)
      for k in 0..<m { v[k] *= ratio[k] }
    }
    for k in 0..<m { columnError += b[k] * abs(v[k] * columnSum[k] - 1) }
    for k in 0..<m { weightedV[k] = b[k] * v[k] }
    kernel.multiply(weightedV, into: &rowSum)
    guard _allPositiveFinite(rowSum) else {
      if retriedAfterAbsorbing { return try logDomainFallback() }
      retriedAfterAbsorbing = true
      kernel.absorb(&u, &v, newEpsilon: epsilon, cost: cost, exact: true)
      continue
    }
    retriedAfterAbsorbing = false
    var rowError = 0.0
    mass = 0
    for j in 0..<n {
      uTilde[j] = 1 / rowSum[j]
      let ratio = u[j] * rowSum[j]
      mass += a[j] * ratio
      rowError += a[j] * abs(ratio - 1)
    }
    error = rowError + columnError
    guard error.isFinite else { return try logDomainFallback() }
    iterations += 1
    finalIterations += 1
    if error <= options.tolerance {
      converged = true
      break
    }
    if finalIterations >= options.maxIterations { break }
    if !newtonAllowed, stagnation.isHopeless(error: error, iteration: finalIterations) { break }
    errors.append(error)
    // The rate is judged after 40 iterations, once over-relaxation (decided from the first plain
    // iterations) shows in it.
    if newtonAllowed,
      errors.count >= _kernelNewtonAfter
        || (errors.count >= 40
          && _newtonPays(errors, tolerance: options.tolerance, rows: n, columns: m, kernel: true))
    {
      var (f, g) = kernel.potentials(u, v)
      let newton = _SinkhornNewton(
        cost: cost, values: cost.materialized(), a: a, b: b, logA: a.map(_log), logB: b.map(_log),
        epsilon: epsilon)
      if let polished = newton.polish(&f, &g, tolerance: options.tolerance, maxSteps: 60) {
        newtonSteps += polished.steps
        if polished.error < error {
          kernel.reset(f: f, g: g, cost: cost)
          for j in 0..<n { u[j] = 1 }
          for k in 0..<m { v[k] = 1 }
          error = polished.error
          mass = polished.mass
        }
        if error <= options.tolerance {
          converged = true
          break
        }
      }
      newtonAttempts += 1
      newtonAllowed = newtonAttempts < 3
      errors.removeAll()
      continue
    }
    omega = relaxation.next(error: error)
    if omega != power.exponent { power = _PowerNearOne(omega) }
    var drifted = false
    if omega == 1 {
      for j in 0..<n { u[j] = uTilde[j] }
    } else {
      for j in 0..<n { uRatio[j] = uTilde[j] / u[j] }
      power.apply(&uRatio)
      for j in 0..<n { u[j] *= uRatio[j] }
    }
    for j in 0..<n { drifted = drifted || !(u[j] < _absorptionBound && u[j] > 1 / _absorptionBound) }
    for k in 0..<m { drifted = drifted || !(v[k] < _absorptionBound && v[k] > 1 / _absorptionBound) }
    if drifted {
      kernel.absorb(&u, &v, newEpsilon: epsilon, cost: cost, exact: true)
    }
  }
  if !converged, warmStart != nil {
    let cold = try _kernelTransport(cost, a, b, options, nil)
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
  let (f, g) = kernel.potentials(u, v)
  try _requireFinitePotential(f, epsilon)
  try _requireFinitePotential(g, epsilon)
  let value = _dualValue(epsilon: epsilon, mass: mass, a, f, b, g)
  return EntropicTransport(
    epsilon: epsilon, value: value, f: f, g: g, iterations: iterations, newtonSteps: newtonSteps,
    marginalError: error, converged: converged)
}

/// The symmetric problem `OT_ε(x, x)` in the scaling domain, with the averaged update
/// `p ← (p + p̃)/2`, i.e. `w ← √(w w̃)`; see ``_kernelTransport(_:_:_:_:_:)``.
func _kernelSelfTransport(
  _ cost: _CostMatrix, _ a: [Double], _ options: SinkhornOptions, _ warmStart: [Double]?
)
  throws(DAMError) -> SelfTransport
{
  let n = cost.rows
  var p0 = [Double](repeating: 0, count: n)
  if let warmStart {
    guard warmStart.count == n else {
      throw DAMError.mismatch("warmStart", "has \(warmStart.count) values for \(n) atoms")
    }
    try _requireFinitePotential(warmStart, options.epsilon)
    p0 = warmStart
  }
  let epsilon = options.epsilon
  let schedule = warmStart == nil ? _annealingSchedule(cost.maximum, options, selfProblem: true) : []
  var kernel = try _GibbsKernel(
    cost: cost, epsilon: schedule.first ?? epsilon, f: p0, g: p0, symmetric: true)
  var w = [Double](repeating: 1, count: n)
  var other = w
  var weighted = [Double](repeating: 0, count: n)
  var rowSum = [Double](repeating: 0, count: n)
  var iterations = 0

  func logDomainFallback() throws(DAMError) -> SelfTransport {
    let solved = try _logSelfTransport(cost, a, options, warmStart)
    return SelfTransport(
      epsilon: solved.epsilon, value: solved.value, potential: solved.potential,
      iterations: iterations + solved.iterations, marginalError: solved.marginalError,
      converged: solved.converged)
  }

  for (index, _) in schedule.enumerated() {
    for _ in 0..<options.iterationsPerStage {
      for j in 0..<n { weighted[j] = a[j] * w[j] }
      kernel.multiply(weighted, into: &rowSum)
      guard _allPositiveFinite(rowSum) else { return try logDomainFallback() }
      for j in 0..<n { w[j] = (w[j] / rowSum[j]).squareRoot() }
      iterations += 1
    }
    let next = index + 1 < schedule.count ? schedule[index + 1] : epsilon
    other = w
    kernel.absorb(&w, &other, newEpsilon: next, cost: cost, exact: next == epsilon)
  }

  var error = Double.infinity
  var mass = 1.0
  var converged = false
  var finalIterations = 0
  var retriedAfterAbsorbing = false
  var stagnation = _Stagnation(
    tolerance: options.tolerance, maxIterations: options.maxIterations,
    allowsUnconverged: options.allowsUnconverged)
  while true {
    for j in 0..<n { weighted[j] = a[j] * w[j] }
    kernel.multiply(weighted, into: &rowSum)
    guard _allPositiveFinite(rowSum) else {
      if retriedAfterAbsorbing { return try logDomainFallback() }
      retriedAfterAbsorbing = true
      other = w
      kernel.absorb(&w, &other, newEpsilon: epsilon, cost: cost, exact: true)
      continue
    }
    retriedAfterAbsorbing = false
    var rowError = 0.0
    mass = 0
    for j in 0..<n {
      let ratio = w[j] * rowSum[j]  // exp((p - p̃)/ε)
      mass += a[j] * ratio
      rowError += a[j] * abs(ratio - 1)
    }
    error = 2 * rowError  // rows and columns agree by symmetry
    guard error.isFinite else { return try logDomainFallback() }
    iterations += 1
    finalIterations += 1
    if error <= options.tolerance {
      converged = true
      break
    }
    if finalIterations >= options.maxIterations { break }
    if stagnation.isHopeless(error: error, iteration: finalIterations) { break }
    var drifted = false
    for j in 0..<n {
      let updated = (w[j] / rowSum[j]).squareRoot()
      w[j] = updated
      drifted = drifted || !(updated < _absorptionBound && updated > 1 / _absorptionBound)
    }
    if drifted {
      other = w
      kernel.absorb(&w, &other, newEpsilon: epsilon, cost: cost, exact: true)
    }
  }
  if !converged, warmStart != nil {
    let cold = try _kernelSelfTransport(cost, a, options, nil)
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
  let p = kernel.potentials(w, w).f
  try _requireFinitePotential(p, epsilon)
  let value = _selfDualValue(epsilon: epsilon, mass: mass, a, p)
  return SelfTransport(
    epsilon: epsilon, value: value, potential: p, iterations: iterations, marginalError: error,
    converged: converged)
}

/// The largest scaling `e^200 ≈ 7e86` (and smallest, its inverse) kept before it is absorbed into
/// the kernel, so that products of kernel entries and scalings stay far from overflow.
let _absorptionBound = 7.225973768125749e86

func _allPositiveFinite(_ values: [Double]) -> Bool {
  for value in values where !(value > 0 && value < .infinity) { return false }
  return true
}

/// `x^ω` for the over-relaxed scaling updates, where `x` (the ratio of the new to the old
/// scaling) is near 1 once the iterations settle: there the binomial series
/// `Σₖ C(ω, k) (x - 1)ᵏ` to degree 10 in Horner form, else the C library's `pow` (which took
/// about a fifth of a pruned retrieval's solves when it ran for every entry).
///
/// For `|x - 1| <= 1/32` and `0 <= ω <= 2` every omitted coefficient has `|C(ω, k)| <= 1`, so
/// the series is truncated below `2 (1/32)¹¹ < 6e-17` relative, under half an ulp of the result.
struct _PowerNearOne {
  let exponent: Double
  private let coefficients: [Double]
  private let usable: Bool

  init(_ exponent: Double) {
    self.exponent = exponent
    usable = exponent >= 0 && exponent <= 2
    var c = [Double](repeating: 0, count: 11)
    c[0] = 1
    for k in 1...10 { c[k] = c[k - 1] * (exponent - Double(k - 1)) / Double(k) }
    coefficients = c
  }

  /// Replaces every `x` by `x^ω`: when all are within the series' range, one branch-free pass
  /// that the compiler vectorises (a dependent chain of ten FMAs per entry, interleaved across
  /// entries); otherwise entry by entry.
  func apply(_ values: inout [Double]) {
    let count = values.count
    values.withUnsafeMutableBufferPointer { buffer in
      guard let x = buffer.baseAddress else { return }
      var farthest = 0.0
      for i in 0..<count { farthest = Swift.max(farthest, abs(x[i] - 1)) }
      guard usable, farthest <= 0.03125 else {
        for i in 0..<count { x[i] = of(x[i]) }
        return
      }
      coefficients.withUnsafeBufferPointer { coefficient in
        let c = coefficient.baseAddress!
        let (c0, c1, c2, c3, c4, c5) = (c[0], c[1], c[2], c[3], c[4], c[5])
        let (c6, c7, c8, c9, c10) = (c[6], c[7], c[8], c[9], c[10])
        for i in 0..<count {
          let t = x[i] - 1
          var sum = c10
          sum = sum * t + c9
          sum = sum * t + c8
          sum = sum * t + c7
          sum = sum * t + c6
          sum = sum * t + c5
          sum = sum * t + c4
          sum = sum * t + c3
          sum = sum * t + c2
          sum = sum * t + c1
          x[i] = sum * t + c0
        }
      }
    }
  }

  @inline(__always)
  func of(_ x: Double) -> Double {
    let t = x - 1
    guard usable, abs(t) <= 0.03125 else { return _pow(x, exponent) }
    return coefficients.withUnsafeBufferPointer { c in
      var sum = c[10]
      for k in stride(from: 9, through: 0, by: -1) { sum = sum * t + c[k] }
      return sum
    }
  }
}

/// `x^ω` as the over-relaxed kernel updates compute it (``_PowerNearOne``), for tests.
@_spi(Testing) public func _relaxedPower(_ x: Double, _ omega: Double) -> Double {
  _PowerNearOne(omega).of(x)
}

/// `x^ω` for every entry, as the kernel updates compute a whole scaling vector, for tests.
@_spi(Testing) public func _relaxedPowers(_ x: [Double], _ omega: Double) -> [Double] {
  var values = x
  _PowerNearOne(omega).apply(&values)
  return values
}
