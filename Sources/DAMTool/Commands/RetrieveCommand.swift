import ArgumentParser
import DAM
import DAMExperiments
import MemoryFiles
import NumPyFiles

struct RetrieveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrieve",
    abstract: "Recall stored vectors, point clouds, Gaussians or grid histograms from one query or a batch.",
    discussion: """
      Vectors: the memory is a .npy array (N, D) of N stored vectors; the query a .npy vector (D) \
      or a batch (B, D). Point clouds: the memory is a .npz with 'points' (N, n, d) and optional \
      'weights' (N, n), or ragged 'points' (total, d), 'weights' (total) and 'offsets' (N + 1); \
      the query a .npz with 'points' (n, d) and optional 'weights' (n), or a batch in the memory's \
      layouts. Weights default to uniform and must sum to 1 per cloud. Gaussians: the memory is a \
      .npz with 'means' (N, d) and 'covariances' (N, d, d) or 'variances' (N, d); the query a .npz \
      with 'mean' (d) and 'covariance' (d, d) or 'variance' (d), or a batch like the memory. The \
      kind of a .npz memory is told by its keys ('points' or 'means').

      Each query is moved by the chosen geometry until the stopping rule holds; the result names \
      the stored pattern nearest to the final state (under the divergence), the steps taken, why \
      retrieval stopped, the energy at the query and after each step, and the final separation weights.

      Point clouds: --divergence sinkhorn (the debiased Sinkhorn divergence, cost ||x - y||^2, \
      needs --epsilon) with --geometry shk (transport and reweighting; default hellinger scale \
      eps/(20 step)), wasserstein (transport only) or euclidean (the baseline that stacks the atoms, \
      in their stored order, into one vector and runs the classic dot-product update).

      Gaussians: the Bures-Wasserstein divergence W2^2 with --geometry bures-wasserstein (default; \
      the BW-DAM, --step tau, default 1/2: the barycentric fixed point) or euclidean (the Eu-DAM \
      baseline: squared euclidean distance between the stacked vectors (m, vec S), fixed point, or \
      a gradient step of --step). --output writes 'means' (B, d) and 'covariances' (B, d, d).

      Grid histograms (images, volumes): the memory is a .npz with 'histograms' (N, H[, W[, D]]) \
      and an optional 'spacing' (one value per grid axis, default 1); the query a .npy or .npz \
      'histograms' holding one histogram (H[, W[, D]]) or a batch. Values are normalised to mass 1. \
      The divergence is the grid Sinkhorn divergence (needs --epsilon, in squared grid units) with \
      --geometry hellinger (default; reweights the query's cells, step tau alpha with default \
      alpha eps/(20 tau); empty cells stay empty) or barycentric (the query becomes the entropic \
      barycenter, blurred by about eps, of the patterns with the separation weights). --output writes a .npy.

      Divergences: squared-euclidean is ||x - X_i||^2 (the package's cost convention); dot-product \
      is 1/2 ||x||^2 - <x, X_i>, the classic modern Hopfield energy, whose weights are \
      softmax(beta X x). On unit-norm patterns, squared-euclidean at beta equals dot-product at \
      2 beta.

      Separation maps: softmax; the sparse sparsemax, entmax (--alpha, default 1.5) and normmax \
      (--alpha, default 2), whose weights are exactly zero on far patterns and which can land \
      exactly on a stored pattern; and the structured ksubsets (--k) and sequential-ksubsets \
      (--k, --pairwise), which retrieve k patterns together. Their weights sum to k, and the \
      fixed-point update returns the mean of the retrieved patterns, X^T w / k.

      Memory files (`dam memory create`) of every kind are accepted as --memory: their divergence \
      and epsilon are the defaults, and an --epsilon other than the one the file was prepared for \
      is refused.

      Nothing is written unless every query succeeds; --output is replaced atomically.
      """)

  @Option(
    help: ArgumentHelp(
      "The stored patterns: a .npy array (N, D) of vectors, a .npz of point clouds, Gaussians or grid histograms, or a memory file (dam memory create).",
      valueName: "path"))
  var memory: String

  @Option(
    help: ArgumentHelp(
      "The query: a .npy vector (D) or batch (B, D), or a .npz of one or more point clouds or Gaussians.",
      valueName: "path"))
  var query: String

  @Option(parsing: .unconditional, help: "The inverse temperature beta > 0: larger is sharper recall.")
  var beta: Double

  @Option(help: "The separation map that turns scores into pattern weights.")
  var separation: SeparationChoice = .softmax

  @OptionGroup(title: "Separation map parameters")
  var separationOptions: SeparationOptions

  @Option(
    help:
      "The divergence: squared-euclidean (default) or dot-product for vectors; sinkhorn (default) for point clouds."
  )
  var divergence: DivergenceChoice?

  @Option(
    help: """
      Vectors: fixed-point (default; the concave-convex update x <- sum_i w_i X_i, never increases \
      the energy) or gradient (x <- x - step * grad E). Point clouds: shk (default), wasserstein or euclidean. \
      Gaussians: bures-wasserstein (default) or euclidean.
      """)
  var geometry: GeometryChoice?

  @Option(
    parsing: .unconditional,
    help:
      "The step size of --geometry gradient, shk, wasserstein or bures-wasserstein (default 0.5: the fixed point for squared-euclidean, the barycentric step for sinkhorn and for Gaussians); with Gaussians and --geometry euclidean, a gradient step instead of the fixed point."
  )
  var step: Double?

  @Option(
    parsing: .unconditional,
    help: "The entropic regularisation eps > 0 of --divergence sinkhorn, in squared distance units.")
  var epsilon: Double?

  @Option(
    parsing: .unconditional,
    help: "The Hellinger scale alpha >= 0 of --geometry shk (default eps / (20 step)).")
  var hellingerScale: Double?

  @OptionGroup(title: "Ground cost (point clouds)")
  var groundCost: CostOptions

  @OptionGroup(title: "Stopping")
  var stopping: StoppingOptions

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      """
      Which patterns may be skipped: none; exact (patterns a sparse separation map certifies to \
      weigh zero: results identical to none); or a number MASS in [0, 1) (as exact, and with \
      softmax the patterns certified to weigh at most MASS in all are dropped). The JSON reports \
      the exact evaluations and the dropped-weight bound.
      """, valueName: "none|exact|MASS"))
  var pruning = PruningChoice(.none)

  @OptionGroup var format: OutputFormat

  @OptionGroup(title: "Limits") var limits: BudgetOptions

  @OptionGroup(title: "JSON weights")
  var weightOptions: WeightOutputOptions

  @Option(
    help: ArgumentHelp(
      "Write the final states here: .npy for vectors (the query's shape), .npz for point clouds and Gaussians.",
      valueName: "path"))
  var output: String?

  struct QueryResult: Encodable {
    var query: Int
    var patternIndex: Int
    var steps: Int
    var stopReason: StopReason
    var energy: [Double]
    /// Every pattern's weight, with `--all-weights`.
    var weights: [Double]?
    /// The patterns weighing more than the threshold, otherwise.
    var support: WeightSupport?
    /// The memory's divergence from the final state to its nearest pattern; absent when the
    /// divergence is the dot product, which is no divergence (negative where state and pattern
    /// overlap).
    var finalDivergence: Double?
    /// With the dot product: `½‖ξ‖² - ⟨ξ, X⟩` of the final state ξ and its nearest pattern X, that
    /// pattern's term of the energy.
    var finalDotProductEnergy: Double?
    /// Exact divergence evaluations over the whole retrieval (N per state without pruning).
    var evaluations: Int
    /// The weight softmax pruning dropped at most (0 otherwise).
    var droppedWeightBound: Double
    /// The largest weight (for the table).
    var topWeight: Double

    /// A query's row; the weights (all, or the support) only for `--json`.
    init<State>(
      _ index: Int, _ result: RetrievalResult<State>, options: WeightOutputOptions, json: Bool,
      dotProduct: Bool
    ) {
      query = index
      let nearest = result.nearestPattern
      patternIndex = nearest
      steps = result.steps
      stopReason = result.stopReason
      energy = result.energies
      if json && options.allWeights {
        weights = result.weights
      } else if json {
        support = WeightSupport(result.weights, threshold: options.weightThreshold)
      }
      if dotProduct {
        finalDotProductEnergy = result.divergences[nearest]
      } else {
        finalDivergence = result.divergences[nearest]
      }
      evaluations = result.evaluationCount
      droppedWeightBound = result.droppedWeightBound
      topWeight = result.weights.max() ?? .nan
    }

    enum CodingKeys: String, CodingKey {
      case query, steps, energy, weights, support, evaluations
      case patternIndex = "pattern_index"
      case droppedWeightBound = "dropped_weight_bound"
      case stopReason = "stop_reason"
      case finalDivergence = "final_divergence"
      case finalDotProductEnergy = "final_dot_product_energy"
    }
  }

  struct Report: Encodable {
    var memory: String
    var patterns: Int
    var dimension: Int
    /// For a Euclidean baseline on an encoding of the states (`stacked-euclidean`: a cloud's atoms
    /// or a Gaussian's (m, vec S) stacked into a vector), the encoding; absent otherwise.
    var baseline: String?
    /// The divergence the memory retrieves with (for a baseline, its vector engine's).
    var divergence: String
    var separation: String
    var geometry: String
    var beta: Double
    var pruning: String
    var results: [QueryResult]
  }

  func validate() throws {
    try checkInverseTemperature(beta)
    try pruning.check()
    if let step, !(step.isFinite && step > 0) {
      throw CLIError("--step", "must be a finite number > 0, got \(step)")
    }
    if let epsilon, !(epsilon.isFinite && epsilon > 0) {
      throw CLIError("--epsilon", "must be a finite number > 0, got \(epsilon)")
    }
    if let hellingerScale, !(hellingerScale.isFinite && hellingerScale >= 0) {
      throw CLIError("--hellinger-scale", "must be a finite number >= 0, got \(hellingerScale)")
    }
    _ = try stopping.rule()
    _ = try separationMap(patternCount: .max)
    _ = try groundCost.make()
    if let output {
      try OutputPath.check(output, option: "--output", inputs: [("--memory", memory), ("--query", query)])
    }
  }

  var isCloudMemory: Bool { memory.lowercased().hasSuffix(".npz") }

  /// The separation map of the options, refused when it retrieves more patterns together (`--k`)
  /// than the memory's `patternCount`.
  func separationMap(patternCount: Int) throws(CLIError) -> AnySeparationMap {
    let map = try separation.map(
      alpha: separationOptions.alpha, k: separationOptions.k, pairwise: separationOptions.pairwise,
      choiceLabel: "--separation ")
    if let k = separationOptions.k, k > patternCount {
      throw CLIError("--k", "is \(k), but the memory \(memory) holds only \(patternCount) patterns")
    }
    return map
  }

  /// Each query's entry of the report, built on every core (each scans its query's N weights and
  /// divergences).
  func queryResults<State>(_ retrieved: [RetrievalResult<State>], dotProduct: Bool = false) -> [QueryResult] {
    let (options, json) = (weightOptions, format.json)
    return concurrentMap(retrieved.count, workers: coreCount) { b in
      QueryResult(b, retrieved[b], options: options, json: json, dotProduct: dotProduct)
    }
  }

  func run() throws { try limits.run("retrieve") { try work() } }

  /// The command's work, run under the limits.
  func work() throws {
    if MemoryInputs.isMemoryFile(memory) {
      let file = try MemoryInputs.memoryFile(memory, option: "--memory")
      switch file.patterns {
      case .vectors(let v): try runVectors(stored: v, storedDivergence: file.divergence)
      case .pointClouds(let c): try runClouds(stored: c, storedEpsilon: try preparedEpsilon(file))
      case .gaussians(let g): try runGaussians(stored: g)
      case .histograms(let h): try runGrids(stored: h, storedEpsilon: try preparedEpsilon(file))
      }
      return
    }
    if isCloudMemory {
      if GaussianInputs.holdsGaussians(memory) {
        try runGaussians()
      } else if GridEngines.holdsHistograms(memory) {
        try runGrids()
      } else {
        try runClouds()
      }
    } else {
      try runVectors()
    }
  }

  /// The epsilon a memory file's patterns were prepared for; an --epsilon that differs is refused
  /// (a different epsilon is a different memory: make a file for it).
  func preparedEpsilon(_ file: MemoryFile) throws(CLIError) -> Double? {
    if let epsilon, let recorded = file.epsilon, epsilon != recorded {
      throw CLIError(
        "--epsilon",
        "\(memory) was prepared for epsilon \(recorded), not \(epsilon); omit --epsilon to use the file's, or make a file for \(epsilon): dam memory create NEW.npz --patterns \(memory) --epsilon \(epsilon)"
      )
    }
    return file.epsilon
  }

  func runVectors(stored: [[Double]]? = nil, storedDivergence: String? = nil) throws {
    try groundCost.requireAbsent("applies to point-cloud memories only")
    let stoppingRule = try stopping.rule()
    let divergence =
      divergence ?? storedDivergence.flatMap(DivergenceChoice.init(rawValue:)) ?? .squaredEuclidean
    let geometry = geometry ?? .fixedPoint
    let vectorDivergence: VectorDivergenceChoice
    switch divergence {
    case .squaredEuclidean: vectorDivergence = .squaredEuclidean
    case .dotProduct: vectorDivergence = .dotProduct
    case .sinkhorn:
      throw CLIError("--divergence", "sinkhorn compares point clouds; give the memory as a .npz of clouds")
    }
    let vectorGeometry: VectorGeometryChoice
    switch geometry {
    case .fixedPoint: vectorGeometry = .fixedPoint
    case .gradient: vectorGeometry = .gradient
    default:
      throw CLIError(
        "--geometry",
        "\(geometry.rawValue) is for point clouds or Gaussians; vectors take fixed-point or gradient")
    }
    if epsilon != nil { throw CLIError("--epsilon", "applies to --divergence sinkhorn (point clouds) only") }
    if hellingerScale != nil {
      throw CLIError("--hellinger-scale", "applies to --geometry shk (point clouds) only")
    }
    let patterns = try stored.map(VectorPatterns.rows) ?? Inputs.matrix(memory, option: "--memory")
    let (queries, batch) = try Inputs.queries(query, option: "--query")
    let dimension = patterns.dimension
    guard queries[0].count == dimension else {
      throw CLIError(
        "--query",
        "\(query): queries have dimension \(queries[0].count), the memory's patterns have \(dimension)")
    }
    let map = try separationMap(patternCount: patterns.count)
    let engine = try VectorEngines.make(
      patterns: patterns, divergence: vectorDivergence, separation: map, geometry: vectorGeometry, step: step,
      beta: beta, stopping: stoppingRule, pruning: pruning.pruning)

    let retrieved = try retrieveBatch(queries, row: batch ? { "--query (row \($0))" } : nil) {
      try engine.retrieve(batch: $0)
    }
    let results = queryResults(retrieved, dotProduct: vectorDivergence == .dotProduct)
    var states: [Double] = []
    states.reserveCapacity(queries.count * dimension)
    for result in retrieved { states += result.state }

    if let output {
      let shape = batch ? [queries.count, dimension] : [dimension]
      try attributing("--output") {
        try NPY.write(try NumPyArray(shape: shape, doubles: states), to: output)
      }
    }
    try report(
      results, patterns: patterns.count,
      shape: "\(patterns.count) vectors of dimension \(dimension)", dimension: dimension,
      divergence: vectorDivergence.rawValue, geometry: vectorGeometry.rawValue, separationName: map.name)
  }

  func runClouds(stored: [PointCloud]? = nil, storedEpsilon: Double? = nil) throws {
    let stoppingRule = try stopping.rule(forClouds: true)
    let divergence = divergence ?? .sinkhorn
    guard divergence == .sinkhorn else {
      throw CLIError(
        "--divergence", "\(divergence.rawValue) is for vector memories; point clouds take sinkhorn")
    }
    let geometry = geometry ?? .shk
    let patterns = try stored ?? Inputs.clouds(memory, option: "--memory").clouds
    let (queries, batch) = try Inputs.clouds(query, option: "--query")
    let dimension = patterns[0].dimension
    for (i, pattern) in patterns.enumerated() where pattern.dimension != dimension {
      throw CLIError(
        "--memory", "\(memory): cloud \(i) has dimension \(pattern.dimension), cloud 0 has \(dimension)")
    }
    guard queries[0].dimension == dimension else {
      throw CLIError(
        "--query", "\(query): atoms have dimension \(queries[0].dimension), the memory's have \(dimension)")
    }
    let map = try separationMap(patternCount: patterns.count)
    let cost = try groundCost.make()
    if stored != nil, !(cost is SquaredEuclideanCost) {
      throw CLIError(
        "--cost",
        "\(memory) is a memory file, prepared for the squared-euclidean cost; give the clouds as a .npz to retrieve with another cost"
      )
    }
    let retriever = try CloudEngines.make(
      patterns: patterns, geometry: geometry, separation: map, beta: beta, epsilon: epsilon ?? storedEpsilon,
      step: step, hellingerScale: hellingerScale, cost: cost, stopping: stoppingRule, pruning: pruning.pruning
    )
    let retrieved = try retrieveBatch(queries, row: batch ? { "--query (cloud \($0))" } : nil) {
      try retriever.retrieve(batch: $0)
    }
    let results = queryResults(retrieved, dotProduct: geometry == .euclidean)
    let finals = retrieved.map(\.state)
    if let output { try Inputs.writeClouds(finals, batch: batch, to: output, option: "--output") }
    try report(
      results, patterns: patterns.count, shape: "\(patterns.count) point clouds in R^\(dimension)",
      dimension: dimension,
      // The Euclidean baseline stacks the atoms and runs the classic network (dot product).
      divergence: geometry == .euclidean ? "dot-product" : divergence.rawValue,
      geometry: retriever.description,
      separationName: map.name, baseline: geometry == .euclidean ? "stacked-euclidean" : nil)
  }

  func runGaussians(stored: [Gaussian]? = nil) throws {
    try groundCost.requireAbsent("applies to point-cloud memories only")
    let stoppingRule = try stopping.rule()
    if let divergence {
      throw CLIError(
        "--divergence",
        "\(divergence.rawValue) does not apply: Gaussians use bures-wasserstein (W2^2); --geometry euclidean runs the Eu-DAM baseline"
      )
    }
    if epsilon != nil { throw CLIError("--epsilon", "applies to --divergence sinkhorn (point clouds) only") }
    if hellingerScale != nil {
      throw CLIError("--hellinger-scale", "applies to --geometry shk (point clouds) only")
    }
    let geometry = geometry ?? .buresWasserstein
    let patterns = try stored ?? GaussianInputs.gaussians(memory, option: "--memory").gaussians
    let (queries, batch) = try GaussianInputs.gaussians(query, option: "--query")
    let dimension = patterns[0].dimension
    guard queries[0].dimension == dimension else {
      throw CLIError(
        "--query",
        "\(query): Gaussians have dimension \(queries[0].dimension), the memory's have \(dimension)")
    }
    let map = try separationMap(patternCount: patterns.count)
    let retriever = try GaussianEngines.make(
      patterns: patterns, geometry: geometry, separation: map, beta: beta, step: step, stopping: stoppingRule,
      pruning: pruning.pruning)
    let retrieved = try retrieveBatch(queries, row: batch ? { "--query (Gaussian \($0))" } : nil) {
      try retriever.retrieve($0)
    }
    let results = queryResults(retrieved)
    let finals = retrieved.map(\.state)
    if let output { try GaussianInputs.write(finals, to: output, option: "--output") }
    try report(
      results, patterns: patterns.count, shape: "\(patterns.count) Gaussians in R^\(dimension)",
      dimension: dimension,
      divergence: geometry == .euclidean ? "squared-euclidean" : "bures-wasserstein",
      geometry: retriever.description, separationName: map.name,
      baseline: geometry == .euclidean ? "stacked-euclidean" : nil)
  }

  /// Retrieves every query together, with progress on a terminal; a failure is attributed to
  /// `--query` (or, in a batch, to the failing query's `row(i)`), or to `--k`.
  func retrieveBatch<State>(
    _ queries: [State], row: ((Int) -> String)?, _ retrieve: ([State]) throws -> [RetrievalResult<State>]
  ) throws(CLIError) -> [RetrievalResult<State>] {
    Terminal.progress("retrieve: \(queries.count) \(queries.count == 1 ? "query" : "queries") together")
    defer { Terminal.endProgress() }
    do {
      return try retrieve(queries)
    } catch let error as DAMError where error.argument.hasPrefix("queries[") {
      // The library names the failing query by its position: queries[i] or queries[i] (argument).
      let argument = error.argument.dropFirst("queries[".count)
      let index = Int(argument.prefix { $0.isNumber }) ?? 0
      let rest = argument.drop { $0.isNumber }.dropFirst()
      let inner = rest.hasPrefix(" (") ? String(rest.dropFirst(2).dropLast()) : "query"
      if inner == "k" { throw CLIError("--k", error.message) }
      throw CLIError(row?(index) ?? "--query", error.renamingArgument { _ in inner })
    } catch let error as DAMError where error.argument == "k" {
      throw CLIError("--k", error.message)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("--query", error)
    }
  }

  func report(
    _ results: [QueryResult], patterns: Int, shape: String, dimension: Int, divergence: String,
    geometry: String,
    separationName: String, baseline: String? = nil
  ) throws {
    if format.json {
      try JSONOutput.print(
        Report(
          memory: memory, patterns: patterns, dimension: dimension, baseline: baseline,
          divergence: divergence,
          separation: separationName, geometry: geometry, beta: beta, pruning: pruning.label, results: results
        ))
    } else {
      print(
        "memory: \(shape); \(baseline.map { "\($0) baseline, " } ?? "")\(divergence), \(separationName), \(geometry), beta = \(beta), pruning \(pruning.label)"
      )
      var table = Table(
        header: [
          "query", "pattern", "steps", "stopped", "energy", "top weight", "evaluations", "dropped weight",
        ])
      for r in results {
        table.append([
          "\(r.query)", "\(r.patternIndex)", "\(r.steps)", r.stopReason.rawValue,
          Table.format(r.energy.last ?? .nan), Table.format(r.topWeight), "\(r.evaluations)",
          Table.format(r.droppedWeightBound),
        ])
      }
      print(table.markdown)
      if let output { print("final states written to \(output)") }
    }
  }
}
