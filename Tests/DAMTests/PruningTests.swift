import DAM
import DAMDatasets
import DAMTestSupport
import Testing

/// Pruning by certified lower bounds (Docs/architecture.md, "One retrieval step, for a batch") and concurrent evaluation: pruned and
/// parallel engines must retrieve exactly what the plain serial engine retrieves.
struct PruningTests {
  /// 300 clouds of 8 atoms around random centres in [0, 6]², uniform weights.
  static func clouds(count: Int = 300, seed: UInt64 = 5) throws -> [PointCloud] {
    var g = SeededGenerator(seed: seed)
    return try (0..<count).map { _ in
      let centre = [Double.random(in: 0...6, using: &g), Double.random(in: 0...6, using: &g)]
      return try PointCloud(
        points: Matrix(
          rows: 8, columns: 2, elements: (0..<16).map { centre[$0 % 2] + 0.3 * g.nextGaussian() }))
    }
  }

  static func noisy(_ cloud: PointCloud, seed: UInt64) throws -> PointCloud {
    var g = SeededGenerator(seed: seed)
    return try PointCloud(
      points: Matrix(
        rows: cloud.count, columns: 2, elements: cloud.points.elements.map { $0 + 0.2 * g.nextGaussian() }))
  }

  static let divergence = SinkhornDivergence(
    options: try! SinkhornOptions(epsilon: 0.05, tolerance: 1e-10, maxIterations: 50_000))

  static func engine<S: SeparationMap>(
    _ patterns: [PointCloud], _ map: S, pruning: Pruning, parallelism: Int, beta: Double = 4
  ) throws -> RetrievalEngine<SinkhornDivergence, S, SHKGeometry> {
    try RetrievalEngine(
      memory: Memory(divergence: divergence, patterns: patterns), separation: map, geometry: SHKGeometry(),
      beta: beta, stopping: StoppingRule(maxSteps: 4), pruning: pruning, parallelism: parallelism)
  }

  static let sparseMaps: [(String, AnySeparationMap)] = [
    ("sparsemax", AnySeparationMap(Sparsemax())), ("1.5-entmax", AnySeparationMap(Entmax15())),
    ("normmax", AnySeparationMap(try! Normmax(alpha: 2))),
    ("2-subsets", AnySeparationMap(try! KSubsets(k: 2))),
  ]

  @Test(arguments: 0..<4)
  func exactPruningRetrievesWhatTheFullEngineRetrieves(mapIndex: Int) throws {
    let (name, map) = Self.sparseMaps[mapIndex]
    let patterns = try Self.clouds()
    let query = try Self.noisy(patterns[17], seed: 9)
    let full = try Self.engine(patterns, map, pruning: .none, parallelism: 1).retrieve(query)
    let pruned = try Self.engine(patterns, map, pruning: .exact, parallelism: 2).retrieve(query)
    #expect(pruned.state == full.state, "\(name)")
    #expect(pruned.weights == full.weights, "\(name)")
    #expect(pruned.energies == full.energies, "\(name)")
    #expect(pruned.nearestPattern == full.nearestPattern, "\(name)")
    // Far fewer exact solves: 300 patterns per state without pruning.
    #expect(pruned.evaluationCount < full.evaluationCount / 2, "\(name): \(pruned.evaluationCount)")
    #expect(full.evaluationCount == 300 * (full.steps + 1))
  }

  @Test func resultsDoNotDependOnTheThreadCount() throws {
    let patterns = try Self.clouds(count: 120)
    let query = try Self.noisy(patterns[3], seed: 4)
    let serial = try Self.engine(patterns, Softmax(), pruning: .none, parallelism: 1, beta: 1).retrieve(query)
    for threads in [2, 3, 8] {
      let parallel = try Self.engine(patterns, Softmax(), pruning: .none, parallelism: threads, beta: 1)
        .retrieve(query)
      #expect(parallel.state == serial.state)
      #expect(parallel.weights == serial.weights)
      #expect(parallel.divergences == serial.divergences)
    }
  }

  @Test func softmaxMassPruningDropsAtMostTheStatedWeight() throws {
    let patterns = try Self.clouds()
    let query = try Self.noisy(patterns[40], seed: 12)
    let allowed = 1e-6
    let full = try Self.engine(patterns, Softmax(), pruning: .none, parallelism: 2).snapshot(at: query)
    let pruned = try Self.engine(patterns, Softmax(), pruning: .softmaxMass(allowed), parallelism: 2)
      .snapshot(at: query)
    #expect(pruned.evaluationCount < 300)
    #expect(pruned.droppedWeightBound <= allowed)
    // The weight the skipped patterns really had is below the bound.
    var skipped = 0.0
    for i in 0..<300 where !pruned.evaluated[i] { skipped += full.weights[i] }
    #expect(skipped <= pruned.droppedWeightBound * (1 + 1e-9))
    // Renormalising over the evaluated patterns moves each weight by at most the dropped mass.
    for i in 0..<300 { #expect(abs(pruned.weights[i] - full.weights[i]) <= allowed + 1e-15) }
  }

  @Test func softmaxIsNotPrunedByTheExactRule() throws {
    let patterns = try Self.clouds(count: 80)
    let query = try Self.noisy(patterns[0], seed: 1)
    let snapshot = try Self.engine(patterns, Softmax(), pruning: .exact, parallelism: 2).snapshot(at: query)
    #expect(snapshot.evaluationCount == 80)
  }

  @Test func sinkhornBoundsAreBelowTheDivergence() throws {
    let patterns = try Self.clouds(count: 60)
    var g = SeededGenerator(seed: 77)
    for _ in 0..<40 {
      let x = patterns[Int.random(in: 0..<60, using: &g)]
      let y = patterns[Int.random(in: 0..<60, using: &g)]
      let cache = try Self.divergence.prepare(y)
      let query = try Self.divergence.prepareQuery(x)
      let bound = try #require(Self.divergence.lowerBound(x, query: query, pattern: y, cache: cache))
      let exact = try Sinkhorn.divergence(x, y, options: Self.divergence.options).value
      #expect(bound <= exact)
    }
  }

  /// The block method the engines call (its own code in one and two dimensions, reading the
  /// clouds' summaries in place) gives exactly the bounds of the per-pattern method, in one, two
  /// and three dimensions, and nil for a pattern of another dimension.
  @Test(arguments: [1, 2, 3])
  func blockBoundsEqualPatternBounds(dimension: Int) throws {
    var g = SeededGenerator(seed: UInt64(40 + dimension))
    let clouds = try (0..<30).map { _ in
      try PointCloud(
        points: Matrix(
          rows: 6, columns: dimension, elements: (0..<(6 * dimension)).map { _ in 0.4 * g.nextGaussian() }),
        masses: (0..<6).map { _ in Double.random(in: 0.5...1.5, using: &g) })
    }
    let caches = try clouds.map { try Self.divergence.prepare($0) }
    let query = try Self.divergence.prepareQuery(clouds[3])
    let block = try #require(
      Self.divergence.lowerBounds(clouds[3], query: query, patterns: clouds, caches: caches, indices: 5..<27))
    #expect(block.count == 22)
    for i in 5..<27 {
      let single = try #require(
        Self.divergence.lowerBound(clouds[3], query: query, pattern: clouds[i], cache: caches[i]))
      #expect(block[i - 5] == single)
      let exact = try Sinkhorn.divergence(clouds[3], clouds[i], options: Self.divergence.options).value
      #expect(single <= exact)
    }
    let other = try PointCloud(
      points: Matrix(
        rows: 2, columns: dimension + 1,
        elements: [Double](repeating: 0, count: 2 * dimension + 2).enumerated().map { Double($0.offset) }))
    #expect(
      Self.divergence.lowerBounds(
        clouds[3], query: query, patterns: [clouds[0], other],
        caches: [caches[0], try Self.divergence.prepare(other)],
        indices: 0..<2) == nil)
  }

  @Test func buresWassersteinBoundsAreBelowTheDistance() throws {
    var g = SeededGenerator(seed: 8)
    let model = try WassersteinSphereModel(
      dimension: 5, radius: 3, minimumEigenvalue: 0.1, maximumEigenvalue: 4)
    let gaussians = try model.sample(count: 30, using: &g)
    let divergence = BuresWassersteinDivergence()
    for first in gaussians.prefix(10) {
      for second in gaussians {
        let bound = try #require(
          divergence.lowerBound(
            first, query: try divergence.prepareQuery(first), pattern: second,
            cache: try divergence.prepare(second)))
        let exact = try BuresWasserstein.distanceSquared(first, second)
        #expect(bound <= exact + 1e-12 * max(1, exact))
      }
    }
  }

  /// The rules the pruning trusts, checked on random scores: every score at least `gap` below the
  /// rank-th largest gets weight exactly 0.
  @Test(arguments: 0..<4)
  func zeroWeightRulesHold(mapIndex: Int) throws {
    let (name, map) = Self.sparseMaps[mapIndex]
    let rule = try #require(map.zeroWeightRule)
    var g = SeededGenerator(seed: UInt64(31 + mapIndex))
    var checked = 0
    for trial in 0..<300 {
      let count = 3 + trial % 40
      let spread = [0.5, 2, 8][trial % 3]
      let scores = (0..<count).map { _ in spread * g.nextGaussian() }
      let weights = try map.separate(scores).weights
      let reference = scores.sorted(by: >)[min(rule.rank, count) - 1]
      for (score, weight) in zip(scores, weights) where score <= reference - rule.gap {
        #expect(weight == 0, "\(name): score \(score), reference \(reference)")
        checked += 1
      }
    }
    #expect(checked > 100)
  }
}
