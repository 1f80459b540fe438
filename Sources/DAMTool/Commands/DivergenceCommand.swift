import ArgumentParser
import DAM
import DAMExperiments

struct DivergenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "divergence",
    abstract: "Compute a divergence between two objects stored in NumPy files.",
    subcommands: [SinkhornCommand.self, BuresWassersteinCommand.self, SinkhornGridCommand.self])
}

struct SinkhornCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sinkhorn",
    abstract: "The debiased Sinkhorn divergence between two weighted point clouds.",
    discussion: """
      S_eps(x, y) = OT_eps(x, y) - OT_eps(x, x)/2 - OT_eps(y, y)/2, with cost ||x - y||^2 (not \
      halved; --cost power --power P for ||x - y||^P) and OT_eps(a, b) = min <C, pi> + \
      eps KL(pi | a x b), its value the dual objective. \
      Each cloud is a .npy array (n, d), or (n) for points on a line; weights are .npy vectors \
      (n) summing to 1 (uniform when omitted). Solved in the log domain with eps-scaling, \
      adaptive over-relaxation and Newton polishing, to the given L1 marginal error. \
      --gradient G.npz also writes the gradients of S_eps, from the solved potentials: `x` and `y` \
      (positions, each the shape of its input), `x_weights` and `y_weights` (weights; defined up \
      to a constant, fixed so that <a, x_weights> = <b, y_weights>: subtract the mean for the \
      gradient along the simplex) and `epsilon` (dS/deps, a 0-d array).
      """)

  @Argument(help: ArgumentHelp("The first cloud: a .npy array (n, d) or (n).", valueName: "x.npy"))
  var x: String

  @Argument(help: ArgumentHelp("The second cloud: a .npy array (m, d) or (m).", valueName: "y.npy"))
  var y: String

  @OptionGroup var solve: EntropicSolveOptions

  @OptionGroup(title: "Ground cost")
  var cost: CostOptions

  @Option(
    help: ArgumentHelp("Weights of the first cloud: a .npy vector (n) summing to 1.", valueName: "path"))
  var xWeights: String?

  @Option(
    help: ArgumentHelp("Weights of the second cloud: a .npy vector (m) summing to 1.", valueName: "path"))
  var yWeights: String?

  @Option(
    help: ArgumentHelp(
      "Also write the gradients of S_eps to this .npz (x, y, x_weights, y_weights, epsilon).",
      valueName: "path"))
  var gradient: String?

  @OptionGroup var format: OutputFormat

  @OptionGroup(title: "Limits") var limits: BudgetOptions

  func validate() throws {
    _ = try cost.make()
    if let gradient {
      try OutputPath.check(
        gradient, option: "--gradient",
        inputs: [("x.npy", x), ("y.npy", y), ("--x-weights", xWeights), ("--y-weights", yWeights)])
    }
  }

  func run() throws { try limits.run("divergence sinkhorn") { try work() } }

  /// The command's work, run under the limits.
  func work() throws {
    let report = try SinkhornDivergenceReport.compute(
      x: x, y: y, xWeights: xWeights, yWeights: yWeights, options: solve.sinkhorn(), cost: cost.make(),
      gradient: gradient)
    try format.print(report) { report.text }
  }
}

struct BuresWassersteinCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bures-wasserstein",
    abstract: "The squared 2-Wasserstein (Bures-Wasserstein) distance between two Gaussians.",
    discussion: """
      W2^2(N(m1, S1), N(m2, S2)) = ||m1 - m2||^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2), in closed \
      form (one symmetric eigendecomposition; O(d) when both covariances are diagonal). Each \
      Gaussian is a .npz archive with a vector `mean` (d) and either a symmetric positive semi-definite \
      `covariance` (d, d) or positive variances `variance` (d) for a diagonal covariance. \
      --gradient G.npz also writes the gradients of W2^2: `a_mean`, `b_mean` (d) in the means and \
      `a_covariance`, `b_covariance` (d, d) in the covariances, symmetric (the gradient on symmetric \
      matrices: d W2^2 = tr(G dS) for symmetric dS; for a diagonal input, the gradient in its \
      variances is the diagonal). They exist only where both covariances are positive definite: a \
      singular one is refused.
      """)

  @Argument(
    help: ArgumentHelp(
      "The first Gaussian: a .npz with `mean` and `covariance` or `variance`.", valueName: "a.npz"))
  var a: String

  @Argument(
    help: ArgumentHelp(
      "The second Gaussian: a .npz with `mean` and `covariance` or `variance`.", valueName: "b.npz"))
  var b: String

  @Option(
    help: ArgumentHelp(
      "Also write the gradients of W2^2 in both Gaussians: a .npz with a_mean, a_covariance, b_mean, b_covariance.",
      valueName: "path"))
  var gradient: String?

  @OptionGroup var format: OutputFormat

  func validate() throws {
    if let gradient {
      try OutputPath.check(
        gradient, option: "--gradient", inputs: [("the first Gaussian", a), ("the second Gaussian", b)])
    }
  }

  func run() throws {
    let report = try BuresWassersteinReport.compute(a: a, b: b, gradient: gradient)
    try format.print(report) { report.text(gradient: gradient) }
  }
}
