import CLinearAlgebra

// Kernels of the batched Bures-Wasserstein evaluation (`BuresWassersteinDivergence.evaluate(_:)`
// and `accumulate(_:)` over blocks): the middle matrix `M = S^½ W S^½` from a Cholesky factor of `W`,
// and eigenvalues without eigenvectors.

/// The eigenvalues (ascending) of a symmetric `n x n` matrix of which only the upper triangle of
/// the row-major storage is read; `matrix` is overwritten.
///
/// A Householder reduction to tridiagonal form (LAPACK `dsytd2`'s algorithm, on the upper
/// triangle so that every inner loop runs along contiguous memory), then LAPACK `dsterf` (the
/// root-free QR iteration, no eigenvectors). Written out rather than calling `dsyevd` because the
/// matrices here are small (d ≲ 100) and evaluated by the thousand from several threads: LAPACK's
/// unblocked reduction makes 2n level-2 BLAS calls per matrix, each paying OpenBLAS's dispatch
/// and, with OpenBLAS threads, a thread hand-off, which at d = 50 cost more than the arithmetic.
/// The reduction is backward stable like LAPACK's (the same reflectors, `hypot` against overflow).
func symmetricEigenvalues(_ matrix: inout [Double], _ n: Int, argument: String) throws(DAMError) -> [Double] {
  var scratch = EigenvalueScratch(n)
  let info = matrix.withUnsafeMutableBufferPointer { symmetricEigenvalues($0, n, scratch: &scratch) }
  try checkEigenvalueInfo(info, argument)
  return scratch.diagonal
}

/// Throws the error of a failed ``symmetricEigenvalues(_:_:scratch:)`` (LAPACK `dsterf`'s `info`).
func checkEigenvalueInfo(_ info: Int32, _ argument: String) throws(DAMError) {
  guard info == 0 else {
    throw DAMError(
      .numericalFailure, argument: argument, "symmetric eigenvalues failed (LAPACK dsterf info = \(info))")
  }
}

/// Work arrays of ``symmetricEigenvalues(_:_:scratch:)``, reused across matrices of one size;
/// `diagonal` holds the eigenvalues after a call.
struct EigenvalueScratch {
  var diagonal: [Double]
  var offDiagonal: [Double]
  var v: [Double]
  var w: [Double]
  init(_ n: Int) {
    diagonal = [Double](repeating: 0, count: n)
    offDiagonal = [Double](repeating: 0, count: max(n - 1, 1))
    v = [Double](repeating: 0, count: n)
    w = [Double](repeating: 0, count: n)
  }
}

/// The eigenvalues (ascending, into `scratch.diagonal`) of the symmetric `n x n` matrix whose
/// upper triangle is stored row-major in `a`, which is overwritten. Returns LAPACK `dsterf`'s
/// `info` (0 on success).
func symmetricEigenvalues(
  _ a: UnsafeMutableBufferPointer<Double>, _ n: Int, scratch: inout EigenvalueScratch
) -> Int32 {
  guard n > 0 else { return 0 }
  scratch.diagonal.withUnsafeMutableBufferPointer { diagonal in
    scratch.offDiagonal.withUnsafeMutableBufferPointer { offDiagonal in
      scratch.v.withUnsafeMutableBufferPointer { v in
        scratch.w.withUnsafeMutableBufferPointer { w in
          tridiagonalize(a, n, diagonal: diagonal, offDiagonal: offDiagonal, v: v, w: w)
        }
      }
    }
  }
  guard n > 1 else { return 0 }
  return scratch.diagonal.withUnsafeMutableBufferPointer { d in
    scratch.offDiagonal.withUnsafeMutableBufferPointer { e in
      LAPACKE_dsterf(Int32(n), d.baseAddress, e.baseAddress)
    }
  }
}

/// The Householder reduction of ``symmetricEigenvalues(_:_:scratch:)``: the diagonal and
/// off-diagonal of a tridiagonal matrix orthogonally similar to the symmetric matrix whose upper
/// triangle is stored row-major in `a`.
///
/// The product `w = A₂₂ u` reads each stored element once, for a row's dot product and a column's
/// update; the dot products run on four partial sums so that they do not wait on one another's
/// additions (a single running sum made this loop latency-bound, a third of a distance at d = 50).
///
/// With `taus`, the reflectors are kept for ``formTransposedQ(_:_:taus:p:)``: `taus[i]` receives
/// `τ` of the reflector of step `i` (0 when there is none), and row `i` of `a` from column `i + 2`
/// on receives its vector `u` past its leading 1 (row `i` is not read again by the reduction).
func tridiagonalize(
  _ buffer: UnsafeMutableBufferPointer<Double>, _ n: Int, diagonal: UnsafeMutableBufferPointer<Double>,
  offDiagonal: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Double>,
  w: UnsafeMutableBufferPointer<Double>, taus: UnsafeMutablePointer<Double>? = nil
) {
  // Raw pointers: index arithmetic without overflow checks, so that the inner loops vectorise.
  let a = buffer.baseAddress!
  let v = v.baseAddress!
  let w = w.baseAddress!
  for i in 0..<(n - 1) {
    // The reflector H = I - τ u uᵀ (u₀ = 1) with H x = (β, 0, …) for x = A[i, i+1..<n].
    let row = a + i * n
    let alpha = row[i + 1]
    var norm = 0.0
    for c in (i + 2)..<max(i + 2, n) { norm += row[c] * row[c] }
    if norm == 0 {
      offDiagonal[i] = alpha
      diagonal[i] = row[i]
      taus?[i] = 0
      continue
    }
    let length = hypotenuse(alpha, norm.squareRoot())
    let beta = alpha >= 0 ? -length : length
    let tau = (beta - alpha) / beta
    let scale = 1 / (alpha - beta)
    let m = n - i - 1
    // u over the trailing block's indices 0..<m (global index i + 1 + k).
    v[0] = 1
    for k in 1..<m { v[k] = row[i + 1 + k] * scale }
    offDiagonal[i] = beta
    diagonal[i] = row[i]
    if let taus {
      taus[i] = tau
      for k in 1..<m { row[i + 1 + k] = v[k] }
    }
    // w = τ A₂₂ u, A₂₂ the trailing block, upper triangle stored.
    w.update(repeating: 0, count: m)
    for r in 0..<m {
      let block = a + (i + 1 + r) * n + (i + 1)
      let vr = v[r]
      var s0 = block[r] * vr
      var s1 = 0.0
      var s2 = 0.0
      var s3 = 0.0
      var c = r + 1
      while c + 4 <= m {
        let x0 = block[c]
        let x1 = block[c + 1]
        let x2 = block[c + 2]
        let x3 = block[c + 3]
        s0 += x0 * v[c]
        s1 += x1 * v[c + 1]
        s2 += x2 * v[c + 2]
        s3 += x3 * v[c + 3]
        w[c] += x0 * vr
        w[c + 1] += x1 * vr
        w[c + 2] += x2 * vr
        w[c + 3] += x3 * vr
        c += 4
      }
      while c < m {
        let x = block[c]
        s0 += x * v[c]
        w[c] += x * vr
        c += 1
      }
      w[r] += (s0 + s1) + (s2 + s3)
    }
    var dot = 0.0
    for k in 0..<m {
      w[k] *= tau
      dot += w[k] * v[k]
    }
    // w ← w - (τ/2)(wᵀu) u, then A₂₂ ← A₂₂ - u wᵀ - w uᵀ (upper triangle).
    let shift = -0.5 * tau * dot
    for k in 0..<m { w[k] += shift * v[k] }
    for r in 0..<m {
      let block = a + (i + 1 + r) * n + (i + 1)
      let vr = v[r]
      let wr = w[r]
      for c in r..<m { block[c] -= vr * w[c] + wr * v[c] }
    }
  }
  diagonal[n - 1] = a[(n - 1) * n + (n - 1)]
}

/// `√(x² + y²)` without overflow.
@inline(__always)
private func hypotenuse(_ x: Double, _ y: Double) -> Double {
  let big = max(abs(x), abs(y))
  guard big > 0 else { return 0 }
  let a = x / big
  let b = y / big
  return big * (a * a + b * b).squareRoot()
}

/// `M = (R L)(R L)ᵀ = R W R` for `W = L Lᵀ`: one triangular product (`dtrmm`) and one symmetric
/// rank-k update (`dsyrk`), about `2 n³` flops against `4 n³` for two general products, and
/// symmetric by construction. `root` is the full symmetric `R`, `factor` the lower triangular
/// `L`, both row-major. Only the upper triangle of the result is written (the lower is 0).
func middleMatrix(root: [Double], factor: [Double], _ n: Int) -> [Double] {
  var b = root
  var m = [Double](repeating: 0, count: n * n)
  b.withUnsafeMutableBufferPointer { pb in
    factor.withUnsafeBufferPointer { pl in
      cblas_dtrmm(
        CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, Int32(n), Int32(n), 1,
        pl.baseAddress,
        Int32(n), pb.baseAddress, Int32(n))
    }
    m.withUnsafeMutableBufferPointer { pm in
      cblas_dsyrk(
        CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(n), 1, pb.baseAddress, Int32(n), 0,
        pm.baseAddress,
        Int32(n))
    }
  }
  return m
}

/// A triangular factor of a symmetric positive definite row-major `n x n` matrix `S`, lower
/// triangular and packed by rows (row `i` holds columns `0...i` from offset `i (i + 1) / 2`), or
/// `nil` when `S` is not numerically positive definite (LAPACK `dpotrf` fails).
///
/// - `reversed == false`: `L` with `S = L Lᵀ` (the Cholesky factor).
/// - `reversed == true`: `Uᵀ` for the upper triangular `U` with `S = U Uᵀ`, from the Cholesky
///   factor `F` of the reversed matrix `J S J` (`J` the exchange matrix): `U = J F J`.
func packedTriangularFactor(_ elements: [Double], _ n: Int, reversed: Bool) -> [Double]? {
  var work = [Double](repeating: 0, count: n * n)
  for i in 0..<n {
    for j in 0..<n {
      work[i * n + j] = reversed ? elements[(n - 1 - i) * n + (n - 1 - j)] : elements[i * n + j]
    }
  }
  let info = work.withUnsafeMutableBufferPointer {
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), $0.baseAddress, Int32(n))
  }
  guard info == 0 else { return nil }
  var packed = [Double](repeating: 0, count: n * (n + 1) / 2)
  for i in 0..<n {
    for k in 0...i {
      // Uᵀ[i][k] = U[k][i] = F[n-1-k][n-1-i].
      packed[i * (i + 1) / 2 + k] = reversed ? work[(n - 1 - k) * n + (n - 1 - i)] : work[i * n + k]
    }
  }
  return packed
}

/// `diag(√v)` packed like ``packedTriangularFactor(_:_:reversed:)``: both factors of a diagonal
/// covariance.
func packedDiagonalFactor(_ variances: [Double]) -> [Double] {
  let n = variances.count
  var packed = [Double](repeating: 0, count: n * (n + 1) / 2)
  for i in 0..<n { packed[i * (i + 1) / 2 + i] = variances[i].squareRoot() }
  return packed
}

/// The upper triangle (row-major, into the `n x n` array `middle`, whose lower triangle is set to 0)
/// of `M = Tᵀ T` with `T = G L`, for `G` and `L` lower triangular and packed as in
/// ``packedTriangularFactor(_:_:reversed:)``; `t` (at least `n (n + 1) / 2` values) receives `T`,
/// lower triangular as well.
///
/// With `G = Uᵀ` for `W = U Uᵀ` and `L` the Cholesky factor of `S = L Lᵀ`,
/// `M = Lᵀ U Uᵀ L = Lᵀ W L` is similar to `W S` and so to `S^½ W S^½`: it has the eigenvalues the
/// Bures term needs. Both products are of triangular matrices: `n³/6` multiply-adds each, against
/// `n³` each for the general product `S^½ L` and the rank-k update `(S^½ L)(S^½ L)ᵀ`. Every inner
/// loop is an update of a contiguous row segment (no reductions), which the compiler vectorises.
func triangularMiddleMatrix(
  _ g: UnsafeBufferPointer<Double>, _ l: UnsafeBufferPointer<Double>, _ n: Int,
  t: UnsafeMutableBufferPointer<Double>, middle: UnsafeMutableBufferPointer<Double>
) {
  // Raw pointers and half-open ranges keep the index arithmetic free of overflow checks, so that
  // the inner loops vectorise.
  let g = g.baseAddress!
  let l = l.baseAddress!
  let t = t.baseAddress!
  let middle = middle.baseAddress!
  // Row i of T is Σ_{k ≤ i} G[i][k] · (row k of L), the rows of L having k + 1 entries.
  for i in 0..<n {
    let row = t + i * (i + 1) / 2
    row.update(repeating: 0, count: i + 1)
    for k in 0..<(i + 1) {
      let coefficient = g[i * (i + 1) / 2 + k]
      let source = l + k * (k + 1) / 2
      for c in 0..<(k + 1) { row[c] += coefficient * source[c] }
    }
  }
  // Tᵀ T = Σ_k (row k of T)ᵀ (row k of T): row i of the upper triangle gains T[k][i] · T[k][i...k].
  middle.update(repeating: 0, count: n * n)
  for k in 0..<n {
    let source = t + k * (k + 1) / 2
    for i in 0..<(k + 1) {
      let coefficient = source[i]
      let target = middle + i * n
      for c in i..<(k + 1) { target[c] += coefficient * source[c] }
    }
  }
}

/// The lower Cholesky factor `L` of a symmetric positive definite row-major matrix (`W = L Lᵀ`),
/// zeros above the diagonal.
func choleskyFactor(_ matrix: Matrix, argument: String) throws(DAMError) -> [Double] {
  let n = matrix.rows
  var factor = matrix.elements
  let info = factor.withUnsafeMutableBufferPointer {
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), $0.baseAddress, Int32(n))
  }
  guard info == 0 else {
    throw DAMError(
      .notPositiveDefinite, argument: argument,
      "is not positive definite (Cholesky factorisation failed, LAPACK dpotrf info = \(info)); a retrieval's state must be positive definite, as the step inverts it (stored patterns may be semi-definite, but a step that lands on a singular one makes the next state singular too: use a step < 1)"
    )
  }
  for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { factor[i * n + j] = 0 } }
  return factor
}

// MARK: - Maps of the batched step in the state's frame

/// The upper triangle (row-major, into the `n x n` array `middle`) of `N = T Tᵀ` with `T = G L`,
/// `G` and `L` lower triangular and packed as in ``packedTriangularFactor(_:_:reversed:)``; `t` (at
/// least `n (n + 1) / 2` values) receives `T`.
///
/// With `G = Uᵀ` for `W = U Uᵀ` and `L` the Cholesky factor of `S = L Lᵀ`, `N = Uᵀ S U`, and the
/// map from `N(m, W)` to `N(μ, S)` is `A = U⁻ᵀ N^½ U⁻¹`: `A W A = U⁻ᵀ N^½ N^½ U⁻¹ = U⁻ᵀ Uᵀ S U U⁻¹
/// = S`, and `A` is symmetric positive definite, so it is the map. The congruence by `U⁻¹` is the
/// same for every pattern, so a weighted sum of maps needs it once (see
/// ``addWeightedSquareRoots(count:weights:into:scratch:succeeded:)``).
func outerMiddleMatrix(
  _ g: UnsafePointer<Double>, _ l: UnsafePointer<Double>, _ n: Int, t: UnsafeMutablePointer<Double>,
  middle: UnsafeMutablePointer<Double>
) {
  // Row i of T is Σ_{k ≤ i} G[i][k] · (row k of L), as in `triangularMiddleMatrix`.
  for i in 0..<n {
    let row = t + i * (i + 1) / 2
    row.update(repeating: 0, count: i + 1)
    for k in 0..<(i + 1) {
      let coefficient = g[i * (i + 1) / 2 + k]
      let source = l + k * (k + 1) / 2
      for c in 0..<(k + 1) { row[c] += coefficient * source[c] }
    }
  }
  // N[r][c] = (row r of T) · (row c of T) over their common columns 0...r (r ≤ c).
  for r in 0..<n {
    let x = t + r * (r + 1) / 2
    for c in r..<n {
      let y = t + c * (c + 1) / 2
      var s0 = 0.0
      var s1 = 0.0
      var k = 0
      while k + 2 <= r + 1 {
        s0 += x[k] * y[k]
        s1 += x[k + 1] * y[k + 1]
        k += 2
      }
      if k <= r { s0 += x[k] * y[k] }
      middle[r * n + c] = s0 + s1
    }
  }
}

/// Work arrays of ``addWeightedSquareRoots(_:count:weights:into:scratch:succeeded:)`` for up to
/// `lanes` matrices of size `n`. Fill lane `k`'s matrix (`matrices`, `n x n` from `k n²`, upper
/// triangle, row-major) before the call.
struct SquareRootScratch {
  let n: Int
  let lanes: Int
  var matrices: [Double]
  var diagonals: [Double]
  var offDiagonals: [Double]
  var taus: [Double]
  var v: [Double]
  var w: [Double]
  /// Each lane's `Qᵀ`, then its eigenvectors as rows.
  var vectors: [Double]
  init(_ n: Int, lanes: Int) {
    self.n = n
    self.lanes = lanes
    matrices = [Double](repeating: 0, count: lanes * n * n)
    diagonals = [Double](repeating: 0, count: lanes * n)
    offDiagonals = [Double](repeating: 0, count: lanes * n)
    taus = [Double](repeating: 0, count: lanes * n)
    v = [Double](repeating: 0, count: n)
    w = [Double](repeating: 0, count: n)
    vectors = [Double](repeating: 0, count: lanes * n * n)
  }
}

/// `P = Qᵀ = H(n-2) ⋯ H(0)` (row-major) from the reflectors kept by
/// ``tridiagonalize(_:_:diagonal:offDiagonal:v:w:taus:)`` in `a`: then `N = Q T Qᵀ`, so the
/// eigenvectors of `N` are `Q z` for the eigenvectors `z` of the tridiagonal `T`, and rotations of
/// `z`'s columns are rotations of `P`'s rows, which are contiguous.
///
/// Built backward, `P ← P H(i)` for `i = n-2, …, 0`: before step `i`, `P` differs from the identity
/// only in rows and columns from `i + 2` on, so each step touches its trailing block only.
func formTransposedQ(
  _ a: UnsafePointer<Double>, _ n: Int, taus: UnsafePointer<Double>, p: UnsafeMutablePointer<Double>
) {
  p.update(repeating: 0, count: n * n)
  for k in 0..<n { p[k * n + k] = 1 }
  guard n > 1 else { return }
  for i in stride(from: n - 2, through: 0, by: -1) {
    let tau = taus[i]
    guard tau != 0 else { continue }
    // u[i+1] = 1, u[c] = a[i][c] for c ≥ i + 2.
    let u = a + i * n
    for r in (i + 1)..<n {
      let row = p + r * n
      var s = row[i + 1]
      for c in (i + 2)..<n { s += row[c] * u[c] }
      let f = tau * s
      row[i + 1] -= f
      for c in (i + 2)..<n { row[c] -= f * u[c] }
    }
  }
}

/// `X = G⁻¹ B` for the lower triangular `G` packed by rows and `B[r][c] = right(r, c)`, by
/// forward substitution on whole rows: `X[r] = (B[r] - Σ_{k<r} G[r][k] X[k]) / G[r][r]`.
private func forwardSubstitute(
  _ g: UnsafePointer<Double>, _ n: Int, into x: UnsafeMutablePointer<Double>, _ right: (Int, Int) -> Double
) {
  for r in 0..<n {
    let row = x + r * n
    for c in 0..<n { row[c] = right(r, c) }
    let gr = g + r * (r + 1) / 2
    for k in 0..<r {
      let coefficient = gr[k]
      let source = x + k * n
      for c in 0..<n { row[c] -= coefficient * source[c] }
    }
    let inverse = 1 / gr[r]
    for c in 0..<n { row[c] *= inverse }
  }
}

/// State of one matrix's QL iteration in ``tridiagonalQLWithVectors(_:_:_:count:p:)``.
private struct VectorQLLane {
  /// The row whose eigenvalue is being found; the matrix is done when `l == n`.
  var l = 0
  /// The last row of the unreduced block of the current sweep.
  var m = 0
  /// The next row of the current sweep (from `m - 1` down to `l`); `-1` between sweeps.
  var i = -1
  var s = 0.0
  var c = 0.0
  var shift = 0.0
  var g = 0.0
  /// Sweeps for the current `l`.
  var iterations = 0
  /// Rotations logged and not yet applied to the lane's vectors.
  var logged = 0
  var done = false
  var failed = false
}

/// Applies the first `count` logged rotations `(row, s, c)` to the rows of `p` (`n` columns), in
/// order: rows `row` and `row + 1` become `c x - s y` and `s x + c y`.
@inline(__always)
private func applyRotations(
  rows: UnsafePointer<Int>, sines: UnsafePointer<Double>, cosines: UnsafePointer<Double>, count: Int,
  to p: UnsafeMutablePointer<Double>, columns n: Int
) {
  for t in 0..<count {
    let s = sines[t]
    let c = cosines[t]
    let x = p + rows[t] * n
    let y = x + n
    for column in 0..<n {
      let yk = y[column]
      let xk = x[column]
      y[column] = s * xk + c * yk
      x[column] = c * xk - s * yk
    }
  }
}

/// `√(x² + y²)`: the plain formula where the sum of squares is far from overflow and underflow
/// (one square root on the QL iteration's dependency chain), ``hypotenuse(_:_:)`` elsewhere.
@inline(__always)
private func rotationLength(_ x: Double, _ y: Double) -> Double {
  let q = x * x + y * y
  if q > 0x1p-900 && q < 0x1p900 { return q.squareRoot() }
  return hypotenuse(x, y)
}

/// For each of `count` symmetric tridiagonal `n x n` matrices (lane `k`: diagonal `d[k n ..< k n + n]`,
/// off-diagonal `e[k n ...]` with `e[i]` coupling rows `i` and `i + 1`, `e[k n + n - 1]` scratch),
/// the eigenvalues (into its diagonal) and eigenvectors (rows of its `p`, `n x n` from `k n²`,
/// which holds `Qᵀ` on entry): the implicit QL iteration with the shifts of EISPACK `tql2`, each
/// rotation applied to two contiguous rows of `p`. As in ``sumsOfRootEigenvalues(_:_:_:count:sums:)``,
/// the sweeps of the lanes advance one rotation each in turn, so that the processor overlaps their
/// chains of dependent divisions and square roots; each lane's arithmetic is that of running it
/// alone. The rotations are logged and applied to the vectors in batches, in order (the same
/// arithmetic as applying each at once): the vector updates depend on nothing in the chains, and
/// left inside the loop they filled the processor's window, so that it overlapped fewer lanes.
/// `failed[k]` is set when lane `k` needed more than 30 sweeps for one eigenvalue.
func tridiagonalQLWithVectors(
  _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, _ n: Int, count: Int,
  p: UnsafeMutablePointer<Double>, failed: UnsafeMutablePointer<Bool>
) {
  var lanes = [VectorQLLane](repeating: VectorQLLane(), count: count)
  for k in 0..<count {
    e[k * n + n - 1] = 0
    failed[k] = false
  }
  let epsilon = Double.ulpOfOne
  var remaining = count
  let capacity = 256
  let rows = UnsafeMutablePointer<Int>.allocate(capacity: count * capacity)
  let sines = UnsafeMutablePointer<Double>.allocate(capacity: count * capacity)
  let cosines = UnsafeMutablePointer<Double>.allocate(capacity: count * capacity)
  defer {
    rows.deallocate()
    sines.deallocate()
    cosines.deallocate()
  }
  lanes.withUnsafeMutableBufferPointer { lanes in
    while remaining > 0 {
      for k in 0..<count where !lanes[k].done {
        let d = d + k * n
        let e = e + k * n
        var lane = lanes[k]
        if lane.i >= lane.l {
          // One rotation of the sweep.
          let i = lane.i
          let f = lane.s * e[i]
          let b = lane.c * e[i]
          var r = rotationLength(f, lane.g)
          e[i + 1] = r
          if r == 0 {
            // Recovery from underflow (tql2): deflate, and the next sweep starts over.
            d[i + 1] -= lane.shift
            e[lane.m] = 0
            lane.i = -1
            lanes[k] = lane
            continue
          }
          let inverse = 1 / r
          let s = f * inverse
          let c = lane.g * inverse
          let g = d[i + 1] - lane.shift
          r = (d[i] - g) * s + 2 * c * b
          lane.shift = s * r
          d[i + 1] = g + lane.shift
          lane.g = c * r - b
          lane.s = s
          lane.c = c
          let slot = k * capacity + lane.logged
          rows[slot] = i
          sines[slot] = s
          cosines[slot] = c
          lane.logged += 1
          if lane.logged == capacity {
            applyRotations(
              rows: rows + k * capacity, sines: sines + k * capacity, cosines: cosines + k * capacity,
              count: capacity, to: p + k * n * n, columns: n)
            lane.logged = 0
          }
          lane.i = i - 1
          if lane.i < lane.l {
            d[lane.l] -= lane.shift
            e[lane.l] = lane.g
            e[lane.m] = 0
            lane.i = -1
          }
          lanes[k] = lane
          continue
        }
        // Between sweeps: skip converged rows, then start the sweep of the unreduced block at l.
        var started = false
        while lane.l < n {
          let l = lane.l
          var m = l
          while m < n - 1 {
            if abs(e[m]) <= epsilon * (abs(d[m]) + abs(d[m + 1])) { break }
            m += 1
          }
          if m == l {
            lane.l = l + 1
            lane.iterations = 0
            continue
          }
          if lane.iterations == 30 {
            failed[k] = true
            break
          }
          lane.iterations += 1
          var g = (d[l + 1] - d[l]) / (2 * e[l])
          let r = abs(g) < 0x1p500 ? (g * g + 1).squareRoot() : hypotenuse(g, 1)
          g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r))
          lane.g = g
          lane.s = 1
          lane.c = 1
          lane.shift = 0
          lane.m = m
          lane.i = m - 1
          started = true
          break
        }
        if !started {
          lane.done = true
          remaining -= 1
          applyRotations(
            rows: rows + k * capacity, sines: sines + k * capacity, cosines: cosines + k * capacity,
            count: lane.logged, to: p + k * n * n, columns: n)
          lane.logged = 0
        }
        lanes[k] = lane
      }
    }
  }
}

/// Adds `Σₖ weights[k] × Nₖ^½` to the upper triangle of the row-major `n x n` `sum`, for the
/// `count` symmetric positive semidefinite matrices `Nₖ` in `scratch.matrices` (upper triangles,
/// overwritten): Householder tridiagonalisation keeping the reflectors, `Qᵀ` formed from them, the
/// interleaved QL iteration with vectors, then `Σ weight √λ q qᵀ` lane by lane (eigenvalues below
/// 0, round-off of a semidefinite matrix, count as 0). About `4.5 n³` multiply-adds a matrix, no
/// allocation per matrix, no LAPACK call. `succeeded[k]` is false for a lane whose QL iteration
/// did not converge; it adds nothing.
func addWeightedSquareRoots(
  count: Int, weights: UnsafePointer<Double>, into sum: UnsafeMutablePointer<Double>,
  scratch: inout SquareRootScratch, succeeded: UnsafeMutablePointer<Bool>
) {
  let n = scratch.n
  scratch.matrices.withUnsafeMutableBufferPointer { matrices in
    scratch.diagonals.withUnsafeMutableBufferPointer { diagonals in
      scratch.offDiagonals.withUnsafeMutableBufferPointer { offDiagonals in
        scratch.v.withUnsafeMutableBufferPointer { v in
          scratch.w.withUnsafeMutableBufferPointer { w in
            scratch.taus.withUnsafeMutableBufferPointer { taus in
              scratch.vectors.withUnsafeMutableBufferPointer { vectors in
                let d = diagonals.baseAddress!
                let e = offDiagonals.baseAddress!
                let p = vectors.baseAddress!
                for k in 0..<count {
                  let a = matrices.baseAddress! + k * n * n
                  tridiagonalize(
                    UnsafeMutableBufferPointer(start: a, count: n * n), n,
                    diagonal: UnsafeMutableBufferPointer(start: d + k * n, count: n),
                    offDiagonal: UnsafeMutableBufferPointer(start: e + k * n, count: n), v: v, w: w,
                    taus: taus.baseAddress! + k * n)
                  formTransposedQ(a, n, taus: taus.baseAddress! + k * n, p: p + k * n * n)
                }
                let failed = UnsafeMutablePointer<Bool>.allocate(capacity: count)
                defer { failed.deallocate() }
                tridiagonalQLWithVectors(d, e, n, count: count, p: p, failed: failed)
                for k in 0..<count {
                  succeeded[k] = !failed[k]
                  guard !failed[k] else { continue }
                  for j in 0..<n {
                    let lambda = d[k * n + j]
                    guard lambda > 0 else { continue }
                    let coefficient = weights[k] * lambda.squareRoot()
                    let q = p + (k * n + j) * n
                    for r in 0..<n {
                      let f = coefficient * q[r]
                      let target = sum + r * n
                      for c in r..<n { target[c] += f * q[c] }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// `A = G⁻¹ F G⁻ᵀ` (row-major, symmetrised) for the lower triangular `G` packed as in
/// ``packedTriangularFactor(_:_:reversed:)`` and the symmetric `F` of which the upper triangle of
/// the row-major `f` is read: with `G = Uᵀ` (`W = U Uᵀ`) and `F = Σ λ N^½`, the weighted sum of
/// the maps `Σ λ U⁻ᵀ N^½ U⁻¹` (see ``outerMiddleMatrix(_:_:_:t:middle:)``). Two triangular solves
/// with `n` right-hand sides each, row operations only.
func inverseCongruence(_ g: UnsafePointer<Double>, _ n: Int, _ f: UnsafePointer<Double>) -> [Double] {
  // X = G⁻¹ F by forward substitution on rows: X[r] = (F[r] - Σ_{k<r} G[r][k] X[k]) / G[r][r].
  var x = [Double](repeating: 0, count: n * n)
  var y = [Double](repeating: 0, count: n * n)
  x.withUnsafeMutableBufferPointer { xb in
    y.withUnsafeMutableBufferPointer { yb in
      let x = xb.baseAddress!
      let y = yb.baseAddress!
      forwardSubstitute(g, n, into: x) { r, c in c >= r ? f[r * n + c] : f[c * n + r] }
      // Y = G⁻¹ Xᵀ, and A = Yᵀ = X G⁻ᵀ = G⁻¹ F G⁻ᵀ.
      forwardSubstitute(g, n, into: y) { r, c in x[c * n + r] }
      // Symmetrise: A = (Y + Yᵀ) / 2, into x.
      for r in 0..<n {
        for c in 0..<n { x[r * n + c] = 0.5 * (y[r * n + c] + y[c * n + r]) }
      }
    }
  }
  return x
}
