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
    let bad = try DamProcess.run(["demo", "--queries", "0", "--report", folder.path("other")])
    #expect(bad.status != 0)
    #expect(bad.stderr.contains("--queries"))
    #expect(!folder.exists("other"))
  }
}
