/// Scores shifted by their largest finite value: `gaps[i] = largest - θᵢ ≥ 0`, `+∞` for a masked
/// score. Every map here is invariant to adding a constant to the scores, so they work on the gaps
/// and add `largest` (times the weight sum) back to the conjugate; this keeps scores of magnitude
/// `1e6` from losing the digits that decide the weights.
struct ShiftedScores {
  /// The largest (finite) score.
  var largest: Double
  /// `largest - θᵢ`, `+∞` where `θᵢ = -∞`.
  var gaps: [Double]
  /// The indices of the unmasked scores, by increasing gap (decreasing score); ties keep index order.
  var order: [Int]

  /// Validates the scores (see ``validateScores(_:argument:)``) and shifts them.
  init(_ scores: [Double], sorted: Bool = true) throws(DAMError) {
    try validateScores(scores)
    var largest = -Double.infinity
    for score in scores where score > largest { largest = score }
    self.largest = largest
    gaps = scores.map { $0 == -.infinity ? .infinity : largest - $0 }
    // Ties keep index order; masked scores (gap +inf, as can be a finite score's gap that
    // overflows) are then filtered out by their score.
    let candidates = sorted ? _stableArgsort(gaps) : Array(scores.indices)
    order = candidates.filter { scores[$0] != -.infinity }
  }

  /// The number of unmasked scores.
  var unmaskedCount: Int { order.count }
}
