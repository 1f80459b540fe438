import CLinearAlgebra
import Dispatch

// Kernels of the batched Bures-Wasserstein evaluation (`BuresWassersteinDivergence.evaluateAll`
// and `accumulateAll`): the middle matrix `M = S^½ W S^½` from a Cholesky factor of `W`,
// eigenvalues without eigenvectors, and a chunked parallel loop whose results do not depend on
// the number of threads.

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
func _symmetricEigenvalues(_ matrix: inout [Double], _ n: Int, argument: String) throws(DAMError) -> [Double]
{
  var scratch = _EigenvalueScratch(n)
  let info = matrix.withUnsafeMutableBufferPointer { _symmetricEigenvalues($0, n, scratch: &scratch) }
  try _checkEigenvalueInfo(info, argument)
  return scratch.diagonal
}

/// Throws the error of a failed ``_symmetricEigenvalues(_:_:scratch:)`` (LAPACK `dsterf`'s `info`).
func _checkEigenvalueInfo(_ info: Int32, _ argument: String) throws(DAMError) {
  guard info == 0 else {
    throw DAMError(
      .numericalFailure, argument: argument, "symmetric eigenvalues failed (LAPACK dsterf info = \(info))")
  }
}

/// Work arrays of ``_symmetricEigenvalues(_:_:scratch:)``, reused across matrices of one size;
/// `diagonal` holds the eigenvalues after a call.
struct _EigenvalueScratch {
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
func _symmetricEigenvalues(
  _ a: UnsafeMutableBufferPointer<Double>, _ n: Int, scratch: inout _EigenvalueScratch
) -> Int32 {
  guard n > 0 else { return 0 }
  scratch.diagonal.withUnsafeMutableBufferPointer { diagonal in
    scratch.offDiagonal.withUnsafeMutableBufferPointer { offDiagonal in
      scratch.v.withUnsafeMutableBufferPointer { v in
        scratch.w.withUnsafeMutableBufferPointer { w in
          _tridiagonalize(a, n, diagonal: diagonal, offDiagonal: offDiagonal, v: v, w: w)
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

/// The Householder reduction of ``_symmetricEigenvalues(_:_:scratch:)``: the diagonal and
/// off-diagonal of a tridiagonal matrix orthogonally similar to the symmetric matrix whose upper
/// triangle is stored row-major in `a`.
///
/// The product `w = A₂₂ u` reads each stored element once, for a row's dot product and a column's
/// update; the dot products run on four partial sums so that they do not wait on one another's
/// additions (a single running sum made this loop latency-bound, a third of a distance at d = 50).
func _tridiagonalize(
  _ buffer: UnsafeMutableBufferPointer<Double>, _ n: Int, diagonal: UnsafeMutableBufferPointer<Double>,
  offDiagonal: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Double>,
  w: UnsafeMutableBufferPointer<Double>
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
      continue
    }
    let length = _hypot(alpha, norm.squareRoot())
    let beta = alpha >= 0 ? -length : length
    let tau = (beta - alpha) / beta
    let scale = 1 / (alpha - beta)
    let m = n - i - 1
    // u over the trailing block's indices 0..<m (global index i + 1 + k).
    v[0] = 1
    for k in 1..<m { v[k] = row[i + 1 + k] * scale }
    offDiagonal[i] = beta
    diagonal[i] = row[i]
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
private func _hypot(_ x: Double, _ y: Double) -> Double {
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
func _middleMatrix(root: [Double], factor: [Double], _ n: Int) -> [Double] {
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
func _packedTriangularFactor(_ elements: [Double], _ n: Int, reversed: Bool) -> [Double]? {
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

/// `diag(√v)` packed like ``_packedTriangularFactor(_:_:reversed:)``: both factors of a diagonal
/// covariance.
func _packedDiagonalFactor(_ variances: [Double]) -> [Double] {
  let n = variances.count
  var packed = [Double](repeating: 0, count: n * (n + 1) / 2)
  for i in 0..<n { packed[i * (i + 1) / 2 + i] = variances[i].squareRoot() }
  return packed
}

/// The upper triangle (row-major, into the `n x n` array `middle`, whose lower triangle is set to 0)
/// of `M = Tᵀ T` with `T = G L`, for `G` and `L` lower triangular and packed as in
/// ``_packedTriangularFactor(_:_:reversed:)``; `t` (at least `n (n + 1) / 2` values) receives `T`,
/// lower triangular as well.
///
/// With `G = Uᵀ` for `W = U Uᵀ` and `L` the Cholesky factor of `S = L Lᵀ`,
/// `M = Lᵀ U Uᵀ L = Lᵀ W L` is similar to `W S` and so to `S^½ W S^½`: it has the eigenvalues the
/// Bures term needs. Both products are of triangular matrices: `n³/6` multiply-adds each, against
/// `n³` each for the general product `S^½ L` and the rank-k update `(S^½ L)(S^½ L)ᵀ`. Every inner
/// loop is an update of a contiguous row segment (no reductions), which the compiler vectorises.
func _triangularMiddleMatrix(
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
func _choleskyFactor(_ matrix: Matrix, argument: String) throws(DAMError) -> [Double] {
  let n = matrix.rows
  var factor = matrix.elements
  let info = factor.withUnsafeMutableBufferPointer {
    LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), $0.baseAddress, Int32(n))
  }
  guard info == 0 else {
    throw DAMError(
      .notPositiveDefinite, argument: argument,
      "is not positive definite (Cholesky factorisation failed, LAPACK dpotrf info = \(info))")
  }
  for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { factor[i * n + j] = 0 } }
  return factor
}

/// Slots written by concurrent chunks, each slot by exactly one chunk, and read after they all
/// finished.
///
/// The slots are one allocation written through a pointer. They were a Swift array property
/// written as `values[c] = ...` from every chunk: each such write is a modifying access of the
/// one array (uniqueness check, then the element), so two chunks writing different slots at once
/// were overlapping accesses, a data race in Swift's memory model that the thread sanitizer
/// reported ("Swift access race" in `accumulateAll`, BuresWassersteinBatchTests).
final class _Slots<Value>: @unchecked Sendable {
  private let storage: UnsafeMutablePointer<Value>
  let count: Int

  init(count: Int, initial: Value) {
    self.count = count
    storage = .allocate(capacity: count)
    storage.initialize(repeating: initial, count: count)
  }

  deinit {
    storage.deinitialize(count: count)
    storage.deallocate()
  }

  /// Slot `index`; concurrent writers must write different slots.
  subscript(index: Int) -> Value {
    get { storage[index] }
    set { storage[index] = newValue }
  }

  /// Every slot, in order.
  var values: [Value] { Array(UnsafeBufferPointer(start: storage, count: count)) }
}

/// Runs `body(chunk)` once for every chunk in `0..<chunks`: serially when `workers <= 1`,
/// otherwise on up to `workers` threads (worker `k` takes chunks `k, k + workers, …`). Callers
/// write each chunk's results into their own slots and reduce them in chunk order afterwards, so
/// results do not depend on `workers` or on scheduling.
func _forEachChunk(_ chunks: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
  let width = min(workers, chunks)
  if width <= 1 {
    for c in 0..<chunks { body(c) }
    return
  }
  DispatchQueue.concurrentPerform(iterations: width) { k in
    var c = k
    while c < chunks {
      body(c)
      c += width
    }
  }
}
