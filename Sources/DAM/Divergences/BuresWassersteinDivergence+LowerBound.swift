extension BuresWassersteinDivergence {
  /// `‖m₁ - m₂‖² + (√tr S₁ - √tr S₂)²`, in `O(d)`: the Bures term
  /// `tr S₁ + tr S₂ - 2 tr(S₂^½ S₁ S₂^½)^½` is at least `(√tr S₁ - √tr S₂)²` because the fidelity
  /// `tr(S₂^½ S₁ S₂^½)^½ = ‖S₁^½ S₂^½‖_* ≤ ‖S₁^½‖_F ‖S₂^½‖_F = √(tr S₁ tr S₂)` (Cauchy-Schwarz on
  /// singular values). Lowered by `1e-12` of the traces for round-off.
  public func lowerBound(_ state: Gaussian, query: QueryCache, pattern: Gaussian, cache: PatternCache)
    -> Double?
  {
    guard state.dimension == pattern.dimension else { return nil }
    var gap = 0.0
    for t in 0..<state.dimension {
      let difference = state.mean[t] - pattern.mean[t]
      gap += difference * difference
    }
    let first = Self.trace(state.covariance)
    let second = Self.trace(pattern.covariance)
    let roots = first.squareRoot() - second.squareRoot()
    return gap + roots * roots - 1e-12 * (first + second)
  }

  static func trace(_ covariance: Gaussian.Covariance) -> Double {
    switch covariance {
    case .diagonal(let variances): return variances.reduce(0, +)
    case .full(let matrix):
      var trace = 0.0
      for i in 0..<matrix.rows { trace += matrix[i, i] }
      return trace
    }
  }
}
