/// Entropic optimal transport between histograms on the same regular grid, with the Gibbs kernel
/// applied by convolution (FFTW, or separable log-domain passes; see ``GridKernelBackend``)
/// instead of an `N x N` cost matrix.
///
/// The problem and the conventions are those of ``Sinkhorn`` on the point clouds of the cell
/// centres weighted by the masses: cost `‖z - z'‖²` (not halved), regularisation
/// `ε KL(π | a ⊗ b)`, value = dual objective `⟨a, f⟩ + ⟨b, g⟩ - ε (Σπ - 1)`, with ε-scaling and
/// the L1 marginal error as stopping rule. Cells of mass zero are allowed; the potentials there
/// are the ones the formulas give (finite). Results are the same types as for point clouds, with
/// potentials in the grid's row-major order and `newtonSteps == 0`.
///
/// At small ε (on a 16 x 16 grid, from about 2e-4 of the squared diameter down) the iterations can stall
/// above the tolerance. A solve that stalls (see the early stop of ``Sinkhorn``) or runs out of
/// iterations is then finished by the dense point-cloud solver, with Newton's method, on the
/// cells of positive mass, when both supports together have at most 3000 cells; its potentials
/// are extended to the empty cells by the soft-minimum formulas, and `newtonSteps` counts its
/// Newton steps. Barycenters have no such fallback.
///
/// ε above 1e6 times the grid's squared diameter `D² = Σₐ (hₐ (nₐ - 1))²` is refused (naming
/// `epsilon`): the potentials would carry round-off of about `ε · 1e-16` (at ε = 1e300 the
/// divergence came out as 0), while at 1e6 D² the divergence is already within `D²/8e6` of its
/// limit for large ε, the squared distance between the means.
///
/// Solves are independent and thread-safe: kernels (FFT plans, spectra) are shared read-only.
public enum GridSinkhorn {
  /// Solves `OT_ε(a, b)`.
  ///
  /// - Parameters:
  ///   - a: the source histogram.
  ///   - b: the target histogram, on the same grid.
  ///   - options: ε, the tolerance, the backend and the other solver settings.
  ///   - warmStart: potentials `(f, g)` from a nearby problem; the solve then starts at the target ε.
  /// - Throws: ``DAMError`` if the grids differ, a warm start has the wrong size or is not finite,
  ///   the backend is ``GridKernelBackend/fft`` in a build without the `FFTW` trait, or the solve
  ///   does not converge and `allowsUnconverged` is false.
  public static func transport(
    from a: GridHistogram, to b: GridHistogram, options: GridSinkhornOptions,
    warmStart: (f: [Double], g: [Double])? = nil
  ) throws(DAMError) -> EntropicTransport {
    try checkSameGrid(a, b)
    return try GridProblem(a).transport(a.masses, b.masses, options, warmStart)
  }

  /// Solves the symmetric problem `OT_ε(a, a)` (averaged iterations, potential `f = g = p`).
  public static func selfTransport(
    _ a: GridHistogram, options: GridSinkhornOptions, warmStart: [Double]? = nil
  )
    throws(DAMError) -> SelfTransport
  {
    try GridProblem(a).selfTransport(a.masses, options, warmStart)
  }

  /// The debiased Sinkhorn divergence `S_ε(a, b) = OT_ε(a, b) - OT_ε(a, a)/2 - OT_ε(b, b)/2`.
  public static func divergence(_ a: GridHistogram, _ b: GridHistogram, options: GridSinkhornOptions)
    throws(DAMError) -> SinkhornDivergenceValue
  {
    try checkSameGrid(a, b)
    let problem = GridProblem(a)
    return SinkhornDivergenceValue(
      crossTerm: try problem.transport(a.masses, b.masses, options, nil),
      firstSelfTerm: try problem.selfTransport(a.masses, options, nil),
      secondSelfTerm: try problem.selfTransport(b.masses, options, nil))
  }

  /// The backend a solve at `options` uses at its target ε on the grid of `histogram`.
  public static func backend(for histogram: GridHistogram, options: GridSinkhornOptions) -> GridKernelBackend
  {
    options.backend.resolved(
      epsilon: options.epsilon, squaredDiameter: GridProblem(histogram).squaredDiameter)
  }
}

func checkSameGrid(_ a: GridHistogram, _ b: GridHistogram, argument: String = "b") throws(DAMError) {
  guard a.shape == b.shape else {
    throw DAMError.mismatch(argument, "has grid shape \(b.shape), the other histogram has \(a.shape)")
  }
  guard a.spacing == b.spacing else {
    throw DAMError.mismatch(argument, "has grid spacing \(b.spacing), the other histogram has \(a.spacing)")
  }
}

let gridScale = "the grid's squared diameter"
