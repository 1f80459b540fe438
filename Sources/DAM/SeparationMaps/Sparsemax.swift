/// Sparsemax (Martins & Astudillo 2016): the Euclidean projection of the scores onto the
/// probability simplex, `ŷ(θ) = argmax_{y ∈ Δ} ⟨θ, y⟩ - ½‖y‖²  = (θ - τ)₊`.
///
/// - Regulariser: the Tsallis 2-negentropy `Ω(y) = (‖y‖² - 1)/2` on the simplex (eq. 4 of the
///   sparse and structured Hopfield networks paper at α = 2; zero at one-hot vectors), so
///   sparsemax is exactly ``Entmax`` at α = 2, conjugate included. (The paper writes `½‖y‖²`;
///   the constant changes the energy by `1/(2β)` and nothing else.)
/// - Margin: 1. If one score exceeds every other by at least 1, the weights are exactly one-hot,
///   with the 1 computed as `0 - (-1)`: bit-exact.
/// - Algorithm: the exact sort-based threshold (Held et al. 1974; Martins & Astudillo 2016,
///   Alg. 1) on the scores shifted by their maximum. Cost O(N log N) time, O(N) memory.
/// - Jacobian: `J v = v_S - mean_S(v)` on the support `S` (zero elsewhere), O(N).
///
/// Masked scores (`-∞`) get weight 0.
public struct Sparsemax: SeparationMap {
  /// Sparsemax.
  public init() {}

  /// `sparsemax`.
  public var name: String { "sparsemax" }

  /// 1: a gap of 1 between the top score and the next gives a one-hot output.
  public var margin: Double? { 1 }
  /// Scores 1 below the maximum get weight zero.
  public var zeroWeightRule: ZeroWeightRule? { ZeroWeightRule(rank: 1, gap: 1) }

  /// The projection `(θ - τ)₊` and `Ω*(θ) = ⟨θ, ŷ⟩ - (‖ŷ‖² - 1)/2`.
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, or every score is masked.
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    let shifted = try ShiftedScores(scores)
    // With zᵢ = -gapᵢ ≤ 0 sorted decreasingly, the support is the largest k with
    // 1 + k z₍ₖ₎ > Σ_{j ≤ k} z₍ⱼ₎ (the condition holds exactly for k up to the support size).
    var cumulative = 0.0
    var supportSum = 0.0
    var supportSize = 0
    for (rank, i) in shifted.order.enumerated() {
      let z = -shifted.gaps[i]
      cumulative += z
      if 1 + Double(rank + 1) * z > cumulative {
        supportSize = rank + 1
        supportSum = cumulative
      } else {
        break
      }
    }
    let tau = (supportSum - 1) / Double(supportSize)
    var weights = [Double](repeating: 0, count: scores.count)
    var squares = 0.0
    for i in shifted.order.prefix(supportSize) {
      let y = max(-shifted.gaps[i] - tau, 0)
      weights[i] = y
      squares += y * y
    }
    let conjugate = shifted.largest + innerWithGaps(shifted.gaps, weights) - (squares - 1) / 2
    return Separation(weights: weights, conjugate: conjugate)
  }

  /// `(‖y‖² - 1)/2`.
  ///
  /// - Throws: ``DAMError`` naming `weights` unless they lie on the simplex (non-negative, summing
  ///   to 1 within ``probabilitySumTolerance``).
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    try checkPolytopeWeights(weights, total: 1)
    var squares = 0.0
    for y in weights { squares += y * y }
    return (squares - 1) / 2
  }

  /// `v_S - mean_S(v)` on the support `S = {i : yᵢ > 0}`, zero elsewhere.
  ///
  /// - Throws: ``DAMError`` if the lengths differ or the direction is not finite.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    try checkJVPArguments(scores: scores, weights: weights, direction: direction)
    return tsallisJVP(weights: weights, alpha: 2, direction: direction)
  }
}

extension SeparationMap where Self == Sparsemax {
  /// Sparsemax.
  public static var sparsemax: Sparsemax { Sparsemax() }
}
