import Foundation

/// Writes a value as JSON on standard output (keys sorted, so output is stable).
package enum JSONOutput {
  package static func print<T: Encodable>(_ value: T) throws(CLIError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      let data = try encoder.encode(value)
      FileHandle.standardOutput.write(data)
      FileHandle.standardOutput.write(Data("\n".utf8))
    } catch EncodingError.invalidValue(let bad, let context) {
      // A non-finite number in the result (JSON has none): the inputs' fault, not --json's. The
      // commands refuse non-finite results before printing; this names any that gets through.
      let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      throw CLIError(
        "result",
        "\(path.isEmpty ? "a value" : "'" + path.drop { $0 == "." } + "'") is \(bad), not a finite number: the inputs are out of the range this computation can take"
      )
    } catch {
      throw CLIError("--json", "could not encode the result: \(error)")
    }
  }
}
