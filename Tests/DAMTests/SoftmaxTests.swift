import DAM
import DAMTestSupport
import Foundation
import Testing

struct SoftmaxTests {
  let softmax = Softmax()

  @Test func weightsAndConjugateHaveTheClosedForm() throws {
    let theta = [0.0, 0.25, 0.5, 0.75, 1]
    let result = try softmax.separate(theta)
    let z = theta.map { exp($0) }.reduce(0, +)
    #expect(TestData.maxDifference(result.weights, theta.map { exp($0) / z }) < 1e-16)
    #expect(abs(result.conjugate - log(z)) < 1e-15)
    // Fenchel-Young equality: Ω*(θ) = ⟨θ, ŷ⟩ - Ω(ŷ).
    let dot = zip(theta, result.weights).reduce(0) { $0 + $1.0 * $1.1 }
    #expect(abs(result.conjugate - (dot - (try softmax.regularizer(result.weights)))) < 1e-15)
  }

  @Test func shiftInvarianceAndHugeScores() throws {
    let theta = [1e6, 1e6 - 1, 1e6 - 2]
    let shifted = try softmax.separate(theta.map { $0 - 1e6 })
    let result = try softmax.separate(theta)
    #expect(TestData.maxDifference(result.weights, shifted.weights) < 1e-15)
    #expect(abs(result.conjugate - (shifted.conjugate + 1e6)) < 1e-9)
    let finite = result.weights.allSatisfy { $0.isFinite }
    #expect(finite)
  }

  @Test func maskedScoresGetZeroWeight() throws {
    let result = try softmax.separate([-.infinity, 0, 0])
    #expect(result.weights == [0, 0.5, 0.5])
    let error = #expect(throws: DAMError.self) { try softmax.separate([-.infinity, -.infinity]) }
    #expect(error?.message.contains("masked") == true)
    #expect(throws: DAMError.self) { try softmax.separate([0, .nan]) }
    #expect(throws: DAMError.self) { try softmax.separate([0, .infinity]) }
    #expect(throws: DAMError.self) { try softmax.separate([]) }
  }

  @Test func largeBetaIsArgmax() throws {
    let theta = [0.1, 0.9, 0.5]
    let weights = try softmax.separate(theta.map { 1e4 * $0 }).weights
    #expect(weights == [0, 1, 0])
  }

  @Test func jacobianVectorProductMatchesFiniteDifferences() throws {
    var generator = SeededGenerator(seed: 3)
    let theta = generator.gaussians(7)
    let v = generator.gaussians(7)
    let weights = try softmax.separate(theta).weights
    let jvp = try softmax.jacobianVectorProduct(scores: theta, weights: weights, direction: v)
    let h = 1e-5
    let plus = try softmax.separate(zip(theta, v).map { $0 + h * $1 }).weights
    let minus = try softmax.separate(zip(theta, v).map { $0 - h * $1 }).weights
    let central = zip(plus, minus).map { ($0 - $1) / (2 * h) }
    // Central differences: truncation O(h²) ≈ 1e-10, round-off O(ulp/h) ≈ 1e-11.
    #expect(TestData.maxDifference(jvp, central) < 1e-9)
  }
}
