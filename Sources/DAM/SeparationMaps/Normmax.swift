/// α-normmax for α > 1 (Blondel et al. 2020, §4.3; the sparse and structured Hopfield networks
/// paper, eq. 5 and App. B): `ŷ(θ) = argmax_{y ∈ Δ} ⟨θ, y⟩ - ‖y‖_α`.
///
/// - Regulariser: the norm α-negentropy `Ω(y) = ‖y‖_α - 1` on the simplex (the paper's eq. 5,
///   `-1 + ‖y‖_α`: zero at one-hot vectors, like every generalised negentropy).
/// - Margin: 1, for every α > 1 (Blondel et al. 2020, Prop. 7): a gap of 1 between the top score
///   and the next gives an exactly one-hot output.
/// - Algorithm: the paper's App. B. The solution is `yᵢ ∝ (θᵢ - μ)₊^{1/(α-1)}` with `μ` the root of
///   `Σᵢ (θᵢ - μ)₊^{α/(α-1)} = 1` in `[max θ - 1, max θ - N^{1-α}]` (eqs. 18-20). Instead of plain
///   bisection on `μ` (Alg. 1), the root is found to machine precision by a safeguarded
///   Newton/bisection on `w = μ - max θ + 1 ∈ [0, 1 - N^{1-α}]`, with every power taken as
///   `exp(q · log1p(-(w + dᵢ)))` (`dᵢ = max θ - θᵢ`) and the sum in log-sum-exp form: the
///   exponents `1/(α-1)` and `α/(α-1)` are about 1e6 at α = 1 + 1e-6 and the top term is then
///   `(1 - w)^{1e6}` with `w ≈ 1e-6`, which this keeps to full relative precision. Cost
///   O(N log N) for the sort plus O(N) per evaluation, usually under 10 evaluations.
/// - Conjugate: `Ω*(θ) = ⟨θ, ŷ⟩ - ‖ŷ‖_α + 1` (which equals `μ + 1`).
/// - Jacobian: with `uᵢ = θᵢ - μ` on the support and `p = 1/(α-1)`, differentiating eq. 18-19 gives
///   `dμ = ⟨y, dθ⟩` and `J v = b ⊙ (v - ⟨y, v⟩) - y ⟨b, v - ⟨y, v⟩⟩` with `bᵢ = p yᵢ / uᵢ`. The
///   `uᵢ` are recovered from the weights as `uᵢ = (yᵢ/‖y‖_α)^{α-1}` (eq. 16), which keeps their
///   relative precision near the edge of the support. O(N).
///
/// As α → 1 normmax tends to argmax (the regulariser vanishes); as α → ∞ it tends to a uniform
/// distribution on a sparse support. Masked scores (`-∞`) get weight 0.
public struct Normmax: SeparationMap {
  /// The order α > 1 of the norm.
  public let alpha: Double

  /// α-normmax.
  ///
  /// - Throws: ``DAMError`` naming `alpha` unless it is a finite number > 1.
  public init(alpha: Double) throws(DAMError) {
    guard alpha.isFinite, alpha > 1 else {
      throw DAMError.invalid("alpha", "must be a finite number > 1, got \(alpha)")
    }
    self.alpha = alpha
  }

  /// `α-normmax`, as in `2-normmax`.
  public var name: String { "\(formatParameter(alpha))-normmax" }

  /// 1, independently of α.
  public var margin: Double? { 1 }
  /// Scores 1 below the maximum get weight zero.
  public var zeroWeightRule: ZeroWeightRule? { ZeroWeightRule(rank: 1, gap: 1) }

  /// The weights and `Ω*(θ) = ⟨θ, ŷ⟩ - ‖ŷ‖_α + 1`.
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, or every score is masked.
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    let shifted = try ShiftedScores(scores)
    let p = 1 / (alpha - 1)
    let q = alpha / (alpha - 1)
    let gaps = shifted.order.map { shifted.gaps[$0] }  // increasing; gaps[0] = 0
    // φ(w) = log Σ (1 - w - dᵢ)₊^q, decreasing from φ(0) ≥ 0; φ'(w) = -q Σ πᵢ/uᵢ with πᵢ the
    // normalised terms. The top term has the largest log, so it is the log-sum-exp shift.
    func evaluate(_ w: Double) -> (value: Double, slope: Double) {
      let top = q * _log1p(-w)
      var sum = 0.0
      var weighted = 0.0
      for d in gaps {
        let s = w + d
        if s >= 1 { break }
        let term = _exp(q * _log1p(-s) - top)
        sum += term
        weighted += term / (1 - s)
      }
      return (top + _log(sum), -q * weighted / sum)
    }
    let upper = -_expm1((1 - alpha) * _log(Double(gaps.count)))
    let w = decreasingRoot(lo: 0, hi: upper, evaluate)
    var weights = [Double](repeating: 0, count: scores.count)
    var logs: [(index: Int, log: Double)] = []
    for i in shifted.order {
      let s = w + shifted.gaps[i]
      if s >= 1 { break }
      logs.append((i, p * _log1p(-s)))
    }
    let largest = logs.map(\.log).max() ?? 0
    var total = 0.0
    for (i, l) in logs {
      weights[i] = _exp(l - largest)
      total += weights[i]
    }
    for (i, _) in logs { weights[i] /= total }
    let conjugate = shifted.largest + innerWithGaps(shifted.gaps, weights) - (alphaNorm(weights) - 1)
    return Separation(weights: weights, conjugate: conjugate)
  }

  /// `‖y‖_α - 1`.
  ///
  /// - Throws: ``DAMError`` naming `weights` unless they lie on the simplex.
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    try checkPolytopeWeights(weights, total: 1)
    return alphaNorm(weights) - 1
  }

  /// `b ⊙ (v - ⟨y, v⟩) - y ⟨b, v - ⟨y, v⟩⟩` with `bᵢ = yᵢ / ((α-1) uᵢ)` on the support.
  ///
  /// - Throws: ``DAMError`` if the lengths differ or the direction is not finite.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    try checkJVPArguments(scores: scores, weights: weights, direction: direction)
    let norm = alphaNorm(weights)
    var mean = 0.0
    for (y, v) in zip(weights, direction) { mean += y * v }
    var b = [Double](repeating: 0, count: weights.count)
    var inner = 0.0
    for (i, y) in weights.enumerated() where y > 0 {
      let u = _exp((alpha - 1) * _log(y / norm))
      b[i] = y / ((alpha - 1) * u)
      inner += b[i] * (direction[i] - mean)
    }
    return weights.indices.map { b[$0] * (direction[$0] - mean) - weights[$0] * inner }
  }

  /// `‖y‖_α`, scaled by the largest entry so that `y^α` cannot underflow at α = 1000.
  private func alphaNorm(_ weights: [Double]) -> Double {
    let largest = weights.max() ?? 0
    guard largest > 0 else { return 0 }
    var sum = 0.0
    for y in weights where y > 0 { sum += _pow(y / largest, alpha) }
    return largest * _pow(sum, 1 / alpha)
  }
}

extension SeparationMap where Self == Normmax {
  /// α-normmax, α > 1.
  ///
  /// - Throws: ``DAMError`` naming `alpha` unless it is a finite number > 1.
  public static func normmax(alpha: Double) throws(DAMError) -> Normmax { try Normmax(alpha: alpha) }
}
