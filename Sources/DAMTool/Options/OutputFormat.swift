import ArgumentParser
import DAMExperiments

/// `--json`: results as JSON on standard output (keys sorted) instead of text for reading.
struct OutputFormat: ParsableArguments {
  @Flag(help: "Print the results as JSON on standard output.")
  var json = false

  /// Prints `report` as JSON with `--json`, else its plain `text`.
  func print<Report: Encodable>(_ report: Report, text: () -> String) throws {
    if json { try JSONOutput.print(report) } else { Swift.print(text()) }
  }
}
