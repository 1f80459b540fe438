import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// Ground costs other than the squared Euclidean one: `‖x - y‖ᵖ` against POT and OTT-JAX
/// (Fixtures/sinkhorn-costs/README.md), the Mahalanobis cost against the squared Euclidean cost
/// on mapped points, an asymmetric cost against its closed form, and the potentials' gradients
/// against finite differences of the divergence.
struct SinkhornCostTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/sinkhorn-costs")

  static let cases: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".npz") }.sorted()
  }()

  @Test func fixturesArePresent() {
    #expect(Self.cases.count >= 5, "fixtures in \(Self.folder.path)")
  }

  /// Values to 1e-9 relative at tolerance 1e-12 (POT's and OTT's agree to 4e-14); potentials
  /// (gauge `⟨a, f⟩ = ⟨b, g⟩`) and self potentials to 1e-8 of the largest cost; the barycentric
  /// map to 1e-8 of the largest coordinate.
  @Test(arguments: cases, [SinkhornBackend.kernel, .logDomain])
  func powerCostAgreesWithPOTAndOTT(name: String, backend: SinkhornBackend) throws {
    let archive = try NPZ.read(contentsOf: Self.folder.appendingPathComponent(name).path)
    func array(_ key: String) throws -> [Double] { try #require(archive[key]).doubles() }
    func scalar(_ key: String) throws -> Double { try #require(try array(key).first) }
    func cloud(_ points: String, _ weights: String) throws -> PointCloud {
      let p = try #require(archive[points])
      return try PointCloud(
        points: Matrix(rows: p.shape[0], columns: p.shape.count > 1 ? p.shape[1] : 1, elements: p.doubles()),
        weights: array(weights))
    }
    let x = try cloud("x", "a")
    let y = try cloud("y", "b")
    let cost = try PowerCost(power: scalar("p"))
    let scale = try scalar("max_cost")
    let options = try SinkhornOptions(
      epsilon: scalar("eps"), tolerance: 1e-12, maxIterations: 100_000, backend: backend)
    let result = try Sinkhorn.divergence(x, y, cost: cost, options: options)
    func close(_ value: Double, _ reference: Double, _ what: String) {
      #expect(
        abs(value - reference) <= 1e-9 * max(abs(reference), 1e-3 * scale),
        "\(name) \(what): \(value) vs \(reference)")
    }
    close(result.crossTerm.value, try scalar("ot_xy"), "OT(x, y) POT")
    close(result.crossTerm.value, try scalar("ott_ot_xy"), "OT(x, y) OTT")
    close(result.firstSelfTerm.value, try scalar("ot_xx"), "OT(x, x)")
    close(result.secondSelfTerm.value, try scalar("ot_yy"), "OT(y, y)")
    close(result.value, try scalar("divergence"), "S POT")
    close(result.value, try scalar("ott_divergence"), "S OTT")

    let (f, g) = (result.crossTerm.f, result.crossTerm.g)
    let af = zip(x.weights, f).reduce(0) { $0 + $1.0 * $1.1 }
    let bg = zip(y.weights, g).reduce(0) { $0 + $1.0 * $1.1 }
    let shift = (bg - af) / 2
    #expect(TestData.maxDifference(f.map { $0 + shift }, try array("f")) <= 1e-8 * scale, "\(name) f")
    #expect(TestData.maxDifference(g.map { $0 - shift }, try array("g")) <= 1e-8 * scale, "\(name) g")
    #expect(
      TestData.maxDifference(result.firstSelfTerm.potential, try array("p_x")) <= 1e-8 * scale, "\(name) p_x")
    #expect(
      TestData.maxDifference(result.secondSelfTerm.potential, try array("p_y")) <= 1e-8 * scale, "\(name) p_y"
    )
    let map = try Sinkhorn.barycentricMap(from: x, to: y, cost: cost, transport: result.crossTerm)
    let reach = y.points.elements.reduce(0) { max($0, abs($1)) }
    #expect(TestData.maxDifference(map.elements, try array("bary")) <= 1e-8 * reach, "\(name) map")
  }

  static func clouds(seed: UInt64, n: Int = 24, m: Int = 30, d: Int = 3) throws -> (PointCloud, PointCloud) {
    var g = SeededGenerator(seed: seed)
    func cloud(_ count: Int, shift: Double) throws -> PointCloud {
      let points = (0..<(count * d)).map { _ in Double.random(in: 0...1, using: &g) + shift }
      let weights = (0..<count).map { _ in Double.random(in: 0.3...1, using: &g) }
      let total = weights.reduce(0, +)
      return try PointCloud(
        points: Matrix(rows: count, columns: d, elements: points), weights: weights.map { $0 / total })
    }
    return (try cloud(n, shift: 0), try cloud(m, shift: 0.4))
  }

  /// `(x - y)ᵀ M (x - y) = ‖Lᵀx - Lᵀy‖²` for `M = L Lᵀ`: the Mahalanobis solve (its own block
  /// costs, pair by pair) equals the squared Euclidean solve (the fast path) on the mapped points.
  @Test(arguments: [SinkhornBackend.kernel, .logDomain])
  func mahalanobisIsSquaredEuclideanOnMappedPoints(backend: SinkhornBackend) throws {
    let (x, y) = try Self.clouds(seed: 11)
    let l = try Matrix(rowArrays: [[1.2, 0, 0], [0.3, 0.7, 0], [-0.4, 0.2, 1.5]])
    let metric = try l.multiplied(by: l.transposed())
    func mapped(_ cloud: PointCloud) throws -> PointCloud {
      try PointCloud(points: cloud.points.multiplied(by: l), weights: cloud.weights)
    }
    let options = try SinkhornOptions(
      epsilon: 0.05, tolerance: 1e-12, maxIterations: 50_000, backend: backend)
    let direct = try Sinkhorn.divergence(x, y, cost: MahalanobisCost(metric: metric), options: options)
    let reference = try Sinkhorn.divergence(mapped(x), mapped(y), options: options)
    #expect(abs(direct.value - reference.value) <= 1e-10 * abs(reference.value))
    #expect(abs(direct.crossTerm.value - reference.crossTerm.value) <= 1e-10 * abs(reference.crossTerm.value))
    #expect(TestData.maxDifference(direct.firstSelfTerm.potential, reference.firstSelfTerm.potential) <= 1e-9)
  }

  /// An asymmetric cost `c(x, y) = ‖x - y‖² + α (y₀ - x₀)`: the added terms are separable, so the
  /// coupling is the squared Euclidean one, `OT` moves by `α (E_b y₀ - E_a x₀)` and the potentials
  /// by `f - α x₀`, `g + α y₀`. Both backends read the cost in both directions (the log domain
  /// through the transposed matrix), so a transposition mistake shows.
  @Test(arguments: [SinkhornBackend.kernel, .logDomain])
  func asymmetricCostShiftsByItsSeparableTerms(backend: SinkhornBackend) throws {
    let (x, y) = try Self.clouds(seed: 12, n: 17, m: 23, d: 2)
    let alpha = 0.8
    let tilted = ClosureCost(name: "tilted") { a, b in
      var sum = alpha * (b[0] - a[0])
      for t in 0..<a.count { sum += (a[t] - b[t]) * (a[t] - b[t]) }
      return sum
    } gradient: { a, b, gradient in
      for t in 0..<a.count { gradient[t] = 2 * (a[t] - b[t]) }
      gradient[0] -= alpha
    }
    let options = try SinkhornOptions(
      epsilon: 0.02, tolerance: 1e-12, maxIterations: 50_000, backend: backend)
    let solved = try Sinkhorn.transport(from: x, to: y, cost: tilted, options: options)
    let reference = try Sinkhorn.transport(from: x, to: y, options: options)
    let meanX = (0..<x.count).reduce(0) { $0 + x.weights[$1] * x.points[$1, 0] }
    let meanY = (0..<y.count).reduce(0) { $0 + y.weights[$1] * y.points[$1, 0] }
    let expected = reference.value + alpha * (meanY - meanX)
    #expect(abs(solved.value - expected) <= 1e-10 * abs(expected))
    // Potentials up to the gauge: f + α x₀ - f_ref is constant.
    let offsets = (0..<x.count).map { solved.f[$0] + alpha * x.points[$0, 0] - reference.f[$0] }
    #expect(offsets.max()! - offsets.min()! <= 1e-9)
    let columnOffsets = (0..<y.count).map { solved.g[$0] - alpha * y.points[$0, 0] - reference.g[$0] }
    #expect(abs(columnOffsets[0] + offsets[0]) <= 1e-9)
  }

  /// The general path (a closure, pair by pair) agrees with the built-in fast path on the same
  /// squared Euclidean cost.
  @Test func closureCostMatchesTheBuiltInCost() throws {
    let (x, y) = try Self.clouds(seed: 13)
    let closure = ClosureCost(name: "sq") { a, b in
      (0..<a.count).reduce(0) { $0 + (a[$1] - b[$1]) * (a[$1] - b[$1]) }
    } gradient: { a, b, gradient in
      for t in 0..<a.count { gradient[t] = 2 * (a[t] - b[t]) }
    }
    let options = try SinkhornOptions(epsilon: 0.03, tolerance: 1e-12, maxIterations: 50_000)
    let general = try Sinkhorn.divergence(x, y, cost: closure, options: options)
    let builtIn = try Sinkhorn.divergence(x, y, options: options)
    #expect(abs(general.value - builtIn.value) <= 1e-11 * abs(builtIn.value))
    // ∇f = 2 (x - T(x)) for this cost.
    let gradient = try Sinkhorn.potentialGradient(from: x, to: y, cost: closure, transport: general.crossTerm)
    let map = try Sinkhorn.barycentricMap(from: x, to: y, transport: builtIn.crossTerm)
    let expected = (0..<(x.count * 3)).map { 2 * (x.points.elements[$0] - map.elements[$0]) }
    #expect(TestData.maxDifference(gradient.elements, expected) <= 1e-9)
  }

  /// `∂S_ε(μ, ν)/∂xⱼ = aⱼ (∇f(xⱼ) - ∇p(xⱼ))` (envelope theorem; `p` the self potential of `μ`),
  /// against central differences of the divergence, for a power and a Mahalanobis cost.
  @Test(arguments: [0, 1])
  func potentialGradientsAreDivergenceGradients(which: Int) throws {
    let (x, y) = try Self.clouds(seed: 14, n: 9, m: 11, d: 2)
    let cost: any Cost =
      which == 0
      ? try PowerCost(power: 1.5)
      : try MahalanobisCost(metric: Matrix(rowArrays: [[2, 0.5], [0.5, 1]]))
    let options = try SinkhornOptions(epsilon: 0.05, tolerance: 1e-13, maxIterations: 100_000)
    let solved = try Sinkhorn.divergence(x, y, cost: cost, options: options)
    let cross = try Sinkhorn.potentialGradient(from: x, to: y, cost: cost, transport: solved.crossTerm)
    let own = try Sinkhorn.potentialGradient(of: x, cost: cost, selfTransport: solved.firstSelfTerm)
    let h = 1e-5
    for j in [0, 4, 8] {
      for t in 0..<2 {
        func divergence(_ delta: Double) throws -> Double {
          var points = x.points.elements
          points[j * 2 + t] += delta
          let moved = try PointCloud(
            points: Matrix(rows: 9, columns: 2, elements: points), weights: x.weights)
          return try Sinkhorn.divergence(moved, y, cost: cost, options: options).value
        }
        let numeric = (try divergence(h) - divergence(-h)) / (2 * h)
        let analytic = x.weights[j] * (cross[j, t] - own[j, t])
        #expect(
          abs(numeric - analytic) <= 1e-6 * max(1, abs(analytic)),
          "atom \(j) axis \(t): \(numeric) vs \(analytic)")
      }
    }
  }

  /// Retrieval with a power cost: a noisy copy of a stored cloud moves towards it, and the
  /// divergence gives no pruning bound (none is proven for this cost). The step is smaller than
  /// for the squared Euclidean cost: `‖∇ₓ‖x - y‖^1.5‖ = 1.5 ‖x - y‖^0.5` does not vanish
  /// linearly as atoms meet, so the default step (made for `2 (x - T(x))`) overshoots.
  @Test func retrievesWithAPowerCost() throws {
    var g = SeededGenerator(seed: 15)
    let patterns = try (0..<4).map { i -> PointCloud in
      let points = (0..<16).map { _ in Double.random(in: 0...1, using: &g) + Double(i) * 0.7 }
      return try PointCloud(points: Matrix(rows: 8, columns: 2, elements: points))
    }
    let divergence = try SinkhornDivergence(epsilon: 0.05, cost: PowerCost(power: 1.5))
    let noisy = try PointCloud(
      points: Matrix(
        rows: 8, columns: 2,
        elements: patterns[2].points.elements.map { $0 + 0.1 * Double.random(in: -1...1, using: &g) }))
    let engine = try RetrievalEngine(
      memory: Memory(divergence: divergence, patterns: patterns), separation: .softmax,
      geometry: SHKGeometry.wasserstein(step: 0.05), beta: 20, stopping: StoppingRule(maxSteps: 40))
    let result = try engine.retrieve(noisy)
    let before = try Sinkhorn.divergence(
      noisy, patterns[2], cost: divergence.cost, options: divergence.options
    ).value
    let after = try Sinkhorn.divergence(
      result.state, patterns[2], cost: divergence.cost, options: divergence.options
    )
    .value
    #expect(after < 0.5 * before, "\(after) vs \(before)")
    let cache = try divergence.prepare(patterns[0])
    let query = try divergence.prepareQuery(noisy, previous: nil)
    #expect(divergence.lowerBound(noisy, query: query, pattern: patterns[0], cache: cache) == nil)
  }

  @Test func refusesInvalidCosts() throws {
    #expect(throws: DAMError.self) { try PowerCost(power: 0.5) }
    #expect(throws: DAMError.self) { try PowerCost(power: .nan) }
    #expect(throws: DAMError.self) { try MahalanobisCost(metric: Matrix(rowArrays: [[1, 2], [0, 1]])) }
    #expect(throws: DAMError.self) { try MahalanobisCost(metric: Matrix(rowArrays: [[1, 2], [2, 1]])) }
    let (x, y) = try Self.clouds(seed: 16)
    let wrong = try MahalanobisCost(metric: Matrix(rowArrays: [[1, 0], [0, 1]]))
    do {
      _ = try Sinkhorn.divergence(x, y, cost: wrong, options: SinkhornOptions(epsilon: 0.1))
      Issue.record("a 2 x 2 metric for 3-D points was accepted")
    } catch {
      #expect(error.argument == "cost")
    }
    do {
      _ = try PowerCost(power: 0.5)
    } catch {
      #expect(error.argument == "power")
    }
  }
}
