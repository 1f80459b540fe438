import DAM

/// What `dam compare` runs: the comparisons of a memory file or of the built-in workloads, run
/// one after the other, and the report folder they fill.
package enum CompareRun {
  /// The comparisons of the memory file `memory` (its queries and targets, or queries made from
  /// its patterns with `settings.noise`), or of the built-in `workloads` (all four when empty),
  /// each with the engines whose geometries `settings` keeps.
  ///
  /// - Throws: ``CLIError`` naming `--geometry` when none of the kept geometries applies,
  ///   `--count` when a family has no queries, or the input at fault.
  package static func comparisons(
    memory: String?, queries: String?, targets: String?, workloads: [BuiltInWorkload],
    settings: CompareSettings
  ) throws -> [AnyComparison] {
    var comparisons: [AnyComparison] = []
    if let memory {
      guard
        let comparison = try CompareFiles.comparison(
          memory: memory, queries: queries, targets: targets, settings: settings)
      else { throw CLIError("--geometry", "none of the given geometries applies to \(memory)") }
      comparisons.append(comparison)
    } else {
      for workload in workloads.isEmpty ? BuiltInWorkload.allCases : workloads {
        if let comparison = try workload.comparison(settings) { comparisons.append(comparison) }
      }
      guard !comparisons.isEmpty else {
        throw CLIError("--geometry", "none of the given geometries applies to the chosen workloads")
      }
    }
    for comparison in comparisons where comparison.queryCount == 0 {
      throw CLIError("--count", "no queries for \(comparison.family)")
    }
    return comparisons
  }

  /// Runs `comparisons` in order, with progress on a terminal, and writes the report of their
  /// outcomes to `folder` (``CompareReport/write(_:to:command:seed:seconds:load:)``).
  ///
  /// - Returns: the outcomes, and the wall time of the runs in seconds.
  package static func run(
    _ comparisons: [AnyComparison], seed: UInt64, report folder: String, command: String
  ) throws
    -> (outcomes: [FamilyOutcome], seconds: Double)
  {
    let load = CompareReport.loadAverage()
    let start = Terminal.now()
    var outcomes: [FamilyOutcome] = []
    for comparison in comparisons {
      outcomes.append(try comparison.run { Terminal.progress($0) })
    }
    Terminal.endProgress()
    let seconds = Terminal.now() - start
    try CompareReport.write(outcomes, to: folder, command: command, seed: seed, seconds: seconds, load: load)
    return (outcomes, seconds)
  }
}
