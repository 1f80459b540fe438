import ArgumentParser
import DAMExperiments

/// `--time-limit` and `--iteration-limit`: bounds on a long command, which ends with an error
/// naming the limit (exit status 1, no output written) when one runs out. Progress goes to
/// standard error when it is a terminal.
struct BudgetOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Stop with an error, writing nothing, once the work has taken this many seconds (checked between solver iterations and retrieval steps).",
      valueName: "seconds"))
  var timeLimit: Double?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Stop with an error, writing nothing, once the Sinkhorn and barycenter iterations and retrieval steps add up to more than this (checked every iteration of a large solve, every 16 of a small one).",
      valueName: "count"))
  var iterationLimit: Int?

  func validate() throws {
    if let timeLimit, !(timeLimit >= 0 && timeLimit.isFinite) {
      throw CLIError("--time-limit", "must be a finite number of seconds >= 0, got \(timeLimit)")
    }
    if let iterationLimit, iterationLimit < 0 {
      throw CLIError("--iteration-limit", "must be >= 0, got \(iterationLimit)")
    }
  }

  /// Runs a command's work under the limits, with progress on a terminal (see ``BudgetedRun``).
  func run<T>(_ command: String, _ body: () throws -> T) throws -> T {
    try BudgetedRun.run(command, timeLimit: timeLimit, iterationLimit: iterationLimit, body)
  }
}
