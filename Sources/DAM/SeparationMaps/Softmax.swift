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
    var invalid = scores.isEmpty ? 1 : 0
    for score in scores {
      invalid |= score.isNaN || score == .infinity ? 1 : 0
      largest = score > largest ? score : largest
    }
    if invalid != 0 || largest == -.infinity { try validateScores(scores) }
    return scores.withUnsafeBufferPointer { x in
      Self.normalised(count: x.count, shift: largest) { x[$0] - largest }
    }
  }

  /// The weights of `θ = -β d` computed from `d` in one array, `exp(-β dᵢ - max θ)` normalised:
  /// the very numbers ``separate(_:)`` gives at those scores (`max θ = -β min d` exactly).
  public func separate(divergences: [Double], beta: Double) throws(DAMError) -> Separation {
    var smallest = Double.infinity
    var invalid = divergences.isEmpty || !beta.isFinite ? 1 : 0
    for d in divergences {
      invalid |= d.isNaN || d == -.infinity ? 1 : 0
      smallest = d < smallest ? d : smallest
    }
    if invalid != 0 || smallest == .infinity { return try separate(divergences.map { -beta * $0 }) }
    let largest = -beta * smallest
    return divergences.withUnsafeBufferPointer { d in
      Self.normalised(count: d.count, shift: largest) { -beta * d[$0] - largest }
    }
  }

  /// `exp(θᵢ - shift)` normalised, with `Ω* = shift + log Σ exp(θ - shift)`, where
  /// `shifted(i) = θᵢ - shift`. The shifted scores, their exponentials and the sum go in runs of
  /// `run` values, each run still in L1 when the next stage reads it, then one scaling: three
  /// passes over the row. The run being a multiple of 4, the four partial sums take the same
  /// values in the same order as over the whole row at once, and each value gets the same
  /// exponential.
  @inline(__always)
  private static func normalised(count: Int, shift: Double, _ shifted: (Int) -> Double) -> Separation {
    let run = 512
    var partial = (0.0, 0.0, 0.0, 0.0)
    var weights = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
      var start = 0
      while start < count {
        let end = min(count, start + run)
        for i in start..<end { buffer[i] = shifted(i) }
        _expInPlace(buffer.baseAddress! + start, count: end - start)
        var i = start
        while i + 4 <= end {
          partial.0 += buffer[i]
          partial.1 += buffer[i + 1]
          partial.2 += buffer[i + 2]
          partial.3 += buffer[i + 3]
          i += 4
        }
        while i < end {
          partial.0 += buffer[i]
          i += 1
        }
        start = end
      }
      initialized = count
    }
    let sum = (partial.0 + partial.1) + (partial.2 + partial.3)
    let inverse = 1 / sum
    weights.withUnsafeMutableBufferPointer { buffer in
      for k in 0..<buffer.count { buffer[k] *= inverse }
    }
    return Separation(weights: weights, conjugate: shift + _log(sum))
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
