@_spi(Testing) import DAM
import DAMTestSupport
import Testing

/// The bound order a pruned snapshot walks: a prefix of the stable argsort found by selection, and
/// the suffix masses that certify what softmax pruning drops.
struct PruningOrderTests {
  /// The stable argsort by comparisons: increasing key, ties in index order.
  static func reference(_ keys: [Double]) -> [Int] {
    keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
  }

  /// Keys with many ties, signed zeros and infinities, in several layouts (quickselect's bad cases
  /// among them: sorted, reversed, all equal, organ pipe).
  static func keys(count: Int, layout: Int, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    var keys = (0..<count).map { _ in (8 * g.nextGaussian()).rounded() / 4 }
    switch layout {
    case 1: keys.sort()
    case 2: keys.sort(by: >)
    case 3: keys = [Double](repeating: 0.5, count: count)
    case 4: keys = (0..<count).map { Double(min($0, count - $0)) }
    default:
      for i in stride(from: 0, to: count, by: 97) { keys[i] = -0.0 }
      for i in stride(from: 5, to: count, by: 389) { keys[i] = .infinity }
      for i in stride(from: 11, to: count, by: 733) { keys[i] = -.infinity }
    }
    return keys
  }

  @Test(arguments: [100, 5000, 40_000])
  func prefixIsThePrefixOfTheStableArgsort(count: Int) {
    for layout in 0..<5 {
      let keys = Self.keys(count: count, layout: layout, seed: UInt64(count + layout))
      let full = Self.reference(keys)
      #expect(_stableArgsort(keys) == full, "layout \(layout)")
      for length in [0, 1, 7, 500, count / 8, count / 8 + 1, count - 1, count, count + 3] {
        let prefix = _stableArgsortPrefix(keys, count: length)
        #expect(prefix == Array(full.prefix(max(length, 0))), "layout \(layout), length \(length)")
      }
    }
  }

  /// `log Σ_{q ≥ p} exp(-β L_(q))` at every position of the revealed prefix, the rest's summary
  /// included, against the log-sum-exp of each suffix of the fully sorted bounds.
  @Test(arguments: [300, 9000])
  func suffixMassesAreTheLogSumExpOfEverySuffix(count: Int) throws {
    var g = SeededGenerator(seed: 17)
    let bounds = (0..<count).map { _ in 0.3 + abs(g.nextGaussian()) }
    let beta = 40.0
    let sorted = Self.reference(bounds).map { bounds[$0] }
    for length in [16, 200] {
      let (prefix, masses) = _boundOrderSuffixLogMasses(bounds, beta: beta, through: length)
      #expect(prefix == Array(Self.reference(bounds).prefix(prefix.count)))
      #expect(prefix.count >= min(length, count))
      #expect(masses.count == prefix.count + 1)
      for (p, mass) in masses.enumerated() {
        let expected = logSumExp(sorted[p...].map { -beta * $0 })
        guard expected != -.infinity else {
          #expect(mass == -.infinity)
          continue
        }
        #expect(abs(mass - expected) <= 1e-12 * max(1, abs(expected)), "position \(p)")
      }
    }
    // The whole order: nothing after the end.
    let (prefix, masses) = _boundOrderSuffixLogMasses(bounds, beta: beta, through: count)
    #expect(prefix.count == count)
    #expect(masses.last == -.infinity)
  }

  /// 12,000 small clouds, so that the engine reveals the bound order by selection (not a full
  /// sort): exact pruning gives the unpruned weights and energy bit for bit, and softmax pruning
  /// evaluates a prefix of the bound order and drops no more weight than it reports.
  @Test func largeMemoriesArePrunedByAPrefixOfTheBoundOrder() throws {
    var g = SeededGenerator(seed: 23)
    let patterns = try (0..<12_000).map { _ in
      let centre = [Double.random(in: 0...28, using: &g), Double.random(in: 0...28, using: &g)]
      return try PointCloud(
        points: Matrix(rows: 4, columns: 2, elements: (0..<8).map { centre[$0 % 2] + 0.2 * g.nextGaussian() })
      )
    }
    let divergence = SinkhornDivergence(
      options: try SinkhornOptions(epsilon: 0.05, tolerance: 1e-10, maxIterations: 50_000))
    let memory = try Memory(divergence: divergence, patterns: patterns)
    let query = try PointCloud(
      points: Matrix(
        rows: 4, columns: 2, elements: patterns[123].points.elements.map { $0 + 0.1 * g.nextGaussian() }))
    func engine<S: SeparationMap>(_ map: S, _ pruning: Pruning) throws
      -> RetrievalEngine<SinkhornDivergence, S, SHKGeometry>
    {
      try RetrievalEngine(
        memory: memory, separation: map, geometry: SHKGeometry(), beta: 20, pruning: pruning, parallelism: 2)
    }
    let fullSparse = try engine(Sparsemax(), .none).snapshot(at: query)
    let prunedSparse = try engine(Sparsemax(), .exact).snapshot(at: query)
    #expect(prunedSparse.weights == fullSparse.weights)
    #expect(prunedSparse.energy == fullSparse.energy)
    #expect(prunedSparse.evaluationCount < 200)

    let allowed = 1e-9
    let full = try engine(Softmax(), .none).snapshot(at: query)
    let pruned = try engine(Softmax(), .softmaxMass(allowed)).snapshot(at: query)
    #expect(pruned.evaluationCount < 600)
    #expect(pruned.droppedWeightBound > 0 && pruned.droppedWeightBound <= allowed)
    var skipped = 0.0
    for i in 0..<12_000 where !pruned.evaluated[i] { skipped += full.weights[i] }
    #expect(skipped <= pruned.droppedWeightBound * (1 + 1e-9))
    for i in 0..<12_000 { #expect(abs(pruned.weights[i] - full.weights[i]) <= allowed + 1e-15) }
    // The evaluated patterns are the first ones by bound.
    let bounds = try #require(
      divergence.lowerBounds(
        query, query: divergence.prepareQuery(query), patterns: patterns, caches: memory.caches,
        indices: 0..<12_000))
    let byBound = _stableArgsort(bounds)
    #expect(Set(byBound.prefix(pruned.evaluationCount)) == Set((0..<12_000).filter { pruned.evaluated[$0] }))
  }
}
