// Internal helpers shared by the sparse and structured separation maps.

/// Checks a Jacobian-vector product's arguments: as many scores, weights and directions, and a
/// finite direction.
func checkJVPArguments(scores: [Double], weights: [Double], direction: [Double]) throws(DAMError) {
  guard weights.count == scores.count else {
    throw DAMError.mismatch("weights", "has \(weights.count) values, scores have \(scores.count)")
  }
  guard direction.count == weights.count else {
    throw DAMError.mismatch("direction", "has \(direction.count) values, weights have \(weights.count)")
  }
  try _requireFinite(direction, "direction")
}

/// Checks that `weights` lie in `{0 ≤ y ≤ cap, Σ y = total}` up to round-off: every value finite
/// and non-negative, at most `cap` (relative tolerance ``probabilitySumTolerance``), and a sum
/// within ``probabilitySumTolerance`` of `total` (relative to `max(1, total)`).
func checkPolytopeWeights(_ weights: [Double], total: Double, cap: Double = 1) throws(DAMError) {
  guard !weights.isEmpty else { throw DAMError.invalid("weights", "is empty") }
  var sum = 0.0
  for (i, y) in weights.enumerated() {
    guard y.isFinite, y >= 0 else {
      throw DAMError.invalid("weights", "must be finite and >= 0, got \(y) at index \(i)")
    }
    guard y <= cap * (1 + probabilitySumTolerance) else {
      throw DAMError.invalid("weights", "must be at most \(cap), got \(y) at index \(i)")
    }
    sum += y
  }
  guard abs(sum - total) <= probabilitySumTolerance * max(1, total) else {
    throw DAMError.invalid(
      "weights",
      "sum to \(sum), not \(total) (tolerance \(probabilitySumTolerance)); they are outside the map's polytope"
    )
  }
}

/// `g ⊙ (v - ⟨g, v⟩ / Σ g)` for `g = y^(2-α)` on the support of `y` (zero elsewhere): the
/// Jacobian-vector product of α-entmax (Peters et al. 2019, eq. 10), softmax's at α = 1 and
/// sparsemax's at α = 2. For α ≤ 2, `g ≤ 1` and the formula is used as is (O(N)). For α > 2, `g`
/// overflows near the edge of the support although the product stays finite (the dominant `g`
/// cancels), so it is summed pairwise in the log domain, `(J v)ᵢ = Σⱼ wᵢⱼ (vᵢ - vⱼ)` with
/// `wᵢⱼ = gᵢ gⱼ / Σ g ≤ min(gᵢ, gⱼ)`, in O(s²) for a support of size s.
func tsallisJVP(weights: [Double], alpha: Double, direction: [Double]) -> [Double] {
  let support = weights.indices.filter { weights[$0] > 0 }
  var result = [Double](repeating: 0, count: weights.count)
  guard !support.isEmpty else { return result }
  if alpha <= 2 {
    var total = 0.0
    var inner = 0.0
    var g = [Double](repeating: 0, count: weights.count)
    for i in support {
      g[i] = alpha == 2 ? 1 : _exp((2 - alpha) * _log(weights[i]))
      total += g[i]
      inner += g[i] * direction[i]
    }
    let mean = inner / total
    for i in support { result[i] = g[i] * (direction[i] - mean) }
    return result
  }
  let logs = support.map { (2 - alpha) * _log(weights[$0]) }
  let logTotal = logSumExp(logs)
  for (a, i) in support.enumerated() {
    var sum = 0.0
    for (b, j) in support.enumerated() where j != i {
      sum += _exp(logs[a] + logs[b] - logTotal) * (direction[i] - direction[j])
    }
    result[i] = sum
  }
  return result
}

/// The Tsallis α-negentropy `(Σ yᵢ^α - 1)/(α(α-1))` on the simplex, computed as
/// `Σ yᵢ expm1((α-1) log yᵢ) / (α(α-1))`: equal when `Σ y = 1`, and accurate as α → 1, where it
/// tends to the Shannon negentropy `Σ yᵢ log yᵢ`.
func tsallisNegentropy(_ weights: [Double], alpha: Double) -> Double {
  let t = alpha - 1
  var sum = 0.0
  for y in weights where y > 0 { sum += y * _expm1(t * _log(y)) }
  return sum / (alpha * t)
}

/// The part of a score the shifted scores lost: `⟨θ, y⟩ = largest · Σ y - ⟨gaps, y⟩`, without
/// the `-∞ · 0` of masked entries.
func innerWithGaps(_ gaps: [Double], _ weights: [Double]) -> Double {
  var sum = 0.0
  for (d, y) in zip(gaps, weights) where y != 0 { sum += d * y }
  return -sum
}

/// A readable number for map names: `2` rather than `2.0`, `1.5` as is.
func formatParameter(_ value: Double) -> String {
  if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
  return "\(value)"
}
