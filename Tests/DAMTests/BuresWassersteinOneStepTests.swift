import DAM
import DAMDatasets
import DAMTestSupport
import Foundation
import Testing

/// The one-step audit of BW-DAM retrieval. One full step (τ = 1/2) from `N(m, W)` gives
/// `W' = Ã W Ã` with `Ã = Σλᵢ Aᵢ`. With one-hot weights `Ã` is the optimal map to the retrieved
/// pattern, which pushes `N(m, W)` exactly onto it whatever the covariances' commutation; with
/// spread weights `Ã` averages maps, and for non-commuting covariances the result is neither a
/// stored pattern nor the weighted barycenter.
///
/// Tolerances: moments after a one-hot step to `1e-9` relative (the map test's bound: one
/// eigendecomposition and three products of well-conditioned 6 x 6 matrices); agreement with the
/// scipy fixture to `1e-10` relative (eigendecomposition square roots against scipy's Schur
/// square roots of matrices with condition numbers ≤ 10, both accurate to about 1e-14).
struct BuresWassersteinOneStepTests {
  static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

  /// Six Gaussians in d = 6 with independent random rotations (non-commuting), means spread by 4.
  static func patterns() throws -> [Gaussian] {
    var g = SeededGenerator(seed: 77)
    return try (0..<6).map { i in
      let eigenvalues = (0..<6).map { _ in Double.random(in: 0.3...3, using: &g) }
      return try Gaussian(
        mean: g.gaussians(6).map { 4 * $0 },
        covariance: TestData.spd(eigenvalues: eigenvalues, seed: 900 + UInt64(i)).matrix)
    }
  }

  /// At β = 1000 the other patterns' softmax weights underflow to exactly 0 (their W₂² exceed the
  /// target's by more than 1, so e^(-1000) ≈ 1e-435 < the smallest double), and one step lands on
  /// the target: mean, covariance and W₂² to round-off.
  @Test(arguments: [0, 3, 5])
  func oneHotStepIsExact(target: Int) throws {
    let patterns = try Self.patterns()
    var g = SeededGenerator(seed: 78 + UInt64(target))
    let query = try GaussianSampling.perturbation(of: patterns[target], distance: 0.5, using: &g)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: 1000)
    let snapshot = try engine.snapshot(at: query)
    #expect(snapshot.weights[target] == 1)
    #expect(snapshot.weights.filter { $0 != 0 }.count == 1)
    // The query's covariance does not commute with the target's.
    let w = query.covarianceMatrix
    let s = patterns[target].covarianceMatrix
    let commutator = try w.multiplied(by: s).elements.enumerated().map {
      $1 - (try s.multiplied(by: w)).elements[$0]
    }
    #expect(commutator.map(abs).max()! > 0.1)
    let next = try engine.step(from: query, snapshot: snapshot)
    let scale = s.maxAbs
    #expect(TestData.maxDifference(next.covarianceMatrix.elements, s.elements) < 1e-9 * scale)
    #expect(TestData.maxDifference(next.mean, patterns[target].mean) < 1e-12 * 4)
    #expect(try BuresWasserstein.distanceSquared(next, patterns[target]) < 1e-12)
  }

  struct Fixture: Decodable {
    struct Case: Decodable {
      var name: String
      var mean: [Double]
      var covariance: [[Double]]
      var patternMeans: [[Double]]
      var patternCovariances: [[[Double]]]
      var weights: [Double]
      var nextMean: [Double]
      var nextCovariance: [[Double]]
      var barycenterCovariance: [[Double]]
      var buresSquaredToBarycenter: Double
      var w2SquaredToPattern0: Double
    }
    var cases: [Case]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gaussian/one_step.json")
    // The fixture is part of the repository; a missing or malformed file is a broken checkout.
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try! decoder.decode(Fixture.self, from: Data(contentsOf: url))
  }()

  /// With weights (0.5, 0.3, 0.2) one step matches scipy's independent computation of `Ã W Ã`;
  /// for non-commuting covariances it misses the weighted barycenter by a nonzero Bures distance
  /// (1.1e-3 squared in the fixture), for commuting ones it is the barycenter to round-off.
  @Test(arguments: ["noncommuting", "commuting"])
  func spreadWeightsAgainstScipy(name: String) throws {
    let item = try #require(Self.fixture.cases.first { $0.name == name })
    let state = try Gaussian(mean: item.mean, covariance: Matrix(rowArrays: item.covariance))
    let patterns = try zip(item.patternMeans, item.patternCovariances).map {
      try Gaussian(mean: $0, covariance: Matrix(rowArrays: $1))
    }
    let divergence = BuresWassersteinDivergence()
    var variation = divergence.zeroVariation(at: state)
    for (weight, pattern) in zip(item.weights, patterns) {
      let cache = try divergence.prepare(pattern)
      let evaluation = try divergence.evaluate(
        state, query: divergence.prepareQuery(state), pattern: pattern, cache: cache)
      try divergence.accumulate(
        weight, of: evaluation, at: state, query: divergence.prepareQuery(state), pattern: pattern,
        cache: cache, into: &variation)
    }
    let next = try BuresWassersteinGeometry().step(from: state, along: variation)
    let expected = try Matrix(rowArrays: item.nextCovariance)
    #expect(
      TestData.maxDifference(next.covarianceMatrix.elements, expected.elements) < 1e-10 * expected.maxAbs)
    #expect(TestData.maxDifference(next.mean, item.nextMean) < 1e-12)
    let barycenter = try Gaussian(mean: next.mean, covariance: Matrix(rowArrays: item.barycenterCovariance))
    let toBarycenter = try BuresWasserstein.distanceSquared(next, barycenter)
    let toPattern = try BuresWasserstein.distanceSquared(next, patterns[0])
    #expect(Self.relative(toPattern, item.w2SquaredToPattern0) < 1e-10)
    if name == "commuting" {
      #expect(toBarycenter < 1e-12, "\(toBarycenter)")
    } else {
      // The fixture's value is 1.1e-3; Bures² is a difference of traces ≈ 10, so 1e-10
      // relative of the traces is 1e-9 absolute, far below the gap asserted.
      #expect(abs(toBarycenter - item.buresSquaredToBarycenter) < 1e-9, "\(toBarycenter)")
      #expect(toBarycenter > 1e-4)
    }
  }
}
