import DAM
import DAMExperiments
import Testing

/// The command-line side of `WorkBudget`: the progress line's format and the attribution of a
/// spent budget to the option that set it, whatever the command made of the library's error.
struct BudgetedRunTests {
  @Test func progressLineNamesTheCommandTimeIterationsAndActivity() {
    let line = BudgetedRun.progressLine(
      "retrieve", WorkProgress(activity: "retrieval step 3 of at most 100", elapsed: 12.57, iterations: 4800))
    #expect(line == "retrieve: 12.5 s, 4800 iterations: retrieval step 3 of at most 100")
  }

  static func clouds() throws -> (PointCloud, PointCloud) {
    var generator = SeededGenerator(seed: 9)
    func cloud(_ shift: Double) throws -> PointCloud {
      try PointCloud(
        points: Matrix(
          rowArrays: (0..<30).map { _ in [generator.nextGaussian() + shift, generator.nextGaussian()] }))
    }
    return (try cloud(0), try cloud(1))
  }

  @Test func spentBudgetIsAttributedToItsOptionEvenWhenTheCommandRenamedTheError() throws {
    let (x, y) = try Self.clouds()
    for (time, count, option, text) in [
      (0.0 as Double?, nil as Int?, "--time-limit", "the time limit of 0.0 s ran out"),
      (nil, 20, "--iteration-limit", "the limit of 20 iterations ran out"),
    ] {
      do {
        _ = try BudgetedRun.run(
          "divergence sinkhorn", timeLimit: time, iterationLimit: count, showProgress: false
        ) {
          // As `attributingSolve` does: any solver error becomes a --max-iterations error.
          try attributingSolve { try Sinkhorn.divergence(x, y, options: SinkhornOptions(epsilon: 0.01)) }
        }
        Issue.record("\(option): the solve finished under a spent budget")
      } catch let error as CLIError {
        #expect(error.description.hasPrefix("\(option): \(text)"), "\(error)")
        #expect(error.description.contains("entropic transport solve (30 x 30)"), "\(error)")
      }
    }
  }

  @Test func unspentBudgetReturnsTheResultAndKeepsOtherErrors() throws {
    let (x, y) = try Self.clouds()
    let options = try SinkhornOptions(epsilon: 0.1)
    let plain = try Sinkhorn.divergence(x, y, options: options)
    let bounded = try BudgetedRun.run("s", timeLimit: 600, iterationLimit: 1_000_000, showProgress: false) {
      try Sinkhorn.divergence(x, y, options: options)
    }
    #expect(bounded.value == plain.value)
    #expect {
      try BudgetedRun.run("s", timeLimit: 600, iterationLimit: nil, showProgress: false) {
        throw CLIError("--query", "is wrong")
      }
    } throws: { "\($0)" == "--query: is wrong" }
    #expect {
      try BudgetedRun.run("s", timeLimit: -1, iterationLimit: nil, showProgress: false) { 0 }
    } throws: { "\($0)".hasPrefix("--time-limit: ") }
  }
}
