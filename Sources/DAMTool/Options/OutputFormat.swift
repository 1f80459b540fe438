import ArgumentParser

/// `--json`: results as JSON on standard output (keys sorted) instead of text for reading.
struct OutputFormat: ParsableArguments {
  @Flag(help: "Print the results as JSON on standard output.")
  var json = false
}
