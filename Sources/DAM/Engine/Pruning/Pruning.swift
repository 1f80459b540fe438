/// Whether a retrieval engine may skip the exact divergence of far patterns (Docs/architecture.md, "One retrieval
/// step, for a batch", steps 2 and 3; the bounds a divergence provides: Docs/extending.md).
///
/// Patterns are visited in the order of their divergence's certified lower bound
/// (``Divergence/lowerBound(_:query:pattern:cache:)``): 16 first, then, after each round, up to
/// the first pattern from which the bounds prove the rest irrelevant given the divergences known
/// so far (at most doubling the count evaluated), until the test passes. Patterns are skipped only
/// when the divergence provides bounds, and which are skipped depends on values alone (not on the
/// thread count). Every evaluation counts in ``RetrievalResult/evaluationCount``.
public enum Pruning: Sendable, Hashable {
  /// Evaluate every pattern.
  case none
  /// Skip patterns whose weight is certified to be exactly zero by the separation map's
  /// ``SeparationMap/zeroWeightRule`` (sparsemax, entmax, normmax, k-subsets): the weights, the
  /// energy and the trajectory are those of the unpruned engine. Maps without a rule (softmax)
  /// evaluate every pattern.
  case exact
  /// As ``exact`` for maps with a zero-weight rule; with softmax, skip the patterns whose total
  /// weight is certified to be at most the given bound (in `[0, 1)`) and give them weight 0
  /// (the others' weights are renormalised). The bound reached is reported in
  /// ``RetrievalResult/droppedWeightBound``.
  case softmaxMass(Double)
}
