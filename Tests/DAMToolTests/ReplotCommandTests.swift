import Foundation
import Testing

/// `--replot` of `dam experiment` and `dam compare`: what it cannot redraw is refused, naming the
/// option and the problem, and nothing is written. (That a redraw equals the run's figures is
/// checked where the runs are: `ExperimentRunTests` and `CompareCommandTests`.)
struct ReplotCommandTests {
  @Test func refusesWhatItCannotRedraw() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    for name in ["empty", "other"] {
      try FileManager.default.createDirectory(atPath: folder.path(name), withIntermediateDirectories: true)
    }
    try Data("[{\"x\": 1}]".utf8).write(to: URL(fileURLWithPath: folder.path("other/results.json")))
    let cases: [([String], String)] = [
      (["experiment", "bw-dam-capacity", "--replot", folder.path("empty")], "is missing"),
      (["experiment", "bw-dam-capacity", "--replot", folder.path("other")], "does not hold"),
      (["experiment", "hopfield-basins", "--replot", folder.path("empty")], "rerun it"),
      (["experiment", "bw-dam-capacity", "--replot", folder.path("empty"), "--quick"], "drop --quick"),
      (["compare", "--replot", folder.path("empty")], "is missing"),
      (["compare", "--replot", folder.path("other")], "does not hold"),
      (["compare", "--replot", folder.path("empty"), "--quick"], "drop --quick"),
    ]
    for (arguments, message) in cases {
      let run = try DamProcess.run(arguments)
      #expect(run.status != 0, "\(arguments)")
      #expect(run.stderr.contains("--replot") && run.stderr.contains(message), "\(arguments): \(run.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("empty")).isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("other")) == ["results.json"])
  }
}
