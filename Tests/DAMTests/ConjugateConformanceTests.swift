import DAM
import DAMTestSupport
import Foundation
import Testing

/// ``SeparationMapConformance/checkConjugate(_:scores:lines:step:tolerance:seed:)``: every built-in
/// map is the gradient of a convex conjugate; maps that are not are caught by the property they
/// violate, including one that passes every pointwise property.
struct ConjugateConformanceTests {
  /// Generic scores, ties, a masked score and scores far from 0, on the map's own scale.
  static func scores(scale: Double, seed: UInt64) -> [[Double]] {
    var generator = SeededGenerator(seed: seed)
    let generic = (0..<4).map { _ in generator.gaussians(6).map { $0 * scale } }
    let tied = [[1, 1, 1, 1, 1, 1].map { $0 * scale }, [2, 2, 0, 0, -1, -1].map { $0 * scale }]
    var masked = generator.gaussians(6).map { $0 * scale }
    masked[2] = -.infinity
    let scaled = generator.gaussians(6).map { $0 * 30 * scale }
    let shifted = generator.gaussians(6).map { ($0 + 100) * scale }
    return generic + tied + [masked, scaled, shifted]
  }

  @Test func softmaxHasAConvexConjugate() {
    let failures = SeparationMapConformance.checkConjugate(Softmax(), scores: Self.scores(scale: 1, seed: 1))
    #expect(failures.isEmpty, "\(failures)")
  }

  @Test(arguments: SparseMapCase.allCases)
  func sparseMapsHaveConvexConjugates(_ mapCase: SparseMapCase) {
    let failures = SeparationMapConformance.checkConjugate(
      mapCase.map, scores: Self.scores(scale: mapCase.genericScale, seed: 2), lines: 6)
    #expect(failures.isEmpty, "\(failures)")
  }

  /// Softmax of `-θ`, the gradient of the concave `-log Σ exp(-θ)`: a sign error (scores used as
  /// divergences). It lies on the simplex, is shift invariant, satisfies Fenchel-Young with the
  /// Shannon entropy (positive) as `Ω`, and its differences and Jacobian agree with it.
  struct Softmin: SeparationMap {
    var name: String { "softmin" }
    var margin: Double? { nil }
    func separate(_ scores: [Double]) throws -> Separation {
      let flipped = try Softmax().separate(scores.map { -$0 })
      return Separation(weights: flipped.weights, conjugate: -flipped.conjugate)
    }
    func regularizer(_ weights: [Double]) throws -> Double {
      -weights.reduce(0) { $1 > 0 ? $0 + $1 * log($1) : $0 }
    }
    func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double] {
      let mean = zip(weights, direction).reduce(0) { $0 + $1.0 * $1.1 }
      return zip(weights, direction).map { -$0 * ($1 - mean) }
    }
  }

  @Test func theGradientOfAConcaveFunctionIsCaught() {
    var generator = SeededGenerator(seed: 3)
    let scores = (0..<4).map { _ in generator.gaussians(5) }
    let failures = SeparationMapConformance.check(Softmin(), scores: scores)
    // Only the conjugate's checks see it: every pointwise property holds.
    #expect(Set(failures.map(\.property)) == ["convexity", "monotonicity"], "\(failures)")
  }

  /// Softmax on the k scores selected by `largest` (the k largest, or the k smallest), with
  /// `Ω*` = log-sum-exp over them (or over every score, when `wholeConjugate`).
  struct RestrictedSoftmax: SeparationMap {
    var k: Int
    var largest = true
    var wholeConjugate = false
    var name: String { "restricted softmax" }
    var margin: Double? { nil }
    func selected(_ scores: [Double]) -> [Int] {
      let order = scores.indices.sorted { largest ? scores[$0] > scores[$1] : scores[$0] < scores[$1] }
      return Array(order.prefix(k))
    }
    func separate(_ scores: [Double]) throws -> Separation {
      let chosen = selected(scores)
      let restricted = try Softmax().separate(chosen.map { scores[$0] })
      var weights = [Double](repeating: 0, count: scores.count)
      for (j, i) in chosen.enumerated() { weights[i] = restricted.weights[j] }
      let conjugate = wholeConjugate ? try Softmax().separate(scores).conjugate : restricted.conjugate
      return Separation(weights: weights, conjugate: conjugate)
    }
    func regularizer(_ weights: [Double]) throws -> Double {
      weights.reduce(0) { $1 > 0 ? $0 + $1 * log($1) : $0 }
    }
    func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double] {
      let mean = zip(weights, direction).reduce(0) { $0 + $1.0 * $1.1 }
      return zip(weights, direction).map { $0 * ($1 - mean) }
    }
  }

  /// Softmax restricted to the k largest scores is the gradient of the convex
  /// `max over |S| = k of log Σ_S exp(θ)` (a maximum of convex functions; the k largest scores
  /// attain it), so a map with jumps in its weights and kinks in `Ω*` passes: no false alarm.
  @Test func topKSoftmaxIsTheGradientOfAConvexFunction() {
    var generator = SeededGenerator(seed: 4)
    let scores = (0..<6).map { _ in generator.gaussians(6) }
    let failures = SeparationMapConformance.check(RestrictedSoftmax(k: 3), scores: scores)
    #expect(failures.isEmpty, "\(failures)")
  }

  /// Paired with the log-sum-exp of every score, its weights are not the conjugate's gradient.
  @Test func topKSoftmaxWithTheWholeLogSumExpIsCaught() {
    var generator = SeededGenerator(seed: 5)
    let scores = (0..<3).map { _ in generator.gaussians(6) }
    let failures = SeparationMapConformance.checkConjugate(
      RestrictedSoftmax(k: 3, wholeConjugate: true), scores: scores)
    #expect(Set(failures.map(\.property)) == ["gradient"], "\(failures)")
  }

  /// Softmax restricted to the k *smallest* scores is the gradient of a minimum of convex
  /// functions, which is not convex: raising a score can drop its weight to zero. Every pointwise
  /// property holds away from the jumps.
  @Test func bottomKSoftmaxIsCaught() {
    var generator = SeededGenerator(seed: 6)
    let scores = (0..<4).map { _ in generator.gaussians(6) }
    let failures = SeparationMapConformance.check(RestrictedSoftmax(k: 3, largest: false), scores: scores)
    #expect(!failures.isEmpty)
    #expect(Set(failures.map(\.property)).isSubset(of: ["convexity", "monotonicity"]), "\(failures)")
  }

  /// Twice the weights of softmax with its conjugate unchanged: convex and monotone, but not the
  /// gradient; the difference check names it.
  @Test func weightsScaledAgainstTheConjugateAreCaught() {
    struct Doubled: SeparationMap {
      var name: String { "doubled softmax" }
      var margin: Double? { nil }
      func separate(_ scores: [Double]) throws -> Separation {
        let softmax = try Softmax().separate(scores)
        return Separation(weights: softmax.weights.map { 2 * $0 }, conjugate: softmax.conjugate)
      }
      func regularizer(_ weights: [Double]) throws -> Double { 0 }
      func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double]
      {
        direction
      }
    }
    var generator = SeededGenerator(seed: 7)
    let scores = (0..<3).map { _ in generator.gaussians(5) }
    let failures = SeparationMapConformance.checkConjugate(Doubled(), scores: scores)
    #expect(Set(failures.map(\.property)) == ["gradient"], "\(failures)")
  }

  /// Steps and segments follow the scores' spread: softmax on scores of spread 1e-4 (nearly
  /// uniform weights) and of spread 1e4 (one-hot with rare kinks), and entmax at α = 1000 on its
  /// own scale, pass with the default step.
  @Test func theChecksFollowTheScale() throws {
    var generator = SeededGenerator(seed: 8)
    for scale in [1e-4, 1e4] {
      let scores = (0..<3).map { _ in generator.gaussians(5).map { $0 * scale } }
      let failures = SeparationMapConformance.checkConjugate(Softmax(), scores: scores)
      #expect(failures.isEmpty, "scale \(scale): \(failures)")
    }
    let entmax = SeparationMapConformance.checkConjugate(
      try Entmax(alpha: 1000), scores: (0..<3).map { _ in generator.gaussians(5).map { $0 * 1e-3 } })
    #expect(entmax.isEmpty, "\(entmax)")
  }
}
