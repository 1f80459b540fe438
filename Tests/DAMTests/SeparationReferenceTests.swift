import DAM
import DAMTestSupport
import Foundation
import Testing

/// The maps against independent references: the paper's values (to the digits it prints) and
/// 60-digit mpmath computations by `scripts/fixtures/make_separation_fixtures.py`, which shares
/// no algorithm with the Swift code (plain bisection for entmax, normmax and k-subsets, brute-force
/// enumeration of supports with a KKT certificate for sequential k-subsets).
struct SeparationReferenceTests {
  struct Fixture: Decodable {
    struct Case: Decodable {
      var map: String
      var scores: [Double]
      var weights: [Double]
      var conjugate: Double
      var alpha: Double?
      var k: Int?
      var pairwise: Double?
    }
    var cases: [Case]
  }

  static let fixture: Fixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/separation/separation_references.json")
    // The fixture is part of the repository; a missing or malformed file is a broken checkout.
    let data = try! Data(contentsOf: url)
    return try! JSONDecoder().decode(Fixture.self, from: data)
  }()

  /// The maps that compute a fixture case: the iterative one and, where it exists, the exact one.
  static func maps(for item: Fixture.Case) throws -> [any SeparationMap] {
    switch item.map {
    case "entmax":
      let alpha = try #require(item.alpha)
      var maps: [any SeparationMap] = [try Entmax(alpha: alpha)]
      if alpha == 2 { maps.append(Sparsemax()) }
      if alpha == 1.5 { maps.append(Entmax15()) }
      return maps
    case "normmax": return [try Normmax(alpha: try #require(item.alpha))]
    case "ksubsets":
      let k = try #require(item.k)
      // Sequential k-subsets without pairwise scores is k-subsets, by the active-set solver.
      return [try KSubsets(k: k), try SequentialKSubsets(k: k, pairwise: 0)]
    case "sequential-ksubsets":
      return [try SequentialKSubsets(k: try #require(item.k), pairwise: try #require(item.pairwise))]
    default:
      Issue.record("unknown map \(item.map)")
      return []
    }
  }

  @Test func fixtureHasEveryFamily() {
    let families = Set(Self.fixture.cases.map(\.map))
    #expect(families == ["entmax", "normmax", "ksubsets", "sequential-ksubsets"])
    #expect(Self.fixture.cases.count >= 90)
  }

  /// Every map matches the 60-digit references (93 cases: θ = [0, .25, .5, .75, 1], 2θ, Gaussian
  /// scores, ties, scores near 1e6; α from 1 + 1e-6 to 1000). Tolerance 1e-14 on the weights
  /// (absolute) and on the conjugates (relative to max(1, |Ω*|)): the measured worst cases are
  /// 4.4e-16 and 5.6e-16, so this leaves a factor 20 for other platforms' libm.
  @Test(arguments: ["entmax", "normmax", "ksubsets", "sequential-ksubsets"])
  func matchesTheHighPrecisionReferences(family: String) throws {
    for item in Self.fixture.cases where item.map == family {
      for map in try Self.maps(for: item) {
        let result = try map.separate(item.scores)
        let weightError = TestData.maxDifference(result.weights, item.weights)
        let conjugateError = abs(result.conjugate - item.conjugate) / max(1, abs(item.conjugate))
        #expect(weightError < 1e-14, "\(map.name) at \(item.scores): \(result.weights) vs \(item.weights)")
        #expect(
          conjugateError < 1e-14, "\(map.name) at \(item.scores): \(result.conjugate) vs \(item.conjugate)")
      }
    }
  }

  /// The values printed in the paper's setting, θ = [0, .25, .5, .75, 1], to the 4 digits shown
  /// (so within 5e-5), and the exact k-subsets values to round-off (1e-15).
  @Test func knownValues() throws {
    let theta = [0.0, 0.25, 0.5, 0.75, 1]
    let normmax2 = try Normmax(alpha: 2).separate(theta).weights
    #expect(TestData.maxDifference(normmax2, [0, 0.0239, 0.1746, 0.3254, 0.4761]) < 5e-5, "\(normmax2)")
    let normmax1000 = try Normmax(alpha: 1000).separate(theta).weights
    #expect(TestData.maxDifference(normmax1000, [0, 0, 0.3330, 0.3334, 0.3336]) < 5e-5, "\(normmax1000)")
    #expect(normmax2[0] == 0 && normmax1000[0] == 0 && normmax1000[1] == 0, "exact zeros")
    let subsets2 = try KSubsets(k: 2).separate(theta).weights
    #expect(TestData.maxDifference(subsets2, [0, 0.125, 0.375, 0.625, 0.875]) < 1e-15, "\(subsets2)")
    let subsets3 = try KSubsets(k: 3).separate(theta.map { 2 * $0 }).weights
    #expect(TestData.maxDifference(subsets3, [0, 0.25, 0.75, 1, 1]) < 1e-15, "\(subsets3)")
    #expect(subsets3[0] == 0 && subsets3[3] == 1 && subsets3[4] == 1, "exact zeros and ones")
  }
}
