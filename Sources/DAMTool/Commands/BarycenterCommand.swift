import ArgumentParser
import DAM
import DAMExperiments
import NumPyFiles

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

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "The distance between neighbouring cells per axis, comma-separated (default 1).", valueName: "h0,h1,..."
    ))
  var spacing: String?

  @Option(help: "How the kernel is applied: automatic, separable, fft or log.")
  var backend: GridBackendChoice = .automatic

  @Flag(help: "The debiased barycenter (Janati et al. 2020) instead of the classic one.")
  var debiased = false

  @Option(
    help: ArgumentHelp("Write the barycenter here as a .npy array of the grid's shape.", valueName: "path"))
  var output: String?

  @OptionGroup var format: OutputFormat

  @OptionGroup(title: "Limits") var limits: BudgetOptions

  struct Report: Encodable {
    var iterations: Int
    var marginalError: Double
    var spread: Double
    var debiased: Bool
    var backend: String
    var epsilon: Double
    var shape: [Int]
    var weights: [Double]
    var centreOfMass: [Double]

    enum CodingKeys: String, CodingKey {
      case iterations, epsilon, shape, weights, spread, debiased, backend
      case marginalError = "marginal_error"
      case centreOfMass = "centre_of_mass"
    }
  }

  func validate() throws {
    if let output { try OutputPath.check(output, option: "--output", inputs: [("histograms", histograms)]) }
  }

  func run() throws { try limits.run("barycenter") { try work() } }

  /// The command's work, run under the limits.
  func work() throws {
    let options = try solve.grid(backend: backend.backend)
    var inputs = try GridInputs.histograms(histograms, option: histograms).histograms
    if let text = spacing {
      let h = try GridInputs.spacing(text, axes: inputs[0].shape.count)!
      inputs = try inputs.enumerated().map { (i, x) throws(CLIError) in
        try GridInputs.make(
          x.shape, x.masses, h, path: histograms, option: histograms, label: "histogram \(i): ",
          spacingOption: "--spacing")
      }
    }
    var lambda: [Double]? = nil
    if let weights {
      let parts = weights.split(separator: ",").map { Double(String($0.filter { $0 != " " })) }
      guard parts.allSatisfy({ $0 != nil }) else {
        throw CLIError("--weights", "expected comma-separated numbers, got '\(weights)'")
      }
      lambda = parts.map { $0! }
    }
    let result = try attributing("--weights") {
      do {
        return try GridSinkhorn.barycenter(of: inputs, weights: lambda, options: options, debiased: debiased)
      } catch let error as DAMError
        where ["maxIterations", "epsilon", "tolerance"].contains(error.argument)
      {
        throw CLIError(
          "--" + (error.argument == "maxIterations" ? "max-iterations" : error.argument), error.message)
      }
    }
    let bar = result.histogram
    var centre = [Double](repeating: 0, count: bar.shape.count)
    for cell in 0..<bar.cellCount {
      var rest = cell
      for axis in bar.shape.indices.reversed() {
        centre[axis] += bar.masses[cell] * Double(rest % bar.shape[axis]) * bar.spacing[axis]
        rest /= bar.shape[axis]
      }
    }
    if let output { try GridInputs.write([bar], batch: false, to: output, option: "--output") }
    let report = Report(
      iterations: result.iterations, marginalError: result.marginalError, spread: result.spread,
      debiased: debiased, backend: GridBackendChoice.name(result.backend), epsilon: solve.epsilon,
      shape: bar.shape, weights: lambda ?? [Double](repeating: 1 / Double(inputs.count), count: inputs.count),
      centreOfMass: centre)
    if format.json {
      try JSONOutput.print(report)
    } else {
      print("barycenter of \(inputs.count) histograms on \(bar.shape)")
      print("\(debiased ? "debiased, " : "")backend \(report.backend)")
      print(
        "iterations \(report.iterations), marginal error \(report.marginalError), spread \(report.spread)")
      print("centre of mass \(centre)")
      if let output { print("written to \(output)") }
    }
  }
}
