import Foundation

/// A folder of report files, each written whole (temporary file, then rename).
package struct ReportFolder {
  package var path: String

  package init(path: String) { self.path = path }

  package func write(_ files: [String: String]) throws(CLIError) {
    try attributing("--report") {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      for (name, contents) in files.sorted(by: { $0.key < $1.key }) {
        try Data(contents.utf8).write(
          to: URL(fileURLWithPath: path).appendingPathComponent(name), options: .atomic)
      }
    }
  }

  package func writeJSON<T: Encodable>(_ name: String, _ value: T) throws(CLIError) {
    try attributing("--report") {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
      // A mean over no successful retrieval is NaN, as in the CSV: written as the string "nan"
      // (JSON has no NaN), not an encoding failure after the other files were written.
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      try encoder.encode(value).write(
        to: URL(fileURLWithPath: path).appendingPathComponent(name), options: .atomic)
    }
  }
}
