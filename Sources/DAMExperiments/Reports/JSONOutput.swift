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
    } catch {
      throw CLIError("--json", "could not encode the result: \(error)")
    }
  }
}
