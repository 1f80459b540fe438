/// Certified bounds on the Sinkhorn divergence that need no transport solve.
public enum SinkhornBounds {
  /// The Shannon entropy `H(w) = -Σ wⱼ log wⱼ` of probability weights (`0 log 0 = 0`).
  public static func entropy(_ weights: [Double]) -> Double {
    var h = 0.0
    for w in weights where w > 0 { h -= w * _log(w) }
    return h
  }

  /// A lower bound on `S_ε(μ, ν)`: `‖m(μ) - m(ν)‖² + (s(μ) - s(ν))² - (ε/2)(H(a) + H(b))`, with
  /// `m` the mean and `s = √(Σ wⱼ ‖yⱼ - m‖²)` the spread (root of the total variance).
  ///
  /// `OT_ε(μ, ν) ≥ ⟨C, π⟩` (the KL term is non-negative), and for any coupling `π`, with `X ~ μ`,
  /// `Y ~ ν` coupled by it, `E‖X - Y‖² = ‖m(μ) - m(ν)‖² + E‖X̃ - Ỹ‖²` for the centred variables,
  /// where `E‖X̃ - Ỹ‖² ≥ (√E‖X̃‖² - √E‖Ỹ‖²)² = (s(μ) - s(ν))²` (the triangle inequality in L²);
  /// and `OT_ε(μ, μ) ≤ ε H(a)` (the identity coupling `diag(a)` costs 0 and has
  /// `KL(diag a | a ⊗ a) = H(a)`). The spread term is exact for a cloud and a scaled copy of it
  /// about its mean, and is what separates clouds of different sizes with the same mean.
  public static func lowerBound(_ x: PointCloud, _ y: PointCloud, epsilon: Double) throws(DAMError) -> Double
  {
    try _checkDimensions(x, y)
    let mx = x.mean
    let my = y.mean
    var gap = 0.0
    for k in 0..<mx.count { gap += (mx[k] - my[k]) * (mx[k] - my[k]) }
    let shape = (x._spread - y._spread) * (x._spread - y._spread)
    return gap + shape - 0.5 * epsilon * (entropy(x.weights) + entropy(y.weights))
  }
}
