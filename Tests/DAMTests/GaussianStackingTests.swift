import DAM
import DAMDatasets
import Testing

/// The Eu-DAM encoding of a Gaussian as `(m, vec S)` (``Gaussian/stacked``) and back.
struct GaussianStackingTests {
  @Test func stackingRoundTrips() throws {
    let model = try WassersteinSphereModel(
      dimension: 4, radius: 1, minimumEigenvalue: 0.1, maximumEigenvalue: 1)
    var g = SeededGenerator(seed: 3)
    let x = try model.sample(using: &g)
    let v = x.stacked
    #expect(v.count == 4 + 16)
    let back = try Gaussian(stacked: v)
    #expect(back.mean == x.mean)
    #expect(back.covarianceMatrix == x.covarianceMatrix)  // already exactly symmetric
    // Asymmetry is averaged away.
    var skewed = v
    skewed[4 + 1] += 0.01
    skewed[4 + 4] -= 0.01
    let symmetrised = try Gaussian(stacked: skewed)
    // (a + 0.01 + a - 0.01) / 2 = a up to two roundings of numbers ≤ 1.
    #expect(abs(symmetrised.covarianceMatrix[0, 1] - x.covarianceMatrix[0, 1]) < 1e-15)
    #expect(symmetrised.covarianceMatrix[0, 1] == symmetrised.covarianceMatrix[1, 0])
    // Indefinite covariances and wrong lengths are refused, naming the vector.
    let indefinite = [0.0, 0, 1, 2, 2, 1]
    #expect { try Gaussian(stacked: indefinite) } throws: { ($0 as? DAMError)?.argument == "vector" }
    #expect { try Gaussian(stacked: [1, 2, 3]) } throws: { ($0 as? DAMError)?.argument == "vector" }
  }
}
