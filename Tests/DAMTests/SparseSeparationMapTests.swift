import DAM
import DAMTestSupport
import Foundation
import Testing

/// Properties every sparse and structured map must have, for every map (parameterised).
struct SparseSeparationMapTests {
  /// ``SeparationMapConformance`` on generic scores: polytope, masking, shift invariance of weights
  /// and conjugate, Fenchel-Young, `ŷ = ∇Ω*` and the JVP, by central differences with tolerance
  /// 1e-6 and step 1e-6 of the score scale (1e-9 for α = 1000, whose scores live on the scale
  /// 1/(α-1); truncation ~1e-12 relative, round-off ~ulp/step ≤ 1e-7).
  @Test(arguments: SparseMapCase.allCases)
  func conformsOnGenericScores(_ mapCase: SparseMapCase) {
    let scores =
      (0..<6).map { mapCase.genericScores(count: 7, seed: 100 + UInt64($0)) }
      + [
        mapCase.genericScores(count: 5, seed: 7).enumerated().map { $0.offset == 1 ? -.infinity : $0.element }
      ]
    let failures = SeparationMapConformance.check(
      mapCase.map, scores: scores, weightSum: mapCase.weightSum, step: mapCase.differenceStep)
    #expect(failures.isEmpty, "\(failures)")
  }

  /// The weights lie in the map's polytope: `0 ≤ yᵢ ≤ 1`, `Σ y = k` (to 1e-12: a sum of at most
  /// 40 terms each rounded to 1e-16), masked scores get exactly 0.
  @Test(arguments: SparseMapCase.allCases)
  func weightsLieInThePolytope(_ mapCase: SparseMapCase) throws {
    let map = mapCase.map
    for seed in UInt64(0)..<20 {
      var theta = mapCase.genericScores(count: 10 + Int(seed), seed: 200 + seed).map {
        $0 * Double(1 + seed % 4)
      }
      if seed % 3 == 0 { theta[Int(seed) % theta.count] = -.infinity }
      let y = try map.separate(theta).weights
      #expect(y.count == theta.count)
      #expect(y.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(y)")
      #expect(abs(y.reduce(0, +) - mapCase.weightSum) < 1e-12)
      for (score, weight) in zip(theta, y) where score == -.infinity { #expect(weight == 0) }
    }
  }

  /// Adding a constant to every score changes neither the weights nor the conjugate beyond
  /// `+ c · k`. Tolerance: θ + c is rounded to ulp(c) ≈ 1e-13 at c = 1e3, which moves weights by at
  /// most that times the Jacobian norm (≤ 1/(α-1) or so for these maps, 1e6 at α = 1 + 1e-6 only
  /// through the O(1) softmax-like Jacobian), so 1e-10 is ample.
  @Test(arguments: SparseMapCase.allCases)
  func addingAConstantChangesNothing(_ mapCase: SparseMapCase) throws {
    let map = mapCase.map
    let theta = mapCase.genericScores(count: 9, seed: 31)
    let base = try map.separate(theta)
    for c in [3.7, -1e3, 1e3] {
      let shifted = try map.separate(theta.map { $0 + c })
      #expect(TestData.maxDifference(shifted.weights, base.weights) < 1e-10, "c = \(c)")
      let expected = base.conjugate + c * mapCase.weightSum
      #expect(abs(shifted.conjugate - expected) < 1e-10 * max(1, abs(expected)), "c = \(c)")
    }
  }

  /// At large β the output is the vertex of the argmax, exactly: one-hot on the simplex, the
  /// top-k indicator for k-subsets and for sequential k-subsets (whose pairwise score is not
  /// scaled by β, so the unary scores dominate). β is chosen so that the smallest score gap
  /// exceeds the margin (1e6 for α = 1 + 1e-6) tenfold.
  @Test(arguments: SparseMapCase.allCases)
  func largeBetaGivesTheArgmaxVertex(_ mapCase: SparseMapCase) throws {
    let theta = [0.1, 0.9, 0.5, -0.3, 0.7, 0.2]
    let map = mapCase.map
    let margin = try #require(map.margin)
    let beta = 10 * margin / 0.1  // sorted scores differ by at least 0.1
    let y = try map.separate(theta.map { beta * $0 }).weights
    let top = theta.indices.sorted { theta[$0] > theta[$1] }.prefix(mapCase.k)
    #expect(y == theta.indices.map { top.contains($0) ? 1 : 0 }, "\(y)")
  }

  /// The Jacobian-vector product equals central differences of the weights, to 1e-6. With step
  /// h = 1e-6 of the score scale the truncation error is ~h² |ŷ'''| ≈ 1e-12 relative away from
  /// kinks and the round-off ~ulp/h ≤ 1e-7 (h = 1e-9 at α = 1000).
  @Test(arguments: SparseMapCase.allCases)
  func jacobianVectorProductMatchesCentralDifferences(_ mapCase: SparseMapCase) throws {
    let map = mapCase.map
    let h = mapCase.differenceStep
    for seed in UInt64(0)..<5 {
      let theta = mapCase.genericScores(count: 8, seed: 300 + seed)
      var generator = SeededGenerator(seed: 400 + seed)
      let v = generator.gaussians(8)
      let y = try map.separate(theta).weights
      let jvp = try map.jacobianVectorProduct(scores: theta, weights: y, direction: v)
      let plus = try map.separate(zip(theta, v).map { $0 + h * $1 }).weights
      let minus = try map.separate(zip(theta, v).map { $0 - h * $1 }).weights
      let central = zip(plus, minus).map { ($0 - $1) / (2 * h) }
      #expect(TestData.maxDifference(jvp, central) < 1e-6, "seed \(seed): \(jvp) vs \(central)")
      // The weights stay in the polytope's tangent space: Σ J v = 0.
      #expect(abs(jvp.reduce(0, +)) < 1e-12)
    }
  }

  // MARK: Edge cases

  /// One pattern: the weights are [1] (the only vertex of the simplex and of 1-subsets).
  @Test(arguments: SparseMapCase.allCases.filter(\.isSimplex))
  func singlePatternGetsWeightOne(_ mapCase: SparseMapCase) throws {
    for score in [0.0, -3.5, 1e6] {
      let result = try mapCase.map.separate([score])
      #expect(result.weights == [1])
      // Ω(e₁) = 0 for the negentropies; ½ for k-subsets' ½‖y‖².
      let omega = mapCase == .kSubsets1 ? 0.5 : 0
      #expect(abs(result.conjugate - (score - omega)) < 1e-9 * max(1, abs(score)))
    }
  }

  /// k-subsets with more subsets than patterns (or than unmasked scores) throw, naming `k`.
  @Test func subsetsLargerThanTheMemoryAreRefused() throws {
    for map in [try KSubsets(k: 3) as any SeparationMap, try SequentialKSubsets(k: 3, pairwise: 0.5)] {
      let error = #expect(throws: DAMError.self) { try map.separate([0.1, 0.2]) }
      #expect(error?.argument == "k")
      let masked = #expect(throws: DAMError.self) { try map.separate([0.1, -.infinity, 0.3, -.infinity]) }
      #expect(masked?.argument == "k")
      // Exactly k unmasked: all of them, weight 1.
      #expect(try map.separate([0.1, -.infinity, 0.3, 5]).weights == [1, 0, 1, 1])
    }
  }

  /// Tied scores: tied entries get equal weights (to round-off), whatever the map.
  @Test(arguments: SparseMapCase.allCases.filter { !$0.rawValue.hasPrefix("sequential") })
  func tiesGetEqualWeights(_ mapCase: SparseMapCase) throws {
    let theta = [0.3, 0.3, -0.2, 0.1, 0.3, -1.0].map { $0 * mapCase.genericScale }
    let y = try mapCase.map.separate(theta).weights
    #expect(abs(y[0] - y[1]) < 1e-15 && abs(y[0] - y[4]) < 1e-15, "\(y)")
    let uniform = try mapCase.map.separate([2, 2, 2]).weights
    let expected = mapCase.weightSum / 3
    #expect(TestData.maxDifference(uniform, [expected, expected, expected]) < 1e-15)
  }

  /// Scores of magnitude 1e6: the weights are those of the same scores minus 1e6 (the
  /// subtraction is exact here, so the two inputs represent the same problem and must agree to
  /// round-off of the O(1) problem, 1e-12), and huge gaps give exact vertices without overflow.
  @Test(arguments: SparseMapCase.allCases)
  func hugeScoresStayFinite(_ mapCase: SparseMapCase) throws {
    let huge = [0.1, 0.5, 0.3, -0.2, 0.45].map { $0 * mapCase.genericScale + 1e6 }
    let small = huge.map { $0 - 1e6 }  // exact (Sterbenz)
    let result = try mapCase.map.separate(huge)
    let reference = try mapCase.map.separate(small)
    #expect(TestData.maxDifference(result.weights, reference.weights) < 1e-12)
    // The conjugate carries 1e6 · k, so its round-off is ulp(1e6) ≈ 1.2e-10 per term.
    #expect(abs(result.conjugate - (reference.conjugate + 1e6 * mapCase.weightSum)) < 1e-9)
    let spread = try mapCase.map.separate([1e6, -1e6, 0, 3e5, -2e5])
    #expect(spread.weights.allSatisfy(\.isFinite) && spread.conjugate.isFinite)
    #expect(abs(spread.weights.reduce(0, +) - mapCase.weightSum) < 1e-12)
    #expect(spread.weights[0] > 0.99)
  }

  /// Masked scores get weight 0; all masked, NaN and +∞ are refused with a clear error.
  @Test(arguments: SparseMapCase.allCases)
  func maskedAndInvalidScores(_ mapCase: SparseMapCase) throws {
    let map = mapCase.map
    let theta = [-.infinity, 0.2, 0.1, -.infinity, 0.4, 0.0].map { $0 * mapCase.genericScale }
    let y = try map.separate(theta).weights
    #expect(y[0] == 0 && y[3] == 0)
    #expect(abs(y.reduce(0, +) - mapCase.weightSum) < 1e-12)
    // The masked entries do not change the others: same as dropping them.
    let dropped = try map.separate([0.2, 0.1, 0.4, 0.0].map { $0 * mapCase.genericScale }).weights
    if !mapCase.rawValue.hasPrefix("sequential") {  // dropping entries changes the neighbours
      #expect(TestData.maxDifference([y[1], y[2], y[4], y[5]], dropped) < 1e-15)
    }
    let error = #expect(throws: DAMError.self) { try map.separate([-.infinity, -.infinity, -.infinity]) }
    #expect(error?.message.contains("masked") == true)
    #expect(error?.argument == "scores")
    #expect(throws: DAMError.self) { try map.separate([0, .nan, 1]) }
    #expect(throws: DAMError.self) { try map.separate([0, .infinity, 1]) }
    #expect(throws: DAMError.self) { try map.separate([]) }
  }

  /// α = 1 is softmax itself; α = 1 + 1e-6 is close to softmax (entmax - softmax = O(α - 1):
  /// measured 8.3e-7 on the weights and 2.4e-6 on the conjugate at 1 + 1e-6, and 1000 times
  /// less at 1 + 1e-9, so 1e-5 leaves room) and never NaN.
  @Test func entmaxNearOneIsSoftmax() throws {
    let theta = [0.0, 0.25, 0.5, 0.75, 1, -2, 3]
    let softmax = try Softmax().separate(theta)
    let one = try Entmax(alpha: 1)
    #expect(try one.separate(theta) == softmax)
    #expect(one.margin == nil && one.name == "softmax")
    #expect(try one.regularizer(softmax.weights) == Softmax().regularizer(softmax.weights))
    for alpha in [1 + 1e-6, 1 + 1e-9, 1 + 1e-12] {
      let near = try Entmax(alpha: alpha).separate(theta)
      #expect(near.weights.allSatisfy { $0.isFinite && $0 > 0 })
      #expect(TestData.maxDifference(near.weights, softmax.weights) < 1e-5, "alpha \(alpha)")
      #expect(abs(near.conjugate - softmax.conjugate) < 1e-5, "alpha \(alpha)")
    }
  }

  /// α = 1000: entmax is nearly argmax (margin 1/999), normmax nearly uniform on its support;
  /// both finite, with finite Jacobians.
  @Test func veryLargeAlphaIsFinite() throws {
    let theta = [0.0, 0.25, 0.5, 0.75, 1]
    let entmax = try Entmax(alpha: 1000).separate(theta)
    #expect(entmax.weights == [0, 0, 0, 0, 1])
    let close = try Entmax(alpha: 1000).separate([0, 0.0004, 0.0008, 0.001])
    #expect(close.weights.allSatisfy(\.isFinite) && close.weights.filter { $0 > 0 }.count > 1)
    let normmax = try Normmax(alpha: 1000).separate(theta)
    #expect(normmax.weights.allSatisfy { $0.isFinite })
    let jvp = try Normmax(alpha: 1000).jacobianVectorProduct(
      scores: theta, weights: normmax.weights, direction: [1, -1, 0.5, 0.2, -0.3])
    #expect(jvp.allSatisfy { $0.isFinite })
    // Normmax near α = 1 tends to argmax: finite, one-hot here.
    #expect(try Normmax(alpha: 1 + 1e-6).separate(theta).weights == [0, 0, 0, 0, 1])
  }

  /// Parameters out of range are refused with the parameter named.
  @Test func invalidParametersAreRefused() {
    for alpha in [0.5, .nan, .infinity, -1] {
      let error = #expect(throws: DAMError.self) { try Entmax(alpha: alpha) }
      #expect(error?.argument == "alpha")
    }
    for alpha in [1.0, 0.9, .nan, .infinity] {
      let error = #expect(throws: DAMError.self) { try Normmax(alpha: alpha) }
      #expect(error?.argument == "alpha")
    }
    #expect((#expect(throws: DAMError.self) { try KSubsets(k: 0) })?.argument == "k")
    #expect((#expect(throws: DAMError.self) { try SequentialKSubsets(k: 0, pairwise: 1) })?.argument == "k")
    #expect(
      (#expect(throws: DAMError.self) { try SequentialKSubsets(k: 2, pairwise: .nan) })?.argument
        == "pairwise")
  }

  /// Regularisers refuse points outside their polytope, naming `weights`.
  @Test(arguments: SparseMapCase.allCases)
  func regularizerRefusesPointsOutsideThePolytope(_ mapCase: SparseMapCase) {
    let map = mapCase.map
    for bad in [[0.5, 0.5, -0.1, 0.1], [0.2, 0.2, 0.2, 0.2], [Double.nan, 1, 0, 0], [3, 0, 0, 0]] {
      let error = #expect(throws: DAMError.self) { try map.regularizer(bad) }
      #expect(error?.argument == "weights")
    }
  }

  /// Names and margins are those documented.
  @Test func namesAndMargins() throws {
    #expect(Sparsemax().name == "sparsemax" && Sparsemax().margin == 1)
    #expect(Entmax15().name == "1.5-entmax" && Entmax15().margin == 2)
    #expect(try Entmax(alpha: 1.5).name == "1.5-entmax" && Entmax(alpha: 3).margin == 0.5)
    #expect(try Normmax(alpha: 2).name == "2-normmax" && Normmax(alpha: 7).margin == 1)
    #expect(try KSubsets(k: 3).name == "3-subsets" && KSubsets(k: 3).margin == 1)
    #expect(try SequentialKSubsets(k: 2, pairwise: 1).name == "sequential-2-subsets")
    #expect(AnySeparationMap(try Normmax(alpha: 5)).name == "5-normmax")
  }
}
