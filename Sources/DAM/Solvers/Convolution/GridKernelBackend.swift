/// How the grid's Gibbs kernel `exp(-‖z - z'‖²/ε)` is applied in a grid Sinkhorn solve.
public enum GridKernelBackend: Sendable, Hashable {
  /// ``fft`` when ε is at least ``fftThreshold`` times the squared diameter of the grid,
  /// ``logDomain`` below.
  case automatic
  /// A Gaussian convolution by zero-padded real-to-complex FFTs (FFTW), `O(N log N)` per
  /// application, on exponentially scaled potentials. Its round-off is relative to the largest
  /// output, so it loses accuracy once the potentials vary by many multiples of ε over the grid.
  case fft
  /// Separable 1-D passes in the log domain, exact up to round-off at every ε (`O(N Σ nₐ)` per
  /// application, `nₐ` the axis lengths).
  case logDomain

  /// The smallest `ε / D²` (`D²` the squared diameter of the grid, `Σₐ (hₐ (nₐ - 1))²`) at which
  /// ``automatic`` uses the FFT.
  ///
  /// Evidence (32 x 32 grid, spacing 1, D² = 1922; table in Docs/grids.md): the debiased
  /// divergence by FFT, relative to the dense log-domain solver on the same points, for three
  /// pairs of full-support, partly empty and sparse histograms, agreed to 4e-13 or better for
  /// ε / D² ≥ 0.0167 and failed to converge (tolerance 1e-9) at ε / D² = 0.0083 for every pair.
  /// The threshold 0.05 keeps a factor 3 above the last ε that agreed. The log backend agreed
  /// to 1e-14 at every ε tried (4 to 512), and was faster than the FFT on that grid.
  public static let fftThreshold = 0.05

  /// The backend used at `epsilon` on a grid of squared diameter `squaredDiameter`.
  public func resolved(epsilon: Double, squaredDiameter: Double) -> GridKernelBackend {
    switch self {
    case .automatic: return epsilon >= Self.fftThreshold * squaredDiameter ? .fft : .logDomain
    default: return self
    }
  }
}
