// Compiled only with the package's FFTW trait (the default): without it nothing here exists and
// `GridKernelBackend.fft` is refused before a kernel is built (`GridKernelBackend.checkAvailable`).
#if FFTW
  import CFFTW

  // The Gibbs kernel of a regular grid, K(z, z') = exp(-‖z - z'‖²/ε), applied as a Gaussian
  // convolution with FFTW: zero-padded real-to-complex transforms (no wrap-around), plans created
  // once per padded shape and reused, the kernel spectrum computed once per (grid, ε).
  //
  // Thread safety: FFTW's planner (plan creation and destruction) is not thread-safe; every planner
  // call goes through `FFTWPlanner.lock`, the one lock of this file. Executing a plan on new arrays
  // (`fftw_execute_dft_r2c`/`_c2r`) is thread-safe, so convolutions run concurrently, each with its
  // own `FFTWorkspace`.

  /// The one lock around FFTW's planner, and the cache of plans per padded shape.
  enum FFTWPlanner {
    /// Guards every call into FFTW's planner and the plan cache; held only while planning.
    static let lock = Lock<[[Int]: FFTPlans]>([:])

    /// The plans for a padded 3-D shape, created on first use and kept for the life of the process
    /// (a process uses few distinct grid shapes).
    static func plans(for padded: [Int]) -> FFTPlans {
      lock.withLock { cache in
        if let plans = cache[padded] { return plans }
        let plans = FFTPlans(padded: padded)
        cache[padded] = plans
        return plans
      }
    }
  }

  /// A forward (r2c) and a backward (c2r) plan for one padded shape. Created only by
  /// ``FFTWPlanner/plans(for:)`` under its lock; immutable afterwards, so shared by all threads.
  final class FFTPlans: @unchecked Sendable {
    let padded: [Int]
    let realCount: Int
    let complexCount: Int
    let forward: fftw_plan
    let backward: fftw_plan

    /// Must be called with `FFTWPlanner.lock` held.
    fileprivate init(padded: [Int]) {
      self.padded = padded
      realCount = padded[0] * padded[1] * padded[2]
      complexCount = padded[0] * padded[1] * (padded[2] / 2 + 1)
      let real = fftw_alloc_real(realCount)!
      let complex = fftw_alloc_complex(complexCount)!
      defer {
        fftw_free(real)
        fftw_free(complex)
      }
      let dims = padded.map { Int32($0) }
      // FFTW_ESTIMATE (1 << 6): deterministic plans, chosen without timing runs, so results do not
      // depend on the machine's load at planning time.
      let flags = UInt32(1 << 6)
      forward = dims.withUnsafeBufferPointer { fftw_plan_dft_r2c(3, $0.baseAddress, real, complex, flags)! }
      backward = dims.withUnsafeBufferPointer { fftw_plan_dft_c2r(3, $0.baseAddress, complex, real, flags)! }
    }
  }

  /// Buffers for one convolution at a time, allocated with `fftw_malloc` so that their alignment
  /// matches the plans' (a requirement of FFTW's new-array execute functions). Not shared between
  /// threads: each solve makes its own.
  final class FFTWorkspace {
    let real: UnsafeMutablePointer<Double>
    let complex: UnsafeMutablePointer<fftw_complex>
    let realCount: Int

    init(_ plans: FFTPlans) {
      realCount = plans.realCount
      real = fftw_alloc_real(plans.realCount)!
      complex = fftw_alloc_complex(plans.complexCount)!
    }

    deinit {
      fftw_free(real)
      fftw_free(complex)
    }
  }

  /// The Gaussian convolution `(K v)ⱼ = Σₖ exp(-‖zⱼ - zₖ‖²/ε) vₖ` on a grid, by FFT.
  ///
  /// The grid is handled as 3-D (missing leading axes have size 1). Each axis of size `n` is padded
  /// to a length `P ≥ 2n - 1` whose only prime factors are 2, 3, 5 and 7, so the circular
  /// convolution equals the linear one on the grid. The kernel is separable, so its spectrum is the
  /// product of three 1-D spectra (real, since the kernel is even), computed once here.
  ///
  /// Accuracy: the transform's round-off is relative to the *largest* output value, about
  /// `1e-16 × max(Kv)`, so outputs far below the maximum lose their relative accuracy. That is what
  /// limits this backend at small ε; see ``GridKernelBackend``.
  final class FFTGaussianConvolution: @unchecked Sendable {
    let shape: [Int]
    let plans: FFTPlans
    /// Per axis, the spectrum of the 1-D kernel over the padded length (the last axis only up to
    /// `P/2`); the product of the three, divided by the padded size, multiplies the transform.
    let spectra: [[Double]]

    init(shape: [Int], spacing: [Double], epsilon: Double) {
      self.shape = shape
      var padded: [Int] = []
      var spectra: [[Double]] = []
      for axis in 0..<3 {
        let n = shape[axis]
        let p = n == 1 ? 1 : fastFFTLength(atLeast: 2 * n - 1)
        padded.append(p)
        let h = spacing[axis]
        let kernel = (0..<n).map { d -> Double in
          let x = h * Double(d)
          return _exp(-x * x / epsilon)
        }
        let count = axis == 2 ? p / 2 + 1 : p
        var spectrum = [Double](repeating: 0, count: count)
        for k in 0..<count {
          // Σ_{d = -(n-1)}^{n-1} K(d) cos(2π k d / P), the DFT of the even kernel.
          var s = kernel[0]
          for d in 1..<max(n, 1) {
            let angle = 2 * Double.pi * Double((k * d) % p) / Double(p)
            s += 2 * kernel[d] * _cos(angle)
          }
          spectrum[k] = s
        }
        spectra.append(spectrum)
      }
      let scale = 1 / Double(padded[0] * padded[1] * padded[2])
      for k in spectra[0].indices { spectra[0][k] *= scale }
      self.spectra = spectra
      plans = FFTWPlanner.plans(for: padded)
    }

    func makeWorkspace() -> FFTWorkspace { FFTWorkspace(plans) }

    /// `output = K input` on the grid (row-major, `shape` cells); `input` and `output` may not alias.
    func apply(
      _ input: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>, workspace: FFTWorkspace
    ) {
      let (n0, n1, n2) = (shape[0], shape[1], shape[2])
      let (p1, p2) = (plans.padded[1], plans.padded[2])
      let real = workspace.real
      real.initialize(repeating: 0, count: workspace.realCount)
      for i0 in 0..<n0 {
        for i1 in 0..<n1 {
          (real + (i0 * p1 + i1) * p2).update(from: input + (i0 * n1 + i1) * n2, count: n2)
        }
      }
      fftw_execute_dft_r2c(plans.forward, real, workspace.complex)
      let q2 = p2 / 2 + 1
      let s0 = spectra[0]
      let s1 = spectra[1]
      let s2 = spectra[2]
      let complex = UnsafeMutableRawPointer(workspace.complex).assumingMemoryBound(to: Double.self)
      var index = 0
      for k0 in 0..<plans.padded[0] {
        for k1 in 0..<p1 {
          let outer = s0[k0] * s1[k1]
          for k2 in 0..<q2 {
            let factor = outer * s2[k2]
            complex[2 * index] *= factor
            complex[2 * index + 1] *= factor
            index += 1
          }
        }
      }
      fftw_execute_dft_c2r(plans.backward, workspace.complex, real)
      for i0 in 0..<n0 {
        for i1 in 0..<n1 {
          (output + (i0 * n1 + i1) * n2).update(from: real + (i0 * p1 + i1) * p2, count: n2)
        }
      }
    }
  }

  /// The smallest integer `≥ n` whose prime factors are all in {2, 3, 5, 7} (fast FFTW sizes).
  func fastFFTLength(atLeast n: Int) -> Int {
    var candidate = max(n, 1)
    while true {
      var m = candidate
      for p in [2, 3, 5, 7] {
        while m % p == 0 { m /= p }
      }
      if m == 1 { return candidate }
      candidate += 1
    }
  }
#endif
