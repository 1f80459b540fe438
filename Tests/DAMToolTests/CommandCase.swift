import Testing

/// One row of the tables of command lines that `dam` must refuse (BadInputCommandTests,
/// NumericalRangeCommandTests, ResourceLimitCommandTests, OutputRefusalTests): the arguments,
/// with `$` for the test's folder, and what the error message must say.
struct CommandCase: Sendable, CustomTestStringConvertible {
  var name: String
  var arguments: [String]
  /// Substrings the error message must contain, the first being what it names first (the
  /// option, or a positional file's path): see `DamProcess.Output.expectRefusal`.
  var expected: [String]
  /// Environment variables of the run (the memory limit of ResourceLimitCommandTests).
  var environment: [String: String] = [:]
  /// Whether the row needs a character device node in the folder (made with mknod, as root).
  var needsDevice = false
  var testDescription: String { name }
}
