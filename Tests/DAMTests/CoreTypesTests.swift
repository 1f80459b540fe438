import DAM
import Testing

struct CoreTypesTests {
  @Test func matrixValidatesItsShapeAndValues() throws {
    #expect(throws: DAMError.self) { try Matrix(rows: 2, columns: 2, elements: [1, 2, 3]) }
    #expect(throws: DAMError.self) { try Matrix(rows: -1, columns: 2, elements: []) }
    let nan = #expect(throws: DAMError.self) { try Matrix(rows: 1, columns: 2, elements: [1, .nan]) }
    #expect(nan?.kind == .nonFinite)
    #expect(nan?.description.contains("index 1") == true)
    #expect(throws: DAMError.self) { try Matrix(rowArrays: [[1, 2], [3]]) }
    let m = try Matrix(rowArrays: [[1, 2, 3], [4, 5, 6]])
    #expect(m[1, 2] == 6)
    #expect(m.transposed()[2, 1] == 6)
    #expect(m.row(1) == [4, 5, 6])
  }

  @Test func pointCloudValidatesWeights() throws {
    let points = try Matrix(rowArrays: [[0, 0], [1, 0], [0, 1]])
    #expect(try PointCloud(points: points).weights == [1.0 / 3, 1.0 / 3, 1.0 / 3])
    #expect(throws: DAMError.self) { try PointCloud(points: points, weights: [0.5, 0.5]) }
    #expect(throws: DAMError.self) { try PointCloud(points: points, weights: [0.5, 0.6, -0.1]) }
    #expect(throws: DAMError.self) { try PointCloud(points: points, weights: [0, 0, 0]) }
    #expect(throws: DAMError.self) { try PointCloud(points: points, weights: [0.2, 0.2, 0.2]) }
    #expect(throws: DAMError.self) { try PointCloud(points: points, weights: [0.5, .nan, 0.5]) }
    // Round-off in the sum is absorbed.
    let cloud = try PointCloud(points: points, weights: [0.5, 0.25, 0.25 + 1e-9])
    #expect(abs(cloud.weights.reduce(0, +) - 1) < 1e-15)
    let masses = try PointCloud(points: points, masses: [2, 1, 1])
    #expect(masses.weights == [0.5, 0.25, 0.25])
    #expect(masses.mean == [0.25, 0.25])
  }

  @Test func gaussianValidatesItsCovariance() throws {
    let g = try Gaussian(mean: [0, 1], covariance: Matrix(rowArrays: [[2, 0.5], [0.5, 1]]))
    #expect(g.dimension == 2)
    let indefinite = #expect(throws: DAMError.self) {
      try Gaussian(mean: [0, 0], covariance: Matrix(rowArrays: [[1, 2], [2, 1]]))
    }
    #expect(indefinite?.kind == .notPositiveDefinite)
    #expect(indefinite?.argument == "covariance")
    #expect(throws: DAMError.self) {
      try Gaussian(mean: [0, 0], covariance: Matrix(rowArrays: [[1, 0.5], [0.4, 1]]))
    }
    // Asymmetry at round-off level is symmetrised.
    let nearly = try Gaussian(mean: [0, 0], covariance: Matrix(rowArrays: [[1, 0.5], [0.5 + 1e-12, 1]]))
    #expect(nearly.covarianceMatrix.asymmetry == 0)
    #expect(throws: DAMError.self) { try Gaussian(mean: [0, 0, 0], covariance: .identity(2)) }
    #expect(throws: DAMError.self) { try Gaussian(mean: [0, 0], variances: [1, 0]) }
    #expect(throws: DAMError.self) { try Gaussian(mean: [.infinity], variances: [1]) }
    #expect(try Gaussian(mean: [1], variances: [4]).covarianceMatrix == Matrix(diagonal: [4]))
  }

  @Test func gridHistogramValidatesShapeAndMasses() throws {
    let h = try GridHistogram(shape: [2, 2], intensities: [0, 1, 1, 2])
    #expect(h.masses == [0, 0.25, 0.25, 0.5])
    #expect(h.spacing == [1, 1])
    #expect(throws: DAMError.self) { try GridHistogram(shape: [2, 2], masses: [0.5, 0.5]) }
    #expect(throws: DAMError.self) { try GridHistogram(shape: [1, 1, 1, 1], masses: [1]) }
    #expect(throws: DAMError.self) { try GridHistogram(shape: [2, 0], masses: []) }
    #expect(throws: DAMError.self) { try GridHistogram(shape: [2], masses: [0.5, 0.5], spacing: [0]) }
    #expect(throws: DAMError.self) { try GridHistogram(shape: [2], masses: [0, 0]) }
  }

  @Test func seededGeneratorIsReproducible() {
    var a = SeededGenerator(seed: 42)
    var b = SeededGenerator(seed: 42)
    var c = SeededGenerator(seed: 43)
    let x = (0..<5).map { _ in a.next() }
    #expect(x == (0..<5).map { _ in b.next() })
    #expect(x != (0..<5).map { _ in c.next() })
    // Moments of the normal sampler: mean 0 and variance 1 within 5 standard errors.
    var g = SeededGenerator(seed: 1)
    let samples = g.gaussians(100_000)
    let mean = samples.reduce(0, +) / 1e5
    let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 1e5
    #expect(abs(mean) < 5 / 1e5.squareRoot())
    #expect(abs(variance - 1) < 5 * 2.0.squareRoot() / 1e5.squareRoot())
  }
}

struct WilsonIntervalTests {
  @Test func matchesPublishedValues() throws {
    // 8 of 10: the roots of (p̂ - p)² = z² p (1 - p) / n, found by scipy's brentq.
    let interval = try WilsonInterval(successes: 8, trials: 10)
    #expect(abs(interval.lower - 0.4901624715366418) < 1e-14)
    #expect(abs(interval.upper - 0.9433178485456247) < 1e-14)
    // Both ends satisfy the defining score equation.
    for end in [interval.lower, interval.upper] {
      let z2 = 1.959963984540054 * 1.959963984540054
      #expect(abs((0.8 - end) * (0.8 - end) - z2 * end * (1 - end) / 10) < 1e-15)
    }
    // 0 of 10: lower end exactly 0, upper z²/(n + z²).
    let none = try WilsonInterval(successes: 0, trials: 10)
    let z2 = 1.959963984540054 * 1.959963984540054
    #expect(none.lower == 0)
    #expect(abs(none.upper - z2 / (10 + z2)) < 1e-15)
    // For every n: the interval holds the proportion, and the ends are exact at 0 and n
    // successes (the formula cancels there only to rounding: 5.6e-17 at 0 of 3).
    for n in 1...200 {
      for s in 0...n {
        let interval = try WilsonInterval(successes: s, trials: n)
        #expect(interval.lower <= interval.proportion && interval.proportion <= interval.upper)
      }
      #expect(try WilsonInterval(successes: 0, trials: n).lower == 0)
      #expect(try WilsonInterval(successes: n, trials: n).upper == 1)
    }
    #expect(throws: DAMError.self) { try WilsonInterval(successes: 3, trials: 2) }
    #expect(throws: DAMError.self) { try WilsonInterval(successes: 0, trials: 0) }
  }
}
