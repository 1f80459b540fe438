/// α-entmax for any α ≥ 1 (Peters et al. 2019): `ŷ(θ) = argmax_{y ∈ Δ} ⟨θ, y⟩ - Ω_α(y)`, whose
/// solution is `yᵢ = ((α-1)θᵢ - τ)₊^{1/(α-1)}` with the threshold `τ` making the weights sum to 1.
///
/// - Regulariser: the Tsallis α-negentropy `Ω_α(y) = (Σ yᵢ^α - 1)/(α(α-1))` on the simplex (eq. 4
///   of the sparse and structured Hopfield networks paper). At α = 1 it is the Shannon negentropy
///   and the map is ``Softmax``: `Entmax(alpha: 1)` *is* softmax (weights, log-sum-exp conjugate,
///   Jacobian and no margin), not a limit computed by root finding.
/// - Margin: `1/(α - 1)` for α > 1 (Blondel et al. 2020, Prop. 7): a gap of that size between the
///   top score and the next gives an exactly one-hot output. None at α = 1.
/// - Algorithm: the threshold is found by a safeguarded Newton/bisection root finder
///   (`decreasingRoot`, internal) to machine precision, on parametrisations that stay well conditioned
///   from α = 1 + 1e-6 to α = 1000. With `dᵢ = max θ - θᵢ` and `t = α - 1`:
///   for α ≤ 2, `yᵢ(λ) = exp(log1p(-t(dᵢ + λ))/t)` (zero once `t(dᵢ + λ) ≥ 1`) with `Σ yᵢ(λ) = 1`
///   for one `λ ∈ [0, (1 - N^{-t})/t]`; as t → 0 this is `exp(-dᵢ - λ)`, softmax, so α close to 1
///   gives weights close to softmax rather than a rounding-dominated answer. For α > 2 the
///   quantities `yᵢ^t` underflow (a weight of 0.4 at α = 1000 has `yᵢ^t ≈ 1e-398`), so the support
///   is found first (binary search on the sorted scores) and the threshold is written relative to
///   its last entry, in the log domain. The weights are finally normalised. Cost O(N log N) plus
///   O(N) per evaluation, usually under 10 evaluations (at most about 60 halvings).
/// - Jacobian: `J v = g ⊙ (v - ⟨g, v⟩/Σ g)` with `g = y^{2-α}` on the support (Peters et al. 2019,
///   eq. 10). For α > 2, `g` can overflow (weights near the edge of the support) while `J v`
///   stays finite, so it is formed as `(J v)ᵢ = Σⱼ exp(Lᵢ + Lⱼ - logΣexp L)(vᵢ - vⱼ)`, `L = log g`,
///   in O(s²) for a support of size s; O(N) otherwise.
///
/// ``Sparsemax`` (α = 2) and ``Entmax15`` (α = 1.5) compute the same maps with exact sort-based
/// algorithms; this type uses root finding at every α > 1, so the two can check each other.
/// Masked scores (`-∞`) get weight 0.
public struct Entmax: SeparationMap {
  /// The entropic index α ≥ 1.
  public let alpha: Double

  /// α-entmax.
  ///
  /// - Throws: ``DAMError`` naming `alpha` unless it is a finite number ≥ 1.
  public init(alpha: Double) throws(DAMError) {
    guard alpha.isFinite, alpha >= 1 else {
      throw DAMError.invalid("alpha", "must be a finite number >= 1 (1 is softmax), got \(alpha)")
    }
    self.alpha = alpha
  }

  /// `softmax` at α = 1, otherwise `α-entmax` (as in `1.5-entmax`).
  public var name: String { alpha == 1 ? "softmax" : "\(formatParameter(alpha))-entmax" }

  /// `1/(α - 1)`; `nil` at α = 1 (softmax has no margin).
  public var margin: Double? { alpha == 1 ? nil : 1 / (alpha - 1) }
  /// Scores `1/(α - 1)` below the maximum get weight zero (`nil` at α = 1).
  public var zeroWeightRule: ZeroWeightRule? {
    alpha == 1 ? nil : ZeroWeightRule(rank: 1, gap: 1 / (alpha - 1))
  }

  /// The weights and `Ω*(θ) = ⟨θ, ŷ⟩ - Ω_α(ŷ)` (log-sum-exp at α = 1).
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, or every score is masked.
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    if alpha == 1 { return try Softmax().separate(scores) }
    let shifted = try ShiftedScores(scores)
    let gaps = shifted.order.map { shifted.gaps[$0] }  // increasing, gaps[0] = 0
    let sorted = alpha <= 2 ? weightsAroundTheTop(gaps) : weightsAroundTheLast(gaps)
    var weights = [Double](repeating: 0, count: scores.count)
    var total = 0.0
    for y in sorted { total += y }
    for (i, y) in zip(shifted.order, sorted) { weights[i] = y / total }
    let conjugate =
      shifted.largest + innerWithGaps(shifted.gaps, weights) - tsallisNegentropy(weights, alpha: alpha)
    return Separation(weights: weights, conjugate: conjugate)
  }

  /// α ≤ 2: `yᵢ = exp(log1p(-t(dᵢ + λ))/t)` with the root `λ ∈ [0, (1 - N^{-t})/t]` of `Σ y = 1`.
  /// `1 - t(dᵢ + λ)` is carried as a log1p, so its log has full relative precision and the
  /// exponent `1/t` (up to 1e6 at α = 1 + 1e-6) costs nothing; each weight is accurate to about
  /// one ulp. The sum is convex in λ, so Newton from λ = 0 converges monotonically.
  private func weightsAroundTheTop(_ gaps: [Double]) -> [Double] {
    let t = alpha - 1
    func evaluate(_ lambda: Double) -> (value: Double, slope: Double) {
      var sum = 0.0
      var slope = 0.0
      for d in gaps {
        let s = t * (d + lambda)
        if s >= 1 { break }
        let y = _exp(_log1p(-s) / t)
        sum += y
        slope -= y / (1 - s)  // dy/dλ = -y^{1-t}
      }
      return (sum - 1, slope)
    }
    let upper = -_expm1(-t * _log(Double(gaps.count))) / t
    let lambda = decreasingRoot(lo: 0, hi: upper, evaluate)
    return gaps.map { d in
      let s = t * (d + lambda)
      return s >= 1 ? 0 : _exp(_log1p(-s) / t)
    }
  }

  /// α > 2: `yᵢ^t = x - t dᵢ` can be far below the smallest double for weights that are not
  /// small at all (at α = 1000 a weight of 0.4 has `yᵢ^t ≈ 1e-398`), so the threshold cannot be
  /// carried as a number near 1. Instead: the support is the longest prefix `1…m` of the sorted
  /// scores with `Sₘ = Σ_{i<m} (t(dₘ - dᵢ))^{1/t} ≤ 1` (Sₘ increases with m; binary search), and
  /// the threshold is written `x = t dₘ + δ` with the unknown `ℓ = log δ`, so that
  /// `log yᵢ = logaddexp(log(t(dₘ - dᵢ)), ℓ)/t` has no cancellation and no underflow: each weight
  /// has a relative error of a few ulps times `|log yᵢ|`.
  private func weightsAroundTheLast(_ gaps: [Double]) -> [Double] {
    let t = alpha - 1
    let count = gaps.count
    // log(t (d_m - d_i)), -∞ for ties with m.
    func logDifferences(_ m: Int) -> [Double] {
      (0...m).map { i in gaps[m] > gaps[i] ? _log(t * (gaps[m] - gaps[i])) : -.infinity }
    }
    func partialSum(_ m: Int) -> Double {
      var sum = 0.0
      for l in logDifferences(m) where l > -.infinity { sum += _exp(l / t) }
      return sum
    }
    // Largest m (0-based index of the last support entry) with S_m ≤ 1; S_0 = 0.
    var low = 0
    var high = count - 1
    while low < high {
      let middle = (low + high + 1) / 2
      if partialSum(middle) <= 1 { low = middle } else { high = middle - 1 }
    }
    let m = low
    let logA = logDifferences(m)
    // F(ℓ) = Σ yᵢ(ℓ) - 1 increases from S_m - 1 ≤ 0 (ℓ → -∞) to ≥ 0 at the next breakpoint
    // (or where the top weight reaches 1).
    func logWeight(_ logAi: Double, _ ell: Double) -> Double {
      let top = max(logAi, ell)
      let bottom = min(logAi, ell)
      let sum = bottom == -.infinity ? top : top + _log1p(_exp(bottom - top))
      return sum / t
    }
    func evaluate(_ ell: Double) -> (value: Double, slope: Double) {
      var sum = 0.0
      var slope = 0.0
      for l in logA {
        let logY = logWeight(l, ell)
        let y = _exp(logY)
        sum += y
        // d log yᵢ / dℓ = δ/(Aᵢ + δ)/t = exp(ℓ - t log yᵢ)/t.
        slope += y * _exp(ell - t * logY) / t
      }
      return (1 - sum, -slope)  // decreasing form for the root finder
    }
    let nextBreakpoint = m + 1 < count ? t * (gaps[m + 1] - gaps[m]) : Double.infinity
    let upperDelta = min(nextBreakpoint, 1 - t * gaps[m])
    guard upperDelta > 0 else {
      return logA.map { $0 == -.infinity ? 0 : _exp($0 / t) } + [Double](repeating: 0, count: count - m - 1)
    }
    let upper = _log(upperDelta)
    var lower = upper - 1
    var doublings = 0
    while evaluate(lower).value < 0 && doublings < 64 {
      lower = upper - 2 * (upper - lower)
      doublings += 1
    }
    let ell = decreasingRoot(lo: lower, hi: upper, evaluate)
    return logA.map { _exp(logWeight($0, ell)) } + [Double](repeating: 0, count: count - m - 1)
  }

  /// `(Σ yᵢ^α - 1)/(α(α-1))`, computed as `Σ yᵢ expm1((α-1) log yᵢ)/(α(α-1))` (equal on the simplex,
  /// accurate as α → 1); `Σ yᵢ log yᵢ` at α = 1.
  ///
  /// - Throws: ``DAMError`` naming `weights` unless they lie on the simplex.
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    if alpha == 1 { return try Softmax().regularizer(weights) }
    try checkPolytopeWeights(weights, total: 1)
    return tsallisNegentropy(weights, alpha: alpha)
  }

  /// `g ⊙ v - g ⟨g, v⟩/Σ g` with `g = y^{2-α}` on the support; softmax's `(diag(y) - y yᵀ) v` at α = 1.
  ///
  /// - Throws: ``DAMError`` if the lengths differ or the direction is not finite.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    try checkJVPArguments(scores: scores, weights: weights, direction: direction)
    if alpha == 1 {
      return try Softmax().jacobianVectorProduct(scores: scores, weights: weights, direction: direction)
    }
    return tsallisJVP(weights: weights, alpha: alpha, direction: direction)
  }
}

extension SeparationMap where Self == Entmax {
  /// α-entmax, α ≥ 1.
  ///
  /// - Throws: ``DAMError`` naming `alpha` unless it is a finite number ≥ 1.
  public static func entmax(alpha: Double) throws(DAMError) -> Entmax { try Entmax(alpha: alpha) }
}
