// The conformance samples of Docs/extending.md ("Check it before you trust it"), compiled and run.

import DAM
import KernelMMD
import Testing

struct ConformanceSamples {
  /// The external divergence moved by the package's transport geometry, checked together.
  @Test func geometryWithTheExternalDivergence() throws {
    let state = try PointCloud(points: Matrix(rowArrays: [[0.1, 0.2], [0.9, -0.1], [0.4, 0.8]]))
    let patterns = try [
      PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0]])),
      PointCloud(points: Matrix(rowArrays: [[0.5, 1], [1, 1], [0, 1]])),
    ]
    let divergence = try GaussianKernelMMD(bandwidth: 0.7)
    // The geometry the engine will move the state with, along this divergence's variations.
    let geometryFailures = GeometryConformance.check(
      try SHKGeometry.wasserstein(step: 0.5), divergence: divergence, states: [state], patterns: patterns)
    print(geometryFailures)  // []: valid, deterministic, thread-safe steps that descend
    #expect(geometryFailures.isEmpty, "\(geometryFailures)")
  }

  /// A separation map's pointwise properties and its convex conjugate.
  @Test func separationMapChecks() throws {
    let failures = SeparationMapConformance.check(
      try Entmax(alpha: 1.5), scores: [[0, 0.5, -1], [3, 3, 3]])
    print(failures)  // []: polytope, shift invariance, Fenchel-Young, ŷ = ∇Ω*, convexity
    #expect(failures.isEmpty, "\(failures)")
  }
}
