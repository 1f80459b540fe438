import ArgumentParser
import DAM
import DAMExperiments
import NumPyFiles

/// The grid kernel backends, as command-line values.
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

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "The distance between neighbouring cells per axis, comma-separated (default 1).", valueName: "h0,h1,..."
    ))
  var spacing: String?

  @Option(help: "How the kernel is applied: automatic, fft or log.")
  var backend: GridBackendChoice = .automatic

  @Option(
    help: ArgumentHelp(
      "Also write the gradients of S_eps to this .npz (a, b, epsilon).", valueName: "G.npz"))
  var gradient: String?

  @OptionGroup var format: OutputFormat

  @OptionGroup(title: "Limits") var limits: BudgetOptions

  struct Report: Encodable {
    var value: Double
    var otAB: Double
    var otAA: Double
    var otBB: Double
    var iterations: Int
    var marginalError: Double
    var epsilon: Double
    var shape: [Int]
    var spacing: [Double]
    var backend: String

    enum CodingKeys: String, CodingKey {
      case value, iterations, epsilon, shape, spacing, backend
      case otAB = "ot_ab"
      case otAA = "ot_aa"
      case otBB = "ot_bb"
      case marginalError = "marginal_error"
    }
  }

  func validate() throws {
    if let gradient {
      try OutputPath.check(gradient, option: "--gradient", inputs: [("a.npy", a), ("b.npy", b)])
    }
  }

  func run() throws { try limits.run("divergence sinkhorn-grid") { try work() } }

  /// The command's work, run under the limits.
  func work() throws {
    let options = try solve.grid(backend: backend.backend)
    let first = try GridInputs.histogram(a, spacing: spacing, option: a)
    let second = try GridInputs.histogram(b, spacing: spacing, option: b)
    guard first.shape == second.shape else {
      throw CLIError(b, "has grid shape \(second.shape), \(a) has \(first.shape)")
    }
    let result = try attributingSolve {
      try GridSinkhorn.divergence(first, second, options: options)
    }
    if let gradient {
      let gradients = try attributingSolve {
        try GridSinkhorn.divergenceGradient(first, second, options: options, divergence: result)
      }
      guard let derivative = gradients.epsilon else {
        throw CLIError("--gradient", "the divergence gave no derivative in epsilon")
      }
      try attributing("--gradient") {
        var archive = NumPyArchive()
        archive["a"] = try NumPyArray(shape: first.shape, doubles: gradients.state)
        archive["b"] = try NumPyArray(shape: second.shape, doubles: gradients.pattern)
        archive["epsilon"] = try NumPyArray(shape: [], doubles: [derivative])
        try NPZ.write(archive, to: gradient)
      }
    }
    let used = GridSinkhorn.backend(for: first, options: options)
    let report = Report(
      value: result.value, otAB: result.crossTerm.value, otAA: result.firstSelfTerm.value,
      otBB: result.secondSelfTerm.value, iterations: result.iterations, marginalError: result.marginalError,
      epsilon: solve.epsilon, shape: first.shape, spacing: first.spacing,
      backend: GridBackendChoice.name(used))
    if format.json {
      try JSONOutput.print(report)
    } else {
      print("S_eps       \(report.value)")
      print("OT_eps(a,b) \(report.otAB)")
      print("OT_eps(a,a) \(report.otAA)")
      print("OT_eps(b,b) \(report.otBB)")
      print(
        "iterations  \(report.iterations), marginal error \(report.marginalError), backend \(report.backend)")
    }
  }
}
