/// 1.5-entmax (Peters et al. 2019): `ŷ(θ) = argmax_{y ∈ Δ} ⟨θ, y⟩ - Ω(y) = (θ/2 - τ)₊²`.
///
/// - Regulariser: the Tsallis 1.5-negentropy `Ω(y) = (Σ yᵢ^1.5 - 1)/0.75` on the simplex (eq. 4
///   of the sparse and structured Hopfield networks paper at α = 1.5).
/// - Margin: `1/(α - 1) = 2`. If one score exceeds every other by at least 2, the weights are
///   exactly one-hot.
/// - Algorithm: the exact sort-based threshold of Peters et al. (2019, Alg. 2): with `z = θ/2`
///   sorted decreasingly, `τₖ = mean₍ₖ₎ - √((1 - k·var₍ₖ₎)/k)` over the top `k`, and the support
///   size is the number of `k` with `τₖ ≤ z₍ₖ₎`. Running means and variances use Welford's
///   update, so nothing cancels. Cost O(N log N) time, O(N) memory.
/// - Jacobian: `J v = g ⊙ v - g ⟨g, v⟩/Σ g` with `g = √y` (Peters et al. 2019, eq. 10), O(N).
///
/// ``Entmax`` at α = 1.5 computes the same map by root finding; the two agree to about 1e-16.
/// Masked scores (`-∞`) get weight 0.
public struct Entmax15: SeparationMap {
  /// 1.5-entmax.
  public init() {}

  /// `1.5-entmax`.
  public var name: String { "1.5-entmax" }

  /// 2.
  public var margin: Double? { 2 }
  /// Scores 2 below the maximum get weight zero.
  public var zeroWeightRule: ZeroWeightRule? { ZeroWeightRule(rank: 1, gap: 2) }

  /// The weights `(θ/2 - τ)₊²` and `Ω*(θ) = ⟨θ, ŷ⟩ - Ω(ŷ)`.
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, or every score is masked.
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    let shifted = try ShiftedScores(scores)
    var mean = 0.0
    var squaredDeviations = 0.0  // Σ (z - mean)² over the top k
    var supportSize = 0
    var threshold = 0.0
    for (rank, i) in shifted.order.enumerated() {
      let z = -shifted.gaps[i] / 2
      let k = Double(rank + 1)
      let delta = z - mean
      mean += delta / k
      squaredDeviations += delta * (z - mean)
      // δₖ = (1 - Σ(z - mean)²)/k, clamped at 0 as in the reference implementation.
      let tau = mean - max((1 - squaredDeviations) / k, 0).squareRoot()
      if tau <= z {
        supportSize = rank + 1
        threshold = tau
      }
    }
    var weights = [Double](repeating: 0, count: scores.count)
    var powers = 0.0  // Σ yᵢ^1.5 = Σ uᵢ³
    for i in shifted.order.prefix(supportSize) {
      let u = max(-shifted.gaps[i] / 2 - threshold, 0)
      weights[i] = u * u
      powers += u * u * u
    }
    let omega = (powers - 1) / 0.75
    return Separation(
      weights: weights, conjugate: shifted.largest + innerWithGaps(shifted.gaps, weights) - omega)
  }

  /// `(Σ yᵢ^1.5 - 1)/0.75`.
  ///
  /// - Throws: ``DAMError`` naming `weights` unless they lie on the simplex.
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    try checkPolytopeWeights(weights, total: 1)
    var sum = 0.0
    for y in weights { sum += y * y.squareRoot() }
    return (sum - 1) / 0.75
  }

  /// `g ⊙ v - g ⟨g, v⟩/Σ g` with `g = √y` on the support.
  ///
  /// - Throws: ``DAMError`` if the lengths differ or the direction is not finite.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    try checkJVPArguments(scores: scores, weights: weights, direction: direction)
    return tsallisJVP(weights: weights, alpha: 1.5, direction: direction)
  }
}

extension SeparationMap where Self == Entmax15 {
  /// 1.5-entmax.
  public static var entmax15: Entmax15 { Entmax15() }
}
