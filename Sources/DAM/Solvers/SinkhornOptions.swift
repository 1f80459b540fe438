/// Settings of the entropic optimal-transport solvers: one type for point clouds
/// (``SinkhornOptions``, with a ``SinkhornBackend``) and grids (``GridSinkhornOptions``, with a
/// ``GridKernelBackend``), run by the same loop.
///
/// The solver stops when the L1 error of the marginals, `Σⱼ |Σₖ πⱼₖ - aⱼ| + Σₖ |Σⱼ πⱼₖ - bₖ|`, is
/// at most ``tolerance``, or after ``maxIterations`` iterations at the target ε (an iteration
/// updates both potentials). ε-scaling first solves a sequence of coarser problems, from the
/// largest cost (the squared diameter for the squared Euclidean cost) down to ε by the factor
/// ``epsilonScaling``, ``iterationsPerStage`` iterations each, so that the final problem starts
/// from nearly optimal potentials; with a warm start it begins at the target ε.
public struct EntropicOptions<Backend: Sendable & Hashable>: Sendable, Hashable {
  /// The entropic regularisation `ε > 0`, in units of the cost (squared distance by default).
  public var epsilon: Double
  /// The largest accepted L1 marginal error.
  public var tolerance: Double
  /// The iteration cap at the target ε.
  public var maxIterations: Int
  /// The factor in `(0, 1)` between successive ε of the annealing, or `nil` for none.
  public var epsilonScaling: Double?
  /// Iterations per annealing stage.
  public var iterationsPerStage: Int
  /// The over-relaxation of the potential updates at the target ε (`f ← f + ω (f̃ - f)`).
  public var relaxation: Relaxation
  /// Whether a slow solve is finished by Newton's method on the dual (point clouds with
  /// `n + m <= 8192` and no zero weight; for grids, the dense fallback at small ε). Sinkhorn
  /// converges sublinearly when ε is small against the gaps between atoms; Newton converges
  /// quadratically there. The switch is decided from the measured rate of the iterations at the
  /// current over-relaxation against the cost of a Newton step.
  public var newton: Bool
  /// Whether a solve that reaches ``maxIterations`` without meeting ``tolerance`` is returned
  /// (with `converged == false`) instead of throwing.
  public var allowsUnconverged: Bool
  /// How the iterations are carried out; every backend stops at the same marginal error.
  public var backend: Backend

  /// Checks every setting and names the first out of range.
  init(
    validating epsilon: Double, tolerance: Double, maxIterations: Int, epsilonScaling: Double?,
    iterationsPerStage: Int, relaxation: Relaxation, newton: Bool, allowsUnconverged: Bool, backend: Backend
  ) throws(DAMError) {
    self.epsilon = epsilon
    self.tolerance = tolerance
    self.maxIterations = maxIterations
    self.epsilonScaling = epsilonScaling
    self.iterationsPerStage = iterationsPerStage
    self.relaxation = relaxation
    self.newton = newton
    self.allowsUnconverged = allowsUnconverged
    self.backend = backend
    try check()
  }

  /// Throws ``DAMError`` naming the first setting out of range. The initialisers check; the
  /// solvers check again, since the settings are variables a caller may have changed since.
  func check() throws(DAMError) {
    try _requirePositive(epsilon, "epsilon")
    guard tolerance >= 0, tolerance.isFinite else {
      throw DAMError.invalid("tolerance", "must be a finite number >= 0, got \(tolerance)")
    }
    guard maxIterations >= 1 else {
      throw DAMError.invalid("maxIterations", "must be >= 1, got \(maxIterations)")
    }
    if let q = epsilonScaling, !(q > 0 && q < 1) {
      throw DAMError.invalid("epsilonScaling", "must be in (0, 1), got \(q)")
    }
    guard iterationsPerStage >= 1 else {
      throw DAMError.invalid("iterationsPerStage", "must be >= 1, got \(iterationsPerStage)")
    }
    if case .fixed(let omega) = relaxation, !(omega >= 1 && omega < 2) {
      throw DAMError.invalid("relaxation", "must be in [1, 2), got \(omega)")
    }
  }

  /// The same settings with another backend type (the grid's dense fallback runs on point
  /// clouds).
  func with<Other>(backend: Other) -> EntropicOptions<Other> {
    EntropicOptions<Other>(copying: self, backend: backend)
  }

  private init<Other>(copying other: EntropicOptions<Other>, backend: Backend) {
    epsilon = other.epsilon
    tolerance = other.tolerance
    maxIterations = other.maxIterations
    epsilonScaling = other.epsilonScaling
    iterationsPerStage = other.iterationsPerStage
    relaxation = other.relaxation
    newton = other.newton
    allowsUnconverged = other.allowsUnconverged
    self.backend = backend
  }
}

/// Settings of the point-cloud solver (``Sinkhorn``, ``SinkhornDivergence``).
public typealias SinkhornOptions = EntropicOptions<SinkhornBackend>

extension EntropicOptions where Backend == SinkhornBackend {
  /// Solver settings; see the properties for their meaning.
  ///
  /// - Throws: ``DAMError`` naming the first argument out of range.
  public init(
    epsilon: Double, tolerance: Double = 1e-9, maxIterations: Int = 10_000, epsilonScaling: Double? = 0.5,
    iterationsPerStage: Int = 2, relaxation: Relaxation = .adaptive, newton: Bool = true,
    allowsUnconverged: Bool = false, backend: SinkhornBackend = .automatic
  ) throws(DAMError) {
    try self.init(
      validating: epsilon, tolerance: tolerance, maxIterations: maxIterations, epsilonScaling: epsilonScaling,
      iterationsPerStage: iterationsPerStage, relaxation: relaxation, newton: newton,
      allowsUnconverged: allowsUnconverged, backend: backend)
  }
}

/// Over-relaxation of Sinkhorn's potential updates, `f ← f + ω (f̃ - f)`.
///
/// Plain Sinkhorn (`ω = 1`) converges linearly with a rate `θ` that approaches 1 as ε shrinks;
/// over-relaxation with `ω = 2 / (1 + √(1 - θ))` (Thibault et al. 2017; Lehmann et al. 2021)
/// cuts the iteration count by a large factor near the solution. The adaptive choice runs plain
/// iterations until the error has fallen for a few steps, estimates `θ` from the observed error
/// ratios, and relaxes from then on (ω capped at 1.95). Every relaxed solve is safeguarded: if the
/// marginal error grows tenfold above the smallest seen, ω falls back to 1.
public enum Relaxation: Sendable, Hashable {
  /// Plain Sinkhorn.
  case none
  /// A fixed `ω` in `[1, 2)`.
  case fixed(Double)
  /// `ω` estimated from the convergence rate of the first plain iterations.
  case adaptive
}

/// How Sinkhorn's iterations are carried out.
///
/// Both backends run the same iteration (the same ε schedule, relaxation, Newton polishing and
/// stopping test on the L1 marginal error), so they return the same transport to within
/// round-off; they differ in cost and memory.
public enum SinkhornBackend: Sendable, Hashable {
  /// The kernel backend when the kernel fits (`n m <= 2^25` entries), else the log domain.
  case automatic
  /// The scaling domain on a stabilised Gibbs kernel `exp((f̂ + ĝ - C)/ε)` held in memory: an
  /// iteration is two matrix-vector products, exponentials are spent only when the kernel is
  /// rebuilt (at the start, at the target ε and when a scaling drifts beyond `e^200`). Memory
  /// `2 n m` doubles (cost and kernel).
  case kernel
  /// The log domain: every update is a soft-minimum over `-C/ε + potential`, `n m` exponentials
  /// per half-iteration. Slower, but it needs no kernel.
  case logDomain
}
