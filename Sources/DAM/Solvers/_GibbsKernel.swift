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
  /// Whether the kernel is that of a symmetric problem (`x = y`, `f̂ = ĝ`): then only the upper
  /// triangle is computed and products use `dsymv`, which reads half the matrix.
  let symmetric: Bool
  private(set) var entries: [Double]
  private(set) var epsilon: Double
  /// The absorbed potentials `f̂` (rows) and `ĝ` (columns).
  private(set) var rowPotential: [Double]
  private(set) var columnPotential: [Double]

  /// The kernel of `cost` at `epsilon` with absorbed potentials `f` and `g`.
  init(cost: _CostMatrix, epsilon: Double, f: [Double], g: [Double], symmetric: Bool = false) {
    self.rows = cost.rows
    self.columns = cost.columns
    self.symmetric = symmetric
    self.entries = [Double](repeating: 0, count: cost.rows * cost.columns)
    self.epsilon = epsilon
    self.rowPotential = f
    self.columnPotential = g
    rebuild(cost: cost)
  }

  /// The first column of row `j` that is stored: 0, or `j` for a symmetric kernel.
  @inline(__always)
  private func firstColumn(_ j: Int) -> Int { symmetric ? j : 0 }

  /// The row blocks over which work is spread: equal areas (the triangle for a symmetric kernel).
  private func blocks() -> [Range<Int>] {
    let n = rows
    let count = _blockCount(rows: n, work: n * columns)
    guard symmetric, count > 1 else { return (0..<count).map { _blockRange($0, of: count, count: n) } }
    let total = Double(n) * Double(n + 1) / 2
    var ranges: [Range<Int>] = []
    var lower = 0
    var area = 0.0
    var row = 0
    for block in 1...count {
      let target = total * Double(block) / Double(count)
      while row < n && (block == count || area + Double(n - row) <= target) {
        area += Double(n - row)
        row += 1
      }
      ranges.append(lower..<row)
      lower = row
    }
    return ranges
  }

  /// Recomputes every stored entry from the cost and the absorbed potentials (`n m`
  /// exponentials, half that for a symmetric kernel, spread over the cores; each entry is
  /// computed independently, so the result does not depend on the thread count).
  private mutating func rebuild(cost: _CostMatrix) {
    let m = columns
    let inverse = 1 / epsilon
    let f = rowPotential
    let g = columnPotential
    let ranges = blocks()
    let symmetric = symmetric
    entries.withUnsafeMutableBufferPointer { k in
      let k = _SendableBuffer(k)
      DispatchQueue.concurrentPerform(iterations: ranges.count) { block in
        // The cost rows of a block are formed in place, then exponentiated.
        let range = ranges[block]
        guard !range.isEmpty else { return }
        cost.fill(rows: range, into: k.base.baseAddress! + range.lowerBound * m)
        f.withUnsafeBufferPointer { f in
          g.withUnsafeBufferPointer { g in
            for j in range {
              let first = symmetric ? j : 0
              let fj = f[j]
              let line = k.base.baseAddress! + j * m
              for t in first..<m { line[t] = (fj + g[t] - line[t]) * inverse }
              _expInPlace(line + first, count: m - first)
            }
          }
        }
      }
    }
  }

  /// Moves `ε log u` and `ε log v` into the absorbed potentials and rebuilds the kernel at
  /// `newEpsilon`; the scalings become 1. For a symmetric kernel `u` and `v` must be equal.
  ///
  /// When `newEpsilon` is half the current ε (the default annealing factor) and `exact` is false,
  /// the new kernel is `(K̂ⱼₖ uⱼ vₖ)²`, products only; otherwise the entries are recomputed from
  /// the cost.
  mutating func absorb(
    _ u: inout [Double], _ v: inout [Double], newEpsilon: Double, cost: _CostMatrix, exact: Bool
  ) {
    let previous = epsilon
    for j in 0..<rows { rowPotential[j] += previous * _log(u[j]) }
    for t in 0..<columns { columnPotential[t] += previous * _log(v[t]) }
    epsilon = newEpsilon
    if !exact && newEpsilon * 2 == previous {
      let m = columns
      let ranges = blocks()
      let symmetric = symmetric
      let uu = u
      let vv = v
      entries.withUnsafeMutableBufferPointer { k in
        let k = _SendableBuffer(k)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { block in
          uu.withUnsafeBufferPointer { u in
            vv.withUnsafeBufferPointer { v in
              let v = v.baseAddress!
              for j in ranges[block] {
                let first = symmetric ? j : 0
                let uj = u[j]
                let line = k.base.baseAddress! + j * m
                for t in first..<m {
                  let scaled = line[t] * uj * v[t]
                  line[t] = scaled * scaled
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
    if rows * columns <= _smallKernel {
      _smallMultiply(x, into: &out, transposed: false)
    } else if symmetric {
      cblas_dsymv(CblasRowMajor, CblasUpper, Int32(rows), 1, entries, Int32(columns), x, 1, 0, &out, 1)
    } else {
      cblas_dgemv(
        CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, entries, Int32(columns), x, 1, 0, &out, 1
      )
    }
  }

  /// `out = K̂ᵀ x` (length `columns`).
  func multiplyTransposed(_ x: [Double], into out: inout [Double]) {
    if symmetric {
      multiply(x, into: &out)
    } else if rows * columns <= _smallKernel {
      _smallMultiply(x, into: &out, transposed: true)
    } else {
      cblas_dgemv(
        CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, entries, Int32(columns), x, 1, 0, &out, 1)
    }
  }

  /// Products of small kernels in plain loops: a BLAS call (and its thread pool) costs more than
  /// the arithmetic below ``_smallKernel`` entries.
  private func _smallMultiply(_ x: [Double], into out: inout [Double], transposed: Bool) {
    let n = rows
    let m = columns
    entries.withUnsafeBufferPointer { k in
      x.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { out in
          if symmetric {
            // Upper triangle stored: K̂ⱼₖ for k >= j.
            for j in 0..<n { out[j] = 0 }
            for j in 0..<n {
              let line = k.baseAddress! + j * m
              var sum = line[j] * x[j]
              let xj = x[j]
              for t in (j + 1)..<m {
                sum += line[t] * x[t]
                out[t] += line[t] * xj
              }
              out[j] += sum
            }
          } else if transposed {
            for t in 0..<m { out[t] = 0 }
            for j in 0..<n {
              let line = k.baseAddress! + j * m
              let xj = x[j]
              for t in 0..<m { out[t] += line[t] * xj }
            }
          } else {
            for j in 0..<n {
              let line = k.baseAddress! + j * m
              var sum = 0.0
              for t in 0..<m { sum += line[t] * x[t] }
              out[j] = sum
            }
          }
        }
      }
    }
  }
}

/// Kernels with at most this many entries are multiplied in plain loops, not through BLAS.
let _smallKernel = 1 << 14

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
