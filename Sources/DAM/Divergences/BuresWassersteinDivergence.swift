/// The squared 2-Wasserstein (Bures-Wasserstein) distance between Gaussians,
/// `D(ξ, Xᵢ) = W₂²(N(m, W), N(μᵢ, Sᵢ)) = ‖m - μᵢ‖² + tr(W + Sᵢ - 2 (Sᵢ^½ W Sᵢ^½)^½)`,
/// as a divergence of the framework (the BW-DAM).
///
/// - Each pattern's square root `Sᵢ^½` is computed once, when the pattern is stored.
/// - Each evaluation computes the value and the matrix `Aᵢ = Sᵢ^½ (Sᵢ^½ W Sᵢ^½)^(-½) Sᵢ^½` of the
///   optimal map `Tᵢ(x) = μᵢ + Aᵢ (x - m)` from the state to the pattern: one symmetric
///   eigendecomposition (O(d³)), or O(d) when the state and the pattern are both diagonal.
///   Mixed full and diagonal memories work: diagonal covariances are promoted where they meet
///   full ones.
///
/// The variation is a ``GaussianVariation``: the gradient of `W₂²` is `2 (m - μᵢ)` with respect to
/// the mean and `I - Aᵢ` with respect to the covariance, and ``BuresWassersteinGeometry`` turns the
/// weighted sums `(Σλμ, ΣλA, Σλ)` into the next state. See ``BuresWasserstein`` for the closed
/// forms and their numerical treatment.
public struct BuresWassersteinDivergence: Divergence {
  /// The Bures-Wasserstein divergence.
  public init() {}

  /// What is computed once per stored pattern `N(μ, S)`.
  public struct PatternCache: Sendable, Hashable {
    /// `S^½`: the square roots of the variances for a diagonal covariance, the symmetric square
    /// root for a full one.
    public let root: Gaussian.Covariance
  }

  /// The result of evaluating the divergence at one pattern.
  public struct Evaluation: Sendable, Hashable {
    /// `W₂²(ξ, Xᵢ)`.
    public let value: Double
    /// The matrix `Aᵢ` of the optimal map from the state to the pattern, symmetric positive
    /// definite; diagonal when the state and the pattern are both diagonal.
    public let map: Gaussian.Covariance
  }

  /// Computes `S^½`.
  ///
  /// - Throws: ``DAMError`` naming `pattern` if the eigendecomposition fails.
  public func prepare(_ pattern: Gaussian) throws(DAMError) -> PatternCache {
    PatternCache(root: try BuresWasserstein._squareRoot(pattern.covariance, "pattern"))
  }

  /// Checks the dimensions agree.
  public func checkCompatible(_ pattern: Gaussian, with reference: Gaussian) throws(DAMError) {
    guard pattern.dimension == reference.dimension else {
      throw DAMError.mismatch(
        "pattern", "has dimension \(pattern.dimension), the memory's patterns have \(reference.dimension)")
    }
  }

  /// Checks the query's dimension.
  public func checkQuery(_ state: Gaussian, against reference: Gaussian) throws(DAMError) {
    guard state.dimension == reference.dimension else {
      throw DAMError.mismatch(
        "query", "has dimension \(state.dimension), the memory's patterns have \(reference.dimension)")
    }
  }

  /// `W₂²(ξ, Xᵢ)` and the map matrix `Aᵢ`.
  ///
  /// - Throws: ``DAMError`` naming `query` if the dimensions differ, or a numerical failure of the
  ///   eigendecomposition.
  public func evaluate(_ state: Gaussian, query: Void, pattern: Gaussian, cache: PatternCache)
    throws(DAMError) -> Evaluation
  {
    try checkQuery(state, against: pattern)
    let result = try BuresWasserstein._evaluate(state: state, pattern: pattern, root: cache.root)
    return Evaluation(value: result.value, map: result.map)
  }

  /// `W₂²(ξ, Xᵢ)`.
  public func value(of evaluation: Evaluation) -> Double { evaluation.value }

  /// The zero variation in the state's dimension.
  public func zeroVariation(at state: Gaussian) -> GaussianVariation {
    GaussianVariation(dimension: state.dimension)
  }

  /// Adds `weight × (μᵢ, Aᵢ, 1)`.
  public func accumulate(
    _ weight: Double, of evaluation: Evaluation, at state: Gaussian, query: Void, pattern: Gaussian,
    cache: PatternCache, into variation: inout GaussianVariation
  ) throws(DAMError) {
    try variation.add(weight, mean: pattern.mean, map: evaluation.map)
  }
}
