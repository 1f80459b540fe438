import DAM
import DAMTestSupport
import Testing

/// ``SeparationMapConformance/check(_:scores:weightSum:step:tolerance:seed:)`` tests a map's
/// ``SeparationMap/zeroWeightRule``, which pruned retrieval trusts to skip patterns.
struct ZeroWeightRuleConformanceTests {
  /// A built-in map with another zero-weight rule.
  struct Ruled: SeparationMap {
    var base: any SeparationMap
    var rule: ZeroWeightRule
    var name: String { "\(base.name) with another rule" }
    var margin: Double? { base.margin }
    var zeroWeightRule: ZeroWeightRule? { rule }
    func separate(_ scores: [Double]) throws -> Separation { try base.separate(scores) }
    func regularizer(_ weights: [Double]) throws -> Double { try base.regularizer(weights) }
    func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws -> [Double] {
      try base.jacobianVectorProduct(scores: scores, weights: weights, direction: direction)
    }
  }

  static let scores: [[Double]] = {
    var generator = SeededGenerator(seed: 9)
    return (0..<4).map { _ in generator.gaussians(6) }
  }()

  @Test func theBuiltInRulesHold() throws {
    for (map, weightSum) in [(Sparsemax() as any SeparationMap, 1.0), (try KSubsets(k: 2), 2)] {
      let failures = SeparationMapConformance.check(
        Ruled(base: map, rule: map.zeroWeightRule!), scores: Self.scores, weightSum: weightSum)
      #expect(failures.isEmpty, "\(map.name): \(failures)")
    }
  }

  /// Sparsemax's weights are zero one unit below the largest score, not half a unit.
  @Test func aGapTooSmallIsCaught() {
    let failures = SeparationMapConformance.check(
      Ruled(base: Sparsemax(), rule: ZeroWeightRule(rank: 1, gap: 0.5)), scores: Self.scores)
    #expect(Set(failures.map(\.property)) == ["zero-weight rule"], "\(failures)")
  }

  /// k-subsets give weight 1 to the k largest scores: a rule measured from the largest is wrong.
  @Test func aRankTooSmallIsCaught() throws {
    let failures = SeparationMapConformance.check(
      Ruled(base: try KSubsets(k: 2), rule: ZeroWeightRule(rank: 1, gap: 1)), scores: Self.scores,
      weightSum: 2)
    #expect(Set(failures.map(\.property)) == ["zero-weight rule"], "\(failures)")
  }

  @Test func anInvalidRuleIsCaught() {
    let failures = SeparationMapConformance.check(
      Ruled(base: Sparsemax(), rule: ZeroWeightRule(rank: 0, gap: 1)), scores: Self.scores)
    #expect(Set(failures.map(\.property)) == ["zero-weight rule"], "\(failures)")
  }
}
