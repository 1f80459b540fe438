import DAM
import DAMTestSupport
import Testing

struct ConformanceTests {
  @Test func softmaxConforms() {
    var generator = SeededGenerator(seed: 12)
    let scores =
      [[0, 0.25, 0.5, 0.75, 1], [5, -3, 2], [-.infinity, 1, 2, 0.5]]
      + (0..<5).map { _ in generator.gaussians(6) }
    let failures = SeparationMapConformance.check(Softmax(), scores: scores)
    #expect(failures.isEmpty, "\(failures)")
  }

  @Test func vectorDivergencesConform() {
    var generator = SeededGenerator(seed: 13)
    let patterns = (0..<4).map { _ in generator.gaussians(5) }
    let state = generator.gaussians(5)
    let direction = generator.gaussians(5)
    let squared = DivergenceConformance.checkVectors(
      SquaredEuclideanDivergence(), state: state, patterns: patterns, direction: direction)
    #expect(squared.isEmpty, "\(squared)")
    let dot = DivergenceConformance.checkVectors(
      DotProductDivergence(), state: state, patterns: patterns, direction: direction, nonNegative: false)
    #expect(dot.isEmpty, "\(dot)")
  }

  /// The checks can fail: a map that ignores shifts badly and a divergence whose variation has the
  /// wrong sign are caught.
  @Test func checksCatchBrokenComponents() {
    struct Broken: SeparationMap {
      var name: String { "broken" }
      var margin: Double? { nil }
      func separate(_ scores: [Double]) throws -> Separation {
        let total = scores.map { abs($0) + 1 }.reduce(0, +)
        return Separation(weights: scores.map { (abs($0) + 1) / total }, conjugate: scores.reduce(0, +))
      }
      func regularizer(_ weights: [Double]) throws -> Double { 0 }
      func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double]
      {
        direction
      }
    }
    #expect(!SeparationMapConformance.check(Broken(), scores: [[0.3, -1, 2]]).isEmpty)

    // A wrong Jacobian on a correct map is reported by that property alone: the retry at a finer
    // step, for kinks of sparse maps, does not hide it.
    struct DoubledJacobian: SeparationMap {
      var name: String { "softmax with a doubled Jacobian" }
      var margin: Double? { nil }
      func separate(_ scores: [Double]) throws -> Separation { try Softmax().separate(scores) }
      func regularizer(_ weights: [Double]) throws -> Double { try Softmax().regularizer(weights) }
      func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double]
      {
        try Softmax().jacobianVectorProduct(scores: scores, weights: weights, direction: direction).map {
          2 * $0
        }
      }
    }
    let doubled = SeparationMapConformance.check(
      DoubledJacobian(), scores: [[0.3, -1, 2], [1, 1.5, -0.5, 0]])
    #expect(!doubled.isEmpty)
    #expect(doubled.allSatisfy { $0.property == "Jacobian-vector product" })

    // A vector-Jacobian product that is not the Jacobian's transpose breaks the adjoint identity,
    // and only that property.
    struct SkewedTranspose: SeparationMap {
      var name: String { "softmax with a skewed transpose" }
      var margin: Double? { nil }
      func separate(_ scores: [Double]) throws -> Separation { try Softmax().separate(scores) }
      func regularizer(_ weights: [Double]) throws -> Double { try Softmax().regularizer(weights) }
      func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double]
      {
        try Softmax().jacobianVectorProduct(scores: scores, weights: weights, direction: direction)
      }
      func vectorJacobianProduct(scores: [Double], weights: [Double], cotangent: [Double]) throws -> [Double]
      {
        var product = try jacobianVectorProduct(scores: scores, weights: weights, direction: cotangent)
        product[0] += 1e-6 * cotangent[1]
        return product
      }
    }
    let skewed = SeparationMapConformance.check(SkewedTranspose(), scores: [[0.3, -1, 2]])
    #expect(!skewed.isEmpty)
    #expect(skewed.allSatisfy { $0.property == "vector-Jacobian product" })

    struct WrongSign: Divergence {
      func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void, previous: Double?)
        -> Double
      {
        zip(state, pattern).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      }
      func zeroVariation(at state: [Double]) -> EuclideanVariation {
        EuclideanVariation(dimension: state.count)
      }
      func accumulate(
        _ weight: Double, of evaluation: Double, at state: [Double], query: Void, pattern: [Double],
        cache: Void,
        into variation: inout EuclideanVariation
      ) {
        variation.addGradient(zip(state, pattern).map { 2 * ($1 - $0) }, weight: weight, curvature: 2)
      }
    }
    let failures = DivergenceConformance.checkVectors(
      WrongSign(), state: [0.5, -0.2], patterns: [[1, 1], [0, 2]], direction: [0.3, 0.9])
    #expect(failures.contains { $0.property == "variation" })
  }
}
