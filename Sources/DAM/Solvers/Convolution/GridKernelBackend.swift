/// How the grid's Gibbs kernel `exp(-‖z - z'‖²/ε)` is applied in a grid Sinkhorn solve.
public enum GridKernelBackend: Sendable, Hashable {
  /// ``separableKernel`` when ε is at least ``separableKernelThreshold`` times the squared
  /// diameter of the grid, ``logDomain`` below. ``fft`` is never chosen: where it is accurate
  /// (ε at least `0.05 D²`) ``separableKernel`` was faster on every grid measured, with the same
  /// values (Docs/performance.md, "Grids").
  case automatic
  /// A Gaussian convolution by zero-padded real-to-complex FFTs (FFTW), `O(N log N)` per
  /// application, on exponentially scaled potentials. Its round-off is relative to the largest
  /// output, so it loses accuracy once the potentials vary by many multiples of ε over the grid.
  ///
  /// Needs the package's `FFTW` trait (on by default); without it ``GridSinkhornOptions`` and the
  /// grid solvers refuse this backend (see ``isFFTAvailable``).
  case fft
  /// Separable 1-D passes in the log domain, exact up to round-off at every ε (`O(N Σ nₐ)` per
  /// application, `nₐ` the axis lengths).
  case logDomain
  /// Dense 1-D kernel matrices applied axis by axis with BLAS matrix products on exponentially
  /// scaled values (`O(N Σ nₐ)` per application, like ``logDomain``, but at matrix-product
  /// speed). All terms are non-negative, so every output keeps its relative accuracy; only
  /// underflow limits it: an application whose outputs fall below `1e-282` of the largest input
  /// is redone by ``logDomain``, so results stay exact at every ε, just slower where that
  /// happens (small ε, widely spread potentials).
  case separableKernel

  /// The smallest `ε / D²` (`D²` the squared diameter of the grid, `Σₐ (hₐ (nₐ - 1))²`) at which
  /// ``automatic`` uses ``separableKernel``.
  ///
  /// Evidence (Docs/grids.md, `dam bench grids`): below this the scaled outputs of typical
  /// problems underflow, every application falls back to the log domain and the matrix
  /// products are wasted.
  public static let separableKernelThreshold = 0.001

  /// The smallest `ε / D²` at which the FFT backend is accurate to 1e-8 (the FFT is only used
  /// when asked for).
  ///
  /// Evidence (32 x 32 grid, spacing 1, D² = 1922; table in Docs/grids.md): the debiased
  /// divergence by FFT, relative to the dense log-domain solver on the same points, for three
  /// pairs of full-support, partly empty and sparse histograms, agreed to 4e-13 or better for
  /// ε / D² ≥ 0.0167 and failed to converge (tolerance 1e-9) at ε / D² = 0.0083 for every pair.
  /// The threshold 0.05 keeps a factor 3 above the last ε that agreed.
  public static let fftThreshold = 0.05

  /// Whether ``fft`` can run: true when the package was built with its `FFTW` trait (the
  /// default), false when built without it (`swift build --disable-default-traits`, or a
  /// dependency declared with `traits: []`), which links no GPL code.
  public static var isFFTAvailable: Bool {
    #if FFTW
      return true
    #else
      return false
    #endif
  }

  /// Throws when this backend cannot run in this build of the package: ``fft`` without the
  /// `FFTW` trait. Every other backend always runs. ``GridSinkhornOptions``' initialiser, the grid
  /// solvers (``GridSinkhorn`` with its barycenters, ``GridSinkhornDivergence``) check it.
  ///
  /// - Throws: ``DAMError`` naming `backend`, saying that the package was built without the
  ///   `FFTW` trait and naming the backends that remain.
  public func checkAvailable() throws(DAMError) {
    guard self == .fft, !Self.isFFTAvailable else { return }
    throw DAMError.invalid(
      "backend",
      "the FFT backend is not available: this build of swift-dense-associative-memory was made without its FFTW trait (swift build --disable-default-traits, or traits: [] on the package dependency); use .automatic, .separableKernel or .logDomain, or build with the FFTW trait (the default)"
    )
  }

  /// The backend used at `epsilon` on a grid of squared diameter `squaredDiameter`.
  public func resolved(epsilon: Double, squaredDiameter: Double) -> GridKernelBackend {
    switch self {
    case .automatic:
      return epsilon >= Self.separableKernelThreshold * squaredDiameter ? .separableKernel : .logDomain
    default: return self
    }
  }
}
