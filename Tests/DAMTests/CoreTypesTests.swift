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
