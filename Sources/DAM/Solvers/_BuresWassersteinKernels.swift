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
  var diagonal = [Double](repeating: 0, count: n)
  guard n > 0 else { return diagonal }
  var offDiagonal = [Double](repeating: 0, count: max(n - 1, 1))
  var v = [Double](repeating: 0, count: n)
  var w = [Double](repeating: 0, count: n)
  matrix.withUnsafeMutableBufferPointer { a in
    v.withUnsafeMutableBufferPointer { v in
      w.withUnsafeMutableBufferPointer { w in
        for i in 0..<(n - 1) {
          // The reflector H = I - τ u uᵀ (u₀ = 1) with H x = (β, 0, …) for x = A[i, i+1..<n].
          let row = i * n
          let alpha = a[row + i + 1]
          var norm = 0.0
          if i + 2 < n { for c in (i + 2)..<n { norm += a[row + c] * a[row + c] } }
          if norm == 0 {
            offDiagonal[i] = alpha
            diagonal[i] = a[row + i]
            continue
          }
          let length = _hypot(alpha, norm.squareRoot())
          let beta = alpha >= 0 ? -length : length
          let tau = (beta - alpha) / beta
          let scale = 1 / (alpha - beta)
          let m = n - i - 1
          // u over the trailing block's indices 0..<m (global index i + 1 + k).
          v[0] = 1
          for k in 1..<m { v[k] = a[row + i + 1 + k] * scale }
          offDiagonal[i] = beta
          diagonal[i] = a[row + i]
          // w = τ A₂₂ u, A₂₂ the trailing block, upper triangle stored.
          for k in 0..<m { w[k] = 0 }
          for r in 0..<m {
            let base = (i + 1 + r) * n + (i + 1)
            let vr = v[r]
            var sum = a[base + r] * vr
            var c = r + 1
            while c < m {
              let x = a[base + c]
              sum += x * v[c]
              w[c] += x * vr
              c += 1
            }
            w[r] += sum
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
            let base = (i + 1 + r) * n + (i + 1)
            let vr = v[r]
            let wr = w[r]
            var c = r
            while c < m {
              a[base + c] -= vr * w[c] + wr * v[c]
              c += 1
            }
          }
        }
        diagonal[n - 1] = a[(n - 1) * n + (n - 1)]
      }
    }
  }
  if n > 1 {
    let info = diagonal.withUnsafeMutableBufferPointer { d in
      offDiagonal.withUnsafeMutableBufferPointer { e in LAPACKE_dsterf(Int32(n), d.baseAddress, e.baseAddress)
      }
    }
    guard info == 0 else {
      throw DAMError(
        .numericalFailure, argument: argument, "symmetric eigenvalues failed (LAPACK dsterf info = \(info))")
    }
  }
  return diagonal
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

/// Slots written by concurrent chunks, each slot by exactly one chunk.
final class _Slots<Value>: @unchecked Sendable {
  var values: [Value]
  init(count: Int, initial: Value) { values = Array(repeating: initial, count: count) }
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
