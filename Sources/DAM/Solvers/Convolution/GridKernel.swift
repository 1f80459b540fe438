/// The grid's Gibbs kernel at one ε, with the backend chosen for it: the softmin
/// `out_j = -ε log Σₖ exp(log wₖ + (gₖ - C_jk)/ε)` that both Sinkhorn updates need.
final class GridKernel: @unchecked Sendable {
  let epsilon: Double
  let backend: GridKernelBackend
  let cellCount: Int
  #if FFTW
    private let fft: FFTGaussianConvolution?
  #endif
  private let log: SeparableLogConvolution?
  /// The BLAS backend (``GridKernelBackend/separableKernel``); `log` is then its fall-back.
  let separable: SeparableKernelConvolution?
  /// False when the construction gave up because `budget`'s time limit passed: the kernel's
  /// matrices are then incomplete, and it must be neither used nor cached.
  let complete: Bool

  /// The kernel; with a `budget`, the 1-D matrices' construction polls its time limit and gives
  /// up once it has passed (``complete`` false).
  init(
    shape3: [Int], spacing3: [Double], epsilon: Double, backend: GridKernelBackend, budget: WorkBudget? = nil
  ) {
    self.epsilon = epsilon
    self.backend = backend
    cellCount = shape3.reduce(1, *)
    #if FFTW
      fft =
        backend == .fft ? FFTGaussianConvolution(shape: shape3, spacing: spacing3, epsilon: epsilon) : nil
    #else
      // The solvers refuse `.fft` in this build before asking for a kernel (`checkAvailable`).
      precondition(backend != .fft, "the FFT backend needs the FFTW trait")
    #endif
    switch backend {
    case .fft:
      log = nil
      separable = nil
    case .separableKernel:
      log = SeparableLogConvolution(shape: shape3, spacing: spacing3, epsilon: epsilon, budget: budget)
      separable = SeparableKernelConvolution(
        shape: shape3, spacing: spacing3, epsilon: epsilon, budget: budget)
    default:
      log = SeparableLogConvolution(shape: shape3, spacing: spacing3, epsilon: epsilon, budget: budget)
      separable = nil
    }
    complete = log?.complete != false && separable?.complete != false
  }

  /// Scratch for one solve (not shared between threads).
  final class Workspace {
    var input: [Double]
    var output: [Double]
    var buffer: [Double]
    var scaled: [Double]
    #if FFTW
      var fftWorkspaces: [ObjectIdentifier: FFTWorkspace] = [:]
    #endif

    init(cells: Int) {
      input = [Double](repeating: 0, count: cells)
      output = [Double](repeating: 0, count: cells)
      buffer = [Double](repeating: 0, count: cells)
      scaled = [Double](repeating: 0, count: cells)
    }
  }

  /// `out_j = -ε log Σₖ exp(logWeights_k + (potential_k - C_jk)/ε)`. Cells with weight zero
  /// (`logWeights = -∞`) contribute nothing, whatever their potential. With a `budget`, the
  /// log-domain passes poll its time limit and give up once it has passed: then `out` is
  /// unchanged and the result is false.
  @discardableResult
  func softmin(
    logWeights: [Double], potential: [Double], into out: inout [Double], workspace: Workspace,
    budget: WorkBudget? = nil
  ) -> Bool {
    let inverse = 1 / epsilon
    // (The workspace's arrays as buffers: see scaledConvolve.)
    workspace.input.withUnsafeMutableBufferPointer { input in
      for k in 0..<cellCount {
        input[k] = logWeights[k] == -.infinity ? -.infinity : logWeights[k] + potential[k] * inverse
      }
    }
    guard logConvolve(workspace: workspace, budget: budget) else { return false }
    let epsilon = epsilon
    workspace.output.withUnsafeBufferPointer { output in
      for j in 0..<cellCount { out[j] = -epsilon * output[j] }
    }
    return true
  }

  /// `out_j = log Σₖ exp(h_k - C_jk/ε)` for `h` in the log domain (`-∞` for no mass).
  func logConvolve(_ h: [Double], into out: inout [Double], workspace: Workspace) {
    workspace.input.withUnsafeMutableBufferPointer { input in
      for k in 0..<cellCount { input[k] = h[k] }
    }
    _ = logConvolve(workspace: workspace)
    workspace.output.withUnsafeBufferPointer { output in
      for j in 0..<cellCount { out[j] = output[j] }
    }
  }

  /// `workspace.output = log K exp(workspace.input)`; false when the log-domain passes gave up
  /// under `budget` (output unspecified).
  private func logConvolve(workspace: Workspace, budget: WorkBudget? = nil) -> Bool {
    if let separable, scaledConvolve(separable, workspace: workspace) { return true }
    if let log {
      return log.apply(workspace.input, into: &workspace.output, buffer: &workspace.buffer, budget: budget)
    }
    #if FFTW
      fftConvolve(fft!, workspace: workspace)
    #endif
    return true
  }

  #if FFTW
    /// `workspace.output = log K exp(workspace.input)` by the FFT backend, on inputs shifted by
    /// their maximum.
    private func fftConvolve(_ fft: FFTGaussianConvolution, workspace: Workspace) {
      let n = cellCount
      var largest = -Double.infinity
      workspace.input.withUnsafeBufferPointer { input in
        for k in 0..<n { largest = max(largest, input[k]) }
      }
      guard largest > -.infinity else {
        workspace.output = [Double](repeating: -.infinity, count: n)
        return
      }
      workspace.input.withUnsafeMutableBufferPointer { input in
        for k in 0..<n { input[k] = _exp(input[k] - largest) }
      }
      let key = ObjectIdentifier(fft.plans)
      let scratch: FFTWorkspace
      if let existing = workspace.fftWorkspaces[key] {
        scratch = existing
      } else {
        scratch = fft.makeWorkspace()
        workspace.fftWorkspaces[key] = scratch
      }
      workspace.input.withUnsafeBufferPointer { input in
        workspace.output.withUnsafeMutableBufferPointer { output in
          fft.apply(input.baseAddress!, into: output.baseAddress!, workspace: scratch)
        }
      }
      workspace.output.withUnsafeMutableBufferPointer { output in
        for j in 0..<n {
          // Round-off can leave outputs far below the maximum at or below zero; they are clamped
          // to the smallest normal double, which keeps potentials finite (see GridKernelBackend
          // for the ε range where this never matters).
          output[j] = _log(max(output[j], Double.leastNormalMagnitude)) + largest
        }
      }
    }
  #endif
}

extension GridKernel {
  /// `workspace.output = log K exp(workspace.input)` by the BLAS backend: the input is shifted by
  /// its maximum and exponentiated, convolved, and the logarithm taken. Returns false (output
  /// unspecified) when an output is at or below ``scaledFloor`` (or not finite): terms lost to
  /// underflow, each below `1e-308`, would then no longer be negligible.
  fileprivate func scaledConvolve(_ separable: SeparableKernelConvolution, workspace: Workspace) -> Bool {
    let n = cellCount
    // The workspace's arrays are taken once, as buffers: each element access to a class's stored
    // array would begin and end a dynamic exclusivity access.
    return workspace.input.withUnsafeBufferPointer { input in
      workspace.scaled.withUnsafeMutableBufferPointer { scaled in
        workspace.output.withUnsafeMutableBufferPointer { output in
          workspace.buffer.withUnsafeMutableBufferPointer { buffer in
            var largest = -Double.infinity
            for k in 0..<n { largest = max(largest, input[k]) }
            guard largest > -.infinity else {
              for j in 0..<n { output[j] = -.infinity }
              return true
            }
            guard largest < .infinity else { return false }
            for k in 0..<n { scaled[k] = input[k] - largest }
            _expInPlace(scaled.baseAddress!, count: n)
            separable.apply(
              UnsafePointer(scaled.baseAddress!), into: output.baseAddress!, scratch: buffer.baseAddress!)
            for j in 0..<n where !(output[j] > scaledFloor && output[j] < .infinity) {
              return false
            }
            for j in 0..<n { output[j] = _log(output[j]) + largest }
            return true
          }
        }
      }
    }
  }
}
