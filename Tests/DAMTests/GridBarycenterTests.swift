import DAM
import DAMTestSupport
import Foundation
import Testing

/// Grid barycenters against POT (fixtures by scripts/fixtures/make_grid_barycenter_fixtures.py)
/// and an invariance.
struct GridBarycenterTests {
  struct Fixture: Decodable {
    struct Case: Decodable {
      var name: String
      var shape: [Int]
      var spacing: [Double]
      var epsilon: Double
      var weights: [Double]
      var histograms: [[Double]]
      var plain: [Double]
      var plainIterations: Int
    }
    var potVersion: String
    var cases: [Case]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/grids/barycenters.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    // Part of the repository: a missing or malformed file is a broken checkout.
    return try! decoder.decode(Fixture.self, from: Data(contentsOf: url))
  }()

  static func inputs(_ c: Fixture.Case) throws -> [GridHistogram] {
    try c.histograms.map { try GridHistogram(shape: c.shape, intensities: $0, spacing: c.spacing) }
  }

  /// The barycenter (iterative Bregman projections) equals POT's convolutional_barycenter2d run
  /// to its tolerance 1e-15 without stabiliser: both solve the same problem, POT in the exp
  /// domain, we in the log domain, both converged far below 1e-8. Max difference below 1e-8 of
  /// the largest mass.
  @Test(arguments: [0, 1, 2])
  func plainAgreesWithPOT(index: Int) throws {
    let c = Self.fixture.cases[index]
    let options = try GridSinkhornOptions(epsilon: c.epsilon, tolerance: 1e-13, maxIterations: 100_000)
    let result = try GridSinkhorn.barycenter(
      of: Self.inputs(c), weights: c.weights, options: options)
    #expect(result.converged)
    let peak = c.plain.max()!
    let gap = zip(result.histogram.masses, c.plain).map { abs($0 - $1) }.max()!
    #expect(gap < 1e-8 * peak, "\(c.name): \(gap / peak)")
  }

  /// Barycenters in the middle: two translated copies of a shape, weights 1/2 each, have the
  /// half-way translate as the barycenter's centre of mass (translation equivariance and
  /// symmetry), on a grid large enough for no border effect.
  @Test func centreOfMassOfTwoTranslates() throws {
    var x = [Double](repeating: 0, count: 40 * 40)
    var y = x
    for i in 0..<40 {
      for j in 0..<40 {
        let r1 = Double((i - 12) * (i - 12) + (j - 10) * (j - 10))
        let r2 = Double((i - 26) * (i - 26) + (j - 28) * (j - 28))
        x[i * 40 + j] = exp(-r1 / 8)
        y[i * 40 + j] = exp(-r2 / 8)
      }
    }
    let a = try GridHistogram(shape: [40, 40], intensities: x)
    let b = try GridHistogram(shape: [40, 40], intensities: y)
    let options = try GridSinkhornOptions(epsilon: 2, tolerance: 1e-10, maxIterations: 100_000)
    let bar = try GridSinkhorn.barycenter(of: [a, b], options: options).histogram
    var centre = [0.0, 0.0]
    for i in 0..<40 {
      for j in 0..<40 {
        centre[0] += Double(i) * bar.masses[i * 40 + j]
        centre[1] += Double(j) * bar.masses[i * 40 + j]
      }
    }
    // The inputs' centres of mass are (12, 10) and (26, 28) up to the Gaussians' tails (< 1e-12).
    #expect(abs(centre[0] - 19) < 1e-6 && abs(centre[1] - 19) < 1e-6, "\(centre)")
  }

  @Test func badInputIsRefused() throws {
    let a = try GridCases.histogram("blob", [8, 8], seed: 1)
    let b = try GridCases.histogram("blob", [8, 10], seed: 2)
    let options = try GridSinkhornOptions(epsilon: 1)
    #expect(throws: DAMError.self) { try GridSinkhorn.barycenter(of: [], options: options) }
    do {
      _ = try GridSinkhorn.barycenter(of: [a, b], options: options)
      Issue.record("expected an error")
    } catch { #expect(error.argument == "histograms[1]") }
    do {
      _ = try GridSinkhorn.barycenter(of: [a, a], weights: [0.5, 0.6], options: options)
      Issue.record("expected an error")
    } catch { #expect(error.argument == "weights") }
  }
}

/// Retrieval from grid memories with both geometries.
struct GridRetrievalTests {
  static func memory(_ epsilon: Double) throws -> (Memory<GridSinkhornDivergence>, [GridHistogram]) {
    let patterns = try [("blob", 1), ("ring", 2), ("blob", 3)].map {
      try GridCases.histogram($0.0, [16, 16], seed: UInt64($0.1))
    }
    let divergence = GridSinkhornDivergence(
      options: try GridSinkhornOptions(epsilon: epsilon, tolerance: 1e-9))
    return (try Memory(divergence: divergence, patterns: patterns), patterns)
  }

  /// With one-hot weights the barycentric step returns the pattern itself.
  @Test func barycentricStepWithOneHotWeights() throws {
    let (memory, patterns) = try Self.memory(2)
    var variation = GridVariation(cells: 256)
    variation.totalWeight = 1
    variation.patternWeights = [1]
    variation.patterns = [patterns[1]]
    let geometry = GridBarycentricGeometry(options: memory.divergence.options)
    #expect(try geometry.step(from: patterns[0], along: variation) == patterns[1])
  }

  /// A noisy copy of a stored histogram is recalled by both geometries, and the Hellinger
  /// geometry with τα = ε/20 does not increase the energy.
  @Test(arguments: ["hellinger", "barycentric"])
  func noisyQueryIsRecalled(geometry: String) throws {
    let (memory, patterns) = try Self.memory(2)
    var g = SeededGenerator(seed: 9)
    let noisy = try GridHistogram(
      shape: [16, 16],
      intensities: patterns[1].masses.map { $0 + 0.004 * Double.random(in: 0...1, using: &g) })
    let stopping = try StoppingRule(
      maxSteps: 15, energyTolerance: 1e-9, positionTolerance: nil, massTolerance: 1e-7)
    let result: RetrievalResult<GridHistogram>
    if geometry == "hellinger" {
      let engine = try RetrievalEngine(
        memory: memory, separation: Softmax(),
        geometry: GridHellingerGeometry(step: 0.5, hellingerScale: 2.0 / 10),
        beta: 1, stopping: stopping)
      result = try engine.retrieve(noisy)
      for (e0, e1) in zip(result.energies, result.energies.dropFirst()) { #expect(e1 <= e0 + 1e-9) }
    } else {
      let engine = try RetrievalEngine(
        memory: memory, separation: Softmax(),
        geometry: GridBarycentricGeometry(options: memory.divergence.options),
        beta: 1, stopping: stopping)
      result = try engine.retrieve(noisy)
    }
    #expect(result.nearestPattern == 1)
    #expect(
      result.divergences[1]
        < (try GridSinkhorn.divergence(noisy, patterns[1], options: memory.divergence.options).value))
  }
}
