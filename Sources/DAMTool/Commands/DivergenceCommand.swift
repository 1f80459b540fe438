import ArgumentParser
import DAM
import DAMExperiments
import NumPyFiles

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

  struct Report: Encodable {
    var value: Double
    var otXY: Double
    var otXX: Double
    var otYY: Double
    var iterations: Int
    var newtonSteps: Int
    var marginalError: Double
    var epsilon: Double
    var cost: String

    enum CodingKeys: String, CodingKey {
      case value, iterations, epsilon, cost
      case otXY = "ot_xy"
      case otXX = "ot_xx"
      case otYY = "ot_yy"
      case newtonSteps = "newton_steps"
      case marginalError = "marginal_error"
    }
  }

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
    let options = try solve.sinkhorn()
    let ground = try cost.make()
    let first = try Inputs.cloud(x, weights: xWeights, option: x, weightsOption: "--x-weights")
    let second = try Inputs.cloud(y, weights: yWeights, option: y, weightsOption: "--y-weights")
    guard first.dimension == second.dimension else {
      throw CLIError(
        y, "atoms have dimension \(second.dimension), those of \(x) have \(first.dimension)")
    }
    let result = try attributingSolve(inputs: ["x": (x, x), "y": (y, y)]) {
      try Sinkhorn.divergence(first, second, cost: ground, options: options)
    }
    if let gradient {
      let gradients = try attributingSolve(inputs: ["x": (x, x), "y": (y, y)]) {
        try Sinkhorn.divergenceGradient(first, second, cost: ground, divergence: result)
      }
      try writeGradient(gradients, to: gradient)
    }
    let report = Report(
      value: result.value, otXY: result.crossTerm.value, otXX: result.firstSelfTerm.value,
      otYY: result.secondSelfTerm.value, iterations: result.iterations,
      newtonSteps: result.crossTerm.newtonSteps,
      marginalError: result.marginalError, epsilon: solve.epsilon, cost: ground.description)
    if format.json {
      try JSONOutput.print(report)
    } else {
      print("S_eps       \(report.value)")
      print("OT_eps(x,y) \(report.otXY)")
      print("OT_eps(x,x) \(report.otXX)")
      print("OT_eps(y,y) \(report.otYY)")
      print(
        "iterations  \(report.iterations) (Newton steps \(report.newtonSteps)), marginal error \(report.marginalError)"
      )
    }
  }
}

extension SinkhornCommand {
  /// Writes the gradients as `--gradient` describes, each position gradient in its input's shape
  /// (`(n, d)`, or `(n)` for points on a line given as a vector).
  func writeGradient(_ gradients: DivergenceGradient<PointCloudGradient, PointCloudGradient>, to path: String)
    throws(CLIError)
  {
    guard let epsilon = gradients.epsilon else {
      throw CLIError("--gradient", "the divergence gave no derivative in epsilon")
    }
    let xShape = try attributing(x) { try InputFiles.npy(x).shape }
    let yShape = try attributing(y) { try InputFiles.npy(y).shape }
    try attributing("--gradient") {
      var archive = NumPyArchive()
      archive["x"] = try NumPyArray(shape: xShape, doubles: gradients.state.points.elements)
      archive["y"] = try NumPyArray(shape: yShape, doubles: gradients.pattern.points.elements)
      archive["x_weights"] = try NumPyArray(
        shape: [gradients.state.weights.count], doubles: gradients.state.weights)
      archive["y_weights"] = try NumPyArray(
        shape: [gradients.pattern.weights.count], doubles: gradients.pattern.weights)
      archive["epsilon"] = try NumPyArray(shape: [], doubles: [epsilon])
      try NPZ.write(archive, to: path)
    }
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

  struct Report: Encodable {
    var value: Double
    var distance: Double
    var dimension: Int
  }

  func validate() throws {
    if let gradient {
      try OutputPath.check(
        gradient, option: "--gradient", inputs: [("the first Gaussian", a), ("the second Gaussian", b)])
    }
  }

  func run() throws {
    let first = try GaussianInputs.gaussian(a, option: a)
    let second = try GaussianInputs.gaussian(b, option: b)
    guard first.dimension == second.dimension else {
      throw CLIError(b, "has dimension \(second.dimension), \(a) has \(first.dimension)")
    }
    let value = try attributing(b) { try BuresWasserstein.distanceSquared(first, second) }
    if let gradient { try writeGradient(first, second, to: gradient) }
    let report = Report(value: value, distance: value.squareRoot(), dimension: first.dimension)
    if format.json {
      try JSONOutput.print(report)
    } else {
      print("W2^2 \(report.value)")
      print("W2   \(report.distance)")
      if let gradient { print("gradients written to \(gradient)") }
    }
  }

  /// Writes the gradients of `W₂²(first, second)` to `path` (replaced atomically), naming the
  /// input at fault if they do not exist.
  private func writeGradient(_ first: Gaussian, _ second: Gaussian, to path: String) throws {
    let result: DivergenceGradient<GaussianGradient, GaussianGradient>
    do {
      result = try BuresWasserstein.gradient(first, second)
    } catch {
      throw CLIError(error.argument == "a" ? a : b, error.message)
    }
    let d = first.dimension
    try attributing("--gradient") {
      var archive = NumPyArchive()
      archive["a_mean"] = try NumPyArray(shape: [d], doubles: result.state.mean)
      archive["a_covariance"] = try NumPyArray(shape: [d, d], doubles: result.state.covariance.elements)
      archive["b_mean"] = try NumPyArray(shape: [d], doubles: result.pattern.mean)
      archive["b_covariance"] = try NumPyArray(shape: [d, d], doubles: result.pattern.covariance.elements)
      try NPZ.write(archive, to: path)
    }
  }
}
