/// SparseMAP over k-subsets (Example 1 of the sparse and structured Hopfield networks paper): the
/// Euclidean projection of the scores onto the capped simplex
/// `{y : 0 ≤ yᵢ ≤ 1, Σ yᵢ = k}`, the marginal polytope of the k-subsets of the N patterns.
/// `ŷ(θ) = argmax ⟨θ, y⟩ - ½‖y‖² = clip(θ - τ, 0, 1)` with `τ` making the weights sum to `k`.
///
/// - Regulariser: `Ω(y) = ½‖y‖²` on the capped simplex (SparseMAP's, eq. 12 of the paper). At
///   `k = 1` the weights are ``Sparsemax``'s, and the conjugate is sparsemax's plus ½ (sparsemax
///   uses the Tsallis constant `(‖y‖² - 1)/2`).
/// - Margin: the structured margin 1 (Prop. 4 of the paper): if the k-th largest score exceeds
///   the (k+1)-th by at least 1 (equivalently `⟨θ, y⟩ ≥ ⟨θ, y'⟩ + ½‖y - y'‖²` for every other
///   k-subset `y'`), the weights are exactly k-hot.
/// - Algorithm: exact. `h(τ) = Σ clip(θᵢ - τ, 0, 1)` is piecewise linear with breakpoints `θᵢ` and
///   `θᵢ - 1`; a binary search over the sorted breakpoints (each probe evaluating `h` term by
///   term) finds the piece where `h = k`, then `τ` is solved on that piece relative to its largest
///   free score, so that free weights keep full precision even when the capped scores are 1e6
///   larger. Cost O(N log N) time, O(N) memory.
/// - Jacobian: `J v = v_F - mean_F(v)` on the free set `F = {i : 0 < yᵢ < 1}`, zero elsewhere.
///
/// **Retrieval divides by k.** The weights sum to `k`, so with the dot-product divergence
/// `D = ½‖ξ‖² - ⟨ξ, X⟩` the engine's energy is `-Ω*(βXξ)/β + (k/2)‖ξ‖²`
/// (`Ω*(θ + c1) = Ω*(θ) + kc`) and the fixed-point update of ``EuclideanGeometry``
/// (`Σ wᵢ Xᵢ / Σ wᵢ`, the CCCP step of that energy, which never increases it) returns the *mean*
/// `Xᵀŷ/k` of the retrieved patterns. The paper's eq. 8 uses `½‖q‖²` and retrieves the sum
/// `Xᵀŷ`. The two dynamics are the same up to scale: with `q = kξ`, the engine at β is the
/// paper's update at `β/k`.
///
/// Masked scores (`-∞`) get weight 0; at least `k` scores must be unmasked.
public struct KSubsets: SeparationMap {
  /// The subset size `k ≥ 1`.
  public let k: Int

  /// SparseMAP over k-subsets.
  ///
  /// - Throws: ``DAMError`` naming `k` unless it is at least 1.
  public init(k: Int) throws(DAMError) {
    guard k >= 1 else { throw DAMError.invalid("k", "must be at least 1, got \(k)") }
    self.k = k
  }

  /// `k-subsets`, as in `3-subsets`.
  public var name: String { "\(k)-subsets" }

  /// The structured margin 1.
  public var margin: Double? { 1 }
  /// Scores 1 below the k-th largest get weight zero.
  public var zeroWeightRule: ZeroWeightRule? { ZeroWeightRule(rank: k, gap: 1) }

  /// The projection `clip(θ - τ, 0, 1)` and `Ω*(θ) = ⟨θ, ŷ⟩ - ½‖ŷ‖²`.
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, if every score is masked, if `Ω*`
  ///   overflows (scores near the largest double), or (naming `k`) if fewer than `k` scores are
  ///   unmasked.
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    let shifted = try ShiftedScores(scores, sorted: false)
    let weights = try cappedSimplexProjection(shifted, k: k)
    var squares = 0.0
    for y in weights { squares += y * y }
    let conjugate = Double(k) * shifted.largest + innerWithGaps(shifted.gaps, weights) - squares / 2
    // Ω* is about k times the largest score: finite scores near the largest double overflow it.
    guard conjugate.isFinite else {
      throw DAMError(
        .numericalFailure, argument: "scores",
        "the conjugate Omega* (about k = \(k) times the largest score, \(shifted.largest)) overflows to \(conjugate); scale the scores down"
      )
    }
    return Separation(weights: weights, conjugate: conjugate)
  }

  /// `½‖y‖²`.
  ///
  /// - Throws: ``DAMError`` naming `weights` unless they lie in the capped simplex (in `[0, 1]`,
  ///   summing to `k`).
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    try checkPolytopeWeights(weights, total: Double(k))
    var squares = 0.0
    for y in weights { squares += y * y }
    return squares / 2
  }

  /// `v_F - mean_F(v)` on the free set `F = {i : 0 < yᵢ < 1}`, zero elsewhere.
  ///
  /// - Throws: ``DAMError`` if the lengths differ or the direction is not finite.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    try checkJVPArguments(scores: scores, weights: weights, direction: direction)
    var sum = 0.0
    var count = 0
    for (y, v) in zip(weights, direction) where y > 0 && y < 1 {
      sum += v
      count += 1
    }
    guard count > 0 else { return [Double](repeating: 0, count: weights.count) }
    let mean = sum / Double(count)
    return zip(weights, direction).map { $0 > 0 && $0 < 1 ? $1 - mean : 0 }
  }
}

extension SeparationMap where Self == KSubsets {
  /// SparseMAP over k-subsets.
  ///
  /// - Throws: ``DAMError`` naming `k` unless it is at least 1.
  public static func kSubsets(_ k: Int) throws(DAMError) -> KSubsets { try KSubsets(k: k) }
}

/// The Euclidean projection of `θ = largest - gaps` onto `{0 ≤ y ≤ 1, Σ y = k}` (masked entries,
/// with infinite gaps, stay 0). See ``KSubsets``.
func cappedSimplexProjection(_ shifted: ShiftedScores, k: Int) throws(DAMError) -> [Double] {
  let n = shifted.gaps.count
  let unmasked = shifted.gaps.indices.filter { shifted.gaps[$0].isFinite }
  guard k <= unmasked.count else {
    throw DAMError.invalid(
      "k", "is \(k), but only \(unmasked.count) of the \(n) scores are unmasked; k-subsets need k <= that")
  }
  var weights = [Double](repeating: 0, count: n)
  if k == unmasked.count {
    for i in unmasked { weights[i] = 1 }
    return weights
  }
  // Shifted scores zᵢ = -gapᵢ ≤ 0. h(τ) = Σ clip(zᵢ - τ, 0, 1) is continuous, non-increasing and
  // linear between the breakpoints zᵢ and zᵢ - 1; h(max z) = 0 < k and h(min z - 1) = #unmasked > k.
  let z = unmasked.map { -shifted.gaps[$0] }
  var breakpoints = z + z.map { $0 - 1 }
  breakpoints.sort(by: >)
  func h(_ tau: Double) -> Double {
    var sum = 0.0
    for value in z { sum += min(max(value - tau, 0), 1) }
    return sum
  }
  // Binary search for the first breakpoint (in decreasing order) with h ≥ k; h is evaluated term
  // by term, so each probe is accurate to a few ulps whatever the magnitude of the scores.
  // h(breakpoints[0]) = 0 < k and h(breakpoints.last) = #unmasked > k.
  let lower = firstPosition(from: 1, to: breakpoints.count - 1) { h(breakpoints[$0]) >= Double(k) }
  // τ lies in [breakpoints[lower], breakpoints[lower - 1]]; classify every entry in the open
  // piece's midpoint, then solve capped + Σ_free (zᵢ - τ) = k relative to the largest free score
  // so that free weights keep full precision.
  let middle = 0.5 * (breakpoints[lower] + breakpoints[lower - 1])
  var capped = 0
  var free: [Int] = []  // positions in `unmasked`
  for (position, value) in z.enumerated() {
    if middle <= value - 1 {
      capped += 1
      weights[unmasked[position]] = 1
    } else if middle < value {
      free.append(position)
    }
  }
  guard !free.isEmpty else { return weights }
  var reference = -Double.infinity
  for position in free { reference = max(reference, z[position]) }
  var relative = 0.0
  for position in free { relative += z[position] - reference }
  let offset = (Double(capped) + relative - Double(k)) / Double(free.count)  // τ - reference
  for position in free {
    weights[unmasked[position]] = min(max((z[position] - reference) - offset, 0), 1)
  }
  return weights
}
