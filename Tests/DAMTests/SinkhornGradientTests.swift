import DAM
import DAMTestSupport
import Foundation
import Testing

/// The gradients of the Sinkhorn divergences (point clouds and grids) against central finite
/// differences of the values, at well-conditioned points and a tight solver tolerance: positions
/// along random directions, weights along directions tangent to the simplex (summing to 0, so the
/// gradients' free constant drops out), and ε.
struct SinkhornGradientTests {
  static func options(_ epsilon: Double) throws -> SinkhornOptions {
    try SinkhornOptions(epsilon: epsilon, tolerance: 1e-13, maxIterations: 100_000)
  }

  /// A cloud of `count` atoms in `dimension` dimensions around `offset`, weights from 0.5 to 1.5
  /// normalised.
  static func cloud(_ count: Int, _ dimension: Int, offset: Double, seed: UInt64) throws -> PointCloud {
    var g = SeededGenerator(seed: seed)
    let points = (0..<(count * dimension)).map { _ in offset + g.nextGaussian() }
    let masses = (0..<count).map { _ in Double.random(in: 0.5...1.5, using: &g) }
    return try PointCloud(points: Matrix(rows: count, columns: dimension, elements: points), masses: masses)
  }

  /// `cloud` with its points moved by `t × direction`.
  static func moved(_ cloud: PointCloud, _ direction: [Double], _ t: Double) throws -> PointCloud {
    try PointCloud(
      points: Matrix(
        rows: cloud.count, columns: cloud.dimension,
        elements: zip(cloud.points.elements, direction).map { $0 + t * $1 }),
      weights: cloud.weights)
  }

  /// `cloud` with its weights moved by `t × direction` (`direction` summing to 0).
  static func reweighted(_ cloud: PointCloud, _ direction: [Double], _ t: Double) throws -> PointCloud {
    try PointCloud(points: cloud.points, masses: zip(cloud.weights, direction).map { $0 + t * $1 })
  }

  /// A direction summing to 0 (tangent to the simplex), scaled to the weights.
  static func tangent(_ count: Int, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    let raw = g.gaussians(count)
    let mean = raw.reduce(0, +) / Double(count)
    return raw.map { ($0 - mean) / Double(count) }
  }

  static func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }

  /// Central difference `(F(h) - F(-h)) / 2h`.
  static func central(_ h: Double, _ value: (Double) throws -> Double) rethrows -> Double {
    (try value(h) - value(-h)) / (2 * h)
  }

  static func expectClose(_ derivative: Double, _ predicted: Double, _ what: String, relative: Double = 1e-6)
  {
    #expect(
      abs(derivative - predicted) <= relative * max(abs(derivative), 1e-3),
      "\(what): finite difference \(derivative), gradient \(predicted)")
  }

  static let costs: [(String, any Cost)] = [
    ("squared-euclidean", SquaredEuclideanCost()),
    ("power 1.5", try! PowerCost(power: 1.5)),
    ("power 1", try! PowerCost(power: 1)),
    (
      "mahalanobis",
      try! MahalanobisCost(metric: Matrix(rows: 2, columns: 2, elements: [1.5, 0.4, 0.4, 0.8]))
    ),
    (
      "closure: squared + quartic",
      ClosureCost(name: "squared+quartic") { x, y in
        let s = (0..<x.count).reduce(0.0) { $0 + (x[$1] - y[$1]) * (x[$1] - y[$1]) }
        return s + 0.1 * s * s
      } gradient: { x, y, g in
        let s = (0..<x.count).reduce(0.0) { $0 + (x[$1] - y[$1]) * (x[$1] - y[$1]) }
        for t in 0..<x.count { g[t] = (2 + 0.4 * s) * (x[t] - y[t]) }
      }
    ),
  ]

  /// Positions, weights and ε of both clouds against central differences of `S_ε`, for every
  /// built-in cost and a symmetric closure cost.
  @Test(arguments: 0..<costs.count)
  func pointCloudGradientsMatchFiniteDifferences(costIndex: Int) throws {
    let (name, cost) = Self.costs[costIndex]
    let x = try Self.cloud(6, 2, offset: 0, seed: 11)
    let y = try Self.cloud(8, 2, offset: 0.7, seed: 12)
    let epsilon = 0.5
    func value(_ x: PointCloud, _ y: PointCloud, epsilon: Double = epsilon) throws -> Double {
      try Sinkhorn.divergence(x, y, cost: cost, options: Self.options(epsilon)).value
    }
    let solved = try Sinkhorn.divergence(x, y, cost: cost, options: Self.options(epsilon))
    let gradient = try Sinkhorn.divergenceGradient(x, y, cost: cost, divergence: solved)
    #expect(gradient.value == solved.value)

    var g = SeededGenerator(seed: 13)
    let u = g.gaussians(x.count * 2)
    let v = g.gaussians(y.count * 2)
    let h = 1e-5
    Self.expectClose(
      try Self.central(h) { try value(Self.moved(x, u, $0), y) }, Self.dot(gradient.state.points.elements, u),
      "\(name) x positions")
    Self.expectClose(
      try Self.central(h) { try value(x, Self.moved(y, v, $0)) },
      Self.dot(gradient.pattern.points.elements, v), "\(name) y positions")

    let du = Self.tangent(x.count, seed: 14)
    let dv = Self.tangent(y.count, seed: 15)
    Self.expectClose(
      try Self.central(h) { try value(Self.reweighted(x, du, $0), y) }, Self.dot(gradient.state.weights, du),
      "\(name) x weights")
    Self.expectClose(
      try Self.central(h) { try value(x, Self.reweighted(y, dv, $0)) },
      Self.dot(gradient.pattern.weights, dv),
      "\(name) y weights")

    let e = try #require(gradient.epsilon)
    Self.expectClose(
      try Self.central(1e-4 * epsilon) { try value(x, y, epsilon: epsilon + $0) }, e, "\(name) epsilon")
  }

  /// The same gradients through the divergence of the framework (the query's cached self map, the
  /// pattern's cached self potential) as through ``Sinkhorn/divergenceGradient``, and through
  /// ``Divergence/valueAndGradient(_:_:)``.
  @Test func divergenceConformanceAgreesWithTheSolverFunction() throws {
    for (name, cost) in Self.costs {
      let x = try Self.cloud(7, 2, offset: 0, seed: 21)
      let y = try Self.cloud(5, 2, offset: -0.4, seed: 22)
      let options = try Self.options(0.3)
      let reference = try Sinkhorn.divergenceGradient(
        x, y, cost: cost, divergence: Sinkhorn.divergence(x, y, cost: cost, options: options))
      let gradient = try SinkhornDivergence(options: options, cost: cost).valueAndGradient(x, y)
      let scale = 1e-9 * max(1, abs(reference.value))
      #expect(abs(gradient.value - reference.value) <= scale, "\(name)")
      #expect(TestData.maxDifference(gradient.state.points.elements, reference.state.points.elements) <= 1e-8)
      #expect(
        TestData.maxDifference(gradient.pattern.points.elements, reference.pattern.points.elements) <= 1e-8)
      #expect(TestData.maxDifference(gradient.state.weights, reference.state.weights) <= 1e-8, "\(name)")
      #expect(TestData.maxDifference(gradient.pattern.weights, reference.pattern.weights) <= 1e-8, "\(name)")
      #expect(abs(try #require(gradient.epsilon) - #require(reference.epsilon)) <= 1e-8, "\(name)")
    }
  }

  /// The weight gradients' constant: `⟨a, ∂S/∂a⟩ = ⟨b, ∂S/∂b⟩ = S/2`, whatever split of the cross
  /// potentials the solver ended on; swapping the clouds swaps the gradients.
  @Test func weightGradientConstantIsFixedSymmetrically() throws {
    let x = try Self.cloud(6, 3, offset: 0, seed: 31)
    let y = try Self.cloud(9, 3, offset: 0.5, seed: 32)
    let options = try Self.options(0.4)
    let forward = try Sinkhorn.divergenceGradient(
      x, y, divergence: Sinkhorn.divergence(x, y, options: options))
    let backward = try Sinkhorn.divergenceGradient(
      y, x, divergence: Sinkhorn.divergence(y, x, options: options))
    let first = Self.dot(x.weights, forward.state.weights)
    let second = Self.dot(y.weights, forward.pattern.weights)
    #expect(abs(first - second) <= 1e-14 * max(1, abs(first)))
    #expect(abs(first - forward.value / 2) <= 1e-10)
    #expect(TestData.maxDifference(forward.state.weights, backward.pattern.weights) <= 1e-9)
    #expect(TestData.maxDifference(forward.pattern.weights, backward.state.weights) <= 1e-9)
    #expect(TestData.maxDifference(forward.state.points.elements, backward.pattern.points.elements) <= 1e-9)
    #expect(abs(try #require(forward.epsilon) - #require(backward.epsilon)) <= 1e-10)
  }

  /// At `μ = ν` every gradient vanishes (the minimum of `S_ε`), up to the solves' tolerance; so does
  /// `∂S/∂ε` (S is 0 at every ε there). At ε = 1 no atom of the cloud is cut off from the others
  /// (at ε = 0.2 one is, 10 squared units away: see ``Sinkhorn/divergenceGradient`` on blocks).
  @Test func gradientsVanishAtEqualClouds() throws {
    let x = try Self.cloud(7, 2, offset: 0, seed: 41)
    let gradient = try SinkhornDivergence(options: Self.options(1)).valueAndGradient(x, x)
    #expect(abs(gradient.value) <= 1e-12)
    var all: [Double] = gradient.state.points.elements
    all += gradient.pattern.points.elements
    all += gradient.state.weights
    all += gradient.pattern.weights
    all.append(try #require(gradient.epsilon))
    #expect(all.allSatisfy { abs($0) <= 1e-9 }, "\(all)")
  }

  /// For the squared Euclidean cost the position gradient is `2 aⱼ (T_s(xⱼ) - T(xⱼ))` with the
  /// barycentric maps ``Sinkhorn/barycentricMap(from:to:cost:transport:)`` gives, and
  /// `aⱼ (∇f - ∇p)` with ``Sinkhorn/potentialGradient(from:to:cost:transport:)``.
  @Test func positionGradientIsTheMapDifference() throws {
    let x = try Self.cloud(5, 2, offset: 0, seed: 51)
    let y = try Self.cloud(6, 2, offset: 1, seed: 52)
    let solved = try Sinkhorn.divergence(x, y, options: Self.options(0.25))
    let gradient = try Sinkhorn.divergenceGradient(x, y, divergence: solved)
    let map = try Sinkhorn.barycentricMap(from: x, to: y, transport: solved.crossTerm)
    let crossGradient = try Sinkhorn.potentialGradient(from: x, to: y, transport: solved.crossTerm)
    let selfGradient = try Sinkhorn.potentialGradient(of: x, selfTransport: solved.firstSelfTerm)
    for j in 0..<x.count {
      for t in 0..<2 {
        let byPotentials = x.weights[j] * (crossGradient[j, t] - selfGradient[j, t])
        #expect(abs(gradient.state.points[j, t] - byPotentials) <= 1e-12)
        // T_s = x - ∇p/2.
        let selfMap = x.points[j, t] - selfGradient[j, t] / 2
        #expect(abs(gradient.state.points[j, t] - 2 * x.weights[j] * (selfMap - map[j, t])) <= 1e-12)
      }
    }
  }

  /// A cost that is not symmetric is refused, naming `cost`, by everything that solves a self
  /// problem or takes a gradient (they assume `c(x, y) = c(y, x)`; the symmetric self solver met
  /// its tolerance on a wrong value before); the transport between two clouds still takes it.
  @Test func asymmetricCostIsRefused() throws {
    let skewed = ClosureCost(name: "skewed") { x, y in
      var sum: Double = 0.5 * (x[0] - y[0])
      for t in 0..<x.count { sum += (x[t] - y[t]) * (x[t] - y[t]) }
      return sum
    } gradient: { x, y, g in
      for t in 0..<x.count { g[t] = 2 * (x[t] - y[t]) }
      g[0] += 0.5
    }
    let x = try Self.cloud(4, 2, offset: 0, seed: 61)
    let y = try Self.cloud(5, 2, offset: 2, seed: 62)
    let options = try SinkhornOptions(epsilon: 1, tolerance: 1e-9)
    let cross = try Sinkhorn.transport(from: x, to: y, cost: skewed, options: options)
    #expect(cross.converged)
    let divergence = SinkhornDivergence(options: options, cost: skewed)
    let refusals: [(String, () throws -> Void)] = [
      ("prepare", { _ = try divergence.prepare(y) }),
      ("prepareQuery", { _ = try divergence.prepareQuery(x) }),
      ("selfTransport", { _ = try Sinkhorn.selfTransport(x, cost: skewed, options: options) }),
      ("divergence", { _ = try Sinkhorn.divergence(x, y, cost: skewed, options: options) }),
      ("valueAndGradient", { _ = try divergence.valueAndGradient(x, y) }),
    ]
    for (name, body) in refusals {
      let error = #expect(throws: DAMError.self, "\(name)") { try body() }
      #expect(error?.argument == "cost", "\(name)")
      #expect(error?.message.contains("not symmetric") == true, "\(name): \(String(describing: error))")
    }
    // The gradient's own check, on a divergence solved with the symmetric part of the cost.
    let solved = try Sinkhorn.divergence(x, y, options: options)
    let error = #expect(throws: DAMError.self) {
      _ = try Sinkhorn.divergenceGradient(x, y, cost: skewed, divergence: solved)
    }
    #expect(error?.argument == "cost")
  }

  // MARK: Grids

  static func histogram(_ shape: [Int], seed: UInt64, spacing: [Double]? = nil) throws -> GridHistogram {
    var g = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return try GridHistogram(
      shape: shape, intensities: (0..<count).map { _ in Double.random(in: 0.2...1.5, using: &g) },
      spacing: spacing)
  }

  static func moved(_ histogram: GridHistogram, _ direction: [Double], _ t: Double) throws -> GridHistogram {
    try GridHistogram(
      shape: histogram.shape, intensities: zip(histogram.masses, direction).map { $0 + t * $1 },
      spacing: histogram.spacing)
  }

  /// Cell masses and ε against central differences, on 1-D, 2-D (anisotropic spacing) and 3-D
  /// grids.
  @Test(arguments: [([12], [1.0], 2.0), ([5, 4], [1.0, 0.7], 0.8), ([3, 3, 2], [1.0, 1.0, 1.0], 1.0)])
  func gridGradientsMatchFiniteDifferences(shape: [Int], spacing: [Double], epsilon: Double) throws {
    let a = try Self.histogram(shape, seed: 71, spacing: spacing)
    let b = try Self.histogram(shape, seed: 72, spacing: spacing)
    func options(_ epsilon: Double) throws -> GridSinkhornOptions {
      try GridSinkhornOptions(epsilon: epsilon, tolerance: 1e-13, maxIterations: 100_000)
    }
    func value(_ a: GridHistogram, _ b: GridHistogram, epsilon: Double = epsilon) throws -> Double {
      try GridSinkhorn.divergence(a, b, options: options(epsilon)).value
    }
    let gradient = try GridSinkhornDivergence(options: options(epsilon)).valueAndGradient(a, b)
    #expect(abs(gradient.value - (try value(a, b))) <= 1e-12)
    let h = 1e-5
    let du = Self.tangent(a.cellCount, seed: 73)
    let dv = Self.tangent(b.cellCount, seed: 74)
    Self.expectClose(
      try Self.central(h) { try value(Self.moved(a, du, $0), b) }, Self.dot(gradient.state, du), "\(shape) a")
    Self.expectClose(
      try Self.central(h) { try value(a, Self.moved(b, dv, $0)) }, Self.dot(gradient.pattern, dv),
      "\(shape) b")
    Self.expectClose(
      try Self.central(1e-4 * epsilon) { try value(a, b, epsilon: epsilon + $0) },
      try #require(gradient.epsilon),
      "\(shape) epsilon")
    #expect(abs(Self.dot(a.masses, gradient.state) - Self.dot(b.masses, gradient.pattern)) <= 1e-12)
  }

  /// The grid's gradients are those of the point clouds of its cell centres (the same problem): the
  /// weight gradients after removing their means, and `∂S/∂ε` (by convolution on the grid, by
  /// the dense couplings on the clouds).
  @Test func gridGradientsAgreeWithTheCellCentreClouds() throws {
    let shape = [4, 5]
    let spacing = [0.8, 1.0]
    let a = try Self.histogram(shape, seed: 81, spacing: spacing)
    let b = try Self.histogram(shape, seed: 82, spacing: spacing)
    let epsilon = 0.6
    let grid = try GridSinkhornDivergence(
      options: GridSinkhornOptions(epsilon: epsilon, tolerance: 1e-13, maxIterations: 100_000)
    ).valueAndGradient(a, b)
    let centres = (0..<20).flatMap { [Double($0 / 5) * 0.8, Double($0 % 5)] }
    let points = try Matrix(rows: 20, columns: 2, elements: centres)
    let x = try PointCloud(points: points, weights: a.masses)
    let y = try PointCloud(points: points, weights: b.masses)
    let cloud = try SinkhornDivergence(options: Self.options(epsilon)).valueAndGradient(x, y)
    func centred(_ v: [Double]) -> [Double] {
      let mean = v.reduce(0, +) / Double(v.count)
      return v.map { $0 - mean }
    }
    #expect(abs(grid.value - cloud.value) <= 1e-11)
    #expect(TestData.maxDifference(centred(grid.state), centred(cloud.state.weights)) <= 1e-9)
    #expect(TestData.maxDifference(centred(grid.pattern), centred(cloud.pattern.weights)) <= 1e-9)
    #expect(abs(try #require(grid.epsilon) - #require(cloud.epsilon)) <= 1e-9)
  }

  // MARK: The energy

  /// ``RetrievalEngine/energyGradient(at:)`` with the Sinkhorn divergence against central
  /// differences of ``RetrievalEngine/energy(at:)``: in the query's positions and weights, in one
  /// stored pattern's positions, in β and in ε.
  @Test func energyGradientMatchesFiniteDifferences() throws {
    let patterns = try (0..<4).map { try Self.cloud(6, 2, offset: Double($0) * 0.6, seed: 90 + UInt64($0)) }
    let query = try Self.cloud(7, 2, offset: 0.8, seed: 99)
    let beta = 1.5
    let epsilon = 0.3
    func engine(patterns: [PointCloud] = patterns, beta: Double = beta, epsilon: Double = epsilon) throws
      -> RetrievalEngine<SinkhornDivergence, Softmax, SHKGeometry>
    {
      try RetrievalEngine(
        memory: Memory(divergence: SinkhornDivergence(options: Self.options(epsilon)), patterns: patterns),
        separation: .softmax, geometry: try SHKGeometry(), beta: beta)
    }
    let gradient = try engine().energyGradient(at: query)
    #expect(gradient.support == [0, 1, 2, 3])
    #expect(abs(gradient.energy - (try engine().energy(at: query))) <= 1e-12)

    var g = SeededGenerator(seed: 100)
    let u = g.gaussians(query.count * 2)
    let h = 1e-5
    Self.expectClose(
      try Self.central(h) { try engine().energy(at: Self.moved(query, u, $0)) },
      Self.dot(gradient.state.points.elements, u), "query positions")
    let du = Self.tangent(query.count, seed: 101)
    Self.expectClose(
      try Self.central(h) { try engine().energy(at: Self.reweighted(query, du, $0)) },
      Self.dot(gradient.state.weights, du), "query weights")

    let v = g.gaussians(patterns[2].count * 2)
    Self.expectClose(
      try Self.central(h) { t in
        var moved = patterns
        moved[2] = try Self.moved(patterns[2], v, t)
        return try engine(patterns: moved).energy(at: query)
      }, Self.dot(gradient.patterns[2].points.elements, v), "pattern 2 positions")
    let dv = Self.tangent(patterns[1].count, seed: 102)
    Self.expectClose(
      try Self.central(h) { t in
        var moved = patterns
        moved[1] = try Self.reweighted(patterns[1], dv, t)
        return try engine(patterns: moved).energy(at: query)
      }, Self.dot(gradient.patterns[1].weights, dv), "pattern 1 weights")

    Self.expectClose(
      try Self.central(1e-5 * beta) { try engine(beta: beta + $0).energy(at: query) }, gradient.beta, "beta")
    Self.expectClose(
      try Self.central(1e-4 * epsilon) { try engine(epsilon: epsilon + $0).energy(at: query) },
      try #require(gradient.epsilon), "epsilon")
  }
}
