import ArgumentParser

/// A reproduction that writes a report folder. (A plain registry of values rather than protocol
/// metatypes: Swift 6.3.1's SILGen crashes on static members read through `any P.Type` here.)
struct Experiment: Sendable {
  var name: String
  var summary: String
  var run: @Sendable (_ report: String, _ trials: Int, _ seed: UInt64, _ quick: Bool) throws -> Void
}

struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "experiment",
    abstract: "Run a reproduction of a paper's experiment into a report folder (Markdown, CSV, JSON, SVG).",
    discussion: "Use --list to see the experiments. Progress goes to standard error when it is a terminal.")

  static let experiments: [Experiment] = [
    Experiment(name: GaussianCloudsExperiment.name, summary: GaussianCloudsExperiment.summary) {
      try GaussianCloudsExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: RandomPatternsExperiment.name, summary: RandomPatternsExperiment.summary) {
      try RandomPatternsExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: WeightedDigitsExperiment.name, summary: WeightedDigitsExperiment.summary) {
      try WeightedDigitsExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: HopfieldBasinsExperiment.name, summary: HopfieldBasinsExperiment.summary) {
      try HopfieldBasinsExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: BWDAMSyntheticExperiment.name, summary: BWDAMSyntheticExperiment.summary) {
      try BWDAMSyntheticExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: BWDAMOneStepExperiment.name, summary: BWDAMOneStepExperiment.summary) {
      try BWDAMOneStepExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: BWDAMCapacityExperiment.name, summary: BWDAMCapacityExperiment.summary) {
      try BWDAMCapacityExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: BWDAMEllipsesExperiment.name, summary: BWDAMEllipsesExperiment.summary) {
      try BWDAMEllipsesExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: MetastableStatesExperiment.name, summary: MetastableStatesExperiment.summary) {
      try MetastableStatesExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
    Experiment(name: GridImagesExperiment.name, summary: GridImagesExperiment.summary) {
      try GridImagesExperiment.run(report: $0, trials: $1, seed: $2, quick: $3)
    },
  ]

  @Argument(help: "The experiment to run (see --list).")
  var name: String?

  @Flag(help: "List the experiments and exit.")
  var list = false

  @Option(help: ArgumentHelp("The report folder (default reports/<name>).", valueName: "path"))
  var report: String?

  @Option(parsing: .unconditional, help: "Seeded trials per configuration.")
  var trials: Int = 200

  @Option(parsing: .unconditional, help: "The base seed; trial t uses seed + t.")
  var seed: UInt64 = 1

  @Flag(help: "A reduced grid for smoke tests (fewer settings; the same code paths).")
  var quick = false

  func validate() throws {
    guard trials >= 1 else { throw CLIError("--trials", "must be >= 1, got \(trials)") }
    if !list {
      guard let name else { throw CLIError("name", "missing; use --list to see the experiments") }
      guard Self.experiments.contains(where: { $0.name == name }) else {
        throw CLIError(
          "name", "unknown experiment '\(name)'; available: \(Self.experiments.map(\.name).joined(separator: ", "))")
      }
      try OutputPath.checkFolder(report ?? "reports/\(name)", option: "--report")
    }
  }

  func run() throws {
    if list {
      for experiment in Self.experiments { print("\(experiment.name)  \(experiment.summary)") }
      return
    }
    guard let name, let experiment = Self.experiments.first(where: { $0.name == name }) else { return }
    try experiment.run(report ?? "reports/\(name)", trials, seed, quick)
  }
}
