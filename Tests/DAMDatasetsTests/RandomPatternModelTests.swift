import DAM
import DAMDatasets
import Foundation
import Testing

/// The Sinkhorn-SHK random pattern model: means, weights and radii as specified, and no crash
/// or infinity at the edge of the Double range.
struct RandomPatternModelTests {
  @Test func patternsHaveTheModelsMeansWeightsAndRadius() throws {
    let model = try RandomPatternModel(dimension: 6, atoms: 12, meanNorm: 3, shapeRadius: 0.5)
    var g = SeededGenerator(seed: 1)
    for cloud in try model.sample(count: 20, using: &g) {
      let mean = cloud.mean
      // Rademacher mean of norm R, every coordinate ±R/√d.
      #expect(abs(mean.reduce(0) { $0 + $1 * $1 }.squareRoot() - 3) < 1e-12)
      for value in mean { #expect(abs(abs(value) - 3 / 6.0.squareRoot()) < 1e-12) }
      // Weights in [0.5, 1.5] before normalisation: ratios at most 3.
      #expect(cloud.weights.max()! / cloud.weights.min()! <= 3 + 1e-12)
      // Shape points lie within the ball of radius r around the shape's own mean, which the mean
      // correction moved by at most r: every atom is within 2r of m.
      for j in 0..<cloud.count {
        let distance = (0..<6).reduce(0) { $0 + pow(cloud.points[j, $1] - mean[$1], 2) }.squareRoot()
        #expect(distance <= 1 + 1e-12)
      }
    }
  }

  /// Parameters at the edge of the Double range either give a valid (finite) cloud or throw a
  /// DAMError; they never crash or return infinities.
  @Test func hugeParametersNeverCrash() throws {
    let model = try RandomPatternModel(dimension: 2, atoms: 3, meanNorm: 1.7e308, shapeRadius: 1.7e308)
    var g = SeededGenerator(seed: 3)
    var thrown = 0
    for _ in 0..<50 {
      do {
        let cloud = try model.sample(using: &g)
        let finite = cloud.points.elements.allSatisfy { $0.isFinite }
        #expect(finite)
      } catch {
        thrown += 1
      }
    }
    #expect(thrown > 0, "at this scale some samples overflow and must be refused")
  }

}
