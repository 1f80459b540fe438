import Foundation
import Testing

struct DemoCommandTests {
  @Test func demoWritesItsReport() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let run = try DamProcess.run(["demo", "--queries", "10", "--report", folder.path("report"), "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let rows = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
    #expect(rows.count == 20, "2 divergences x 2 corruptions x 5 temperatures")
    for row in rows {
      let recall = try #require(row["exact_recall"] as? Double)
      let lower = try #require(row["exact_recall_lower"] as? Double)
      let upper = try #require(row["exact_recall_upper"] as? Double)
      #expect(lower <= recall && recall <= upper)
    }
    for name in ["summary.md", "results.csv", "results.json", "recall.svg", "examples.svg"] {
      #expect(folder.exists("report/\(name)"), "\(name) written")
    }
    // Refused like every other command's bad value: exit status 1 (64 is for a command line
    // that cannot be parsed), the message starting with the option.
    for (arguments, option) in [(["--queries", "0"], "--queries"), (["--noise", "nan"], "--noise")] {
      let bad = try DamProcess.run(["demo"] + arguments + ["--report", folder.path("other")])
      #expect(bad.status == 1, "\(bad.status): \(bad.stderr)")
      #expect(bad.stderr.hasPrefix("Error: \(option): "), "\(bad.stderr)")
      #expect(!folder.exists("other"))
    }
  }
}
