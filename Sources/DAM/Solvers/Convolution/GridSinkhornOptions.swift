/// Settings of the grid Sinkhorn solver (``GridSinkhorn``).
///
/// As for point clouds (``SinkhornOptions``): the solver stops when the L1 error of the marginals
/// is at most ``tolerance``, or after ``maxIterations`` iterations at the target ε; ε-scaling first
/// solves coarser problems, from the squared diameter of the grid down to ε by the factor
/// ``epsilonScaling``, ``iterationsPerStage`` iterations each.
public struct GridSinkhornOptions: Sendable, Hashable {
  /// The entropic regularisation `ε > 0`, in units of squared distance (squared cells with the
  /// default spacing 1).
  public var epsilon: Double
  /// The largest accepted L1 marginal error.
  public var tolerance: Double
  /// The iteration cap at the target ε.
  public var maxIterations: Int
  /// The factor in `(0, 1)` between successive ε of the annealing, or `nil` for none.
  public var epsilonScaling: Double?
  /// Iterations per annealing stage.
  public var iterationsPerStage: Int
  /// The over-relaxation of the potential updates at the target ε.
  public var relaxation: Relaxation
  /// How the kernel is applied (at each ε of the annealing, ``GridKernelBackend/automatic`` may
  /// choose differently).
  public var backend: GridKernelBackend
  /// Whether a solve that reaches ``maxIterations`` without meeting ``tolerance`` is returned
  /// (with `converged == false`) instead of throwing.
  public var allowsUnconverged: Bool

  /// Solver settings; see the properties for their meaning.
  ///
  /// - Throws: ``DAMError`` naming the first argument out of range.
  public init(
    epsilon: Double, tolerance: Double = 1e-9, maxIterations: Int = 10_000, epsilonScaling: Double? = 0.5,
    iterationsPerStage: Int = 2, relaxation: Relaxation = .adaptive, backend: GridKernelBackend = .automatic,
    allowsUnconverged: Bool = false
  ) throws(DAMError) {
    // SinkhornOptions validates the shared settings and names the argument.
    let shared = try SinkhornOptions(
      epsilon: epsilon, tolerance: tolerance, maxIterations: maxIterations, epsilonScaling: epsilonScaling,
      iterationsPerStage: iterationsPerStage, relaxation: relaxation)
    self.epsilon = shared.epsilon
    self.tolerance = shared.tolerance
    self.maxIterations = shared.maxIterations
    self.epsilonScaling = shared.epsilonScaling
    self.iterationsPerStage = shared.iterationsPerStage
    self.relaxation = shared.relaxation
    self.backend = backend
    self.allowsUnconverged = allowsUnconverged
  }
}
