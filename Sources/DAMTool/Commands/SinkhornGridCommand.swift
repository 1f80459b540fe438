import ArgumentParser
import DAM
import DAMExperiments

struct SinkhornGridCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sinkhorn-grid",
    abstract: "The debiased Sinkhorn divergence between two histograms on the same regular grid.",
    discussion: """
      S_eps(a, b) = OT_eps(a, b) - OT_eps(a, a)/2 - OT_eps(b, b)/2 between histograms (images, \
      volumes) on a 1-D, 2-D or 3-D grid, with the same conventions as `dam divergence sinkhorn` on \
      the cell centres: cost ||z - z'||^2 (not halved), KL to the product measure, value = dual \
      objective. Each histogram is a .npy array of non-negative values (zeros allowed), normalised \
      to total mass 1. Cells sit at integer coordinates times --spacing (default 1 per axis, so eps \
      is in squared cells). The Gibbs kernel is applied axis by axis: by BLAS products with the 1-D kernels \
      (separable) for eps >= 0.001 D^2, by log-domain passes below (--backend automatic; D^2 the \
      grid's squared diameter; see Docs/grids.md), or by FFT (FFTW) when asked for. \
      --gradient G.npz also writes the gradients of S_eps from the solved potentials: `a` and `b` \
      in the cell masses (the histograms' shapes; defined up to a constant, subtract the mean for \
      the gradient along the simplex) and `epsilon` (dS/deps, a 0-d array).
      """)

  @Argument(
    help: ArgumentHelp("The first histogram: a .npy array (n), (H, W) or (H, W, D).", valueName: "a.npy"))
  var a: String

  @Argument(help: ArgumentHelp("The second histogram, on the same grid.", valueName: "b.npy"))
  var b: String

  @OptionGroup var solve: EntropicSolveOptions

  @OptionGroup var grid: GridSpacingOption

  @Option(help: "How the kernel is applied: automatic, fft or log.")
  var backend: GridBackendChoice = .automatic

  @Option(
    help: ArgumentHelp(
      "Also write the gradients of S_eps to this .npz (a, b, epsilon).", valueName: "G.npz"))
  var gradient: String?

  @OptionGroup var format: OutputFormat

  @OptionGroup(title: "Limits") var limits: BudgetOptions

  func validate() throws {
    if let gradient {
      try OutputPath.check(gradient, option: "--gradient", inputs: [("a.npy", a), ("b.npy", b)])
    }
  }

  func run() throws { try limits.run("divergence sinkhorn-grid") { try work() } }

  /// The command's work, run under the limits.
  func work() throws {
    let report = try GridSinkhornDivergenceReport.compute(
      a: a, b: b, spacing: grid.spacing, options: solve.grid(backend: backend.backend), gradient: gradient)
    try format.print(report) { report.text }
  }
}
