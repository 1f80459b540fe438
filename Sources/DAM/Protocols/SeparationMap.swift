/// A separation map: scores `θ ∈ ℝᴺ` to weights `ŷ(θ) = ∇Ω*(θ)` on the probability simplex (or a
/// structured polytope), for a regulariser `Ω`.
///
/// The retrieval engine calls it with `θ = -β D(ξ, X·)`, and uses the conjugate `Ω*(θ)` for the
/// energy `E(ξ) = -(1/β) Ω*(θ)`. Softmax (`Ω` = negative Shannon entropy, `Ω*` = log-sum-exp) gives
/// the classic modern Hopfield network; sparse maps give weights that are exactly zero on
/// patterns far from the query.
///
/// Scores equal to `-∞` are *masked*: they receive weight zero. A map must be invariant to adding
/// a constant to every score (`ŷ(θ + c1) = ŷ(θ)`, `Ω*(θ + c1) = Ω*(θ) + c` on the simplex).
/// ``SeparationMapConformance`` checks these properties for any conformance.
public protocol SeparationMap: Sendable {
  /// The weights `ŷ(θ)` together with `Ω*(θ)`.
  ///
  /// - Throws: ``DAMError`` if a score is NaN or `+∞`, or if every score is masked.
  func separate(_ scores: [Double]) throws -> Separation

  /// ``separate(_:)`` at the scores `θ = -β d`, given the divergences `d` and `β > 0` (what the
  /// engine has). The default forms the scores and calls ``separate(_:)``; a map can skip that
  /// array (softmax computes its weights from `d` in place).
  func separate(divergences: [Double], beta: Double) throws -> Separation

  /// The regulariser `Ω(y)` at a point of the map's polytope.
  func regularizer(_ weights: [Double]) throws -> Double

  /// The margin `m`: if one score exceeds all others by at least `m`, the weights are exactly
  /// one-hot. `nil` when no finite margin exists (softmax).
  var margin: Double? { get }

  /// A rule that certifies weights of exactly zero without computing them, or `nil` if the map
  /// has none (softmax gives every finite score a positive weight). Retrieval engines use it to
  /// skip exact divergences of far patterns (``Pruning/exact``); a wrong rule makes pruned
  /// retrieval differ from unpruned retrieval, which ``SeparationMapConformance`` checks.
  var zeroWeightRule: ZeroWeightRule? { get }

  /// A bound on the total weight the map gives to scores it was not shown, or `nil` if the map
  /// has no such bound (the default).
  ///
  /// The engine calls it when pruning: `evaluatedLogMass` is `log Σ exp(θᵢ)` over the scores it
  /// computed, `otherLogMass` an upper bound on `log Σ exp(θⱼ)` over the others (from the
  /// divergence's lower bounds). Softmax's weights of the others sum to at most
  /// `exp(otherLogMass - evaluatedLogMass)`; ``Pruning/softmaxMass(_:)`` drops them when that is
  /// within its budget, and reports the bound.
  func unevaluatedWeightBound(evaluatedLogMass: Double, otherLogMass: Double) -> Double?

  /// The Jacobian-vector product `(∂ŷ/∂θ) v` at `scores`, given the weights already computed there.
  func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws
    -> [Double]

  /// The vector-Jacobian product `(∂ŷ/∂θ)ᵀ u` at `scores`, given the weights already computed
  /// there: what reverse-mode differentiation chains through the map (the gradient of a loss
  /// `L(ŷ(θ))` is this product at `u = ∂L/∂ŷ`).
  ///
  /// The default returns ``jacobianVectorProduct(scores:weights:direction:)`` at `u`: a
  /// separation map is the gradient `ŷ = ∇Ω*`, so its Jacobian is the Hessian of `Ω*`, which is
  /// symmetric wherever it exists, and every built-in map's Jacobian (the generalised one, at
  /// the kinks of the sparse maps) is symmetric with the same sparsity. Override it for a map whose
  /// Jacobian is not symmetric. ``SeparationMapConformance`` checks the adjoint identity
  /// `⟨u, J v⟩ = ⟨Jᵀ u, v⟩`.
  func vectorJacobianProduct(scores: [Double], weights: [Double], cotangent: [Double]) throws -> [Double]

  /// A short name for reports, such as `softmax` or `1.5-entmax`.
  var name: String { get }
}

extension SeparationMap {
  /// Forms the scores `-β d` and separates them.
  public func separate(divergences: [Double], beta: Double) throws -> Separation {
    try separate(divergences.map { -beta * $0 })
  }

  /// No rule: every pattern is evaluated.
  public var zeroWeightRule: ZeroWeightRule? { nil }

  /// No bound: every pattern without a zero-weight certificate is evaluated.
  public func unevaluatedWeightBound(evaluatedLogMass: Double, otherLogMass: Double) -> Double? { nil }

  /// The Jacobian-vector product at `cotangent`: the Jacobian of `ŷ = ∇Ω*` is symmetric.
  public func vectorJacobianProduct(scores: [Double], weights: [Double], cotangent: [Double]) throws
    -> [Double]
  {
    try jacobianVectorProduct(scores: scores, weights: weights, direction: cotangent)
  }
}

/// "Every score at most `gap` below the `rank`-th largest score gets weight exactly zero."
///
/// Sparsemax, α-entmax (α > 1) and α-normmax have rank 1 and their margin as gap: their weights
/// are `[(α-1)θᵢ - τ]₊^(1/(α-1))`-like with `τ ≥ (α-1)max θ - 1`, because the largest weight is at
/// most 1. k-subsets have rank k and gap 1: a pattern with positive weight below the k-th score
/// minus 1 would leave the k best at weight 1 and the total above k.
///
/// The rule holds whatever the other scores are, and adding scores that satisfy it changes no
/// weight and not `Ω*`: the zero-weight patterns are outside the support.
public struct ZeroWeightRule: Sendable, Hashable {
  /// Which largest score the gap is measured from (1 = the maximum).
  public var rank: Int
  /// The gap `> 0`.
  public var gap: Double

  /// A rule; see the type's documentation.
  public init(rank: Int, gap: Double) {
    self.rank = rank
    self.gap = gap
  }
}

/// The output of a ``SeparationMap``: weights and the value of the conjugate `Ω*` at the scores.
public struct Separation: Sendable, Hashable {
  /// The weights `ŷ(θ)`.
  public var weights: [Double]
  /// `Ω*(θ)`.
  public var conjugate: Double

  /// Creates a separation result.
  public init(weights: [Double], conjugate: Double) {
    self.weights = weights
    self.conjugate = conjugate
  }
}

/// Validates separation-map scores: no NaN or `+∞`, and at least one score that is not `-∞`.
/// Returns the number of unmasked scores.
@discardableResult
func validateScores(_ scores: [Double], argument: String = "scores") throws(DAMError) -> Int {
  guard !scores.isEmpty else { throw DAMError.invalid(argument, "is empty") }
  var unmasked = 0
  for (i, score) in scores.enumerated() {
    if score.isNaN || score == .infinity {
      throw DAMError(
        .nonFinite, argument: argument, "has \(score) at index \(i); only -inf (masked) is allowed")
    }
    if score != -.infinity { unmasked += 1 }
  }
  guard unmasked > 0 else {
    throw DAMError.invalid(argument, "every score is masked (-inf); at least one must be finite")
  }
  return unmasked
}
