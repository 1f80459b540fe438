/// The barycentric geometry on a grid: the query becomes the entropic Wasserstein barycenter of
/// the patterns with (normalised) separation weights, the grid analogue of the barycentric fixed
/// point `yⱼ ← Σᵢ λᵢ Tᵢ(yⱼ)` of point clouds (SHK with `τ = 1/2`, `ε → 0`).
///
/// With one-hot weights the step returns the pattern itself exactly (the barycenter of one
/// histogram), so a query that is separated onto one pattern is retrieved exactly.
public struct GridBarycentricGeometry: Geometry {
  /// The settings of the barycenter iterations (ε, tolerance, backend).
  public let options: GridSinkhornOptions
  /// Patterns weighing less than this fraction of the total separation weight are left out of the
  /// barycenter (0: none is). The heaviest pattern is always kept.
  public let weightThreshold: Double

  /// A barycentric geometry; the barycenter is ``GridSinkhorn/barycenter(of:weights:options:debiased:)``
  /// (blurred by about ε, so a query never lands exactly on a pattern unless one weight is 1).
  public init(options: GridSinkhornOptions) {
    self.options = options
    weightThreshold = 0
  }

  /// A barycentric geometry that leaves light patterns out of the barycenter.
  ///
  /// Softmax weighs every pattern, so each step would solve a barycenter of the whole memory;
  /// patterns below `weightThreshold` of the total weight move the barycenter by less than the
  /// solver's tolerance when the threshold is small against it. With a loose `options.tolerance`
  /// and `allowsUnconverged`, a step costs about what it costs under a sparse map.
  ///
  /// - Throws: ``DAMError`` naming `weightThreshold` unless it is in `[0, 1)`.
  public init(options: GridSinkhornOptions, weightThreshold: Double) throws(DAMError) {
    guard weightThreshold >= 0, weightThreshold < 1 else {
      throw DAMError.invalid("weightThreshold", "must be in [0, 1), got \(weightThreshold)")
    }
    self.options = options
    self.weightThreshold = weightThreshold
  }

  /// The barycenter of the patterns with the separation weights (those above the threshold,
  /// renormalised).
  public func step(from state: GridHistogram, along variation: GridVariation) throws(DAMError)
    -> GridHistogram
  {
    guard variation.totalWeight > 0, !variation.patterns.isEmpty else { return state }
    let heaviest = variation.patternWeights.indices.max {
      variation.patternWeights[$0] < variation.patternWeights[$1]
    }
    let cut = weightThreshold * variation.totalWeight
    var patterns: [GridHistogram] = []
    var weights: [Double] = []
    var keptWeight = 0.0
    for (i, (w, p)) in zip(variation.patternWeights, variation.patterns).enumerated()
    where w > 0 && (w >= cut || i == heaviest) {
      weights.append(w)
      patterns.append(p)
      keptWeight += w
    }
    // Normalised twice, as a barycenter of the kept patterns alone would be (the first division
    // by the weight they carry, the second by the rounded sum).
    let carried = weightThreshold > 0 ? keptWeight : variation.totalWeight
    weights = weights.map { $0 / carried }
    if patterns.count == 1 { return patterns[0] }
    let total = weights.reduce(0, +)
    weights = weights.map { $0 / total }
    return try GridSinkhorn.barycenter(of: patterns, weights: weights, options: options).histogram
  }

  /// No position change; the largest change of a cell's mass.
  public func change(from old: GridHistogram, to new: GridHistogram) -> StateChange {
    gridChange(old, new)
  }
}
