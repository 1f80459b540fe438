import DAM
import PropertyBased
import Testing

/// Property-based tests (x-sheep/swift-property-based): random inputs, shrunk to a small
/// counterexample on failure. Each property is a mathematical fact, not a recorded output.
///
/// Tolerances: the maps' weights are computed to round-off, so simplex membership and the
/// Fenchel-Young equality hold to `1e-9` relative to the scores' scale (thresholds found by
/// bisection or sorting accumulate a few ulps per score). Sinkhorn values hold to the solver's
/// marginal tolerance `1e-9` times the cost scale.
struct SeparationMapPropertyTests {
  static let maps: [AnySeparationMap] = [
    AnySeparationMap(Softmax()), AnySeparationMap(Sparsemax()), AnySeparationMap(Entmax15()), AnySeparationMap(try! Entmax(alpha: 1.3)),
    AnySeparationMap(try! Entmax(alpha: 2.5)), AnySeparationMap(try! Normmax(alpha: 2)),
    AnySeparationMap(try! Normmax(alpha: 4)),
  ]

  static let scores = Gen.double(in: -30...30).array(of: 1...16)

  @Test(arguments: 0..<maps.count)
  func weightsLieOnTheSimplexAndKeepTheScoreOrder(mapIndex: Int) async {
    let map = Self.maps[mapIndex]
    await propertyCheck(count: 200, input: Self.scores) { theta in
      let y = try map.separate(theta).weights
      #expect(y.count == theta.count)
      #expect(y.allSatisfy { $0 >= 0 && $0.isFinite }, "\(map.name): \(y)")
      #expect(abs(y.reduce(0, +) - 1) <= 1e-9, "\(map.name): sum \(y.reduce(0, +))")
      for i in theta.indices {
        for j in theta.indices where theta[i] > theta[j] {
          #expect(y[i] >= y[j] - 1e-12, "\(map.name): order broken at \(i), \(j)")
        }
      }
    }
  }

  @Test(arguments: 0..<maps.count)
  func shiftingEveryScoreChangesNothing(mapIndex: Int) async {
    let map = Self.maps[mapIndex]
    await propertyCheck(count: 200, input: Self.scores, Gen.double(in: -100...100)) { theta, c in
      let a = try map.separate(theta)
      let b = try map.separate(theta.map { $0 + c })
      for (u, v) in zip(a.weights, b.weights) { #expect(abs(u - v) <= 1e-9, "\(map.name)") }
      // The conjugate shifts by c on the simplex.
      #expect(abs(b.conjugate - a.conjugate - c) <= 1e-9 * (1 + abs(c) + abs(a.conjugate)), "\(map.name)")
    }
  }

  /// Fenchel-Young equality at the maximiser: Ω*(θ) = <θ, ŷ> - Ω(ŷ); and Ω*(θ) >= max θ
  /// (the vertices have Ω = 0 for these regularisers).
  @Test(arguments: 0..<maps.count)
  func conjugateMatchesTheMaximiser(mapIndex: Int) async {
    let map = Self.maps[mapIndex]
    await propertyCheck(count: 200, input: Self.scores) { theta in
      let s = try map.separate(theta)
      let omega = try map.regularizer(s.weights)
      let dot = zip(theta, s.weights).reduce(0) { $0 + $1.0 * $1.1 }
      let scale = 1 + theta.map(abs).max()!
      #expect(abs(s.conjugate - (dot - omega)) <= 1e-9 * scale, "\(map.name)")
      #expect(s.conjugate >= theta.max()! - 1e-9 * scale, "\(map.name)")
    }
  }

  @Test func kSubsetsWeightsLieInTheCappedSimplex() async {
    await propertyCheck(count: 200, input: Self.scores, Gen.int(in: 1...16)) { theta, kRaw in
      let k = min(kRaw, theta.count)
      let y = try KSubsets(k: k).separate(theta).weights
      #expect(y.allSatisfy { $0 >= -1e-12 && $0 <= 1 + 1e-12 })
      #expect(abs(y.reduce(0, +) - Double(k)) <= 1e-9 * Double(k))
    }
  }
}

struct DivergencePropertyTests {
  static let coordinates = Gen.double(in: -5...5)

  /// A cloud of 1 to 5 atoms in R^2 with random positive weights.
  static let cloud = PropertyBased.zip(
    coordinates.array(of: 10), Gen.double(in: 0.05...1).array(of: 5), Gen.int(in: 1...5)
  ).map { points, masses, n in
    try! PointCloud(
      points: Matrix(rows: n, columns: 2, elements: Array(points.prefix(2 * n))),
      masses: Array(masses.prefix(n)))
  }

  static func divergence(_ a: PointCloud, _ b: PointCloud) throws -> Double {
    try Sinkhorn.divergence(a, b, options: SinkhornOptions(epsilon: 0.5)).value
  }

  @Test func sinkhornIsSymmetricNonNegativeAndZeroOnItself() async {
    await propertyCheck(count: 60, input: Self.cloud, Self.cloud) { a, b in
      let ab = try Self.divergence(a, b)
      let ba = try Self.divergence(b, a)
      let scale = 1 + ab
      #expect(ab >= -1e-8 * scale)
      #expect(abs(ab - ba) <= 1e-8 * scale)
      #expect(abs(try Self.divergence(a, a)) <= 1e-8)
    }
  }

  @Test func sinkhornIsInvariantUnderTranslationAndAtomOrder() async {
    await propertyCheck(count: 60, input: Self.cloud, Self.cloud, Self.coordinates, Self.coordinates) {
      a, b, tx, ty in
      let base = try Self.divergence(a, b)
      func moved(_ c: PointCloud) throws -> PointCloud {
        var elements = c.points.elements
        for i in 0..<c.count {
          elements[2 * i] += tx
          elements[2 * i + 1] += ty
        }
        return try PointCloud(
          points: Matrix(rows: c.count, columns: 2, elements: elements), weights: c.weights)
      }
      let reversedA = try PointCloud(
        points: Matrix(rowArrays: a.points.rowArrays.reversed()), weights: a.weights.reversed())
      #expect(abs(try Self.divergence(moved(a), moved(b)) - base) <= 1e-7 * (1 + base))
      #expect(abs(try Self.divergence(reversedA, b) - base) <= 1e-7 * (1 + base))
    }
  }

  /// Diagonal covariances commute, so W2^2 has the closed form
  /// ||m1 - m2||^2 + sum_i (sqrt(v1_i) - sqrt(v2_i))^2.
  @Test func buresWassersteinMatchesTheCommutingClosedForm() async {
    let gaussian = PropertyBased.zip(Self.coordinates.array(of: 3), Gen.double(in: 0.01...10).array(of: 3))
      .map { m, v in
        try! Gaussian(mean: m, variances: v)
      }
    await propertyCheck(count: 200, input: gaussian, gaussian) { a, b in
      guard case .diagonal(let va) = a.covariance, case .diagonal(let vb) = b.covariance else { return }
      var expected = 0.0
      for i in 0..<3 {
        expected += (a.mean[i] - b.mean[i]) * (a.mean[i] - b.mean[i])
        expected += (va[i].squareRoot() - vb[i].squareRoot()) * (va[i].squareRoot() - vb[i].squareRoot())
      }
      let full = try Gaussian(mean: a.mean, covariance: Matrix(diagonal: va))
      let value = try BuresWasserstein.distanceSquared(a, b)
      let fullValue = try BuresWasserstein.distanceSquared(full, b)
      #expect(abs(value - expected) <= 1e-10 * (1 + expected))
      // The full-covariance path (eigendecompositions) agrees with the closed form to round-off
      // of the square roots: 1e-8 relative.
      #expect(abs(fullValue - expected) <= 1e-8 * (1 + expected))
    }
  }
}
