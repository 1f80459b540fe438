/// The patterns of one query whose weight exceeds a threshold, with what the rest weighs.
package struct WeightSupport: Encodable {
  /// Pattern indices, increasing.
  package var indices: [Int]
  /// Their weights.
  package var weights: [Double]
  /// The threshold: patterns weighing at most this are left out.
  package var threshold: Double
  /// The total weight of the patterns left out.
  package var omittedWeight: Double

  package init(_ all: [Double], threshold: Double) {
    indices = []
    weights = []
    self.threshold = threshold
    var omitted = 0.0
    for (i, w) in all.enumerated() {
      if w > threshold {
        indices.append(i)
        weights.append(w)
      } else {
        omitted += w
      }
    }
    omittedWeight = omitted
  }

  package enum CodingKeys: String, CodingKey {
    case indices, weights, threshold
    case omittedWeight = "omitted_weight"
  }
}
