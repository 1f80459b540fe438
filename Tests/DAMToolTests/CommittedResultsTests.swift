import Foundation
import Testing

/// The committed reports in Docs/results name the exact command (`dam`, or the gradients guide's
/// `learn-patterns`), the seed and the machine they came from; each `dam experiment` report is a listed experiment, and the index mentions it.
struct CommittedResultsTests {
  static let results = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Docs/results")

  static func folders() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: results.path).filter { name in
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(
        atPath: results.appendingPathComponent(name).path, isDirectory: &isDirectory)
        && isDirectory.boolValue
    }.sorted()
  }

  @Test func everyReportNamesItsCommandSeedAndMachine() throws {
    let folders = try Self.folders()
    #expect(folders.contains("compare"), "the main job's report is committed")
    let listing = try DamProcess.run(["experiment", "--list"])
    #expect(listing.status == 0)
    let index = try String(contentsOf: Self.results.appendingPathComponent("README.md"), encoding: .utf8)
    for folder in folders {
      let summary = try String(
        contentsOf: Self.results.appendingPathComponent(folder).appendingPathComponent("summary.md"),
        encoding: .utf8)
      // Written by `dam`, or by the worked example of Docs/gradients.md.
      let line = try #require(
        summary.split(separator: "\n").first {
          $0.hasPrefix("Command: `dam ") || $0.hasPrefix("Command: `swift run -c release learn-patterns ")
        }, "\(folder)")
      #expect(line.contains("seed"), "\(folder): the seed is named")
      #expect(line.contains("logical cores"), "\(folder): the machine is named")
      if line.hasPrefix("Command: `dam experiment ") {
        #expect(
          line.hasPrefix("Command: `dam experiment \(folder)"),
          "\(folder): the folder is the experiment's name")
        #expect(listing.stdout.contains("\(folder) "), "\(folder) is listed by dam experiment --list")
      }
      #expect(index.contains("`\(folder)/`"), "\(folder) is in Docs/results/README.md")
    }
  }
}
