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
  /// - the ``SeparationMap/zeroWeightRule`` (if any) holds: every score at most `gap` below the
  ///   `rank`-th largest has weight exactly 0, at the given scores and with each score outside
  ///   the `rank` largest lowered to just below that threshold (pruned retrieval drops the
  ///   patterns the rule certifies, so a rule that is wrong changes retrievals);
  /// - shift invariance: `ŷ(θ + c) = ŷ(θ)` and `Ω*(θ + c) = Ω*(θ) + c · weightSum`;
  /// - the Fenchel-Young equality `Ω*(θ) = ⟨θ, ŷ⟩ - Ω(ŷ)`;
  /// - `ŷ = ∇Ω*`: a central difference of `Ω*` along a direction equals `⟨ŷ, v⟩`;
  /// - the Jacobian-vector product matches central differences of `ŷ`;
  /// - the vector-Jacobian product is its adjoint: `⟨u, J v⟩ = ⟨Jᵀ u, v⟩` for random `u` and `v`, to
  ///   `1e-12` relative to `‖u‖ ‖J v‖ + ‖Jᵀ u‖ ‖v‖`;
  /// - `Ω*` is convex and `ŷ` is its gradient around each score vector, not only at it:
  ///   ``checkConjugate(_:scores:lines:step:tolerance:seed:)`` with its default lines and step.
  ///
  /// The pointwise finite differences use `step` and are compared with `tolerance` (absolute, on
  /// O(1) scores); maps with kinks (sparse maps) can fail them exactly at a kink, so use generic
  /// scores.
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
      if abs(total - weightSum) > tolerance {
        fail("polytope", "weights sum to \(total), not \(weightSum) \(label)")
      }
      for (i, score) in theta.enumerated() where score == -.infinity && y[i] != 0 {
        fail("masking", "masked score \(i) has weight \(y[i])")
      }
      if let rule = map.zeroWeightRule {
        checkZeroWeightRule(rule, map: map, scores: theta, weights: y, label: label, fail: fail)
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
          fail(
            "Fenchel-Young", "Ω*(θ) = \(separation.conjugate) but ⟨θ, ŷ⟩ - Ω(ŷ) = \(inner - omega) \(label)")
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
        func gap(_ plus: [Double], _ minus: [Double], _ h: Double) -> Double {
          zip(jvp, zip(plus, minus)).reduce(0) { max($0, abs($1.0 - ($1.1.0 - $1.1.1) / (2 * h))) }
        }
        var worst = gap(plus.weights, minus.weights, step)
        // A sparse map is piecewise smooth: when a kink lies within the step, the differences
        // straddle two pieces. Judge by a step 32 times smaller before reporting, as the
        // conjugate's gradient check does.
        let fine = step / 32
        if worst > tolerance, let p = try? map.separate(zip(theta, v).map { $0 + fine * $1 }),
          let m = try? map.separate(zip(theta, v).map { $0 - fine * $1 })
        {
          worst = min(worst, gap(p.weights, m.weights, fine))
        }
        let gap = worst
        if jvp.count != theta.count || gap > tolerance {
          fail("Jacobian-vector product", "differs from central differences by \(gap) \(label)")
        }
      } else {
        fail("Jacobian-vector product", "threw \(label)")
      }
      let u = generator.gaussians(theta.count)
      if let jv = try? map.jacobianVectorProduct(scores: theta, weights: y, direction: v),
        let ju = try? map.vectorJacobianProduct(scores: theta, weights: y, cotangent: u),
        ju.count == theta.count
      {
        func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let left = zip(u, jv).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(ju, v).reduce(0) { $0 + $1.0 * $1.1 }
        let scale = norm(u) * norm(jv) + norm(ju) * norm(v)
        if abs(left - right) > 1e-12 * max(scale, .leastNormalMagnitude) {
          fail("vector-Jacobian product", "⟨u, J v⟩ = \(left) but ⟨Jᵀ u, v⟩ = \(right) \(label)")
        }
      } else {
        fail("vector-Jacobian product", "threw or has the wrong length \(label)")
      }
    }
    return failures + checkConjugate(map, scores: scores, tolerance: tolerance, seed: seed)
  }

  /// The zero-weight rule at `scores`, whose weights are `weights`, and at the scores with each
  /// one outside the `rank` largest lowered to just below the rule's threshold (the largest `rank`
  /// stay where they are, so the threshold does not move). Just below, by 1e-9 of the scores'
  /// size: exactly at the threshold, round-off leaves weights like 1e-32 (1.5-entmax squares a
  /// difference of one ulp), which pruning drops harmlessly.
  static func checkZeroWeightRule(
    _ rule: ZeroWeightRule, map: some SeparationMap, scores theta: [Double], weights y: [Double],
    label: String,
    fail: (String, String) -> Void
  ) {
    guard rule.rank >= 1, rule.gap > 0, rule.gap.isFinite else {
      fail("zero-weight rule", "rank \(rule.rank) and gap \(rule.gap): needs rank >= 1 and a finite gap > 0")
      return
    }
    let order = theta.indices.filter { theta[$0].isFinite }.sorted { theta[$0] > theta[$1] }
    guard rule.rank < order.count else { return }
    let threshold = theta[order[rule.rank - 1]] - rule.gap
    for i in order where theta[i] <= threshold && y[i] != 0 {
      fail(
        "zero-weight rule",
        "score \(i) is at least \(rule.gap) below the score of rank \(rule.rank) but has weight \(y[i]) \(label)"
      )
    }
    for j in order[rule.rank...] where theta[j] > threshold {
      var lowered = theta
      lowered[j] = threshold - 1e-9 * (rule.gap + abs(threshold))
      guard let weights = try? map.separate(lowered).weights, weights.count == theta.count else {
        fail("separate", "threw with score \(j) lowered to \(lowered[j]) \(label)")
        continue
      }
      if weights[j] != 0 {
        fail(
          "zero-weight rule",
          "score \(j) lowered to \(lowered[j]), more than \(rule.gap) below the score of rank \(rule.rank), has weight \(weights[j]) \(label)"
        )
      }
    }
  }

  /// Checks that the weights are the gradient of a *convex* conjugate `Ω*`, which the pointwise
  /// properties of ``check(_:scores:weightSum:step:tolerance:seed:)`` cannot establish: softmax of
  /// `-θ` with `Ω*(θ) = -log Σ exp(-θ)` (the gradient of a concave function, a sign error away
  /// from softmax) lies on the simplex, is shift invariant, satisfies Fenchel-Young with the
  /// Shannon entropy as `Ω` and matches its own differences, yet it weighs the farthest patterns
  /// most, and the energy is no longer concave in the divergences, which is what makes the
  /// engine's steps descend. Around each score vector `θ`, along `lines` random unit directions
  /// `v` through a point `m` near `θ` (moved by 1% of `σ`, so that ties in `θ` do not put `m` on
  /// a kink), each failure naming its property (at most once per score vector):
  /// - `convexity`: the slope of `Ω*` along the line does not decrease:
  ///   `(Ω*(m - t v) - 2 Ω*(m) + Ω*(m + t v)) / t ≥ -tolerance` for `t = σ/10` and `t = σ`, and the
  ///   same on the segment between consecutive score vectors of the same length and mask;
  /// - `gradient`: `(Ω*(m + h v) - Ω*(m - h v)) / 2h = ⟨ŷ(m), v⟩` within `tolerance`, with
  ///   `h = step × σ` (and `h / 32` before reporting, in case a kink lies within `h` of `m`);
  /// - `monotonicity`: `⟨ŷ(b) - ŷ(a), b - a⟩ ≥ -tolerance ‖b - a‖` for the ends `a`, `b` of each
  ///   segment (the gradient of a convex function is monotone);
  /// - `separate`: the map threw at one of these points.
  ///
  /// `σ` is the spread of the finite scores of `θ` (largest minus smallest; `max(1, |θ|∞)` when
  /// they are all equal), so that steps and segments scale with the scores: a map whose scores
  /// live on the scale `1/(α - 1)` (α-entmax at large α) is checked on that scale. Masked (`-∞`)
  /// scores stay masked. The tolerances are absolute in units of weights (`v` has unit length and
  /// slopes of `Ω*` are weights): round-off in `Ω*` contributes about `ulp(Ω*) / (step σ)`, so
  /// scores shifted far from 0 against their spread need a larger `step`.
  ///
  /// Each line costs 7 to 9 calls of ``SeparationMap/separate(_:)``.
  ///
  /// Sparse maps have kinks (their support changes) but are still gradients of convex functions,
  /// which is all these checks assume; so are maps with jumps such as softmax restricted to the
  /// k largest scores, the gradient of the convex `max over |S| = k of log Σ_S exp(θ)`.
  public static func checkConjugate(
    _ map: some SeparationMap, scores: [[Double]], lines: Int = 4, step: Double = 1e-6,
    tolerance: Double = 1e-6, seed: UInt64 = 0
  ) -> [ConformanceFailure] {
    var failures: [ConformanceFailure] = []
    var generator = SeededGenerator(seed: seed ^ 0x5EED_C0_17EC)
    for (a, theta) in scores.enumerated() {
      let finite = theta.indices.filter { theta[$0].isFinite }
      // Scores the map must reject (NaN, +∞, every score masked) are for `check`.
      guard !finite.isEmpty, theta.allSatisfy({ $0.isFinite || $0 == -.infinity }) else { continue }
      var reported = Set<String>()
      func fail(_ property: String, _ detail: String) {
        guard reported.insert(property).inserted else { return }
        failures.append(ConformanceFailure(property: property, detail: "\(detail) near scores \(a) \(theta)"))
      }
      func separate(_ point: [Double]) -> Separation? {
        do {
          let separation = try map.separate(point)
          guard separation.weights.count == point.count else {
            fail("separate", "\(separation.weights.count) weights for \(point.count) scores at \(point)")
            return nil
          }
          return separation
        } catch {
          fail("separate", "threw \(error) at \(point)")
          return nil
        }
      }
      /// `point + t × direction`, with masked scores left at -∞ (the direction is 0 there).
      func moved(_ point: [Double], _ t: Double, _ direction: [Double]) -> [Double] {
        zip(point, direction).map { $0 == -.infinity ? $0 : $0 + t * $1 }
      }
      func inner(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
      /// A random direction of unit length on the unmasked scores.
      func direction() -> [Double] {
        var v = [Double](repeating: 0, count: theta.count)
        for i in finite { v[i] = generator.nextGaussian() }
        let norm = inner(v, v).squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
      }
      let values = finite.map { theta[$0] }
      let spread = (values.max() ?? 0) - (values.min() ?? 0)
      let sigma = spread > 0 ? spread : max(1, values.map(abs).max() ?? 0)

      for _ in 0..<max(0, lines) {
        let v = direction()
        let m = moved(theta, 0.01 * sigma, direction())
        guard let center = separate(m) else { continue }
        let slope = inner(center.weights, v)
        var h = step * sigma
        var gap = Double.infinity
        for _ in 0..<2 where !(gap <= tolerance) {
          guard let plus = separate(moved(m, h, v)), let minus = separate(moved(m, -h, v)) else { break }
          gap = abs((plus.conjugate - minus.conjugate) / (2 * h) - slope)
          h /= 32
        }
        if !(gap <= tolerance) {
          fail("gradient", "central differences of Ω* differ from ⟨ŷ, v⟩ = \(slope) by \(gap)")
        }
        for t in [0.1 * sigma, sigma] {
          guard let lower = separate(moved(m, -t, v)), let upper = separate(moved(m, t, v)) else { continue }
          let curvature = (lower.conjugate - 2 * center.conjugate + upper.conjugate) / t
          if !(curvature >= -tolerance) {
            fail("convexity", "the slope of Ω* along a line falls by \(-curvature) over a length \(t)")
          }
          let rise = inner(zip(upper.weights, lower.weights).map { $0 - $1 }, v)
          if !(rise >= -tolerance) {
            fail("monotonicity", "⟨ŷ(b) - ŷ(a), b - a⟩ / ‖b - a‖ = \(rise) over a segment of length \(2 * t)")
          }
        }
      }

      // The segment to the next score vector, when both have the same masked scores.
      guard a + 1 < scores.count else { continue }
      let other = scores[a + 1]
      guard other.count == theta.count,
        zip(theta, other).allSatisfy({
          ($0 == -.infinity) == ($1 == -.infinity) && ($1.isFinite || $1 == -.infinity)
        })
      else { continue }
      let difference = zip(other, theta).map { $0 == -.infinity ? 0 : $0 - $1 }
      let length = inner(difference, difference).squareRoot()
      guard length > 0, let start = separate(theta), let end = separate(other),
        let middle = separate(moved(theta, 0.5, difference))
      else { continue }
      let curvature = (start.conjugate - 2 * middle.conjugate + end.conjugate) / (length / 2)
      if !(curvature >= -tolerance) {
        fail(
          "convexity",
          "Ω* at the midpoint of scores \(a) and \(a + 1) exceeds the chord; slope falls by \(-curvature)")
      }
      let rise = inner(zip(end.weights, start.weights).map { $0 - $1 }, difference) / length
      if !(rise >= -tolerance) {
        fail("monotonicity", "⟨ŷ(b) - ŷ(a), b - a⟩ / ‖b - a‖ = \(rise) between scores \(a) and \(a + 1)")
      }
    }
    return failures
  }
}
