import DAM
import DAMTestSupport
import Foundation
import Testing

struct VectorRetrievalTests {
  /// The acceptance case: 1,000 random unit vectors in ℝ⁶⁴, query = pattern 17 + N(0, 0.05²).
  @Test func retrievesPattern17FromANoisyCopy() throws {
    let patterns = TestData.unitVectors(count: 1000, dimension: 64, seed: 2024)
    var generator = SeededGenerator(seed: 17)
    let query = zip(patterns[17], generator.gaussians(64)).map { $0 + 0.05 * $1 }
    let memory = try Memory(divergence: .squaredEuclidean, patterns: patterns)
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: 8)
    let result = try engine.retrieve(query)
    #expect(result.nearestPattern == 17)
    #expect(result.weights[17] > 0.99)
    #expect(TestData.maxDifference(result.state, patterns[17]) < 1e-3)
    #expect(result.stopReason != .stepLimit)
    #expect(result.energies.count == result.steps + 1)
  }

  /// On unit-norm patterns, `‖ξ - X‖²` at β and `½‖ξ‖² - ⟨ξ, X⟩` at 2β give the same weights
  /// (`softmax(2β X ξ)`) and the same update `Xᵀ y`: identical trajectories up to round-off.
  /// At β = 8 the dot product therefore behaves like the classic network at β = 8, which on the
  /// memory above falls into the all-pattern metastable state; the squared distance is twice as
  /// sharp.
  @Test func squaredDistanceAtBetaIsDotProductAtTwiceBeta() throws {
    let patterns = TestData.unitVectors(count: 200, dimension: 16, seed: 31)
    var generator = SeededGenerator(seed: 32)
    let query = zip(patterns[3], generator.gaussians(16)).map { $0 + 0.2 * $1 }
    let stopping = try StoppingRule(maxSteps: 25, energyTolerance: nil, positionTolerance: 0)
    let squared = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 3, stopping: stopping
    ).retrieve(query, recordingTrajectory: true)
    let dot = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 6, stopping: stopping
    ).retrieve(query, recordingTrajectory: true)
    #expect(squared.steps == dot.steps)
    for (a, b) in zip(squared.trajectory ?? [], dot.trajectory ?? []) {
      #expect(TestData.maxDifference(a, b) < 1e-12)
    }
    #expect(TestData.maxDifference(squared.weights, dot.weights) < 1e-12)
  }

  /// The energy equals eq. (8) of the HFY paper, computed independently:
  /// `E(q) = -(1/β) logsumexp(β X q) + ½‖q‖²`.
  @Test func energyIsTheHopfieldEnergy() throws {
    let patterns = TestData.unitVectors(count: 30, dimension: 8, seed: 5)
    var generator = SeededGenerator(seed: 6)
    let q = generator.gaussians(8)
    let beta = 3.0
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: beta)
    let scores = patterns.map { p in beta * zip(p, q).reduce(0) { $0 + $1.0 * $1.1 } }
    let largest = scores.max()!
    let lse = largest + log(scores.map { exp($0 - largest) }.reduce(0, +))
    let expected = -lse / beta + 0.5 * q.reduce(0) { $0 + $1 * $1 }
    #expect(abs(try engine.energy(at: q) - expected) < 1e-13)
  }

  /// The aggregated variation is the energy's gradient (envelope theorem): a gradient step of
  /// size τ moves the energy by -τ‖∇E‖² to first order, checked against central differences.
  @Test(arguments: ["dot", "squared"])
  func variationIsTheEnergyGradient(divergence: String) throws {
    let patterns = TestData.unitVectors(count: 12, dimension: 5, seed: 8)
    var generator = SeededGenerator(seed: 9)
    let q = generator.gaussians(5).map { 0.5 * $0 }
    let h = 1e-6
    let tau = 1e-3
    func energy(_ x: [Double]) throws -> Double {
      divergence == "dot"
        ? try RetrievalEngine(
          memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
          geometry: EuclideanGeometry(), beta: 2
        ).energy(at: x)
        : try RetrievalEngine(
          memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
          geometry: EuclideanGeometry(), beta: 2
        ).energy(at: x)
    }
    func gradientStep(_ x: [Double]) throws -> [Double] {
      let geometry = try EuclideanGeometry(update: .gradient(step: tau))
      let stopping = try StoppingRule(maxSteps: 1)
      return divergence == "dot"
        ? try RetrievalEngine(
          memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
          geometry: geometry, beta: 2, stopping: stopping
        ).retrieve(x).state
        : try RetrievalEngine(
          memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
          geometry: geometry, beta: 2, stopping: stopping
        ).retrieve(x).state
    }
    let analytic = zip(q, try gradientStep(q)).map { ($0 - $1) / tau }
    var numeric: [Double] = []
    for k in 0..<q.count {
      var plus = q
      var minus = q
      plus[k] += h
      minus[k] -= h
      numeric.append((try energy(plus) - energy(minus)) / (2 * h))
    }
    // Central differences of an O(1) energy: truncation ~h² and round-off ~ulp/h ≈ 1e-10.
    #expect(TestData.maxDifference(analytic, numeric) < 1e-7)
  }

  /// CCCP never increases the energy (random memories, several temperatures, both divergences).
  @Test(arguments: [0.5, 2, 8, 32])
  func energyNeverIncreasesAlongCCCP(beta: Double) throws {
    for seed in UInt64(0)..<10 {
      var generator = SeededGenerator(seed: 1000 + seed)
      let patterns = (0..<50).map { _ in generator.gaussians(16) }
      let query = generator.gaussians(16)
      let stopping = try StoppingRule(maxSteps: 60, energyTolerance: nil, positionTolerance: 0)
      let dot = try RetrievalEngine(
        memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
        geometry: EuclideanGeometry(), beta: beta, stopping: stopping
      ).retrieve(query)
      let squared = try RetrievalEngine(
        memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
        geometry: EuclideanGeometry(), beta: beta, stopping: stopping
      ).retrieve(query)
      for energies in [dot.energies, squared.energies] {
        for (before, after) in zip(energies, energies.dropFirst()) {
          // Monotone up to the round-off of evaluating an energy of this size.
          #expect(after <= before + 1e-12 * max(1, abs(before)), "seed \(seed): \(before) -> \(after)")
        }
      }
    }
  }

  /// At large β the fixed point is the stored pattern itself.
  @Test func largeBetaFixedPointIsThePattern() throws {
    let patterns = TestData.unitVectors(count: 100, dimension: 32, seed: 77)
    var generator = SeededGenerator(seed: 78)
    let query = zip(patterns[42], generator.gaussians(32)).map { $0 + 0.02 * $1 }
    for divergence in ["dot", "squared"] {
      let result =
        divergence == "dot"
        ? try RetrievalEngine(
          memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
          geometry: EuclideanGeometry(), beta: 200
        ).retrieve(query)
        : try RetrievalEngine(
          memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
          geometry: EuclideanGeometry(), beta: 200
        ).retrieve(query)
      #expect(TestData.maxDifference(result.state, patterns[42]) < 1e-10)
      #expect(result.nearestPattern == 42)
    }
  }

  @Test func trajectoryAndTypeErasureAgreeWithTheGenericEngine() throws {
    let patterns = TestData.unitVectors(count: 20, dimension: 6, seed: 4)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 4)
    let query = [0.3, -0.2, 0.1, 0.5, 0.0, -0.4]
    let direct = try engine.retrieve(query, recordingTrajectory: true)
    let erased = try AnyRetrievalEngine(engine).retrieve(query, recordingTrajectory: true)
    #expect(direct.state == erased.state)
    #expect(direct.energies == erased.energies)
    #expect(direct.trajectory?.count == direct.steps + 1)
    #expect(direct.trajectory?.first == query)
    #expect(direct.trajectory?.last == direct.state)
    #expect(abs(direct.weights.reduce(0, +) - 1) < 1e-14)
  }

  @Test func badInputIsRefusedWithTheArgumentNamed() throws {
    let patterns = TestData.unitVectors(count: 3, dimension: 4, seed: 1)
    let memory = try Memory(divergence: .dotProduct, patterns: patterns)
    for beta in [0.0, -1, .nan, .infinity] {
      let error = #expect(throws: DAMError.self) {
        try RetrievalEngine(memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: beta)
      }
      #expect(error?.argument == "beta")
    }
    let empty = try Memory(divergence: .dotProduct, patterns: [])
    #expect(throws: DAMError.self) {
      try RetrievalEngine(memory: empty, separation: .softmax, geometry: EuclideanGeometry(), beta: 1)
    }
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: 1)
    let short = #expect(throws: DAMError.self) { try engine.retrieve([1, 2, 3]) }
    #expect(short?.argument == "query")
    #expect(short?.kind == .dimensionMismatch)
    let nan = #expect(throws: DAMError.self) { try engine.retrieve([1, .nan, 0, 0]) }
    #expect(nan?.argument == "query")
    let mixed = #expect(throws: DAMError.self) {
      try Memory(divergence: .dotProduct, patterns: [[1, 2], [1, 2, 3]])
    }
    #expect(mixed?.argument == "patterns[1]")
    var growing = memory
    #expect(throws: DAMError.self) { try growing.append(contentsOf: [[1, 0, 0, 0], [.nan, 0, 0, 0]]) }
    #expect(growing.count == 3, "a failed append changes nothing")
    #expect(throws: DAMError.self) { try EuclideanGeometry(update: .gradient(step: 0)) }
    #expect(throws: DAMError.self) { try StoppingRule(maxSteps: -1) }
    #expect(throws: DAMError.self) { try StoppingRule(energyTolerance: .nan) }
  }
}

struct StoppingRuleTests {
  @Test func disabledTolerancesRunToTheStepLimit() throws {
    let patterns = TestData.unitVectors(count: 10, dimension: 4, seed: 9)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(update: .gradient(step: 0.01)), beta: 1,
      stopping: StoppingRule(maxSteps: 17, energyTolerance: nil, positionTolerance: nil, massTolerance: nil))
    let result = try engine.retrieve([0.3, 0.1, -0.2, 0.5])
    #expect(result.steps == 17)
    #expect(result.stopReason == .stepLimit)
  }
}
