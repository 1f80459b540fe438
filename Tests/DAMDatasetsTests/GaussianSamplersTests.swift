import DAM
import DAMDatasets
import Foundation
import Testing

/// The Wasserstein-sphere sampler and the perturbation at a prescribed W₂ distance.
///
/// Tolerances: eigenvalues of `Q Λ Qᵀ` are recovered to `1e-12` relative (one eigendecomposition
/// of a matrix with condition number ≤ 4 and entries O(1), errors of a few ulps times d ≤ 20);
/// the perturbation is asked for `1e-10` relative, and is checked at that value.
struct GaussianSamplersTests {
  @Test(arguments: [2, 10, 20])
  func sphereModelEigenvaluesAndMeans(d: Int) throws {
    let model = try WassersteinSphereModel(
      dimension: d, radius: 3, minimumEigenvalue: 0.5, maximumEigenvalue: 2)
    var g = SeededGenerator(seed: UInt64(d))
    for gaussian in try model.sample(count: 20, using: &g) {
      let norm = gaussian.mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(abs(norm - 3) < 1e-13, "mean norm \(norm)")
      let eigenvalues = try SymmetricEigendecomposition(gaussian.covarianceMatrix).eigenvalues
      for v in eigenvalues { #expect(v >= 0.5 * (1 - 1e-12) && v <= 2 * (1 + 1e-12), "eigenvalue \(v)") }
    }
  }

  @Test func rotationIsOrthogonal() {
    var g = SeededGenerator(seed: 9)
    let q = GaussianSampling.randomRotation(dimension: 12, using: &g)
    for i in 0..<12 {
      for j in 0..<12 {
        let dot = (0..<12).reduce(0.0) { $0 + q[$1, i] * q[$1, j] }
        #expect(abs(dot - (i == j ? 1 : 0)) < 1e-13)
      }
    }
  }

  @Test func invalidModelsAreRefused() {
    #expect(throws: DAMError.self) {
      try WassersteinSphereModel(dimension: 0, radius: 1, minimumEigenvalue: 1, maximumEigenvalue: 2)
    }
    #expect(throws: DAMError.self) {
      try WassersteinSphereModel(dimension: 2, radius: 1, minimumEigenvalue: 0, maximumEigenvalue: 2)
    }
    #expect(throws: DAMError.self) {
      try WassersteinSphereModel(dimension: 2, radius: 1, minimumEigenvalue: 2, maximumEigenvalue: 1)
    }
  }

  /// Small, moderate and large distances (the large one makes the covariance part hit its cap).
  @Test(arguments: [0.01, 0.7, 5.0])
  func perturbationLandsAtTheDistance(r: Double) throws {
    let model = try WassersteinSphereModel(
      dimension: 10, radius: 2, minimumEigenvalue: 0.5, maximumEigenvalue: 2)
    var g = SeededGenerator(seed: 42)
    for gaussian in try model.sample(count: 5, using: &g) {
      let moved = try GaussianSampling.perturbation(of: gaussian, distance: r, using: &g)
      let w2 = try BuresWasserstein.distanceSquared(gaussian, moved)
      #expect(abs(w2 - r * r) <= 1e-10 * r * r, "W2^2 \(w2) vs \(r * r)")
    }
    let diagonal = try Gaussian(mean: [0, 1, 2], variances: [0.5, 1, 3])
    let moved = try GaussianSampling.perturbation(of: diagonal, distance: r, using: &g)
    #expect(abs(try BuresWasserstein.distanceSquared(diagonal, moved) - r * r) <= 1e-10 * r * r)
    #expect(throws: DAMError.self) { try GaussianSampling.perturbation(of: diagonal, distance: 0, using: &g) }
  }
}
