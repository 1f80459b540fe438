import ArgumentParser
import DAM
import DAMDatasets
import DAMExperiments
import Foundation

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Recall corrupted handwritten digits from a memory of all 1,797, side by side (vectors only).",
    discussion: """
      Stores the 1,797 built-in 8x8 digits (pixels scaled to [0, 1]) as vectors in R^64, corrupts \
      a seeded sample of them (Gaussian pixel noise; the bottom half of the image erased) and \
      recalls each with softmax retrieval under two divergences (squared Euclidean and the classic \
      dot product) over a range of beta. Reports, per engine: exact recall (the final state is \
      nearest to the very image that was corrupted) with a Wilson 95% interval, class recall, \
      steps, time per query, and the effective number of patterns in the final weights, 1/sum(w^2) \
      (1 = a clean recall, more = a metastable blend of patterns). Writes a Markdown summary, CSV, JSON and \
      SVG figures into --report.
      """)

  @Option(
    parsing: .unconditional, help: "How many stored digits to corrupt and recall, per corruption and engine.")
  var queries: Int = 200

  @Option(parsing: .unconditional, help: "The seed of the query sample and the noise.")
  var seed: UInt64 = 1

  @Option(parsing: .unconditional, help: "The standard deviation of the pixel noise (pixels are in [0, 1]).")
  var noise: Double = 0.3

  @Option(help: ArgumentHelp("The folder for the report (created if missing).", valueName: "path"))
  var report: String = "reports/demo"

  @Flag(help: "Print the results as JSON on standard output instead of the table.")
  var json = false

  func validate() throws {
    guard (1...1797).contains(queries) else {
      throw CLIError("--queries", "must be in 1...1797, got \(queries)")
    }
    guard noise.isFinite, noise >= 0 else {
      throw CLIError("--noise", "must be a finite number >= 0, got \(noise)")
    }
    try OutputPath.checkFolder(report, option: "--report")
  }

  func run() throws {
    try DigitsDemo(queries: queries, seed: seed, noise: noise, report: report, json: json).run()
  }
}
