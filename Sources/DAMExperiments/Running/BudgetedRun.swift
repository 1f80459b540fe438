import DAM

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The time and iteration limits of a command (`--time-limit`, `--iteration-limit`) and its
/// progress line on a terminal: a ``WorkBudget`` around the command's work.
package enum BudgetedRun {
  /// Runs `body` under a budget of `timeLimit` seconds and `iterationLimit` iterations (either
  /// nil for none). When standard error is a terminal (and `showProgress`), the budget's progress
  /// reports rewrite one line there, cleared at the end; otherwise nothing is written. When the
  /// budget runs out, the error names the option that set it, whatever the layers in between
  /// made of the library's error; `body` has then written nothing (commands write their outputs
  /// after the work).
  package static func run<T>(
    _ command: String, timeLimit: Double?, iterationLimit: Int?,
    showProgress: Bool = Terminal.stderrIsTerminal, _ body: () throws -> T
  ) throws -> T {
    // Nothing to bound or show: no budget at all, so the work runs exactly as without one.
    if timeLimit == nil, iterationLimit == nil, !showProgress { return try body() }
    var report: (@Sendable (WorkProgress) -> Void)? = nil
    if showProgress {
      let width = terminalWidth()
      report = { @Sendable progress in
        Terminal.progress(String(progressLine(command, progress).prefix(max(20, width - 1))))
      }
    }
    let budget: WorkBudget
    do {
      budget = try WorkBudget(timeLimit: timeLimit, iterationLimit: iterationLimit, progress: report)
    } catch {
      throw CLIError(error.argument == "iterationLimit" ? "--iteration-limit" : "--time-limit", error.message)
    }
    defer { if showProgress { Terminal.endProgress() } }
    do {
      return try budget.run(body)
    } catch {
      guard let spent = budget.exceeded else { throw error }
      throw CLIError(option(for: spent), spent.message)
    }
  }

  /// The option that set the limit a budget error names.
  package static func option(for error: DAMError) -> String {
    error.argument.contains("iterationLimit") ? "--iteration-limit" : "--time-limit"
  }

  /// One progress line: the command, the seconds so far, the iterations counted and what is
  /// running, as `retrieve: 12.5 s, 4800 iterations: retrieval step 3 of at most 100, ...`.
  package static func progressLine(_ command: String, _ progress: WorkProgress) -> String {
    let seconds = (progress.elapsed * 10).rounded(.down) / 10
    return "\(command): \(seconds) s, \(progress.iterations) iterations: \(progress.activity)"
  }

  /// The columns of the terminal on standard error (80 when unknown): a progress line longer than
  /// that would wrap, and the carriage return that rewrites it would clear only its last row.
  private static func terminalWidth() -> Int {
    var size = winsize()
    guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
  }
}
