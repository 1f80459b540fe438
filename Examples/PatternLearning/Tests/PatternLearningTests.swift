import DAM
import PatternLearning
import Testing

struct PatternLearningTests {
  /// The loss's gradient (the chain rule through the map's vector-Jacobian product and the
  /// divergence's pattern gradient) against central differences, in the patterns and in β, for a
  /// dense and a sparse map.
  @Test(arguments: ["softmax", "1.5-entmax"])
  func gradientMatchesDifferences(_ mapName: String) throws {
    var generator = SeededGenerator(seed: 11)
    let queries = (0..<7).map { _ in generator.gaussians(5) }
    let targets = (0..<7).map { _ in generator.gaussians(5) }
    let patterns = (0..<4).map { _ in generator.gaussians(5) }
    let beta = 0.8
    func check<Map: SeparationMap>(_ map: Map) throws {
      let learner = try PatternLearner(separation: map, queries: queries, targets: targets)
      let evaluation = try learner.evaluate(patterns: patterns, beta: beta)
      let direction = patterns.map { _ in generator.gaussians(5) }
      let h = 1e-6
      func loss(_ t: Double, beta: Double = beta) throws -> Double {
        let moved = zip(patterns, direction).map { p, v in zip(p, v).map { $0 + t * $1 } }
        return try learner.evaluate(patterns: moved, beta: beta).loss
      }
      let slope = (try loss(h) - loss(-h)) / (2 * h)
      var analytic = 0.0
      for (g, v) in zip(evaluation.patterns, direction) {
        analytic += zip(g, v).reduce(0) { $0 + $1.0 * $1.1 }
      }
      #expect(abs(analytic - slope) <= 1e-6 * (abs(analytic) + abs(slope)), "\(mapName) patterns")
      let betaSlope = (try loss(0, beta: beta + h) - loss(0, beta: beta - h)) / (2 * h)
      #expect(
        abs(evaluation.beta - betaSlope) <= 1e-6 * (abs(evaluation.beta) + abs(betaSlope)), "\(mapName) beta")
    }
    if mapName == "softmax" { try check(Softmax()) } else { try check(Entmax15()) }
  }

  /// The worked example on small data (5 digits per class, 60 steps, the report's other
  /// settings), from three seeds: the loss ends below a third of where it started, more training
  /// digits step nearer to their class mean than at the start.
  @Test(arguments: [UInt64(1), 2, 3])
  func learningTheDigitsMemoryLowersTheLoss(_ seed: UInt64) throws {
    let task = DigitsTask(perClass: 5)
    let learner = try PatternLearner(separation: Softmax(), queries: task.queries, targets: task.targets)
    let trained = try learner.train(
      patterns: task.initialPatterns(seed: seed), beta: 1, steps: 60, learningRate: 2, learnsBeta: true)
    let (first, last) = (trained.history.first!, trained.history.last!)
    #expect(trained.history.count == 61)
    #expect(last.loss < first.loss / 3, "seed \(seed): \(first.loss) -> \(last.loss)")
    #expect(last.correct > first.correct, "seed \(seed)")
  }

  @Test func badTrainingDataIsRefused() throws {
    #expect(throws: DAMError.self) { try PatternLearner(separation: Softmax(), queries: [], targets: []) }
    #expect(throws: DAMError.self) {
      try PatternLearner(separation: Softmax(), queries: [[1, 2]], targets: [[1]])
    }
    #expect(throws: DAMError.self) {
      try PatternLearner(separation: Softmax(), queries: [[1, 2]], targets: [[1, 2], [3, 4]])
    }
    let learner = try PatternLearner(separation: Softmax(), queries: [[1, 2]], targets: [[1, 2]])
    #expect(throws: DAMError.self) {
      try learner.train(patterns: [[0, 1]], beta: 1, steps: 3, learningRate: -1)
    }
  }
}
