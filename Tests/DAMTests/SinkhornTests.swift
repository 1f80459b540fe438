import DAM
import DAMTestSupport
import Foundation
import Testing

struct SinkhornTests {
  static func cloud(_ n: Int, _ d: Int, seed: UInt64, offset: Double = 0, weighted: Bool = false) throws
    -> PointCloud
  {
    var g = SeededGenerator(seed: seed)
    let points = try Matrix(
      rows: n, columns: d, elements: (0..<(n * d)).map { _ in offset + g.nextGaussian() })
    if weighted {
      return try PointCloud(
        points: points, masses: (0..<n).map { _ in Double.random(in: 0.1...1, using: &g) })
    }
    return try PointCloud(points: points)
  }

  static let tight = try! SinkhornOptions(epsilon: 0.1, tolerance: 1e-12, maxIterations: 100_000)

  static func options(_ epsilon: Double, tolerance: Double = 1e-12) -> SinkhornOptions {
    try! SinkhornOptions(epsilon: epsilon, tolerance: tolerance, maxIterations: 200_000)
  }

  /// Two Diracs: the only coupling is the product, so OT_ε = ‖x - y‖² for every ε, and each self
  /// term is 0.
  @Test(arguments: [1e-6, 1e-2, 1, 1e3])
  func twoDiracs(epsilon: Double) throws {
    let x = try PointCloud(points: Matrix(rowArrays: [[0.5, -1, 2]]))
    let y = try PointCloud(points: Matrix(rowArrays: [[1.5, 1, 0]]))
    let s = try Sinkhorn.divergence(x, y, options: Self.options(epsilon))
    #expect(abs(s.crossTerm.value - 9) < 1e-12 * 9)
    #expect(s.firstSelfTerm.value == 0)
    #expect(abs(s.value - 9) < 1e-12 * 9)
  }

  /// Translating one cloud by t changes the cost by separable terms only, so exactly
  /// OT_ε(μ, ν + t) = OT_ε(μ, ν) + ‖t‖² - 2⟨t, m(μ) - m(ν)⟩; the divergence of two clouds
  /// translated together does not change.
  @Test func translation() throws {
    let x = try Self.cloud(25, 3, seed: 1, weighted: true)
    let y = try Self.cloud(30, 3, seed: 2)
    let t = [0.7, -1.3, 2.1]
    let yt = try PointCloud(
      points: Matrix(
        rows: 30, columns: 3, elements: y.points.elements.enumerated().map { $0.element + t[$0.offset % 3] }),
      weights: y.weights)
    let base = try Sinkhorn.transport(from: x, to: y, options: Self.tight).value
    let moved = try Sinkhorn.transport(from: x, to: yt, options: Self.tight).value
    let mx = x.mean
    let my = y.mean
    var expected = base
    for k in 0..<3 { expected += t[k] * t[k] - 2 * t[k] * (mx[k] - my[k]) }
    #expect(abs(moved - expected) < 1e-11 * abs(expected))
    let xt = try PointCloud(
      points: Matrix(
        rows: 25, columns: 3, elements: x.points.elements.enumerated().map { $0.element + t[$0.offset % 3] }),
      weights: x.weights)
    let s = try Sinkhorn.divergence(x, y, options: Self.tight).value
    let st = try Sinkhorn.divergence(xt, yt, options: Self.tight).value
    #expect(abs(s - st) < 1e-11 * abs(s))
  }

  /// Symmetry, S(μ, μ) = 0, and invariance to the order of the atoms.
  @Test func symmetryIdentityAndPermutation() throws {
    let x = try Self.cloud(20, 2, seed: 3, weighted: true)
    let y = try Self.cloud(35, 2, seed: 4, offset: 1)
    let xy = try Sinkhorn.divergence(x, y, options: Self.tight).value
    let yx = try Sinkhorn.divergence(y, x, options: Self.tight).value
    #expect(abs(xy - yx) < 1e-11 * abs(xy))
    let xx = try Sinkhorn.divergence(x, x, options: Self.tight).value
    #expect(abs(xx) < 1e-12)
    var g = SeededGenerator(seed: 5)
    let order = Array(0..<20).shuffled(using: &g)
    let permuted = try PointCloud(
      points: Matrix(rowArrays: order.map { x.points.row($0) }), weights: order.map { x.weights[$0] })
    let xpy = try Sinkhorn.divergence(permuted, y, options: Self.tight).value
    #expect(abs(xpy - xy) < 1e-11 * abs(xy))
    #expect(abs(try Sinkhorn.divergence(permuted, x, options: Self.tight).value) < 1e-12)
  }

  /// The potentials are defined up to (f + c, g - c): a shifted warm start gives the same value
  /// and the same coupling (same barycentric map).
  @Test func gaugeShiftOfPotentials() throws {
    let x = try Self.cloud(15, 2, seed: 6)
    let y = try Self.cloud(18, 2, seed: 7, weighted: true)
    let solved = try Sinkhorn.transport(from: x, to: y, options: Self.tight)
    let shifted = try Sinkhorn.transport(
      from: x, to: y, options: Self.tight, warmStart: (solved.f.map { $0 + 3.5 }, solved.g.map { $0 - 3.5 }))
    #expect(abs(shifted.value - solved.value) < 1e-12 * abs(solved.value))
    #expect(shifted.iterations <= 2, "a converged warm start needs no further work")
    let map = try Sinkhorn.barycentricMap(from: x, to: y, transport: solved)
    let shiftedMap = try Sinkhorn.barycentricMap(from: x, to: y, transport: shifted)
    #expect(TestData.maxDifference(map.elements, shiftedMap.elements) < 1e-12)
  }

  /// A warm start that leads nowhere (random potentials of size 100, a small iteration cap) falls
  /// back to a cold, annealed solve and still meets the tolerance with the right value.
  @Test func badWarmStartFallsBackToAColdSolve() throws {
    let x = try Self.cloud(30, 2, seed: 11)
    let y = try Self.cloud(30, 2, seed: 12, weighted: true)
    let options = try SinkhornOptions(epsilon: 0.1, tolerance: 1e-10, maxIterations: 60)
    let reference = try Sinkhorn.transport(from: x, to: y, options: Self.tight)
    var g = SeededGenerator(seed: 13)
    let poison = (g.gaussians(30).map { 100 * $0 }, g.gaussians(30).map { 100 * $0 })
    let result = try Sinkhorn.transport(from: x, to: y, options: options, warmStart: poison)
    #expect(result.converged)
    #expect(abs(result.value - reference.value) < 1e-9 * abs(reference.value))
  }

  /// ε → 0: W₂² ≤ OT_ε ≤ W₂² + ε log n for uniform clouds of n atoms (KL of a permutation coupling
  /// is log n); in 1-D, W₂² is the cost of matching the sorted atoms.
  @Test(arguments: [1e-2, 1e-3, 1e-4])
  func smallEpsilonApproachesExactTransport(epsilon: Double) throws {
    var g = SeededGenerator(seed: 8)
    let n = 20
    let xs = (0..<n).map { _ in g.nextGaussian() }
    let ys = (0..<n).map { _ in 2 + 0.5 * g.nextGaussian() }
    let w2 = zip(xs.sorted(), ys.sorted()).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(n)
    let x = try PointCloud(points: Matrix(rows: n, columns: 1, elements: xs))
    let y = try PointCloud(points: Matrix(rows: n, columns: 1, elements: ys))
    let ot = try Sinkhorn.transport(from: x, to: y, options: Self.options(epsilon, tolerance: 1e-10)).value
    #expect(ot >= w2 - 1e-10)
    #expect(ot <= w2 + epsilon * log(Double(n)) + 1e-10)
    let finite = ot.isFinite
    #expect(finite)
  }

  /// ε → ∞: the coupling tends to the product a ⊗ b, so OT_ε → ⟨C, a ⊗ b⟩ (from below).
  @Test func largeEpsilonApproachesTheProductCoupling() throws {
    let x = try Self.cloud(12, 2, seed: 9, weighted: true)
    let y = try Self.cloud(9, 2, seed: 10)
    var product = 0.0
    for j in 0..<12 {
      for k in 0..<9 {
        var c = 0.0
        for t in 0..<2 { c += (x.points[j, t] - y.points[k, t]) * (x.points[j, t] - y.points[k, t]) }
        product += x.weights[j] * y.weights[k] * c
      }
    }
    let ot = try Sinkhorn.transport(from: x, to: y, options: Self.options(1e6)).value
    #expect(ot <= product + 1e-9)
    // The gap is the variance of the cost under the product, over 2ε, to first order: tiny at 1e6.
    #expect(product - ot < 1e-4)
  }

  @Test func badInputIsRefused() throws {
    #expect(throws: DAMError.self) { try SinkhornOptions(epsilon: 0) }
    #expect(throws: DAMError.self) { try SinkhornOptions(epsilon: -1) }
    #expect(throws: DAMError.self) { try SinkhornOptions(epsilon: .nan) }
    #expect(throws: DAMError.self) { try SinkhornOptions(epsilon: 1, tolerance: -1) }
    #expect(throws: DAMError.self) { try SinkhornOptions(epsilon: 1, epsilonScaling: 1) }
    #expect(throws: DAMError.self) { try SinkhornOptions(epsilon: 1, relaxation: .fixed(2)) }
    let x = try Self.cloud(5, 2, seed: 1)
    let y = try Self.cloud(5, 3, seed: 2)
    let mismatch = #expect(throws: DAMError.self) { try Sinkhorn.divergence(x, y, options: Self.tight) }
    #expect(mismatch?.kind == .dimensionMismatch)
    let z = try Self.cloud(5, 2, seed: 3, offset: 30)
    let capped = try SinkhornOptions(epsilon: 1e-3, tolerance: 1e-14, maxIterations: 3, epsilonScaling: nil)
    let error = #expect(throws: DAMError.self) { try Sinkhorn.transport(from: x, to: z, options: capped) }
    #expect(error?.argument == "maxIterations")
    let allowed = try SinkhornOptions(
      epsilon: 1e-3, tolerance: 1e-14, maxIterations: 3, epsilonScaling: nil, allowsUnconverged: true)
    let partial = try Sinkhorn.transport(from: x, to: z, options: allowed)
    #expect(!partial.converged)
    #expect(partial.value.isFinite)
  }
}

/// The two backends and the two ways of forming costs.
struct SinkhornBackendTests {
  static func cloud(_ n: Int, _ d: Int, seed: UInt64) throws -> PointCloud {
    var g = SeededGenerator(seed: seed)
    let masses = (0..<n).map { _ in Double.random(in: 0.2...1, using: &g) }
    return try PointCloud(
      points: Matrix(
        rows: n, columns: d, elements: (0..<(n * d)).map { _ in Double.random(in: 0..<1, using: &g) }),
      masses: masses)
  }

  /// Kernel and log-domain solves of the same problems stop at the same point: values to 1e-10
  /// relative (both at marginal tolerance 1e-12), in dimensions on both sides of the switch from
  /// explicit differences to the matrix-product expansion of the cost (d = 8 | 9).
  @Test(arguments: [
    (60, 45, 2, 0.05), (80, 80, 3, 0.01), (50, 70, 8, 0.2), (64, 40, 9, 0.2), (40, 40, 64, 1.0),
  ])
  func backendsAgree(n: Int, m: Int, d: Int, epsilon: Double) throws {
    let x = try Self.cloud(n, d, seed: UInt64(n * 7 + d))
    let y = try Self.cloud(m, d, seed: UInt64(m * 11 + d))
    func solve(_ backend: SinkhornBackend) throws -> SinkhornDivergenceValue {
      try Sinkhorn.divergence(
        x, y,
        options: SinkhornOptions(epsilon: epsilon, tolerance: 1e-12, maxIterations: 100_000, backend: backend)
      )
    }
    let kernel = try solve(.kernel)
    let log = try solve(.logDomain)
    let scale = max(
      abs(kernel.crossTerm.value), abs(kernel.firstSelfTerm.value), abs(kernel.secondSelfTerm.value))
    #expect(abs(kernel.value - log.value) <= 1e-10 * scale)
    #expect(abs(kernel.crossTerm.value - log.crossTerm.value) <= 1e-10 * scale)
    #expect(kernel.crossTerm.converged && log.crossTerm.converged)
  }

  /// Newton's method above the old size limit (n + m = 3400 > 3000, up to 8192 now) finishes the
  /// cross problem and lands where plain Sinkhorn iterations (Newton off) do: values to 1e-10
  /// relative, both at marginal tolerance 1e-11. At ε = 0.01 Sinkhorn crawls (5,345 iterations,
  /// 3.2 s) and five Newton steps finish after 299 (1.0 s); at ε = 0.05 plain Sinkhorn needs 149
  /// and Newton is rightly not used.
  @Test func newtonAboveTheOldSizeLimitAgreesWithSinkhorn() throws {
    let x = try Self.cloud(1700, 16, seed: 41)
    let y = try Self.cloud(1700, 16, seed: 42)
    func solve(newton: Bool) throws -> EntropicTransport {
      try Sinkhorn.transport(
        from: x, to: y,
        options: SinkhornOptions(epsilon: 0.01, tolerance: 1e-11, maxIterations: 100_000, newton: newton))
    }
    let polished = try solve(newton: true)
    let plain = try solve(newton: false)
    #expect(polished.newtonSteps > 0)
    #expect(plain.newtonSteps == 0)
    #expect(polished.converged && plain.converged)
    #expect(abs(polished.value - plain.value) <= 1e-10 * abs(plain.value))
  }

  /// Costs from the expansion ‖x‖² + ‖y‖² - 2x·y (d > 8) against explicit differences (d <= 8):
  /// padding clouds in d = 6 with six zero coordinates changes no cost, so the divergences agree
  /// to the round-off of the expansion (1e-10 of the transport value).
  @Test func paddingWithZeroCoordinatesChangesNothing() throws {
    let x = try Self.cloud(50, 6, seed: 1)
    let y = try Self.cloud(40, 6, seed: 2)
    func padded(_ cloud: PointCloud) throws -> PointCloud {
      var elements: [Double] = []
      for j in 0..<cloud.count { elements += (0..<6).map { cloud.points[j, $0] } + [0, 0, 0, 0, 0, 0] }
      return try PointCloud(
        points: Matrix(rows: cloud.count, columns: 12, elements: elements), weights: cloud.weights)
    }
    let options = try SinkhornOptions(epsilon: 0.05, tolerance: 1e-12, maxIterations: 100_000)
    let direct = try Sinkhorn.divergence(x, y, options: options)
    let expanded = try Sinkhorn.divergence(try padded(x), try padded(y), options: options)
    #expect(abs(direct.value - expanded.value) <= 1e-10 * abs(direct.crossTerm.value))
  }
}

/// The options' settings are variables: a value changed after initialisation is checked when a
/// solve starts (a scaling factor of 1.5 would otherwise anneal for ever), for clouds and grids.
struct SolverOptionsTests {
  @Test func settingsChangedAfterInitialisationAreChecked() throws {
    let x = try PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0]]))
    let y = try PointCloud(points: Matrix(rowArrays: [[0, 1], [1, 1]]))
    var options = try SinkhornOptions(epsilon: 0.1)
    options.epsilonScaling = 1.5
    #expect(throws: DAMError.self) { try Sinkhorn.divergence(x, y, options: options) }
    do {
      _ = try Sinkhorn.transport(from: x, to: y, options: options)
    } catch {
      #expect(error.argument == "epsilonScaling")
    }
    var grid = try GridSinkhornOptions(epsilon: 1)
    grid.maxIterations = 0
    let h = try GridHistogram(shape: [4], masses: [0.25, 0.25, 0.25, 0.25])
    do {
      _ = try GridSinkhorn.selfTransport(h, options: grid)
      Issue.record("maxIterations 0 was accepted")
    } catch {
      #expect(error.argument == "maxIterations")
    }
  }

  /// One options type: the grid's settings are the point-cloud settings with another backend.
  @Test func gridAndCloudSettingsAreOneType() throws {
    let cloud = try SinkhornOptions(epsilon: 0.3, tolerance: 1e-7, maxIterations: 50, relaxation: .none)
    let grid = try GridSinkhornOptions(epsilon: 0.3, tolerance: 1e-7, maxIterations: 50, relaxation: .none)
    #expect(cloud.epsilon == grid.epsilon && cloud.tolerance == grid.tolerance)
    #expect(cloud.relaxation == grid.relaxation && cloud.newton == grid.newton)
    #expect(type(of: cloud) == EntropicOptions<SinkhornBackend>.self)
    #expect(type(of: grid) == EntropicOptions<GridKernelBackend>.self)
  }
}
