/// Settings of the grid Sinkhorn solver (``GridSinkhorn``, ``GridSinkhornDivergence``): the
/// settings of ``EntropicOptions`` with a ``GridKernelBackend``, which at each ε of the annealing
/// ``GridKernelBackend/automatic`` may resolve differently. ε is in units of squared distance
/// (squared cells with the default spacing 1); ``EntropicOptions/newton`` applies to the dense
/// fallback at small ε (see ``GridSinkhorn``).
public typealias GridSinkhornOptions = EntropicOptions<GridKernelBackend>

extension EntropicOptions where Backend == GridKernelBackend {
  /// Solver settings; see the properties for their meaning.
  ///
  /// - Throws: ``DAMError`` naming the first argument out of range, or `backend` when it is
  ///   ``GridKernelBackend/fft`` and the package was built without its `FFTW` trait
  ///   (``GridKernelBackend/checkAvailable()``).
  public init(
    epsilon: Double, tolerance: Double = 1e-9, maxIterations: Int = 10_000, epsilonScaling: Double? = 0.5,
    iterationsPerStage: Int = 2, relaxation: Relaxation = .adaptive, backend: GridKernelBackend = .automatic,
    allowsUnconverged: Bool = false
  ) throws(DAMError) {
    try self.init(
      validating: epsilon, tolerance: tolerance, maxIterations: maxIterations, epsilonScaling: epsilonScaling,
      iterationsPerStage: iterationsPerStage, relaxation: relaxation, newton: true,
      allowsUnconverged: allowsUnconverged, backend: backend)
    try backend.checkAvailable()
  }
}
