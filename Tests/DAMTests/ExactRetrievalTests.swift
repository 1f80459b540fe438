import DAM
import DAMTestSupport
import Testing

/// Margins and exact retrieval (Propositions 2 and 5 of the sparse and structured Hopfield
/// networks paper) in the retrieval engine, and the k-subset energy of this engine.
struct ExactRetrievalTests {
  /// 24 random unit vectors in ℝ¹⁶: pairwise cosines stay below ~0.75, so every Δᵢ exceeds ~0.25.
  static let patterns = TestData.unitVectors(count: 24, dimension: 16, seed: 2718)

  /// A query near pattern `index` that satisfies the query condition of Proposition 2 with
  /// margin `m`, with 1% slack so that round-off in the engine's scores (θⱼ = -β(½‖q‖² - ⟨q, xⱼ⟩),
  /// relative error ~1e-15) cannot break it.
  static func query(near index: Int, beta: Double, margin: Double, seed: UInt64) throws -> [Double] {
    var generator = SeededGenerator(seed: seed)
    for attempt in 0..<100 {
      let noise = 0.05 * Double(100 - attempt) / 100
      let q = zip(patterns[index], generator.gaussians(16)).map { $0 + noise * $1 }
      let condition = try ExactRetrieval.queryCondition(
        query: q, patterns: patterns, index: index, beta: beta, margin: margin)
      if condition.separation >= 1.01 * condition.threshold { return q }
    }
    Issue.record("no query found")
    return patterns[index]
  }

  static let sparseMaps: [(String, any SeparationMap)] = [
    ("sparsemax", Sparsemax()), ("1.5-entmax", Entmax15()), ("3-entmax", try! Entmax(alpha: 3)),
    ("2-normmax", try! Normmax(alpha: 2)), ("5-normmax", try! Normmax(alpha: 5)),
  ]

  /// Proposition 2 with sparse maps: when Δᵢ ≥ m/β the stored pattern is a fixed point, and a
  /// query with min_j ⟨q, xᵢ - xⱼ⟩ ≥ m/β lands on it in one step of the engine, bit for bit
  /// (one-hot weights and the fixed-point update Σ wⱼ Xⱼ / Σ wⱼ with Σ wⱼ = 1).
  @Test(arguments: 0..<5)
  func sparseMapsRetrieveExactlyInOneStep(mapIndex: Int) throws {
    let (name, map) = Self.sparseMaps[mapIndex]
    let margin = try #require(map.margin)
    let beta = 12 * margin  // Δᵢ ≳ 0.25 ≥ m/β = 1/12
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: Self.patterns), separation: AnySeparationMap(map),
      geometry: EuclideanGeometry(), beta: beta)
    for index in [0, 7, 23] {
      let condition = try ExactRetrieval.patternCondition(
        patterns: Self.patterns, index: index, beta: beta, map: map)
      #expect(condition.holds, "\(name): Δ = \(condition.separation) < \(condition.threshold)")
      // The pattern is a fixed point: one-hot weights, the step returns it unchanged.
      let atPattern = try engine.snapshot(at: Self.patterns[index])
      #expect(atPattern.weights == (0..<24).map { $0 == index ? 1 : 0 }, "\(name)")
      #expect(try engine.step(from: Self.patterns[index], snapshot: atPattern) == Self.patterns[index])
      // A query satisfying the condition lands on the pattern in one step, exactly.
      let q = try Self.query(near: index, beta: beta, margin: margin, seed: UInt64(index))
      let next = try engine.step(from: q, snapshot: engine.snapshot(at: q))
      #expect(next == Self.patterns[index], "\(name): not bit-for-bit equal")
      let result = try engine.retrieve(q)
      #expect(result.state == Self.patterns[index])
      #expect(result.stopReason == .fixedPoint && result.steps == 2)
      #expect(result.weights == (0..<24).map { $0 == index ? 1 : 0 })
    }
  }

  /// Softmax from the same query at the same β never lands exactly: its weights are never zero.
  @Test func softmaxDoesNotLandExactly() throws {
    let beta = 12.0
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: Self.patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: beta)
    for index in [0, 7, 23] {
      let q = try Self.query(near: index, beta: beta, margin: 1, seed: UInt64(index))
      let result = try engine.retrieve(q)
      #expect(result.nearestPattern == index)
      #expect(result.state != Self.patterns[index])
      #expect(TestData.maxDifference(result.state, Self.patterns[index]) > 1e-6)
      #expect(result.weights.allSatisfy { $0 > 0 })
    }
  }

  /// When the condition fails for a pattern outside the hull of the others, the pattern is not
  /// a fixed point (the "only if" of Proposition 2): at β with m/β > Δᵢ the weights at xᵢ are
  /// not one-hot, and one step moves the state.
  @Test func failingConditionMeansNoFixedPoint() throws {
    let index = 7
    let delta = try ExactRetrieval.patternCondition(
      patterns: Self.patterns, index: index, beta: 1, margin: 1
    ).separation
    let beta = 0.9 / delta  // m/β = Δ/0.9 > Δ
    let condition = try ExactRetrieval.patternCondition(
      patterns: Self.patterns, index: index, beta: beta, map: Sparsemax())
    #expect(!condition.holds)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: Self.patterns), separation: .sparsemax,
      geometry: EuclideanGeometry(), beta: beta)
    let snapshot = try engine.snapshot(at: Self.patterns[index])
    #expect(snapshot.weights[index] < 1)
    #expect(try engine.step(from: Self.patterns[index], snapshot: snapshot) != Self.patterns[index])
  }

  /// The separations are the paper's definitions, checked by hand on three patterns.
  @Test func separationsByHand() throws {
    let patterns = [[1.0, 0], [0, 1], [0.6, 0.8]]
    let c0 = try ExactRetrieval.patternCondition(patterns: patterns, index: 0, beta: 2, margin: 1)
    #expect(abs(c0.separation - 0.4) < 1e-15 && c0.threshold == 0.5 && !c0.holds)  // 1 - max(0, .6)
    let c2 = try ExactRetrieval.patternCondition(patterns: patterns, index: 2, beta: 10, margin: 1)
    #expect(abs(c2.separation - 0.2) < 1e-15 && c2.holds)  // 1 - max(.6, .8)
    let q = try ExactRetrieval.queryCondition(
      query: [2, 0], patterns: patterns, index: 0, beta: 1, margin: 1)
    #expect(abs(q.separation - 0.8) < 1e-15 && !q.holds)  // min(2 - 0, 2 - 1.2)
    let single = try ExactRetrieval.patternCondition(patterns: [[1, 2]], index: 0, beta: 1, margin: 1)
    #expect(single.separation == .infinity && single.holds)
    // Subsets of two among the three: ⟨x₀ + x₁, ·⟩ = [1, 1, 1.4]; S = {0, 1} scores 2, the best
    // other subset {1, 2} or {0, 2} scores 2.4: Δ = -0.4. D² = 2 min(2, 1) = 2, threshold 1/β.
    let s = try ExactRetrieval.subsetCondition(patterns: patterns, subset: [0, 1], beta: 4)
    #expect(abs(s.separation - (-0.4)) < 1e-15 && s.threshold == 0.25 && !s.holds)
    let t = try ExactRetrieval.subsetCondition(patterns: patterns, subset: [1, 2], beta: 4)
    // ⟨x₁ + x₂, ·⟩ = [.6, 1.8, 1.8]: own 3.6, best other ({0, 1} or {0, 2}) 2.4: Δ = 1.2, the
    // smallest member minus the largest outsider.
    #expect(abs(t.separation - 1.2) < 1e-15 && t.holds)
  }

  @Test func badArgumentsAreNamed() {
    let patterns = [[1.0, 0], [0, 1]]
    let cases: [(String, () throws -> Void)] = [
      ("patterns", { _ = try ExactRetrieval.patternCondition(patterns: [], index: 0, beta: 1, margin: 1) }),
      (
        "index", { _ = try ExactRetrieval.patternCondition(patterns: patterns, index: 2, beta: 1, margin: 1) }
      ),
      ("beta", { _ = try ExactRetrieval.patternCondition(patterns: patterns, index: 0, beta: 0, margin: 1) }),
      (
        "margin",
        { _ = try ExactRetrieval.patternCondition(patterns: patterns, index: 0, beta: 1, margin: -1) }
      ),
      (
        "map",
        { _ = try ExactRetrieval.patternCondition(patterns: patterns, index: 0, beta: 1, map: Softmax()) }
      ),
      (
        "patterns[1]",
        { _ = try ExactRetrieval.patternCondition(patterns: [[1, 0], [1]], index: 0, beta: 1, margin: 1) }
      ),
      (
        "query",
        {
          _ = try ExactRetrieval.queryCondition(query: [1], patterns: patterns, index: 0, beta: 1, margin: 1)
        }
      ),
      ("subset", { _ = try ExactRetrieval.subsetCondition(patterns: patterns, subset: [0, 0], beta: 1) }),
      ("subset", { _ = try ExactRetrieval.subsetCondition(patterns: patterns, subset: [], beta: 1) }),
      ("subset", { _ = try ExactRetrieval.subsetCondition(patterns: patterns, subset: [5], beta: 1) }),
    ]
    for (argument, body) in cases {
      let error = #expect(throws: DAMError.self) { try body() }
      #expect(error?.argument == argument)
    }
  }

  /// Proposition 5 for k-subsets in this engine. The first step from a query satisfying the
  /// subset query condition gives exactly the k-hot weights of S; the engine then sits at
  /// Xᵀy/k, whose scores are (β/k) XXᵀy, so it is a fixed point when the stationarity condition
  /// holds at β/k.
  @Test(arguments: [2, 3])
  func kSubsetsRetrieveTheAssociationExactly(k: Int) throws {
    // Nearly orthonormal patterns (basis vectors plus 5% noise), so that a subset's members
    // score about 1 against its sum and the others about 0: Δ ≈ 1 ≥ k²/β at β = 40.
    var noise = SeededGenerator(seed: 31)
    let patterns = (0..<24).map { i in (0..<24).map { d in (d == i ? 1.0 : 0) + 0.05 * noise.nextGaussian() }
    }
    let subset = Array([3, 11, 19].prefix(k))
    let beta = 40.0
    let stationary = try ExactRetrieval.subsetCondition(
      patterns: patterns, subset: subset, beta: beta / Double(k))
    #expect(stationary.holds, "Δ = \(stationary.separation), threshold \(stationary.threshold)")
    // A query: the mean of the subset plus small noise, kept if it satisfies the condition.
    var generator = SeededGenerator(seed: 77)
    let mean = (0..<24).map { d in subset.reduce(0.0) { $0 + patterns[$1][d] } / Double(k) }
    let q = zip(mean, generator.gaussians(24)).map { $0 + 0.01 * $1 }
    let condition = try ExactRetrieval.subsetQueryCondition(
      query: q, patterns: patterns, subset: subset, beta: beta)
    #expect(condition.separation >= 1.01 * condition.threshold)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: patterns), separation: KSubsets(k: k),
      geometry: EuclideanGeometry(), beta: beta)
    let first = try engine.snapshot(at: q)
    let indicator = (0..<24).map { subset.contains($0) ? 1.0 : 0 }
    #expect(first.weights == indicator)
    let result = try engine.retrieve(q)
    #expect(result.stopReason == .fixedPoint && result.steps == 2)
    #expect(result.weights == indicator)
    // The state is the mean Xᵀy/k (to the round-off of summing k vectors), not the sum Xᵀy.
    #expect(TestData.maxDifference(result.state, mean) < 1e-15)
  }

  /// The k-division: in this engine, with weights summing to k, the energy is
  /// E(ξ) = -Ω*(βXξ)/β + (k/2)‖ξ‖², its CCCP step is Xᵀŷ/k, and along the engine's updates the
  /// energy never increases (for k-subsets and sequential k-subsets, both divergences, several β).
  @Test(arguments: [0.5, 2, 8, 32])
  func kSubsetEnergyNeverIncreasesAlongTheEngine(beta: Double) throws {
    let maps: [any SeparationMap] = [
      try KSubsets(k: 2), try KSubsets(k: 3), try SequentialKSubsets(k: 3, pairwise: 0.5),
    ]
    for map in maps {
      for seed in UInt64(0)..<6 {
        var generator = SeededGenerator(seed: 3000 + seed)
        let patterns = (0..<20).map { _ in generator.gaussians(8) }
        let query = generator.gaussians(8)
        let stopping = try StoppingRule(maxSteps: 40, energyTolerance: nil, positionTolerance: 0)
        let engine = try RetrievalEngine(
          memory: Memory(divergence: .dotProduct, patterns: patterns), separation: AnySeparationMap(map),
          geometry: EuclideanGeometry(), beta: beta, stopping: stopping)
        let result = try engine.retrieve(query, recordingTrajectory: true)
        for (before, after) in zip(result.energies, result.energies.dropFirst()) {
          // Monotone up to the round-off of an energy of this size.
          #expect(
            after <= before + 1e-12 * max(1, abs(before)), "\(map.name) seed \(seed): \(before) -> \(after)")
        }
        let k = Double((map as? KSubsets)?.k ?? (map as? SequentialKSubsets)?.k ?? 1)
        let trajectory = try #require(result.trajectory)
        for (state, next) in zip(trajectory, trajectory.dropFirst()) {
          // The energy's closed form: E(ξ) = -Ω*(βXξ)/β + (k/2)‖ξ‖² (Ω*(θ + c1) = Ω*(θ) + kc).
          let scores = patterns.map { x in beta * zip(state, x).reduce(0) { $0 + $1.0 * $1.1 } }
          let separation = try map.separate(scores)
          let squared = state.reduce(0) { $0 + $1 * $1 }
          let closedForm = -separation.conjugate / beta + k / 2 * squared
          #expect(abs(try engine.energy(at: state) - closedForm) < 1e-10 * max(1, abs(closedForm)))
          // The update is the CCCP step of that energy: Xᵀŷ / k.
          let update = (0..<8).map { d in
            zip(separation.weights, patterns).reduce(0) { $0 + $1.0 * $1.1[d] } / k
          }
          #expect(TestData.maxDifference(next, update) < 1e-12)
        }
      }
    }
  }
}
