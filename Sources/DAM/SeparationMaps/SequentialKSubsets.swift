/// SparseMAP over sequential k-subsets (Example 2 of the sparse and structured Hopfield networks
/// paper): k-subsets of the patterns, in storage order, with a pairwise score `p` added for every
/// two neighbours `(i, i+1)` that are both in the subset. `p > 0` favours retrieving runs of
/// consecutive patterns; `p < 0` spreads them out; `p = 0` is ``KSubsets``.
///
/// The weights are the unary marginals `μ_V` of
///
///     argmax_{μ ∈ M} ⟨θ, μ_V⟩ + p Σᵢ μ_(i,i+1) - ½‖μ_V‖²,
///
/// with `M` the marginal polytope of the chain factor graph with a budget of exactly `k` ones, and
/// `μ_(i,i+1)` the marginal probability that both neighbours are in. The pairwise score is a
/// parameter of the map, not a score: the retrieval engine scales the unary scores by β and
/// leaves `p` as it is.
///
/// - Regulariser: SparseMAP's `½‖μ_V‖²` on `M` (only the unary marginals are regularised, App. C).
///   As a function of the weights alone, the map's regulariser is
///   `Ω(y) = ½‖y‖² - max{p Σ μ_F : (y, μ_F) ∈ M}`, whose conjugate is the `Ω*` above; see
///   ``regularizer(_:)``.
/// - Margin: the structured margin 1 (Prop. 4 of the paper: at most 1 with pairwise factors; 1 is
///   the exact value here): if a structure `y` satisfies `⟨θ, y_V⟩ + p·pairs(y) ≥
///   ⟨θ, y'_V⟩ + p·pairs(y') + ½‖y_V - y'_V‖²` for every other structure `y'`, the weights are
///   exactly `y_V` (k-hot).
/// - Algorithm: the active-set method of Niculae et al. (2018) with a budget-constrained Viterbi
///   MAP oracle (O(N k) per call), started from the exact ``KSubsets`` solution decomposed into
///   k-subsets; it solves the QP exactly, to round-off. Cost per iteration: one oracle call plus
///   O(|A|²) for the active set `A` of structures (an updated Cholesky factor). Sparse solutions
///   take a few iterations; nearly uniform ones (scores spread far below 1, i.e. small β, over
///   many patterns) can take thousands and, rarely, exceed the iteration cap, which throws.
/// - Jacobian: through the final active set (Niculae et al. 2018, §3.2), `J v = Σ_s dα_s s` with
///   `dα` the equality QP's response to scores moving by `⟨v, s⟩`. The scores are solved again.
///
/// Like ``KSubsets``, the weights sum to `k`, so the fixed-point update of ``EuclideanGeometry``
/// retrieves the mean `Xᵀŷ/k`, not the paper's sum `Xᵀŷ` (see ``KSubsets``). Masked scores (`-∞`)
/// get weight 0 and break no pairs; at least `k` scores must be unmasked.
public struct SequentialKSubsets: SeparationMap {
  /// The subset size `k ≥ 1`.
  public let k: Int
  /// The score `p` of two neighbouring patterns both retrieved.
  public let pairwise: Double

  /// SparseMAP over sequential k-subsets.
  ///
  /// - Throws: ``DAMError`` naming `k` unless it is at least 1, or `pairwise` unless it is finite.
  public init(k: Int, pairwise: Double) throws(DAMError) {
    guard k >= 1 else { throw DAMError.invalid("k", "must be at least 1, got \(k)") }
    guard pairwise.isFinite else {
      throw DAMError(.nonFinite, argument: "pairwise", "must be finite, got \(pairwise)")
    }
    self.k = k
    self.pairwise = pairwise
  }

  /// `sequential-k-subsets`, as in `sequential-3-subsets`.
  public var name: String { "sequential-\(k)-subsets" }

  /// The structured margin 1.
  public var margin: Double? { 1 }

  /// The unary marginals and `Ω*(θ) = max ⟨θ, μ_V⟩ + p Σ μ_F - ½‖μ_V‖²`.
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, if every score is masked, (naming `k`) if
  ///   fewer than `k` scores are unmasked or if the oracle's `2 N (k + 1)` bytes exceed
  ///   ``ResourceLimits/current`` (kind `resourceLimit`), or if the solver fails numerically.
  public func separate(_ scores: [Double]) throws(DAMError) -> Separation {
    let (solver, largest) = try activeSetSolver(scores)
    let solution = try solver.solve()
    return Separation(weights: solution.marginals, conjugate: solution.value + Double(k) * largest)
  }

  /// `Ω(y) = ½‖y‖² - g(y)`, with `g(y) = max{p Σ μ_F : (y, μ_F) ∈ M}` the best pairwise score of a
  /// distribution over structures whose unary marginals are `y`; `½‖y‖²` when `p = 0`.
  ///
  /// `g` is a linear programme over `M`. It is solved through its dual by the proximal point
  /// method (the method of multipliers) on the map itself: `θ ← θ + (y - ŷ(θ))` from `θ = y`,
  /// which is gradient ascent with step 1 on the 1-smooth concave `⟨θ, y⟩ - Ω*(θ)` and ends, for
  /// this piecewise-quadratic problem, when `ŷ(θ) = y` to round-off (1e-13); then
  /// `Ω(y) = ⟨θ, y⟩ - Ω*(θ)` by the Fenchel-Young equality. Each step is one warm-started
  /// SparseMAP solve; typically a few to a hundred steps.
  ///
  /// - Throws: ``DAMError`` naming `weights` unless they lie in the capped simplex `{0 ≤ y ≤ 1,
  ///   Σ y = k}` (the projection of `M`), or a numerical failure if the iteration does not
  ///   converge in 10,000 steps.
  public func regularizer(_ weights: [Double]) throws(DAMError) -> Double {
    try checkPolytopeWeights(weights, total: Double(k))
    guard weights.count >= k else {
      throw DAMError.invalid("weights", "has \(weights.count) values, fewer than k = \(k)")
    }
    var squares = 0.0
    for y in weights { squares += y * y }
    if pairwise == 0 { return squares / 2 }
    var theta = weights
    var warm: SparseMAPActiveSet.Solution? = nil
    for _ in 0..<10_000 {
      let (solver, largest) = try activeSetSolver(theta)
      let solution = try solver.solve(warmStart: warm)
      var gap = 0.0
      for (m, y) in zip(solution.marginals, weights) { gap = max(gap, abs(m - y)) }
      if gap <= 1e-13 {
        var inner = 0.0
        for (t, y) in zip(theta, weights) { inner += t * y }
        return inner - (solution.value + Double(k) * largest)
      }
      for i in theta.indices { theta[i] += weights[i] - solution.marginals[i] }
      warm = solution
    }
    throw DAMError(
      .numericalFailure, argument: "weights",
      "the regulariser's proximal-point iteration did not converge in 10000 steps")
  }

  /// `Σ_s dα_s s` through the active set at `scores` (solved again).
  ///
  /// - Throws: ``DAMError`` if the lengths differ, the direction is not finite, or the scores are
  ///   invalid.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double])
    throws(DAMError) -> [Double]
  {
    try checkJVPArguments(scores: scores, weights: weights, direction: direction)
    let (solver, _) = try activeSetSolver(scores)
    return solver.jacobianVectorProduct(at: try solver.solve(), direction: direction)
  }

  /// The solver on the scores shifted by their largest value, and that value.
  private func activeSetSolver(_ scores: [Double]) throws(DAMError) -> (SparseMAPActiveSet, Double) {
    let shifted = try ShiftedScores(scores, sorted: false)
    guard shifted.unmaskedCount >= k else {
      throw DAMError.invalid(
        "k",
        "is \(k), but only \(shifted.unmaskedCount) of the \(scores.count) scores are unmasked; k-subsets need k <= that"
      )
    }
    // The oracle's back-pointers, 2 N (k + 1) bytes, are the one allocation that grows with N k.
    try ResourceLimits.current.check(
      bytes: ResourceLimits.bytes([scores.count, k + 1, 2], elementSize: MemoryLayout<Bool>.stride), for: "k",
      "sequential k-subsets of \(scores.count) scores with k = \(k) (the MAP oracle's back-pointers, 2 N (k + 1) bytes)",
      remedy: "use a smaller k, or ksubsets (no pairwise scores), whose memory is O(N)")
    let unary = shifted.gaps.map { -$0 }
    return (SparseMAPActiveSet(unary: unary, pairwise: pairwise, k: k), shifted.largest)
  }
}

extension SeparationMap where Self == SequentialKSubsets {
  /// SparseMAP over sequential k-subsets with pairwise score `pairwise`.
  ///
  /// - Throws: ``DAMError`` naming `k` unless it is at least 1, or `pairwise` unless it is finite.
  public static func sequentialKSubsets(_ k: Int, pairwise: Double) throws(DAMError) -> SequentialKSubsets {
    try SequentialKSubsets(k: k, pairwise: pairwise)
  }
}
