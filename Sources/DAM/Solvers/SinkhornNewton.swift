import CLinearAlgebra

/// Newton's method on the entropic dual, to finish a solve that plain Sinkhorn only approaches
/// sublinearly (small ε, nearly deterministic couplings).
///
/// The dual `D(f, g) = ⟨a, f⟩ + ⟨b, g⟩ - ε Σ πⱼₖ + ε` is concave with gradient `(a - r, b - c)`
/// (`r`, `c` the marginals of `π`) and Hessian `-(1/ε) [[diag r, π], [πᵀ, diag c]]`. The Newton
/// system is reduced to the `m x m` Schur complement `diag c - πᵀ diag(r)⁻¹ π` on the `g` side,
/// whose null space `1` (the gauge) is removed by fixing the last component of `δg` to 0, then
/// solved by Cholesky. A backtracking line search keeps only steps that lower the L1 marginal
/// error. Cost per step: `O(n m²)` for the complement plus `O(m³/3)` for the factorisation.
struct SinkhornNewton {
  let cost: CostMatrix
  /// The materialised cost, row-major.
  let values: [Double]
  let a: [Double]
  let b: [Double]
  let logA: [Double]
  let logB: [Double]
  let epsilon: Double

  /// The coupling, its marginals, the L1 marginal error and the dual objective at (f, g).
  func coupling(_ f: [Double], _ g: [Double]) -> (
    pi: [Double], r: [Double], c: [Double], error: Double, mass: Double, dual: Double
  ) {
    let n = cost.rows
    let m = cost.columns
    var pi = [Double](repeating: 0, count: n * m)
    let inverse = 1 / epsilon
    let count = parallelBlockCount(rows: n, work: n * m)
    pi.withUnsafeMutableBufferPointer { pi in
      let pi = SendablePointer(pi)
      forEachChunk(count, workers: count) { block in
        values.withUnsafeBufferPointer { values in
          for j in blockRange(block, of: count, count: n) {
            let line = pi.base.baseAddress! + j * m
            let (logAj, fj) = (logA[j], f[j])
            for k in 0..<m { line[k] = logAj + logB[k] + (fj + g[k] - values[j * m + k]) * inverse }
            _expInPlace(line, count: m)
            // Entries this small change no sum of the step; flushing them keeps the Schur
            // complement's products out of the subnormal range, where they run ~40x slower.
            for k in 0..<m where line[k] < negligibleCoupling { line[k] = 0 }
          }
        }
      }
    }
    var r = [Double](repeating: 0, count: n)
    var c = [Double](repeating: 0, count: m)
    let ones = [Double](repeating: 1, count: max(n, m))
    pi.withUnsafeBufferPointer { pi in
      matrixVectorProduct(
        pi.baseAddress!, rows: n, columns: m, Array(ones.prefix(m)), into: &r, transposed: false)
      matrixVectorProduct(
        pi.baseAddress!, rows: n, columns: m, Array(ones.prefix(n)), into: &c, transposed: true)
    }
    var error = 0.0
    var mass = 0.0
    for j in 0..<n {
      error += abs(r[j] - a[j])
      mass += r[j]
    }
    for k in 0..<m { error += abs(c[k] - b[k]) }
    var dual = -epsilon * (mass - 1)
    for j in 0..<n { dual += a[j] * f[j] }
    for k in 0..<m { dual += b[k] * g[k] }
    return (pi, r, c, error, mass, dual)
  }

  /// Up to `maxSteps` Newton steps from (f, g), stopping at `tolerance`. Returns the final error
  /// and mass, and the number of steps; `nil` if a step could not be computed (then f and g are
  /// left as they were at the last accepted step).
  ///
  /// `beforeStep` is called before each step with the steps taken so far and the current
  /// marginal error, and may throw to end the polish there (the work budget: a step of a large
  /// problem, `O(n m²)`, can take seconds); f and g then hold the last accepted step.
  func polish(
    _ f: inout [Double], _ g: inout [Double], tolerance: Double, maxSteps: Int,
    beforeStep: (_ steps: Int, _ error: Double) throws(DAMError) -> Void = { _, _ in }
  ) throws(DAMError) -> (error: Double, mass: Double, steps: Int)? {
    let n = cost.rows
    let m = cost.columns
    var state = coupling(f, g)
    var steps = 0
    while state.error > tolerance && steps < maxSteps {
      try beforeStep(steps, state.error)
      guard let (df, dg) = direction(&state.pi, state.r, state.c) else { return nil }
      // Armijo on the concave dual: the Newton direction ascends with slope ⟨∇D, δ⟩ > 0. Near the
      // solution the increase falls below round-off, so a step that lowers the marginal error is
      // accepted too.
      var slope = 0.0
      for j in 0..<n { slope += (a[j] - state.r[j]) * df[j] }
      for k in 0..<m { slope += (b[k] - state.c[k]) * dg[k] }
      var t = 1.0
      var accepted = false
      // Up to 40 halvings: at ε = 1e-4 of the squared diameter (the grid fallback's problems)
      // accepted steps can be that short, and fewer would stall those solves. Each trial is a
      // full coupling.
      for _ in 0..<40 {
        let trialF = (0..<n).map { f[$0] + t * df[$0] }
        let trialG = (0..<m).map { g[$0] + t * dg[$0] }
        let trial = coupling(trialF, trialG)
        let ascends = trial.dual >= state.dual + 1e-4 * t * slope && trial.dual > state.dual
        if trial.error.isFinite && (ascends || trial.error < state.error) {
          f = trialF
          g = trialG
          state = trial
          accepted = true
          break
        }
        t *= 0.5
      }
      steps += 1
      if !accepted { break }
    }
    return (state.error, state.mass, steps)
  }

  /// The Newton direction (δf, δg), or nil if the reduced system is not positive definite.
  /// `pi` is overwritten (scaled to `diag(r)^(-1/2) π`): the caller does not use it again.
  func direction(_ pi: inout [Double], _ r: [Double], _ c: [Double]) -> ([Double], [Double])? {
    let n = cost.rows
    let m = cost.columns
    guard m >= 2 else {
      // One atom on the g side: g is fixed by the gauge, f solves its rows exactly.
      return ((0..<n).map { epsilon * _log(a[$0] / r[$0]) }, [0])
    }
    for value in r where !(value > 0) { return nil }
    let u = (0..<n).map { epsilon * (a[$0] - r[$0]) }
    let v = (0..<m).map { epsilon * (b[$0] - c[$0]) }
    // P = diag(r)^(-1/2) π, in place.
    let rootR = r.map { $0.squareRoot() }
    for j in 0..<n {
      let scale = 1 / rootR[j]
      for k in 0..<m { pi[j * m + k] *= scale }
    }
    // The gauge is fixed by δg[m-1] = 0: the reduced Schur complement S = diag(c) - PᵀP on the
    // first m - 1 columns, formed directly (row-major upper = column-major lower, so LAPACK
    // works on it in place, without LAPACKE's transposition).
    let size = m - 1
    var reduced = [Double](repeating: 0, count: size * size)
    pi.withUnsafeBufferPointer { pp in
      reduced.withUnsafeMutableBufferPointer { ps in
        cblas_dsyrk(
          CblasRowMajor, CblasUpper, CblasTrans, Int32(size), Int32(n), -1, pp.baseAddress, Int32(m), 0,
          ps.baseAddress, Int32(size))
      }
    }
    var trace = 0.0
    for k in 0..<size {
      reduced[k * size + k] += c[k]
      trace += reduced[k * size + k]
    }
    // Right-hand side v - πᵀ diag(r)⁻¹ u = v - Pᵀ (u / √r).
    var rhs = [Double](repeating: 0, count: m)
    let scaledU = (0..<n).map { u[$0] / rootR[$0] }
    pi.withUnsafeBufferPointer { pp in
      matrixVectorProduct(pp.baseAddress!, rows: n, columns: m, scaledU, into: &rhs, transposed: true)
    }
    for k in 0..<m { rhs[k] = v[k] - rhs[k] }
    let target = Array(rhs.prefix(size))
    var solution = target
    var solved = false
    for ridge in [0.0, 1e-12, 1e-9] {
      var factor = reduced
      if ridge > 0 { for i in 0..<size { factor[i * size + i] += ridge * trace / Double(size) } }
      let info = factor.withUnsafeMutableBufferPointer { pf in
        LAPACKE_dpotrf_work(
          LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(size), pf.baseAddress, Int32(size))
      }
      guard info == 0 else { continue }
      solution = choleskySolve(factor, size, target)
      if ridge > 0 {
        // Iterative refinement against the unridged matrix recovers the well-determined
        // components that the ridge damped.
        // The residual `target - S x` by BLAS's symmetric product on the stored triangle (the
        // row-major upper triangle is the column-major lower one): a scalar loop over the other
        // triangle walks columns and took seconds at m = 4096.
        for _ in 0..<5 {
          var residual = target
          reduced.withUnsafeBufferPointer { ps in
            solution.withUnsafeBufferPointer { px in
              residual.withUnsafeMutableBufferPointer { pr in
                cblas_dsymv(
                  CblasColMajor, CblasLower, Int32(size), -1, ps.baseAddress, Int32(size), px.baseAddress, 1,
                  1,
                  pr.baseAddress, 1)
              }
            }
          }
          let correction = choleskySolve(factor, size, residual)
          for i in 0..<size { solution[i] += correction[i] }
        }
      }
      solved = true
      break
    }
    guard solved else { return nil }
    var dg = solution
    dg.append(0)
    // δf = (u - π δg) / r = (u / √r - P δg) / √r.
    var product = [Double](repeating: 0, count: n)
    pi.withUnsafeBufferPointer { pp in
      matrixVectorProduct(pp.baseAddress!, rows: n, columns: m, dg, into: &product, transposed: false)
    }
    let df = (0..<n).map { (scaledU[$0] - product[$0]) / rootR[$0] }
    for value in df + dg where !value.isFinite { return nil }
    return (df, dg)
  }
}

/// Coupling entries below this are set to 0 in Newton steps (their products would be subnormal).
let negligibleCoupling = 1e-150

/// Solves `L Lᵀ x = b` with the column-major lower Cholesky factor from `dpotrf` (the same
/// memory as a row-major upper factor).
func choleskySolve(_ factor: [Double], _ size: Int, _ b: [Double]) -> [Double] {
  var x = b
  _ = x.withUnsafeMutableBufferPointer { px in
    LAPACKE_dpotrs_work(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(size), 1, factor, Int32(size), px.baseAddress,
      Int32(size))
  }
  return x
}
