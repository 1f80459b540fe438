/// Kernels per (grid, spacing, ε, backend), shared by every solve in the process: the FFT
/// backend's spectra and the log backend's kernel matrices are computed once. Least recently
/// used entries beyond ``capacity`` are dropped.
enum GridKernelCache {
  struct Key: Hashable {
    var shape: [Int]
    var spacing: [Double]
    var epsilon: Double
    var backend: GridKernelBackend
  }

  static let capacity = 64
  static let storage = Lock<(kernels: [Key: GridKernel], order: [Key])>(([:], []))

  /// The kernel for the key, built when missing. A kernel whose construction gave up under
  /// `budget` (``GridKernel/complete`` false) is returned but not kept.
  static func kernel(
    shape3: [Int], spacing3: [Double], epsilon: Double, backend: GridKernelBackend, budget: WorkBudget? = nil
  ) -> GridKernel {
    let key = Key(shape: shape3, spacing: spacing3, epsilon: epsilon, backend: backend)
    if let hit = storage.withLock({ state -> GridKernel? in
      guard let kernel = state.kernels[key] else { return nil }
      if let index = state.order.firstIndex(of: key) { state.order.remove(at: index) }
      state.order.append(key)
      return kernel
    }) {
      return hit
    }
    // Built outside the lock (FFT plans take the planner's own lock); two threads may build the
    // same kernel, the results are identical and one is kept.
    let kernel = GridKernel(
      shape3: shape3, spacing3: spacing3, epsilon: epsilon, backend: backend, budget: budget)
    guard kernel.complete else { return kernel }
    return storage.withLock { state in
      if let existing = state.kernels[key] { return existing }
      state.kernels[key] = kernel
      state.order.append(key)
      if state.order.count > capacity {
        let evicted = state.order.removeFirst()
        state.kernels[evicted] = nil
      }
      return kernel
    }
  }
}
