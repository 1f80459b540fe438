import CLinearAlgebra

/// The Gibbs kernel of a regular grid applied to scaled (not log) values, as dense 1-D kernel
/// products on BLAS:
///
///     (K v)ⱼ = Σₖ exp(-‖zⱼ - zₖ‖²/ε) vₖ,   K = K₀ ⊗ K₁ ⊗ K₂,
///
/// one matrix product per axis (`(K₀)ᵢᵢ' = exp(-(h₀ (i - i'))²/ε)`, and likewise for the other
/// axes). Every term is a product of non-negative numbers, so each output keeps its relative
/// accuracy (about `Σₐ nₐ × 1e-16`) unlike an FFT, whose round-off is relative to the largest
/// output. What it cannot do is represent values below the smallest double: kernel entries under
/// `e^-708` are zero, and so are scaled inputs that far below their maximum. Callers check the
/// outputs against a floor (see ``GridKernel``) and fall back to the log domain when one is
/// too small for those dropped terms to be negligible.
///
/// Several grids stored one after the other (`count` of them) are convolved in the same calls.
struct SeparableKernelConvolution: Sendable {
  let shape: [Int]
  let cells: Int
  /// Per axis, the symmetric `n x n` kernel matrix, row-major.
  let kernels: [[Double]]
  /// False when the construction gave up under its budget (the matrices are incomplete).
  let complete: Bool

  /// The kernel; with a `budget`, its construction polls the time limit every `2^14` entries
  /// or so and gives up once it has passed (``complete`` false).
  init(shape: [Int], spacing: [Double], epsilon: Double, budget: WorkBudget? = nil) {
    self.shape = shape
    cells = shape.reduce(1, *)
    var complete = true
    kernels = (0..<3).map { axis in
      let n = shape[axis]
      let h = spacing[axis]
      // Written as computed, no zero-fill first (see ``SeparableLogConvolution``); a construction
      // that gives up leaves a shorter array, never used.
      let pollRows = max(1, (1 << 14) / max(n, 1))
      return [Double](unsafeUninitializedCapacity: n * n) { k, count in
        for i in 0..<n {
          if let budget, complete, i % pollRows == 0, budget.pastDeadline() { complete = false }
          guard complete else { return }
          for j in 0..<n {
            let x = h * Double(i - j)
            (k.baseAddress! + i * n + j).initialize(to: _exp(-x * x / epsilon))
          }
          count = (i + 1) * n
        }
      }
    }
    self.complete = complete
  }

  /// `output = K input` for `count` grids stored one after the other (row-major, `cells` values
  /// each). `scratch` holds at least `count × cells` values; the three buffers must not overlap.
  func apply(
    _ input: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>,
    scratch: UnsafeMutablePointer<Double>, count: Int = 1
  ) {
    let axes = (0..<3).filter { shape[$0] > 1 }
    guard !axes.isEmpty else {
      output.update(from: input, count: count * cells)
      return
    }
    // Alternate between output and scratch so that the last pass writes into output.
    var source = input
    var target = axes.count % 2 == 1 ? output : scratch
    for axis in axes.reversed() {
      pass(axis: axis, source, into: target, count: count)
      source = UnsafePointer(target)
      target = target == output ? scratch : output
    }
  }

  /// One axis: for each line along `axis`, `out = Kₐ line`.
  private func pass(axis: Int, _ x: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>, count: Int) {
    let n = shape[axis]
    let stride = shape[(axis + 1)...].reduce(1, *)
    let outer = count * shape[..<axis].reduce(1, *)
    let order = CblasRowMajor
    let plain = CblasNoTrans
    kernels[axis].withUnsafeBufferPointer { k in
      let kernel = k.baseAddress!
      if stride == 1 {
        // The lines are the rows of an (outer x n) matrix: Y = X K (K symmetric).
        cblas_dgemm(
          order, plain, plain, Int32(outer), Int32(n), Int32(n), 1, x, Int32(n), kernel, Int32(n), 0, y,
          Int32(n))
      } else {
        // In each block of n x stride values the lines are the columns: Yₒ = K Xₒ.
        for o in 0..<outer {
          let offset = o * n * stride
          cblas_dgemm(
            order, plain, plain, Int32(n), Int32(stride), Int32(n), 1, kernel, Int32(n), x + offset,
            Int32(stride), 0, y + offset, Int32(stride))
        }
      }
    }
  }
}
