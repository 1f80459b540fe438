/// Numerical checks that any ``SeparationMap`` (the package's or yours) should pass.
///
/// Run it in your tests over a few score vectors: an empty result means every property held.
///
/// ```swift
/// let failures = SeparationMapConformance.check(MyMap(), scores: [[0, 0.5, -1], [3, 3, 3]])
/// #expect(failures.isEmpty, "\(failures)")
/// ```
public enum SeparationMapConformance {
  /// Checks, at each score vector:
  /// - the weights are finite, non-negative, at most 1 and sum to `weightSum` (1 on the simplex;
  ///   `k` for k-subsets), and masked (`-∞`) scores get weight 0;
  /// - shift invariance: `ŷ(θ + c) = ŷ(θ)` and `Ω*(θ + c) = Ω*(θ) + c · weightSum`;
  /// - the Fenchel-Young equality `Ω*(θ) = ⟨θ, ŷ⟩ - Ω(ŷ)`;
  /// - `ŷ = ∇Ω*`: a central difference of `Ω*` along a direction equals `⟨ŷ, v⟩`;
  /// - the Jacobian-vector product matches central differences of `ŷ`.
  ///
  /// Finite differences use `step` and are compared with `tolerance` (absolute, on O(1) scores);
  /// maps with kinks (sparse maps) can fail the difference checks exactly at a kink, so use
  /// generic scores.
  public static func check(
    _ map: some SeparationMap, scores: [[Double]], weightSum: Double = 1, step: Double = 1e-6,
    tolerance: Double = 1e-6, seed: UInt64 = 0
  ) -> [ConformanceFailure] {
    var failures: [ConformanceFailure] = []
    var generator = SeededGenerator(seed: seed)
    func fail(_ property: String, _ detail: String) {
      failures.append(ConformanceFailure(property: property, detail: detail))
    }
    for theta in scores {
      let label = "at \(theta)"
      let separation: Separation
      do {
        separation = try map.separate(theta)
      } catch {
        fail("separate", "threw \(error) \(label)")
        continue
      }
      let y = separation.weights
      guard y.count == theta.count else {
        fail("weights", "\(y.count) weights for \(theta.count) scores")
        continue
      }
      if !y.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 + tolerance }) {
        fail("polytope", "weights outside [0, 1] \(label): \(y)")
      }
      let total = y.reduce(0, +)
      if abs(total - weightSum) > tolerance { fail("polytope", "weights sum to \(total), not \(weightSum) \(label)") }
      for (i, score) in theta.enumerated() where score == -.infinity && y[i] != 0 {
        fail("masking", "masked score \(i) has weight \(y[i])")
      }
      let finite = theta.allSatisfy(\.isFinite)
      let c = 0.75
      if let shifted = try? map.separate(theta.map { $0 + c }) {
        let gap = zip(shifted.weights, y).reduce(0) { max($0, abs($1.0 - $1.1)) }
        if gap > tolerance { fail("shift invariance", "weights moved by \(gap) \(label)") }
        let expected = separation.conjugate + c * weightSum
        if abs(shifted.conjugate - expected) > tolerance * max(1, abs(expected)) {
          fail("shift invariance", "conjugate \(shifted.conjugate), expected \(expected) \(label)")
        }
      } else {
        fail("shift invariance", "separate threw on shifted scores \(label)")
      }
      guard finite else { continue }
      if let omega = try? map.regularizer(y) {
        let inner = zip(theta, y).reduce(0) { $0 + $1.0 * $1.1 }
        let gap = abs(separation.conjugate - (inner - omega))
        if gap > tolerance * max(1, abs(separation.conjugate)) {
          fail("Fenchel-Young", "Ω*(θ) = \(separation.conjugate) but ⟨θ, ŷ⟩ - Ω(ŷ) = \(inner - omega) \(label)")
        }
      } else {
        fail("regularizer", "threw at the map's own weights \(label)")
      }
      let v = generator.gaussians(theta.count)
      guard let plus = try? map.separate(zip(theta, v).map { $0 + step * $1 }),
        let minus = try? map.separate(zip(theta, v).map { $0 - step * $1 })
      else {
        fail("differences", "separate threw near \(theta)")
        continue
      }
      let slope = (plus.conjugate - minus.conjugate) / (2 * step)
      let expectedSlope = zip(y, v).reduce(0) { $0 + $1.0 * $1.1 }
      if abs(slope - expectedSlope) > tolerance {
        fail("gradient", "∂Ω*/∂v = \(slope) by differences, ⟨ŷ, v⟩ = \(expectedSlope) \(label)")
      }
      if let jvp = try? map.jacobianVectorProduct(scores: theta, weights: y, direction: v) {
        let central = zip(plus.weights, minus.weights).map { ($0 - $1) / (2 * step) }
        let gap = zip(jvp, central).reduce(0) { max($0, abs($1.0 - $1.1)) }
        if jvp.count != theta.count || gap > tolerance {
          fail("Jacobian-vector product", "differs from central differences by \(gap) \(label)")
        }
      } else {
        fail("Jacobian-vector product", "threw \(label)")
      }
    }
    return failures
  }
}
