import CDAMKernels

/// A stabilised Gibbs kernel `K̂ⱼₖ = exp((f̂ⱼ + ĝₖ - Cⱼₖ) / ε)`, materialised row-major, for
/// Sinkhorn in the scaling domain (Schmitzer 2019, "Stabilized sparse scaling algorithms for
/// entropy regularized transport problems").
///
/// The potentials are split as `f = f̂ + ε log u`, `g = ĝ + ε log v`: the absorbed parts `f̂, ĝ`
/// live in the kernel, the scalings `u, v` stay near 1, and an iteration is two matrix-vector
/// products instead of `2 n m` exponentials. When a scaling drifts far from 1 it is
/// absorbed and the kernel rebuilt. Entries that underflow are below `1e-308` relative to the
/// row's scale, far under double precision of a row sum.
struct GibbsKernel {
  let rows: Int
  let columns: Int
  /// Whether the kernel is that of a symmetric problem (`x = y`, `f̂ = ĝ`): then `K̂ᵀ = K̂` and
  /// both products read it by rows.
  let symmetric: Bool
  /// The entries, row-major; see ``KernelStorage``.
  private let storage: KernelStorage
  private(set) var epsilon: Double
  /// The absorbed potentials `f̂` (rows) and `ĝ` (columns).
  private(set) var rowPotential: [Double]
  private(set) var columnPotential: [Double]

  /// The kernel of `cost` at `epsilon` with absorbed potentials `f` and `g`.
  ///
  /// - Throws: ``DAMError`` (`backend`) when the `n x m` kernel is larger than
  ///   ``ResourceLimits/current`` allows (kind `resourceLimit`), or cannot be allocated.
  init(cost: CostMatrix, epsilon: Double, f: [Double], g: [Double], symmetric: Bool = false) throws(DAMError)
  {
    self.rows = cost.rows
    self.columns = cost.columns
    self.symmetric = symmetric
    let bytes = ResourceLimits.bytes([cost.rows, cost.columns], elementSize: MemoryLayout<Double>.stride)
    try ResourceLimits.current.check(
      bytes: bytes, for: "backend",
      "the kernel backend's \(cost.rows) x \(cost.columns) matrix of doubles",
      remedy: "use the log-domain backend, whose memory is O(n + m)")
    guard let bytes, let storage = KernelStorage.make(bytes: bytes) else {
      throw DAMError.invalid(
        "backend",
        "the kernel backend needs a \(cost.rows) x \(cost.columns) matrix of doubles, which could not be allocated; use the log-domain backend, whose memory is O(n + m)"
      )
    }
    self.storage = storage
    storage.base.bindMemory(to: Double.self, capacity: cost.rows * cost.columns)
    self.epsilon = epsilon
    self.rowPotential = f
    self.columnPotential = g
    rebuild(cost: cost)
    // A large kernel's construction gives up its rest once the time limit has passed (see
    // `rebuild`): end here rather than iterate on it.
    if let budget = pollingBudget {
      try budget.check(iterations: 0) {
        "building the \(cost.rows) x \(cost.columns) Gibbs kernel of an entropic transport solve at epsilon \(epsilon)"
      }
    }
  }

  /// The work budget of a kernel of at least `2^16` entries, whose construction (`n m`
  /// exponentials) can take seconds: ``rebuild(cost:)`` polls its time limit between blocks of
  /// rows and skips the rest of the entries once it has passed (they keep older values); the
  /// solver's check right after (in the initialiser, or ``SinkhornLoop``'s every iteration at this
  /// size) then ends the solve. Nil for smaller kernels and without a budget.
  private var pollingBudget: WorkBudget? { rows * columns >= 1 << 16 ? currentBudget() : nil }

  /// The entries (bound to `Double` at initialisation).
  private var entries: UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(
      start: storage.base.assumingMemoryBound(to: Double.self), count: rows * columns)
  }

  /// The row blocks over which work is spread: one per core when the kernel is large enough.
  private func blocks() -> [Range<Int>] {
    let count = parallelBlockCount(rows: rows, work: rows * columns)
    return (0..<count).map { blockRange($0, of: count, count: rows) }
  }

  /// Recomputes every entry from the cost and the absorbed potentials (`n m` exponentials spread
  /// over the cores; each entry is computed independently, so the result does not depend on the
  /// thread count).
  private mutating func rebuild(cost: CostMatrix) {
    let m = columns
    let inverse = 1 / epsilon
    let f = rowPotential
    let g = columnPotential
    let ranges = blocks()
    let budget = pollingBudget
    // Rows per piece: about 2^16 entries, between two polls of the budget.
    let pieceRows = max(1, (1 << 16) / max(m, 1))
    do {
      let k = SendablePointer(entries)
      forEachChunk(ranges.count, workers: ranges.count) { block in
        // The cost rows of a piece are formed in place, then exponentiated.
        var lower = ranges[block].lowerBound
        while lower < ranges[block].upperBound {
          if let budget, budget.pastDeadline() { return }
          let range = lower..<min(lower + pieceRows, ranges[block].upperBound)
          cost.fill(rows: range, into: k.base.baseAddress! + range.lowerBound * m)
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
          lower = range.upperBound
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
    _ u: inout [Double], _ v: inout [Double], newEpsilon: Double, cost: CostMatrix, exact: Bool
  ) {
    let previous = epsilon
    for j in 0..<rows { rowPotential[j] += previous * _log(u[j]) }
    for t in 0..<columns { columnPotential[t] += previous * _log(v[t]) }
    epsilon = newEpsilon
    if !exact && newEpsilon * 2 == previous {
      let m = columns
      let ranges = blocks()
      let uu = u
      let vv = v
      do {
        let k = SendablePointer(entries)
        forEachChunk(ranges.count, workers: ranges.count) { block in
          uu.withUnsafeBufferPointer { u in
            vv.withUnsafeBufferPointer { v in
              let v = v.baseAddress!
              for j in ranges[block] {
                let uj = u[j]
                let line = k.base.baseAddress! + j * m
                // K̂ⱼₖ (uⱼ vₖ): a symmetric kernel with u = v stays exactly symmetric.
                for t in 0..<m {
                  let scaled = line[t] * (uj * v[t])
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
  mutating func reset(f: [Double], g: [Double], cost: CostMatrix) {
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

  /// `out = K̂ x` (length `rows`): rows spread over the cores, each output summed by one thread
  /// in a fixed order (``dam_gemv_rows``), so the result does not depend on the thread count.
  func multiply(_ x: [Double], into out: inout [Double]) {
    product(x, into: &out, transposed: false)
  }

  /// `out = K̂ᵀ x` (length `columns`), columns spread over the cores like ``multiply(_:into:)``.
  func multiplyTransposed(_ x: [Double], into out: inout [Double]) {
    product(x, into: &out, transposed: !symmetric)
  }

  private func product(_ x: [Double], into out: inout [Double], transposed: Bool) {
    matrixVectorProduct(
      entries.baseAddress!, rows: rows, columns: columns, x, into: &out, transposed: transposed)
    withExtendedLifetime(storage) {}
  }
}

/// `out = K x` (`transposed` false, `out` of length `rows`) or `out = Kᵀ x` (length `columns`) for
/// a row-major `rows x columns` matrix, outputs spread over the cores, each summed by one thread
/// in a fixed order (`dam_gemv_rows`, `dam_gemv_columns`), so the result does not depend on the
/// thread count. The package's own vectorised loops (`CDAMKernels`), not BLAS: the products are
/// memory-bound, and BLAS's thread pool, which spins between calls, competes with the solvers'
/// own workers.
func matrixVectorProduct(
  _ matrix: UnsafePointer<Double>, rows n: Int, columns m: Int, _ x: [Double], into out: inout [Double],
  transposed: Bool
) {
  let outputs = transposed ? m : n
  let count = parallelBlockCount(rows: outputs, work: n * m)
  x.withUnsafeBufferPointer { x in
    out.withUnsafeMutableBufferPointer { out in
      let k = SendablePointer(matrix)
      let x = SendablePointer(x.baseAddress!)
      let out = SendablePointer(out)
      forEachChunk(count, workers: count) { block in
        let range = blockRange(block, of: count, count: outputs)
        guard !range.isEmpty else { return }
        let target = out.base.baseAddress! + range.lowerBound
        if transposed {
          dam_gemv_columns(k.base + range.lowerBound, m, n, range.count, x.base, target)
        } else {
          dam_gemv_rows(k.base + range.lowerBound * m, m, range.count, m, x.base, target)
        }
      }
    }
  }
}
