import Foundation
import Testing

struct ExperimentCommandTests {
  @Test func listsEveryReproduction() throws {
    let run = try DamProcess.run(["experiment", "--list"])
    #expect(run.status == 0)
    for name in [
      "shk-gaussian-clouds", "shk-random-patterns", "shk-weighted-digits", "hopfield-basins",
      "hopfield-metastable-states", "bw-dam-synthetic", "bw-dam-one-step", "bw-dam-capacity",
      "bw-dam-ellipses",
    ] {
      #expect(run.stdout.contains(name), "\(name) is listed")
    }
  }

  @Test func unknownExperimentIsRefused() throws {
    let run = try DamProcess.run(["experiment", "no-such-thing"])
    #expect(run.status != 0)
    #expect(run.stderr.contains("unknown experiment"))
  }

  /// The fast reproductions run end to end in quick mode and write their reports.
  @Test(arguments: [
    ("hopfield-basins", ["summary.md", "basins.svg", "results.json"]),
    ("shk-random-patterns", ["summary.md", "results.csv", "results.json", "recall.svg"]),
    ("bw-dam-synthetic", ["summary.md", "results.csv", "results.json", "retrieval.svg", "drifts.json"]),
    ("bw-dam-one-step", ["summary.md", "results.csv", "results.json", "one-step.svg"]),
    ("bw-dam-capacity", ["summary.md", "results.csv", "results.json", "capacity.svg"]),
    ("bw-dam-ellipses", ["summary.md", "results.csv", "results.json", "ellipses.svg"]),
  ])
  func quickRunWritesTheReport(name: String, files: [String]) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let run = try DamProcess.run(["experiment", name, "--quick", "--trials", "40", "--report", folder.path("report")])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    for file in files { #expect(folder.exists("report/\(file)"), "\(file) written") }
    let summary = try String(contentsOfFile: folder.path("report/summary.md"), encoding: .utf8)
    #expect(summary.contains("Command: `dam experiment \(name)"))
  }
}
