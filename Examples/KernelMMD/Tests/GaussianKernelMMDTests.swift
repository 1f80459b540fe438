import DAM
import Foundation
import KernelMMD
import Testing

/// The worked external divergence: values against closed forms and invariances, its variation
/// against finite differences (the package's public conformance check), and retrieval through the
/// package's engine and geometry with no change to the package.
struct GaussianKernelMMDTests {
  static func cloud(_ rows: [[Double]], weights: [Double]? = nil) throws -> PointCloud {
    try PointCloud(points: Matrix(rowArrays: rows), weights: weights)
  }

  static func mmd(_ x: PointCloud, _ y: PointCloud, bandwidth: Double) throws -> Double {
    let divergence = try GaussianKernelMMD(bandwidth: bandwidth)
    let evaluation = try divergence.evaluate(
      x, query: divergence.prepareQuery(x), pattern: y, cache: divergence.prepare(y))
    return divergence.value(of: evaluation)
  }

  /// Two Diracs: MMD² = k(x, x) + k(y, y) - 2 k(x, y) = 2 - 2 exp(-‖x - y‖² / (2σ²)).
  @Test(arguments: [
    (0.5, [0.0, 0.0], [1.0, 0.0]), (1.0, [1.0, 2.0], [-1.0, 0.5]), (3.0, [0.0, 0.0], [10.0, -4.0]),
  ])
  func twoDiracs(bandwidth: Double, x: [Double], y: [Double]) throws {
    let squared = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let expected = 2 - 2 * exp(-squared / (2 * bandwidth * bandwidth))
    let value = try Self.mmd(Self.cloud([x]), Self.cloud([y]), bandwidth: bandwidth)
    // Two exponentials and a few sums: round-off is a few ulps of 2.
    #expect(abs(value - expected) <= 1e-14)
  }

  /// Half a Dirac at a and half at b against a Dirac at c:
  /// MMD² = (1 + k(a, b)) / 2 + 1 - (k(a, c) + k(b, c)).
  @Test func twoAtomsAgainstOne() throws {
    let (a, b, c) = ([0.0, 0.0], [2.0, 0.0], [0.5, 1.0])
    let sigma = 0.8
    func k(_ u: [Double], _ v: [Double]) -> Double {
      exp(-zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / (2 * sigma * sigma))
    }
    let expected = (1 + k(a, b)) / 2 + 1 - (k(a, c) + k(b, c))
    let value = try Self.mmd(Self.cloud([a, b]), Self.cloud([c]), bandwidth: sigma)
    #expect(abs(value - expected) <= 1e-14)
  }

  /// Symmetric, zero on a cloud and itself with atoms permuted, unchanged by a common translation.
  @Test func invariances() throws {
    var generator = SeededGenerator(seed: 7)
    let x = try Self.cloud((0..<9).map { _ in [generator.nextGaussian(), generator.nextGaussian()] })
    let y = try Self.cloud(
      (0..<6).map { _ in [1 + generator.nextGaussian(), generator.nextGaussian()] },
      weights: [0.1, 0.3, 0.1, 0.2, 0.2, 0.1])
    let forward = try Self.mmd(x, y, bandwidth: 1)
    let backward = try Self.mmd(y, x, bandwidth: 1)
    #expect(forward > 0.01)
    #expect(abs(forward - backward) <= 1e-14)
    let permuted = try Self.cloud(x.points.rowArrays.reversed())
    #expect(try Self.mmd(x, permuted, bandwidth: 1) <= 1e-14)
    let shift = [3.0, -2.0]
    let movedX = try Self.cloud(x.points.rowArrays.map { zip($0, shift).map(+) })
    let movedY = try Self.cloud(y.points.rowArrays.map { zip($0, shift).map(+) }, weights: y.weights)
    #expect(abs(try Self.mmd(movedX, movedY, bandwidth: 1) - forward) <= 1e-13)
  }

  /// The variation predicts the central difference of MMD² when the atoms move along a direction
  /// (DAM's public conformance check; step 1e-5 gives a truncation error of order 1e-10).
  @Test func variationMatchesFiniteDifferences() throws {
    var generator = SeededGenerator(seed: 3)
    let state = try Self.cloud(
      (0..<5).map { _ in [generator.nextGaussian(), generator.nextGaussian()] },
      weights: [0.3, 0.1, 0.2, 0.25, 0.15])
    let patterns = try (0..<3).map { _ in
      try Self.cloud((0..<4).map { _ in [generator.nextGaussian() + 0.5, generator.nextGaussian()] })
    }
    let direction = (0..<10).map { _ in generator.nextGaussian() }
    let divergence = try GaussianKernelMMD(bandwidth: 0.9)
    let displace: (PointCloud, Double) -> PointCloud = { cloud, t in
      let moved = zip(cloud.points.elements, direction).map { $0 + t * $1 }
      return try! PointCloud(
        points: Matrix(rows: cloud.count, columns: 2, elements: moved), weights: cloud.weights)
    }
    // d/dt MMD² = Σⱼ wⱼ ⟨∇φ(yⱼ), directionⱼ⟩.
    let derivative: (MeasureVariation) -> Double = { variation in
      var slope = 0.0
      for j in 0..<state.count {
        for t in 0..<2 { slope += state.weights[j] * variation.velocity[j * 2 + t] * direction[j * 2 + t] }
      }
      return slope
    }
    let failures = DivergenceConformance.check(
      divergence, state: state, patterns: patterns, identicalPairs: patterns.map { ($0, $0) },
      displace: displace, derivative: derivative, step: 1e-5, tolerance: 1e-8)
    #expect(failures.isEmpty, "\(failures)")
  }

  /// Retrieval through the package's engine, separation map and transport-only geometry.
  @Test func retrievesANoisyCloud() throws {
    var generator = SeededGenerator(seed: 11)
    let centres = [[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]]
    let patterns = try centres.map { c in
      try Self.cloud(
        (0..<12).map { _ in [c[0] + 0.7 * generator.nextGaussian(), c[1] + 0.7 * generator.nextGaussian()] })
    }
    let memory = try Memory(divergence: GaussianKernelMMD(bandwidth: 1), patterns: patterns)
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: SHKGeometry.wasserstein(step: 0.5), beta: 20,
      stopping: StoppingRule(
        maxSteps: 200, energyTolerance: 1e-12, positionTolerance: nil, massTolerance: nil))
    for target in patterns.indices {
      let query = try Self.cloud(
        patterns[target].points.rowArrays.shuffled(using: &generator).map {
          $0.map { $0 + 0.3 * generator.nextGaussian() }
        })
      let result = try engine.retrieve(query)
      #expect(result.nearestPattern == target)
      let before = try Self.mmd(query, patterns[target], bandwidth: 1)
      let after = try Self.mmd(result.state, patterns[target], bandwidth: 1)
      #expect(after < before / 10, "MMD² to the target: \(before) -> \(after)")
    }
  }

  /// A stored cloud queried with itself under sparsemax: one-hot weights, a variation that is
  /// exactly zero (the self and cross sums are the same floating-point sums), so the first step
  /// is an exact fixed point.
  @Test func storedCloudIsAFixedPoint() throws {
    let patterns = try [Self.cloud([[0, 0], [1, 0], [0, 1]]), Self.cloud([[5, 5], [6, 5], [5, 6]])]
    let memory = try Memory(divergence: GaussianKernelMMD(bandwidth: 1), patterns: patterns)
    let engine = try RetrievalEngine(
      memory: memory, separation: .sparsemax, geometry: SHKGeometry.wasserstein(), beta: 10)
    let result = try engine.retrieve(patterns[1])
    #expect(result.stopReason == .fixedPoint)
    #expect(result.steps == 1)
    #expect(result.weights == [0, 1])
    #expect(result.state == patterns[1])
  }

  @Test(arguments: [0.0, -1.0, Double.nan, Double.infinity])
  func badBandwidthIsRefused(bandwidth: Double) {
    #expect(throws: DAMError.self) { try GaussianKernelMMD(bandwidth: bandwidth) }
    do {
      _ = try GaussianKernelMMD(bandwidth: bandwidth)
    } catch {
      #expect(error.argument == "bandwidth")
    }
  }
}
