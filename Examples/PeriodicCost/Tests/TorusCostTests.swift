import DAM
import PeriodicCost
import Testing

/// `TorusCost` against closed forms: its values and gradients, the squared Euclidean cost where
/// no pair reaches across the seam, invariance under whole-period shifts, and retrieval of a
/// cloud that straddles the seam.
struct TorusCostTests {
  func cloud(_ points: [[Double]], weights: [Double]? = nil) throws -> PointCloud {
    try PointCloud(points: Matrix(rowArrays: points), weights: weights)
  }

  func random(_ count: Int, around centre: [Double], spread: Double, seed: UInt64) throws -> PointCloud {
    var g = SeededGenerator(seed: seed)
    return try cloud(
      (0..<count).map { _ in centre.map { $0 + Double.random(in: -spread...spread, using: &g) } })
  }

  @Test func valueAndGradientTakeTheShorterWay() throws {
    let torus = try TorusCost(periods: [1, 2])
    let x = [0.95, 0.1]
    let y = [0.05, 1.7]
    // Along the first axis 0.1 the short way across the seam; along the second 0.4 (not 1.6).
    let expected = 0.1 * 0.1 + 0.4 * 0.4
    x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        #expect(abs(torus.cost(px, py) - expected) < 1e-15)
        var gradient = [0.0, 0.0]
        gradient.withUnsafeMutableBufferPointer { torus.gradient(px, py, into: $0) }
        #expect(abs(gradient[0] - (-0.2)) < 1e-14)  // moving x up (towards 1 = 0) shortens it
        #expect(abs(gradient[1] - 0.8) < 1e-14)
      }
    }
  }

  /// Two clouds in the middle of a large torus never reach across the seam: the divergence is the
  /// squared Euclidean one (computed by the package's own fast path).
  @Test func awayFromTheSeamItIsTheSquaredEuclideanCost() throws {
    let x = try random(20, around: [5, 5], spread: 1, seed: 1)
    let y = try random(25, around: [5.5, 4.6], spread: 1, seed: 2)
    let options = try SinkhornOptions(epsilon: 0.1, tolerance: 1e-12, maxIterations: 50_000)
    let torus = try Sinkhorn.divergence(x, y, cost: TorusCost(periods: [10, 10]), options: options)
    let plane = try Sinkhorn.divergence(x, y, options: options)
    #expect(abs(torus.value - plane.value) <= 1e-11 * abs(plane.value))
  }

  /// Moving every atom of one cloud by whole periods changes nothing on the torus, while in the
  /// plane the clouds are then far apart.
  @Test func wholePeriodShiftsChangeNothing() throws {
    let x = try random(15, around: [0.2, 0.5], spread: 0.15, seed: 3)
    let y = try random(18, around: [0.8, 0.4], spread: 0.15, seed: 4)
    let shifted = try cloud(x.points.rowArrays.enumerated().map { j, p in [p[0] + Double(j % 3), p[1] - 1] })
    let torus = try TorusCost(periods: [1, 1])
    let options = try SinkhornOptions(epsilon: 0.01, tolerance: 1e-12, maxIterations: 50_000)
    let original = try Sinkhorn.divergence(x, y, cost: torus, options: options).value
    let moved = try Sinkhorn.divergence(shifted, y, cost: torus, options: options).value
    #expect(abs(original - moved) <= 1e-10 * abs(original))
    #expect(try Sinkhorn.divergence(shifted, y, options: options).value > 10 * original)
  }

  /// A stored cloud that straddles the seam of the first axis (atoms just below 0 and just above),
  /// queried by a shifted copy whose atoms below 0 are written as their equals just below 1: on
  /// the torus the query is that cloud and is recalled; in the plane it is split between both
  /// ends and the middle cloud is nearer.
  @Test func recallsACloudAcrossTheSeam() throws {
    let patterns = [
      try random(12, around: [0.0, 0.5], spread: 0.08, seed: 5),  // straddles x = 0 ≡ 1
      try random(12, around: [0.5, 0.5], spread: 0.08, seed: 6),
      try random(12, around: [0.75, 0.2], spread: 0.08, seed: 7),
    ]
    // The first pattern seen through the seam: atoms left of 0 moved to the right end.
    let query = try cloud(
      patterns[0].points.rowArrays.map { p in [(p[0] < 0 ? p[0] + 1 : p[0]) + 0.01, p[1] + 0.01] })
    let torus = try TorusCost(periods: [1, 1])
    func recalled(_ cost: any Cost) throws -> Int {
      let divergence = try SinkhornDivergence(epsilon: 0.005, cost: cost)
      let memory = try Memory(divergence: divergence, patterns: patterns)
      let engine = try RetrievalEngine(
        memory: memory, separation: .softmax, geometry: SHKGeometry.wasserstein(step: 0.25), beta: 200,
        stopping: StoppingRule(maxSteps: 5))
      let result = try engine.retrieve(query)
      return result.weights.indices.max { result.weights[$0] < result.weights[$1] }!
    }
    #expect(try recalled(torus) == 0)
    #expect(try recalled(SquaredEuclideanCost()) != 0)
  }

  @Test func refusesBadPeriodsAndDimensions() throws {
    #expect(throws: DAMError.self) { try TorusCost(periods: [1, 0]) }
    let x = try random(5, around: [0.5, 0.5, 0.5], spread: 0.1, seed: 8)
    do {
      _ = try Sinkhorn.divergence(
        x, x, cost: TorusCost(periods: [1, 1]), options: SinkhornOptions(epsilon: 0.1))
      Issue.record("two periods for 3-D points were accepted")
    } catch {
      #expect(error.argument == "cost")
    }
  }
}
