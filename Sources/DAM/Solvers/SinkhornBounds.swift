/// Certified bounds on the Sinkhorn divergence that need no transport solve.
public enum SinkhornBounds {
  /// The Shannon entropy `H(w) = -Σ wⱼ log wⱼ` of probability weights (`0 log 0 = 0`).
  public static func entropy(_ weights: [Double]) -> Double {
    var h = 0.0
    for w in weights where w > 0 { h -= w * _log(w) }
    return h
  }

  /// A lower bound on `S_ε(μ, ν)`: `‖m(μ) - m(ν)‖² - (ε/2)(H(a) + H(b))`.
  ///
  /// `OT_ε(μ, ν) ≥ ⟨C, π⟩ ≥ ‖Σ πⱼₖ (xⱼ - yₖ)‖² = ‖m(μ) - m(ν)‖²` (the KL term is non-negative, and
  /// Jensen's inequality), and `OT_ε(μ, μ) ≤ ε H(a)` (the identity coupling `diag(a)` costs 0 and
  /// has `KL(diag a | a ⊗ a) = H(a)`).
  public static func lowerBound(_ x: PointCloud, _ y: PointCloud, epsilon: Double) throws(DAMError) -> Double
  {
    try _checkDimensions(x, y)
    let mx = x.mean
    let my = y.mean
    var gap = 0.0
    for k in 0..<mx.count { gap += (mx[k] - my[k]) * (mx[k] - my[k]) }
    return gap - 0.5 * epsilon * (entropy(x.weights) + entropy(y.weights))
  }
}
