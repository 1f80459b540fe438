/// Softmax, `ŷ(θ) = exp(θ) / Σ exp(θ)`: the gradient of `Ω*(θ) = log Σ exp(θ)`, the conjugate of
/// the negative Shannon entropy `Ω(y) = Σ yᵢ log yᵢ` on the simplex.
///
/// Its weights are never exactly zero (except for masked scores), so it has no finite margin.
public struct Softmax: SeparationMap {
  /// Softmax.
  public init() {}

  /// `softmax`.
  public var name: String { "softmax" }

  /// No finite margin.
  public var margin: Double? { nil }

  /// Weights and log-sum-exp, shifted by the largest score so nothing overflows (one vectorised
  /// exponential over the scores).
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    // One pass for the largest score and the validation; the validation's own error if any
    // score is NaN or +∞ or every score is -∞.
    var largest = -Double.infinity
    var valid = !scores.isEmpty
    for score in scores {
      valid = valid && !score.isNaN && score != .infinity
      largest = score > largest ? score : largest
    }
    if !valid || largest == -.infinity { try _validateScores(scores) }
    var weights = scores.map { $0 - largest }
    weights.withUnsafeMutableBufferPointer {
      if let base = $0.baseAddress { _expInPlace(base, count: $0.count) }
    }
    var sum = 0.0
    for w in weights { sum += w }
    let inverse = 1 / sum
    for i in weights.indices { weights[i] *= inverse }
    return Separation(weights: weights, conjugate: largest + _log(sum))
  }

  /// `exp(otherLogMass - evaluatedLogMass)`: the others' weights are `exp(θⱼ) / Σ exp(θ)`, and the
  /// denominator is at least the evaluated scores' part.
  public func unevaluatedWeightBound(evaluatedLogMass: Double, otherLogMass: Double) -> Double? {
    _exp(otherLogMass - evaluatedLogMass)
  }

  /// `Σ yᵢ log yᵢ`, with `0 log 0 = 0`.
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    var sum = 0.0
    for (i, y) in weights.enumerated() {
      guard y >= 0, y.isFinite else {
        throw DAMError.invalid("weights", "must be finite and >= 0, got \(y) at index \(i)")
      }
      if y > 0 { sum += y * _log(y) }
    }
    return sum
  }

  /// `(diag(y) - y yᵀ) v`.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    guard direction.count == weights.count else {
      throw DAMError.mismatch("direction", "has \(direction.count) values, weights have \(weights.count)")
    }
    var mean = 0.0
    for (y, v) in zip(weights, direction) { mean += y * v }
    return zip(weights, direction).map { $0 * ($1 - mean) }
  }
}

extension SeparationMap where Self == Softmax {
  /// Softmax.
  public static var softmax: Softmax { Softmax() }
}
