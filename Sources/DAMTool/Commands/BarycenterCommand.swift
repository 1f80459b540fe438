import ArgumentParser
import DAM
import DAMExperiments

struct BarycenterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "barycenter",
    abstract: "The entropic Wasserstein barycenter of histograms on one regular grid.",
    discussion: """
      The input is a .npy array (N, H[, W[, D]]) of N histograms (non-negative, each normalised to \
      mass 1), or a .npz with 'histograms' of that shape and an optional 'spacing'. The barycenter \
      is the classic one by iterative Bregman projections (Benamou et al. 2015, as POT's \
      convolutional_barycenter2d), blurred by about eps, or with --debiased the debiased barycenter \
      of Janati et al. 2020 (POT's update order, as convolutional_barycenter2d_debiased), which is \
      not; at large eps its fixed point can lie on the boundary of the simplex (cells tending to 0) \
      and the iterations then do not converge (see Docs/grids.md). The iterations stop when the \
      weighted L1 marginal error and the spread of the barycenter-side marginals (POT's stopping \
      quantity) are both at most --tolerance, for --debiased also the debiasing error. Cells sit at integer coordinates \
      times --spacing, so eps is in squared cells by default (POT's reg on the unit square is eps \
      with spacing 1/(n-1) per axis). Nothing is written unless the computation succeeds.
      """)

  @Argument(
    help: ArgumentHelp(
      "The histograms: a .npy (N, H[, W[, D]]) or a .npz with 'histograms'.", valueName: "histograms"))
  var histograms: String

  @OptionGroup var solve: EntropicSolveOptions

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "The barycentric weights, comma-separated, summing to 1 (default uniform).", valueName: "w1,w2,..."))
  var weights: String?

  @OptionGroup var grid: GridSpacingOption

  @Option(help: "How the kernel is applied: automatic, separable, fft or log.")
  var backend: GridBackendChoice = .automatic

  @Flag(help: "The debiased barycenter (Janati et al. 2020) instead of the classic one.")
  var debiased = false

  @Option(
    help: ArgumentHelp("Write the barycenter here as a .npy array of the grid's shape.", valueName: "path"))
  var output: String?

  @OptionGroup var format: OutputFormat

  @OptionGroup(title: "Limits") var limits: BudgetOptions

  func validate() throws {
    if let output { try OutputPath.check(output, option: "--output", inputs: [("histograms", histograms)]) }
  }

  func run() throws { try limits.run("barycenter") { try work() } }

  /// The command's work, run under the limits.
  func work() throws {
    let report = try BarycenterReport.compute(
      histograms: histograms, weights: weights, spacing: grid.spacing,
      options: solve.grid(backend: backend.backend),
      debiased: debiased, output: output)
    try format.print(report) { report.text(output: output) }
  }
}
