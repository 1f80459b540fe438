import DAM

/// What `dam barycenter` prints: how the barycenter's iterations went, its grid and weights, and
/// its centre of mass. The JSON keys are the command's; ``text(count:output:)`` is its plain output.
package struct BarycenterReport: Encodable, Equatable {
  package var iterations: Int
  package var marginalError: Double
  package var spread: Double
  package var debiased: Bool
  package var backend: String
  package var epsilon: Double
  package var shape: [Int]
  package var weights: [Double]
  package var centreOfMass: [Double]

  enum CodingKeys: String, CodingKey {
    case iterations, epsilon, shape, weights, spread, debiased, backend
    case marginalError = "marginal_error"
    case centreOfMass = "centre_of_mass"
  }

  /// The report of `result`, a barycenter at `epsilon` with barycentric `weights`.
  package init(_ result: GridBarycenter, epsilon: Double, weights: [Double]) {
    iterations = result.iterations
    marginalError = result.marginalError
    spread = result.spread
    debiased = result.debiased
    backend = GridBackendChoice.name(result.backend)
    self.epsilon = epsilon
    shape = result.histogram.shape
    self.weights = weights
    centreOfMass = Self.centreOfMass(result.histogram)
  }

  /// The plain output, with the line about `--output` when the barycenter was written.
  package func text(output: String?) -> String {
    var lines = [
      "barycenter of \(weights.count) histograms on \(shape)",
      "\(debiased ? "debiased, " : "")backend \(backend)",
      "iterations \(iterations), marginal error \(marginalError), spread \(spread)",
      "centre of mass \(centreOfMass)",
    ]
    if let output { lines.append("written to \(output)") }
    return lines.joined(separator: "\n")
  }

  /// `Σ mass · position` over the cells, each cell at its integer coordinates times the spacing.
  package static func centreOfMass(_ histogram: GridHistogram) -> [Double] {
    var centre = [Double](repeating: 0, count: histogram.shape.count)
    for cell in 0..<histogram.cellCount {
      var rest = cell
      for axis in histogram.shape.indices.reversed() {
        centre[axis] +=
          histogram.masses[cell] * Double(rest % histogram.shape[axis]) * histogram.spacing[axis]
        rest /= histogram.shape[axis]
      }
    }
    return centre
  }

  /// The barycentric weights of `--weights`: comma-separated numbers (spaces ignored).
  ///
  /// - Throws: ``CLIError`` naming `--weights` when a part is not a number.
  package static func weights(_ text: String) throws(CLIError) -> [Double] {
    let parts = text.split(separator: ",").map { Double(String($0.filter { $0 != " " })) }
    guard parts.allSatisfy({ $0 != nil }) else {
      throw CLIError("--weights", "expected comma-separated numbers, got '\(text)'")
    }
    return parts.map { $0! }
  }

  /// `dam barycenter`'s work: reads the histograms at `path` (on the grid `spacing` describes,
  /// when given), computes their barycenter with `weights` (`--weights`; uniform when `nil`) and,
  /// given an `output` path, writes it there as a `.npy` of the grid's shape. Errors name the
  /// input or option at fault.
  package static func compute(
    histograms path: String, weights: String?, spacing: String?, options: GridSinkhornOptions, debiased: Bool,
    output: String?
  ) throws(CLIError) -> BarycenterReport {
    var inputs = try GridInputs.histograms(path, option: path).histograms
    if let spacing {
      let h = try GridInputs.spacing(spacing, axes: inputs[0].shape.count)!
      inputs = try inputs.enumerated().map { (i, x) throws(CLIError) in
        try GridInputs.make(
          x.shape, x.masses, h, path: path, option: path, label: "histogram \(i): ",
          spacingOption: "--spacing")
      }
    }
    let lambda = try weights.map(Self.weights)
    let result = try attributing("--weights") {
      do {
        return try GridSinkhorn.barycenter(of: inputs, weights: lambda, options: options, debiased: debiased)
      } catch let error as DAMError where ["maxIterations", "epsilon", "tolerance"].contains(error.argument) {
        throw CLIError(
          "--" + (error.argument == "maxIterations" ? "max-iterations" : error.argument), error.message)
      }
    }
    if let output { try GridInputs.write([result.histogram], batch: false, to: output, option: "--output") }
    return BarycenterReport(
      result, epsilon: options.epsilon,
      weights: lambda ?? [Double](repeating: 1 / Double(inputs.count), count: inputs.count))
  }
}
