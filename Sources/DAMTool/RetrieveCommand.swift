import ArgumentParser
import DAM
import NumPyFiles

struct RetrieveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrieve",
    abstract: "Recall stored vectors from one query or a batch of queries.",
    discussion: """
      The memory is a .npy array of shape (N, D): N stored vectors of dimension D. The query is a
      .npy vector (D) or a batch (B, D). Each query is moved by the chosen geometry until the
      stopping rule holds; the result names the stored pattern nearest to the final state (under
      the divergence), the steps taken, why retrieval stopped, the energy after each step and the
      final separation weights.

      Divergences: squared-euclidean is ||x - X_i||^2 (the package's cost convention); dot-product
      is 1/2 ||x||^2 - <x, X_i>, the classic modern Hopfield energy, whose weights are
      softmax(beta X x). On unit-norm patterns, squared-euclidean at beta equals dot-product at
      2 beta.

      Separation maps: softmax; the sparse sparsemax, entmax (--alpha, default 1.5) and normmax
      (--alpha, default 2), whose weights are exactly zero on far patterns and which can land
      exactly on a stored pattern; and the structured ksubsets (--k) and sequential-ksubsets
      (--k, --pairwise), which retrieve k patterns together. Their weights sum to k, and the
      fixed-point update returns the mean of the retrieved patterns, X^T w / k.

      Nothing is written unless every query succeeds; --output is replaced atomically.
      """)

  @Option(help: ArgumentHelp("The stored patterns: a .npy array (N, D).", valueName: "path"))
  var memory: String

  @Option(help: ArgumentHelp("The query: a .npy vector (D) or a batch (B, D).", valueName: "path"))
  var query: String

  @Option(parsing: .unconditional, help: "The inverse temperature beta > 0: larger is sharper recall.")
  var beta: Double

  @Option(help: "The separation map that turns scores into pattern weights.")
  var separation: SeparationChoice = .softmax

  @OptionGroup(title: "Separation map parameters")
  var separationOptions: SeparationOptions

  @Option(help: "The divergence between the query and each stored pattern.")
  var divergence: VectorDivergenceChoice = .squaredEuclidean

  @Option(
    help: """
      fixed-point: the concave-convex update x <- sum_i w_i X_i (never increases the energy); \
      gradient: x <- x - step * grad E.
      """)
  var geometry: VectorGeometryChoice = .fixedPoint

  @Option(
    parsing: .unconditional,
    help: "The step size of --geometry gradient (default 0.5, the fixed point for squared-euclidean).")
  var step: Double?

  @OptionGroup(title: "Stopping")
  var stopping: StoppingOptions

  @Flag(help: "Print the results as JSON on standard output.")
  var json = false

  @Option(help: ArgumentHelp("Write the final states to this .npy file (the query's shape).", valueName: "path"))
  var output: String?

  struct QueryResult: Encodable {
    var query: Int
    var patternIndex: Int
    var steps: Int
    var stopReason: StopReason
    var energy: [Double]
    var weights: [Double]
    var finalDivergence: Double

    enum CodingKeys: String, CodingKey {
      case query, steps, energy, weights
      case patternIndex = "pattern_index"
      case stopReason = "stop_reason"
      case finalDivergence = "final_divergence"
    }
  }

  struct Report: Encodable {
    var memory: String
    var patterns: Int
    var dimension: Int
    var divergence: String
    var separation: String
    var geometry: String
    var beta: Double
    var results: [QueryResult]
  }

  func validate() throws {
    guard beta.isFinite, beta > 0 else { throw CLIError("--beta", "must be a finite number > 0, got \(beta)") }
    if let step, !(step.isFinite && step > 0) {
      throw CLIError("--step", "must be a finite number > 0, got \(step)")
    }
    _ = try stopping.rule()
    _ = try separationMap()
    if let output { try OutputPath.check(output, option: "--output") }
  }

  func separationMap() throws(CLIError) -> AnySeparationMap {
    try separation.map(
      alpha: separationOptions.alpha, k: separationOptions.k, pairwise: separationOptions.pairwise,
      choiceLabel: "--separation ")
  }

  func run() throws {
    let stoppingRule = try stopping.rule()
    let patterns = try Inputs.vectors(memory, option: "--memory")
    let (queries, batch) = try Inputs.queries(query, option: "--query")
    let dimension = patterns[0].count
    guard queries[0].count == dimension else {
      throw CLIError(
        "--query", "\(query): queries have dimension \(queries[0].count), the memory's patterns have \(dimension)")
    }
    let map = try separationMap()
    if let k = separationOptions.k, k > patterns.count {
      throw CLIError("--k", "is \(k), but the memory \(memory) holds only \(patterns.count) patterns")
    }
    let engine = try VectorEngines.make(
      patterns: patterns, divergence: divergence, separation: map, geometry: geometry, step: step,
      beta: beta, stopping: stoppingRule)

    var results: [QueryResult] = []
    var states: [Double] = []
    for (index, q) in queries.enumerated() {
      if queries.count > 1 { Terminal.progress("retrieve: query \(index + 1) of \(queries.count)") }
      let result = try SeparationOptions.attributingK(batch ? "--query (row \(index))" : "--query") {
        try engine.retrieve(q)
      }
      results.append(
        QueryResult(
          query: index, patternIndex: result.nearestPattern, steps: result.steps, stopReason: result.stopReason,
          energy: result.energies, weights: result.weights,
          finalDivergence: result.divergences[result.nearestPattern]))
      states.append(contentsOf: result.state)
    }
    Terminal.endProgress()

    if let output {
      let shape = batch ? [queries.count, dimension] : [dimension]
      try attributing("--output") {
        try NPY.write(try NumPyArray(shape: shape, doubles: states), to: output)
      }
    }

    if json {
      try JSONOutput.print(
        Report(
          memory: memory, patterns: patterns.count, dimension: dimension, divergence: divergence.rawValue,
          separation: map.name, geometry: geometry.rawValue, beta: beta, results: results))
    } else {
      print(
        "memory: \(patterns.count) patterns of dimension \(dimension); \(divergence.rawValue), "
          + "\(map.name), \(geometry.rawValue), beta = \(beta)")
      var table = Table(header: ["query", "pattern", "steps", "stopped", "energy", "top weight"])
      for r in results {
        table.append([
          "\(r.query)", "\(r.patternIndex)", "\(r.steps)", r.stopReason.rawValue,
          Table.format(r.energy.last ?? .nan), Table.format(r.weights.max() ?? .nan),
        ])
      }
      print(table.markdown)
      if let output { print("final states written to \(output)") }
    }
  }
}
