import ArgumentParser
import DAM
import DAMExperiments

struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "experiment",
    abstract: "Run a reproduction of a paper's experiment into a report folder (Markdown, CSV, JSON, SVG).",
    discussion: "Use --list to see the experiments. Progress goes to standard error when it is a terminal.")

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

  @Option(
    help: ArgumentHelp(
      """
      Redraw the figures of a report folder that this experiment wrote, from its results.json, \
      without rerunning it (figures that need the retrievals are left as they are; see Docs/cli.md).
      """, valueName: "path"))
  var replot: String?

  /// The most bytes an experiment keeps per trial of one configuration, all at once: the
  /// outcome slots of its parallel trials (32 bytes in the Sinkhorn-SHK experiments, 2 in
  /// bw-dam-capacity, 1.6 in shk-random-patterns, measured from the allocations that
  /// `--trials 1000000000000` asked for on 2026-12-08).
  static let bytesPerTrial = 32

  func validate() throws {
    guard trials >= 1 else { throw CLIError("--trials", "must be >= 1, got \(trials)") }
    try requireMemory(
      "--trials", bytes: ResourceLimits.bytes([trials], elementSize: Self.bytesPerTrial),
      "a run of \(trials) trials (an outcome of up to \(Self.bytesPerTrial) bytes kept per trial of a configuration)"
    )
    if !list {
      guard let name else { throw CLIError("name", "missing; use --list to see the experiments") }
      guard Experiment.all.contains(where: { $0.name == name }) else {
        throw CLIError(
          "name",
          "unknown experiment '\(name)'; available: \(Experiment.all.map(\.name).joined(separator: ", "))")
      }
      if let replot {
        if report != nil { throw CLIError("--replot", "redraws the folder it names; drop --report") }
        if quick { throw CLIError("--replot", "redraws a finished report; drop --quick") }
        guard Experiment.named(name)?.replot != nil else {
          throw CLIError(
            "--replot", "\(name) draws its figures from the retrievals, not from results.json: rerun it")
        }
        try OutputPath.checkFolder(replot, option: "--replot")
      } else {
        try OutputPath.checkFolder(report ?? "reports/\(name)", option: "--report")
      }
    }
  }

  func run() throws {
    if list {
      for experiment in Experiment.all { print("\(experiment.name)  \(experiment.summary)") }
      return
    }
    guard let name, let experiment = Experiment.all.first(where: { $0.name == name }) else { return }
    if let folder = replot, let redraw = experiment.replot {
      let files = try redraw(folder, seed)
      try ReportFolder(path: folder).write(files)
      print("Redrew \(files.keys.sorted().joined(separator: ", ")) in \(folder)/")
      return
    }
    try experiment.run(report ?? "reports/\(name)", trials, seed, quick)
  }
}
