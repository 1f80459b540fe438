import CLinearAlgebra
import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A stabilised Gibbs kernel `K̂ⱼₖ = exp((f̂ⱼ + ĝₖ - Cⱼₖ) / ε)`, materialised row-major, for
/// Sinkhorn in the scaling domain (Schmitzer 2019, "Stabilized sparse scaling algorithms for
/// entropy regularized transport problems").
///
/// The potentials are split as `f = f̂ + ε log u`, `g = ĝ + ε log v`: the absorbed parts `f̂, ĝ`
/// live in the kernel, the scalings `u, v` stay near 1, and an iteration is two matrix-vector
/// products (BLAS `dgemv`) instead of `2 n m` exponentials. When a scaling drifts far from 1 it is
/// absorbed and the kernel rebuilt. Entries that underflow are below `1e-308` relative to the
/// row's scale, far under double precision of a row sum.
struct _GibbsKernel {
  let rows: Int
  let columns: Int
  private(set) var entries: [Double]
  private(set) var epsilon: Double
  /// The absorbed potentials `f̂` (rows) and `ĝ` (columns).
  private(set) var rowPotential: [Double]
  private(set) var columnPotential: [Double]

  /// The kernel of `cost` at `epsilon` with absorbed potentials `f` and `g`.
  init(cost: _CostMatrix, epsilon: Double, f: [Double], g: [Double]) {
    self.rows = cost.rows
    self.columns = cost.columns
    self.entries = [Double](repeating: 0, count: cost.rows * cost.columns)
    self.epsilon = epsilon
    self.rowPotential = f
    self.columnPotential = g
    rebuild(cost: cost)
  }

  /// Recomputes every entry from the cost and the absorbed potentials (`n m` exponentials,
  /// spread over the cores; each entry is computed independently, so the result does not depend
  /// on the thread count).
  private mutating func rebuild(cost: _CostMatrix) {
    let n = rows
    let m = columns
    let inverse = 1 / epsilon
    let f = rowPotential
    let g = columnPotential
    let blocks = _blockCount(rows: n, work: n * m)
    entries.withUnsafeMutableBufferPointer { k in
      let k = _SendableBuffer(k)
      DispatchQueue.concurrentPerform(iterations: blocks) { block in
        // The cost rows of a block are formed in place, then exponentiated.
        let range = _blockRange(block, of: blocks, count: n)
        let out = k.base.baseAddress! + range.lowerBound * m
        cost.fill(rows: range, into: out)
        f.withUnsafeBufferPointer { f in
          g.withUnsafeBufferPointer { g in
            for j in range {
              let fj = f[j]
              let line = k.base.baseAddress! + j * m
              for t in 0..<m { line[t] = (fj + g[t] - line[t]) * inverse }
              _expInPlace(line, count: m)
            }
          }
        }
      }
    }
  }

  /// Moves `ε log u` and `ε log v` into the absorbed potentials and rebuilds the kernel at
  /// `newEpsilon`; the scalings become 1.
  ///
  /// When `newEpsilon` is half the current ε (the default annealing factor) the new kernel is
  /// `(K̂ⱼₖ uⱼ vₖ)²`, products only; otherwise the entries are recomputed from the cost.
  mutating func absorb(
    _ u: inout [Double], _ v: inout [Double], newEpsilon: Double, cost: _CostMatrix, exact: Bool
  ) {
    let previous = epsilon
    for j in 0..<rows { rowPotential[j] += previous * _log(u[j]) }
    for t in 0..<columns { columnPotential[t] += previous * _log(v[t]) }
    epsilon = newEpsilon
    if !exact && newEpsilon * 2 == previous {
      let n = rows
      let m = columns
      let blocks = _blockCount(rows: n, work: n * m)
      let uu = u
      let vv = v
      entries.withUnsafeMutableBufferPointer { k in
        let k = _SendableBuffer(k)
        DispatchQueue.concurrentPerform(iterations: blocks) { block in
          uu.withUnsafeBufferPointer { u in
            vv.withUnsafeBufferPointer { v in
              for j in _blockRange(block, of: blocks, count: n) {
                let uj = u[j]
                let row = j * m
                for t in 0..<m {
                  let scaled = k.base[row + t] * uj * v[t]
                  k.base[row + t] = scaled * scaled
                }
              }
            }
          }
        }
      }
    } else {
      rebuild(cost: cost)
    }
    for j in 0..<rows { u[j] = 1 }
    for t in 0..<columns { v[t] = 1 }
  }

  /// Replaces the absorbed potentials by `f` and `g` (scalings 1) and rebuilds the kernel.
  mutating func reset(f: [Double], g: [Double], cost: _CostMatrix) {
    rowPotential = f
    columnPotential = g
    rebuild(cost: cost)
  }

  /// The full potentials `f̂ + ε log u` and `ĝ + ε log v`.
  func potentials(_ u: [Double], _ v: [Double]) -> (f: [Double], g: [Double]) {
    var f = rowPotential
    var g = columnPotential
    for j in 0..<rows { f[j] += epsilon * _log(u[j]) }
    for t in 0..<columns { g[t] += epsilon * _log(v[t]) }
    return (f, g)
  }

  /// `out = K̂ x` (length `rows`).
  func multiply(_ x: [Double], into out: inout [Double]) {
    cblas_dgemv(
      CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, entries, Int32(columns), x, 1, 0, &out, 1)
  }

  /// `out = K̂ᵀ x` (length `columns`).
  func multiplyTransposed(_ x: [Double], into out: inout [Double]) {
    cblas_dgemv(
      CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, entries, Int32(columns), x, 1, 0, &out, 1)
  }
}

/// A mutable buffer handed to `concurrentPerform` workers that write disjoint ranges.
struct _SendableBuffer: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<Double>
  init(_ base: UnsafeMutableBufferPointer<Double>) { self.base = base }
}

/// The number of blocks to split `rows` rows into for `work` elementary operations: one per core
/// when the work is large enough to pay for the threads, else 1.
func _blockCount(rows: Int, work: Int) -> Int {
  guard work >= 1 << 16 else { return 1 }
  return max(1, min(rows, _coreCount))
}

/// The rows of block `block` of `blocks` over `count` rows (contiguous, as even as possible).
func _blockRange(_ block: Int, of blocks: Int, count: Int) -> Range<Int> {
  let lower = count * block / blocks
  let upper = count * (block + 1) / blocks
  return lower..<upper
}

/// The number of active processors.
let _coreCount: Int = {
  max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}()
