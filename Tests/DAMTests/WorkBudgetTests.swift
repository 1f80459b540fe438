import DAM
import DAMTestSupport
import Foundation
import Testing

/// `WorkBudget`: a time or iteration limit that runs out ends the work with a `DAMError` of kind
/// `budgetExceeded` naming the limit and what was running; a budget that does not run out
/// changes no result; progress is reported while the work runs.
struct WorkBudgetTests {
  static func clouds(_ count: Int, atoms: Int, seed: UInt64) throws -> [PointCloud] {
    var generator = SeededGenerator(seed: seed)
    return try (0..<count).map { i in
      try PointCloud(
        points: Matrix(
          rowArrays: (0..<atoms).map { _ in [Double(i) + generator.nextGaussian(), generator.nextGaussian()] }
        ))
    }
  }

  static func grid(_ shift: Int) throws -> GridHistogram {
    try GridHistogram(shape: [8, 8], intensities: (0..<64).map { Double(($0 + shift) % 7 + 1) })
  }

  /// Runs `body` under a budget that has already run out and returns the error it threw.
  static func spentError(iterationLimit: Int? = nil, _ body: () throws -> Void) throws -> DAMError {
    let budget = try WorkBudget(timeLimit: iterationLimit == nil ? 0 : nil, iterationLimit: iterationLimit)
    do {
      try budget.run(body)
    } catch let error as DAMError {
      // The error may come renamed by the layers it passed (`queries[0] (timeLimit)`).
      #expect(
        budget.exceeded?.message == error.message
          && error.argument.contains("timeLimit") == (iterationLimit == nil))
      return error
    }
    Issue.record("the work finished under a budget that had run out")
    return DAMError(.invalidArgument, argument: "none", "")
  }

  @Test func zeroTimeLimitStopsEveryFamily() throws {
    let cloudPatterns = try Self.clouds(3, atoms: 20, seed: 1)
    let cloudEngine = try RetrievalEngine(
      memory: Memory(divergence: SinkhornDivergence(epsilon: 0.1), patterns: cloudPatterns),
      separation: .softmax,
      geometry: SHKGeometry.wasserstein(), beta: 1, parallelism: 2)
    let vectorEngine = try RetrievalEngine(
      memory: Memory(
        divergence: .squaredEuclidean, patterns: TestData.unitVectors(count: 50, dimension: 8, seed: 2)),
      separation: .softmax, geometry: EuclideanGeometry(), beta: 4)
    let gaussianEngine = try RetrievalEngine(
      memory: Memory(
        divergence: BuresWassersteinDivergence(),
        patterns: [Gaussian(mean: [0, 0], variances: [1, 2]), Gaussian(mean: [3, 1], variances: [2, 1])]),
      separation: .softmax, geometry: BuresWassersteinGeometry(), beta: 1)
    let gridOptions = try GridSinkhornOptions(epsilon: 1)
    let gridEngine = try RetrievalEngine(
      memory: Memory(
        divergence: GridSinkhornDivergence(options: gridOptions), patterns: [Self.grid(0), Self.grid(3)]),
      separation: .softmax, geometry: GridBarycentricGeometry(options: gridOptions), beta: 1)
    let cases: [(String, String, () throws -> Void)] = [
      (
        "vectors", "retrieval step 1",
        { _ = try vectorEngine.retrieve(TestData.unitVectors(count: 1, dimension: 8, seed: 3)[0]) }
      ),
      ("clouds", "entropic transport solve", { _ = try cloudEngine.retrieve(cloudPatterns[1]) }),
      ("clouds, batch", "entropic transport solve", { _ = try cloudEngine.retrieve(batch: cloudPatterns) }),
      (
        // The first snapshot's batch of Bures-Wasserstein values comes before step 1's check.
        "Gaussians", "a Bures-Wasserstein batch, evaluating chunk 1 of 1",
        { _ = try gaussianEngine.retrieve(Gaussian(mean: [1, 1], variances: [1, 1])) }
      ),
      ("grids", "entropic transport solve", { _ = try gridEngine.retrieve(Self.grid(1)) }),
      (
        "Sinkhorn", "entropic transport solve",
        {
          _ = try Sinkhorn.divergence(
            cloudPatterns[0], cloudPatterns[1], options: SinkhornOptions(epsilon: 0.01))
        }
      ),
      (
        // n m >= 2^16: the soft-minimums give up their rows once the limit has passed.
        "Sinkhorn, log domain, 300 x 300", "entropic transport solve (300 x 300)",
        {
          let big = try Self.clouds(2, atoms: 300, seed: 7)
          _ = try Sinkhorn.transport(
            from: big[0], to: big[1], options: SinkhornOptions(epsilon: 0.01, backend: .logDomain))
        }
      ),
      (
        "grid barycenter", "grid barycenter",
        {
          _ = try GridSinkhorn.barycenter(of: [Self.grid(0), Self.grid(3)], options: gridOptions)
        }
      ),
    ]
    for (family, activity, body) in cases {
      let error = try Self.spentError(body)
      #expect(error.kind == .budgetExceeded, "\(family): \(error)")
      #expect(error.argument.contains("timeLimit"), "\(family): \(error)")
      #expect(error.message.contains("the time limit of 0.0 s ran out"), "\(family): \(error)")
      #expect(error.message.contains(activity), "\(family): \(error)")
    }
  }

  /// A memory being built or appended to under a spent budget throws and keeps its patterns.
  @Test func spentBudgetLeavesTheMemoryAsItWas() throws {
    let patterns = try Self.clouds(3, atoms: 30, seed: 4)
    var memory = try Memory(divergence: SinkhornDivergence(epsilon: 0.05), patterns: Array(patterns[0..<2]))
    let error = try Self.spentError { try memory.append(patterns[2]) }
    #expect(error.kind == .budgetExceeded)
    #expect(memory.count == 2)
  }

  /// The iteration limit counts solver iterations: a solve that needs more than the limit is
  /// stopped, one that needs fewer is not, and the budget does not change its result.
  @Test func iterationLimitCountsSolverIterations() throws {
    let clouds = try Self.clouds(2, atoms: 40, seed: 5)
    let options = try SinkhornOptions(
      epsilon: 0.01, tolerance: 1e-6, maxIterations: 3000, newton: false, allowsUnconverged: true)
    let plain = try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options)
    #expect(plain.iterations > 3 * WorkBudget.checkInterval)
    let error = try Self.spentError(iterationLimit: plain.iterations / 2) {
      _ = try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options)
    }
    #expect(error.argument.contains("iterationLimit"))
    #expect(error.message.contains("the limit of \(plain.iterations / 2) iterations ran out"))
    let budget = try WorkBudget(timeLimit: 600, iterationLimit: plain.iterations)
    let bounded = try budget.run { try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options) }
    #expect(bounded.value == plain.value)
    #expect(bounded.f == plain.f && bounded.g == plain.g)
    #expect(budget.exceeded == nil)
  }

  /// Progress is reported from inside a long solve, at most once per interval, with what runs.
  @Test func progressIsReportedWhileTheWorkRuns() throws {
    let clouds = try Self.clouds(2, atoms: 60, seed: 6)
    let reports = Reports()
    let budget = try WorkBudget(progressInterval: 1e-9) { reports.append($0) }
    _ = try budget.run {
      try Sinkhorn.transport(
        from: clouds[0], to: clouds[1],
        options: SinkhornOptions(
          epsilon: 0.005, tolerance: 1e-6, maxIterations: 2000, newton: false, allowsUnconverged: true))
    }
    let seen = reports.values
    #expect(!seen.isEmpty)
    #expect(seen.allSatisfy { $0.activity.contains("entropic transport solve (60 x 60)") })
    #expect(
      zip(seen, seen.dropFirst()).allSatisfy { $0.iterations < $1.iterations && $0.elapsed <= $1.elapsed })
  }

  @Test func invalidBudgetsAreRefused() {
    for (limits, argument) in [
      ((-1.0, nil as Int?, 0.25), "timeLimit"), ((Double.nan, nil, 0.25), "timeLimit"),
      ((Double.infinity, nil, 0.25), "timeLimit"), ((nil, -1, 0.25), "iterationLimit"),
      ((nil, nil, 0), "progressInterval"),
    ] as [((Double?, Int?, Double), String)] {
      #expect {
        _ = try WorkBudget(timeLimit: limits.0, iterationLimit: limits.1, progressInterval: limits.2)
      } throws: { ($0 as? DAMError)?.argument == argument }
    }
  }
}

/// Progress reports collected from any thread.
private final class Reports: @unchecked Sendable {
  private var list: [WorkProgress] = []
  private let lock = NSLock()
  func append(_ report: WorkProgress) { lock.withLock { list.append(report) } }
  var values: [WorkProgress] { lock.withLock { list } }
}
