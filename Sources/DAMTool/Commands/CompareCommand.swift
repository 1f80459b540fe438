import ArgumentParser
import DAM
import DAMExperiments

struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Run several retrieval engines side by side on the same memories and queries.",
    discussion: """
      Crosses divergence and geometry (per family), separation map and beta, runs every engine on \
      the same seeded queries, and judges every final state by one reference divergence per family \
      (squared Euclidean for vectors, the Sinkhorn divergence for point clouds, W2^2 for Gaussians, \
      the grid Sinkhorn divergence for grid histograms): \
      a retrieval succeeds when the final state is nearest to the pattern the query was made from. \
      Reports success (Wilson 95% interval), steps, time per retrieval, the final divergence to the \
      target and the support size of the final weights, as Markdown, CSV, JSON and SVG (success \
      against beta, energy per step, one trajectory picture per family) in --report.

      Built-in workloads (the default runs all four): digits (1,797 handwritten digits, pixel noise), \
      gaussian-clouds (the Sinkhorn-SHK paper's Experiment 2, atoms permuted), wasserstein-sphere \
      (the BW-DAM paper's synthetic Gaussians), grid-digits (ten digits upsampled to 16 x 16 as grid \
      histograms, a quarter masked and noisy). Your own data: --memory (the layouts of dam \
      retrieve) with --queries and --targets, or with --noise to make queries from stored patterns.
      """)

  @Option(
    name: .customLong("workload"), parsing: .upToNextOption,
    help: "Built-in workloads to run (default: all four).")
  var workloads: [BuiltInWorkload] = []

  @Option(
    help: ArgumentHelp(
      "Your stored patterns: .npy (N, D) vectors, or .npz point clouds or Gaussians (as for dam retrieve).",
      valueName: "path"))
  var memory: String?

  @Option(help: ArgumentHelp("Your queries, in the memory's format (a batch).", valueName: "path"))
  var queries: String?

  @Option(
    help: ArgumentHelp(
      "A .npy of integers: the index of the stored pattern each query should recall.", valueName: "path"))
  var targets: String?

  @Option(
    parsing: .unconditional,
    help:
      "Corruption of the queries made from stored patterns: the sd of Gaussian noise on coordinates (vectors, points) or the W2 distance of the perturbation (Gaussians), the noise sd over the largest cell mass (grid-digits, after masking a quarter). Built-in defaults: 0.3, 0.2, sqrt(0.5), 0.25."
  )
  var noise: Double?

  @Option(
    parsing: .unconditional, help: "How many queries per family (built-in workloads, or made with --noise).")
  var count: Int?

  @Option(
    name: .customLong("beta"), parsing: .upToNextOption,
    help: "Inverse temperatures to cross (default per family).")
  var betas: [Double] = []

  @Option(
    name: .customLong("separation"), parsing: .upToNextOption,
    help:
      "Separation maps to cross (default: softmax sparsemax entmax for vectors, softmax sparsemax for point clouds and Gaussians; entmax is 1.5-entmax unless --alpha)."
  )
  var separations: [SeparationChoice] = []

  @OptionGroup(title: "Separation map parameters")
  var separationOptions: SeparationOptions

  @Option(
    name: .customLong("geometry"), parsing: .upToNextOption,
    help:
      "Keep only these geometries (default: fixed-point for vectors; shk, wasserstein, euclidean for point clouds; bures-wasserstein, euclidean for Gaussians; hellinger, barycentric, euclidean for grid histograms). The vector gradient step runs only when named here."
  )
  var geometries: [GeometryChoice] = []

  @Option(
    name: .customLong("vector-divergence"), parsing: .upToNextOption,
    help: "Vector divergences to cross (default: both).")
  var vectorDivergences: [VectorDivergenceChoice] = []

  @Option(
    parsing: .unconditional,
    help:
      "The entropic blur eps > 0 of the Sinkhorn divergence (default 0.1 on the built-in clouds, 2 squared pixels on grid-digits; required for your clouds)."
  )
  var epsilon: Double?

  @Option(
    parsing: .unconditional,
    help:
      "The largest number of steps per retrieval (default 100; 50 for point clouds, which stop earlier once the energy changes by at most 1e-5 for three steps; 5 for grid histograms)."
  )
  var maxSteps: Int?

  @Flag(
    help:
      "Keep the atoms of noisy point-cloud queries in the stored order (default: a random order; a cloud is a set)."
  )
  var keepAtomOrder = false

  @Option(parsing: .unconditional, help: "The seed of the data and the queries.")
  var seed: UInt64 = 1

  @Option(help: ArgumentHelp("The folder for the report (created if missing).", valueName: "path"))
  var report: String = "reports/compare"

  @Flag(help: "A reduced run for smoke tests (fewer queries and temperatures; the same code paths).")
  var quick = false

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Which patterns the engines may skip: none, exact (results identical to none) or a softmax dropped-mass bound MASS in [0, 1) (see dam retrieve --help).",
      valueName: "none|exact|MASS"))
  var pruning = PruningChoice(.none)

  @Flag(help: "Print the rows as JSON on standard output instead of the summary.")
  var json = false

  @Option(
    help: ArgumentHelp(
      """
      Redraw the success and energy figures of a report folder from its results.json instead of \
      running (the trajectory pictures need the retrievals and are left as they are).
      """, valueName: "path"))
  var replot: String?

  func validate() throws {
    if let replot {
      // A redraw runs nothing: options that choose what to run would be silently ignored.
      for (given, option) in [
        (quick, "--quick"), (json, "--json"), (memory != nil, "--memory"), (!workloads.isEmpty, "--workload"),
      ] where given {
        throw CLIError("--replot", "redraws a finished report and runs nothing; drop \(option)")
      }
      try OutputPath.checkFolder(replot, option: "--replot")
      return
    }
    if memory != nil && !workloads.isEmpty {
      throw CLIError("--workload", "give either built-in workloads or --memory, not both")
    }
    if memory == nil && (queries != nil || targets != nil) {
      throw CLIError(queries != nil ? "--queries" : "--targets", "applies with --memory only")
    }
    if let count, count < 1 { throw CLIError("--count", "must be >= 1, got \(count)") }
    if let count {
      // A lower bound (each query's index; the queries and their results take far more), enough to
      // refuse a count no machine could hold before a list of that many is made.
      try requireMemory(
        "--count", bytes: ResourceLimits.bytes([count], elementSize: 8),
        "\(count) queries per family (at least 8 bytes each)")
    }
    for beta in betas { try checkInverseTemperature(beta) }
    try pruning.check()
    try CompareSettings.checkNoise(noise)
    if let epsilon, !(epsilon.isFinite && epsilon > 0) {
      throw CLIError("--epsilon", "must be a finite number > 0, got \(epsilon)")
    }
    if let maxSteps, maxSteps < 1 { throw CLIError("--max-steps", "must be >= 1, got \(maxSteps)") }
    try OutputPath.checkFolder(report, option: "--report")
  }

  func settings() throws -> CompareSettings {
    let o = separationOptions
    let maps = try CompareSettings.separationMaps(separations, alpha: o.alpha, k: o.k, pairwise: o.pairwise)
    return CompareSettings(
      betas: betas.isEmpty ? nil : betas, separations: maps,
      geometries: geometries.isEmpty ? nil : geometries,
      vectorDivergences: vectorDivergences.isEmpty ? nil : vectorDivergences, count: count, seed: seed,
      maxSteps: maxSteps, epsilon: epsilon, noise: noise, keepAtomOrder: keepAtomOrder, quick: quick,
      pruning: pruning.pruning)
  }

  func run() throws {
    if let folder = replot {
      let files = try CompareReport.replot(folder: folder)
      try ReportFolder(path: folder).write(files)
      print("Redrew \(files.keys.sorted().joined(separator: ", ")) in \(folder)/")
      return
    }
    let settings = try settings()
    let comparisons = try CompareRun.comparisons(
      memory: memory, queries: queries, targets: targets, workloads: workloads, settings: settings)
    let (outcomes, seconds) = try CompareRun.run(
      comparisons, seed: seed, report: report, command: commandLine())
    if json {
      try JSONOutput.print(outcomes.flatMap(\.rows))
    } else {
      print(CompareReport.terminalSummary(outcomes, report: report, seconds: seconds))
    }
  }

  /// The command as typed, for the report (arguments containing spaces are quoted).
  func commandLine() -> String {
    let arguments = CommandLine.arguments.dropFirst().map { $0.contains(" ") ? "'\($0)'" : $0 }
    return (["dam"] + arguments).joined(separator: " ")
  }
}
