import DAM
import DAMTestSupport
import Foundation
import Testing

/// The Bures-Wasserstein distance, its optimal maps, the BW-DAM divergence and its geometry.
///
/// Tolerances: closed forms are compared to `1e-12` relative (a handful of square roots and one
/// eigendecomposition of a well-conditioned matrix, each accurate to a few ulps, times d ≤ 10);
/// the fixtures, exact to their float64 inputs (mpmath, 60 digits), to `1e-10` relative when the
/// condition number is at most 1e4 (the trace term loses about `κ · ulp` to cancellation and
/// eigenvalue error).
struct BuresWassersteinTests {
  static func gaussian(_ mean: [Double], _ covariance: Matrix) -> Gaussian {
    try! Gaussian(mean: mean, covariance: covariance)
  }

  /// A random Gaussian in dimension `d`: standard normal mean times `spread`, covariance with
  /// log-uniform eigenvalues in [0.2, 2] and a random basis.
  static func randomGaussian(_ d: Int, seed: UInt64, spread: Double = 1) -> Gaussian {
    var g = SeededGenerator(seed: seed)
    let eigenvalues = (0..<d).map { _ in 0.2 * exp(Double.random(in: 0...log(10), using: &g)) }
    return gaussian(
      g.gaussians(d).map { spread * $0 }, TestData.spd(eigenvalues: eigenvalues, seed: seed + 1000).matrix)
  }

  static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

  // MARK: Closed forms

  @Test func oneDimensional() throws {
    let a = try Gaussian(mean: [1.5], covariance: Matrix(diagonal: [4]))
    let b = try Gaussian(mean: [-0.5], covariance: Matrix(diagonal: [0.25]))
    let expected = 2.0 * 2 + (2 - 0.5) * (2 - 0.5)
    #expect(Self.relative(try BuresWasserstein.distanceSquared(a, b), expected) < 1e-14)
    let diagonal = (try Gaussian(mean: [1.5], variances: [4]), try Gaussian(mean: [-0.5], variances: [0.25]))
    #expect(Self.relative(try BuresWasserstein.distanceSquared(diagonal.0, diagonal.1), expected) < 1e-14)
  }

  /// Commuting covariances `S₁ = U diag(a) Uᵀ`, `S₂ = U diag(b) Uᵀ`: `Σ (√a - √b)² + ‖Δm‖²`.
  @Test func commutingCovariances() throws {
    let a = [0.3, 1, 2.5, 4, 9]
    let b = [1.2, 0.5, 2.5, 16, 0.1]
    let u = TestData.spd(eigenvalues: a, seed: 5)
    let v = TestData.spd(eigenvalues: b, seed: 5)  // the same basis
    let m1 = [1.0, 2, 3, 4, 5]
    let m2 = [0.5, 2, -1, 4, 6]
    let expected =
      zip(a, b).reduce(0) { $0 + pow($1.0.squareRoot() - $1.1.squareRoot(), 2) }
      + zip(m1, m2).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let full = try BuresWasserstein.distanceSquared(Self.gaussian(m1, u.matrix), Self.gaussian(m2, v.matrix))
    #expect(Self.relative(full, expected) < 1e-12, "\(full) vs \(expected)")
    let diagonal = try BuresWasserstein.distanceSquared(
      Gaussian(mean: m1, variances: a), Gaussian(mean: m2, variances: b))
    #expect(Self.relative(diagonal, expected) < 1e-14)
  }

  @Test func equalCovariancesGiveTheMeanDistance() throws {
    let x = Self.randomGaussian(7, seed: 3)
    let y = try Gaussian(mean: x.mean.map { $0 + 0.5 }, covariance: x.covarianceMatrix)
    let value = try BuresWasserstein.distanceSquared(x, y)
    // ‖Δm‖² = 7 · 0.25; the trace term cancels to round-off, about 1e-15 · tr(S).
    #expect(abs(value - 1.75) < 1e-12, "\(value)")
  }

  @Test func identityAndSymmetry() throws {
    for d in [1, 3, 8] {
      let x = Self.randomGaussian(d, seed: UInt64(10 + d))
      let y = Self.randomGaussian(d, seed: UInt64(20 + d), spread: 2)
      #expect(abs(try BuresWasserstein.distanceSquared(x, x)) < 1e-12)
      let xy = try BuresWasserstein.distanceSquared(x, y)
      let yx = try BuresWasserstein.distanceSquared(y, x)
      #expect(xy > 0)
      #expect(Self.relative(xy, yx) < 1e-12, "\(xy) vs \(yx)")
    }
    #expect(throws: DAMError.self) {
      try BuresWasserstein.distanceSquared(Self.randomGaussian(2, seed: 1), Self.randomGaussian(3, seed: 1))
    }
  }

  /// `T(x) = A x + b` pushes `N(m, W)` onto `N(μ, S)`: `A m + b = μ` and `A W A = S`, and `A` is
  /// symmetric positive definite.
  @Test func mapPushesTheSourceOntoTheTarget() throws {
    for (d, seed) in [(1, 1), (4, 2), (10, 3)] as [(Int, UInt64)] {
      let source = Self.randomGaussian(d, seed: seed)
      let target = Self.randomGaussian(d, seed: seed + 50, spread: 3)
      let (a, b) = try BuresWasserstein.map(from: source, to: target)
      let pushedMean = zip(try a.multiplied(by: source.mean), b).map { $0 + $1 }
      #expect(TestData.maxDifference(pushedMean, target.mean) < 1e-9 * max(1, target.mean.map(abs).max()!))
      let pushed = try a.multiplied(by: source.covarianceMatrix).multiplied(by: a)
      let scale = target.covarianceMatrix.maxAbs
      #expect(TestData.maxDifference(pushed.elements, target.covarianceMatrix.elements) < 1e-9 * scale)
      #expect(a.asymmetry <= 1e-14 * a.maxAbs)
      #expect(try SymmetricEigendecomposition(a).eigenvalues[0] > 0)
    }
  }

  // MARK: Fixtures

  struct Fixture: Decodable {
    struct Case: Decodable {
      var name: String
      var mean1: [Double]
      var covariance1: [[Double]]
      var mean2: [Double]
      var covariance2: [[Double]]
      var diagonal: Bool
      var w2Squared: Double
      var condition: Double
      var wellConditioned: Bool
      var potW2Squared: Double?
      var scipyW2Squared: Double?
    }
    var cases: [Case]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gaussian/cases.json")
    // The fixture is part of the repository; a missing or malformed file is a broken checkout.
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try! decoder.decode(Fixture.self, from: Data(contentsOf: url))
  }()

  /// 45 cases by `scripts/fixtures/make_gaussian_fixtures.py` (d = 1…20, condition numbers up to
  /// 1e10), exact to their float64 inputs.
  @Test func agreesWithFixtures() throws {
    #expect(Self.fixture.cases.count == 45)
    for item in Self.fixture.cases {
      let a = try Gaussian(mean: item.mean1, covariance: Matrix(rowArrays: item.covariance1))
      let b = try Gaussian(mean: item.mean2, covariance: Matrix(rowArrays: item.covariance2))
      let value = try BuresWasserstein.distanceSquared(a, b)
      #expect(value.isFinite && value >= 0, "\(item.name): \(value)")
      if item.wellConditioned {
        if item.w2Squared < 1e-20 {
          #expect(value < 1e-12, "\(item.name): \(value)")
        } else {
          #expect(Self.relative(value, item.w2Squared) < 1e-10, "\(item.name): \(value) vs \(item.w2Squared)")
        }
      } else {
        // Cancellation in the trace term costs about κ · ulp of tr(S) (≤ 1e10 · 1e-16 = 1e-6).
        #expect(Self.relative(value, item.w2Squared) < 1e-6, "\(item.name): \(value) vs \(item.w2Squared)")
      }
      if item.diagonal {
        let diagonalA = try Gaussian(
          mean: item.mean1, variances: (0..<a.dimension).map { item.covariance1[$0][$0] })
        let diagonalB = try Gaussian(
          mean: item.mean2, variances: (0..<a.dimension).map { item.covariance2[$0][$0] })
        let fast = try BuresWasserstein.distanceSquared(diagonalA, diagonalB)
        #expect(Self.relative(fast, value) < 1e-12, "\(item.name): diagonal \(fast) vs full \(value)")
        #expect(Self.relative(fast, item.w2Squared) < 1e-13, "\(item.name)")
      }
    }
  }

  /// The peers directly: POT's `bures_wasserstein_distance` (squared) and the formula with
  /// `scipy.linalg.sqrtm`, in float64, stored in the same fixture. On the well-conditioned cases
  /// (κ ≤ 1e4) both agree with our value to 1e-10 relative; the peers themselves sit within
  /// 1.6e-13 of the mpmath reference there. The zero-distance cases (identical Gaussians) are
  /// compared in absolute terms, against tr(S) ≈ 10 times round-off.
  @Test(arguments: ["pot", "scipy"])
  func agreesWithPeers(peer: String) throws {
    var compared = 0
    for item in Self.fixture.cases where item.wellConditioned {
      let reference = try #require(peer == "pot" ? item.potW2Squared : item.scipyW2Squared, "\(item.name)")
      let a = try Gaussian(mean: item.mean1, covariance: Matrix(rowArrays: item.covariance1))
      let b = try Gaussian(mean: item.mean2, covariance: Matrix(rowArrays: item.covariance2))
      let value = try BuresWasserstein.distanceSquared(a, b)
      if item.w2Squared < 1e-20 {
        #expect(abs(value - reference) < 1e-12, "\(item.name): \(value) vs \(peer) \(reference)")
      } else {
        #expect(Self.relative(value, reference) < 1e-10, "\(item.name): \(value) vs \(peer) \(reference)")
      }
      compared += 1
    }
    #expect(compared >= 30)
  }

  // MARK: The divergence

  @Test func divergenceConformsAlongMeanAndCovariance() throws {
    let d = 4
    let state = Self.randomGaussian(d, seed: 31)
    let patterns =
      (0..<3).map { Self.randomGaussian(d, seed: 40 + UInt64($0), spread: 2) }
      + [try Gaussian(mean: [0.1, -0.2, 0.3, 0.4], variances: [0.5, 1, 2, 0.3])]
    var g = SeededGenerator(seed: 32)
    let u = g.gaussians(d)
    let divergence = BuresWassersteinDivergence()
    let alongMean = DivergenceConformance.check(
      divergence, state: state, patterns: patterns, identicalPairs: patterns.map { ($0, $0) },
      displace: { s, t in Self.gaussian(zip(s.mean, u).map { $0 + t * $1 }, s.covarianceMatrix) },
      derivative: { v in zip(v.meanGradient(at: state), u).reduce(0) { $0 + $1.0 * $1.1 } })
    #expect(alongMean.isEmpty, "\(alongMean)")
    // A symmetric direction H for the covariance, paired with the gradient by tr(G H).
    let raw = g.gaussians(d * d)
    let h = try Matrix(
      rows: d, columns: d, elements: (0..<(d * d)).map { 0.5 * (raw[$0] + raw[($0 % d) * d + $0 / d]) })
    let alongCovariance = DivergenceConformance.check(
      divergence, state: state, patterns: patterns,
      displace: { s, t in
        Self.gaussian(
          s.mean,
          try! Matrix(
            rows: d, columns: d, elements: zip(s.covarianceMatrix.elements, h.elements).map { $0 + t * $1 }))
      },
      derivative: { v in zip(v.covarianceGradient().elements, h.elements).reduce(0) { $0 + $1.0 * $1.1 } })
    #expect(alongCovariance.isEmpty, "\(alongCovariance)")
  }

  @Test func fullAndDiagonalPathsAgree() throws {
    let divergence = BuresWassersteinDivergence()
    let state = try Gaussian(mean: [1, 2, 3], variances: [0.5, 2, 1.5])
    let pattern = try Gaussian(mean: [0, 2, 1], variances: [1, 0.2, 3])
    let promotedState = try Gaussian(mean: state.mean, covariance: state.covarianceMatrix)
    let promotedPattern = try Gaussian(mean: pattern.mean, covariance: pattern.covarianceMatrix)
    let fast = try divergence.evaluate(
      state, query: divergence.prepareQuery(state), pattern: pattern, cache: divergence.prepare(pattern))
    guard case .diagonal(let diagonalMap) = fast.map else {
      Issue.record("two diagonal Gaussians should give a diagonal map")
      return
    }
    for (s, p) in [(promotedState, pattern), (state, promotedPattern), (promotedState, promotedPattern)] {
      let slow = try divergence.evaluate(
        s, query: divergence.prepareQuery(s), pattern: p, cache: divergence.prepare(p))
      #expect(Self.relative(slow.value, fast.value) < 1e-13)
      guard case .full(let map) = slow.map else {
        Issue.record("a full Gaussian should give a full map")
        continue
      }
      #expect(TestData.maxDifference(map.elements, Matrix(diagonal: diagonalMap).elements) < 1e-13)
    }
  }

  // MARK: Retrieval

  /// Ten Gaussians in d = 5; the query is pattern 6 with its mean moved by 0.3 per coordinate
  /// (standard normal direction) and its covariance inflated by a random SPD matrix. The nearest
  /// other pattern (9) is at W₂² ≈ 2.5 from pattern 6, so at β = 20 its weight at the fixed point is
  /// about e^-50 and the fixed point is pattern 6 to round-off.
  @Test func retrievesAStoredGaussian() throws {
    let d = 5
    let patterns = (0..<10).map { Self.randomGaussian(d, seed: 100 + UInt64($0), spread: 3) }
    var g = SeededGenerator(seed: 7)
    let target = patterns[6]
    let noise = TestData.spd(eigenvalues: [0.05, 0.1, 0.2, 0.3, 0.4], seed: 8).matrix
    let query = try Gaussian(
      mean: zip(target.mean, g.gaussians(d)).map { $0 + 0.3 * $1 },
      covariance: Matrix(
        rows: d, columns: d, elements: zip(target.covarianceMatrix.elements, noise.elements).map(+)))
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: 20)
    let result = try engine.retrieve(query, recordingTrajectory: true)
    #expect(result.weights.firstIndex(of: result.weights.max()!) == 6)
    let final = try BuresWasserstein.distanceSquared(result.state, target)
    #expect(final < 1e-12, "W2² to the target \(final)")
    for (before, after) in zip(result.energies, result.energies.dropFirst()) {
      #expect(after <= before + 1e-12 * max(1, abs(before)), "energy rose from \(before) to \(after)")
    }
    for state in result.trajectory ?? [] {
      #expect(try SymmetricEigendecomposition(state.covarianceMatrix).eigenvalues[0] > 0)
    }
  }

  /// A damped step (τ = 1/4) at a lower β still descends the energy and keeps W positive definite.
  @Test func dampedStepsDescend() throws {
    let d = 3
    let patterns = (0..<6).map { Self.randomGaussian(d, seed: 300 + UInt64($0), spread: 1) }
    let query = Self.randomGaussian(d, seed: 399, spread: 1)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(step: 0.25), beta: 0.5, stopping: StoppingRule(maxSteps: 60))
    let result = try engine.retrieve(query, recordingTrajectory: true)
    for (before, after) in zip(result.energies, result.energies.dropFirst()) {
      #expect(after <= before + 1e-12 * max(1, abs(before)), "energy rose from \(before) to \(after)")
    }
    for state in result.trajectory ?? [] {
      #expect(try SymmetricEigendecomposition(state.covarianceMatrix).eigenvalues[0] > 0)
    }
  }

  /// Diagonal and full patterns in one memory; a diagonal query stays diagonal while only diagonal
  /// patterns carry weight, and both kinds are retrieved.
  @Test func mixedFullAndDiagonalMemory() throws {
    let d = 4
    var g = SeededGenerator(seed: 9)
    var patterns: [Gaussian] = []
    for i in 0..<6 {
      if i % 2 == 0 {
        patterns.append(
          try Gaussian(
            mean: g.gaussians(d).map { 3 * $0 },
            variances: (0..<d).map { _ in Double.random(in: 0.2...2, using: &g) }))
      } else {
        patterns.append(Self.randomGaussian(d, seed: 500 + UInt64(i), spread: 3))
      }
    }
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: 5)
    for index in [2, 3] {
      let target = patterns[index]
      let query = try Gaussian(
        mean: target.mean.map { $0 + 0.2 }, variances: (0..<d).map { target.covarianceMatrix[$0, $0] * 1.3 })
      let result = try engine.retrieve(query)
      #expect(result.weights.firstIndex(of: result.weights.max()!) == index)
      #expect(try BuresWasserstein.distanceSquared(result.state, target) < 1e-10)
    }
  }

  @Test func geometryValidatesItsInput() throws {
    #expect(throws: DAMError.self) { try BuresWassersteinGeometry(step: 0) }
    #expect(throws: DAMError.self) { try BuresWassersteinGeometry(step: .nan) }
    let geometry = try BuresWassersteinGeometry()
    let state = Self.randomGaussian(3, seed: 1)
    #expect(throws: DAMError.self) { try geometry.step(from: state, along: GaussianVariation(dimension: 3)) }
    // τ = 1 with Ã = I/2 gives A = -I + I = 0: W' = 0 is refused.
    var variation = GaussianVariation(dimension: 3)
    try variation.add(1, mean: [0, 0, 0], map: .diagonal([0.5, 0.5, 0.5]))
    let error = try #require(throws: DAMError.self) {
      try BuresWassersteinGeometry(step: 1).step(from: state, along: variation)
    }
    #expect(error.argument == "step")
    #expect(error.kind == .notPositiveDefinite)
  }
}
