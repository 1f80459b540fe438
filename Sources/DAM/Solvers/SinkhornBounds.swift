/// Certified bounds on the Sinkhorn divergence that need no transport solve.
public enum SinkhornBounds {
  /// The Shannon entropy `H(w) = -Σ wⱼ log wⱼ` of probability weights (`0 log 0 = 0`).
  public static func entropy(_ weights: [Double]) -> Double {
    var h = 0.0
    for w in weights where w > 0 { h -= w * _log(w) }
    return h
  }

  /// A lower bound on `S_ε(μ, ν)`: `‖m(μ) - m(ν)‖² + G(μ, ν) - (ε/2)(H(a) + H(b))`, with `m` the
  /// mean and `G` a lower bound on the centred clouds' `W₂²`: in one and two dimensions Gelbrich's
  /// bound, the squared Bures distance `B²(Σ_μ, Σ_ν) = tr Σ_μ + tr Σ_ν - 2 tr (Σ_μ^½ Σ_ν Σ_μ^½)^½`
  /// between the covariances; in more, `(s(μ) - s(ν))²` with `s = √(Σ wⱼ ‖yⱼ - m‖²)` the spread
  /// (root of the total variance).
  ///
  /// `OT_ε(μ, ν) ≥ ⟨C, π⟩` (the KL term is non-negative), and for any coupling `π`, with `X ~ μ`,
  /// `Y ~ ν` coupled by it, `E‖X - Y‖² = ‖m(μ) - m(ν)‖² + E‖X̃ - Ỹ‖²` for the centred variables.
  /// `E‖X̃ - Ỹ‖² = tr Σ_μ + tr Σ_ν - 2 tr Cov(X̃, Ỹ)`, and the largest `tr Cov(X̃, Ỹ)` over joint
  /// laws with these marginal covariances is `tr (Σ_μ^½ Σ_ν Σ_μ^½)^½` (Gelbrich 1990, attained by
  /// Gaussians), so `E‖X̃ - Ỹ‖² ≥ B²`; in two dimensions `tr M^½ = √(tr M + 2 √det M)` gives it in
  /// closed form. The spread term is the weaker `E‖X̃ - Ỹ‖² ≥ (√E‖X̃‖² - √E‖Ỹ‖²)²` (the triangle
  /// inequality in L²). And `OT_ε(μ, μ) ≤ ε H(a)` (the identity coupling `diag(a)` costs 0 and has
  /// `KL(diag a | a ⊗ a) = H(a)`). The Gelbrich term is exact for a cloud and its image under an
  /// affine map with a symmetric positive definite linear part (that map is optimal), so it sees
  /// orientation and size; the spread term is exact for scaled copies about the mean.
  public static func lowerBound(_ x: PointCloud, _ y: PointCloud, epsilon: Double) throws(DAMError) -> Double
  {
    try checkDimensions(x, y)
    let mx = x.mean
    let my = y.mean
    var gap = 0.0
    for k in 0..<mx.count { gap += (mx[k] - my[k]) * (mx[k] - my[k]) }
    let shape = shapeGap(x, y)
    return gap + shape - 0.5 * epsilon * (entropy(x.weights) + entropy(y.weights))
  }
}

/// The centred part of the bound of ``SinkhornBounds/lowerBound(_:_:epsilon:)``: Gelbrich's
/// `B²(Σ_x, Σ_y)` in one and two dimensions, else `(s(x) - s(y))²`; never above either, with
/// the rounding of the closed form taken against it.
@inline(__always)
func shapeGap(_ x: PointCloud, _ y: PointCloud) -> Double {
  shapeGap(
    x.planarCovariance, spread: x.spread, y.planarCovariance, spread: y.spread, planar: x.points.columns <= 2)
}

/// ``shapeGap(_:_:)`` from the clouds' summaries.
@inline(__always)
func shapeGap(
  _ a: SIMD3<Double>, spread spreadA: Double, _ b: SIMD3<Double>, spread spreadB: Double, planar: Bool
) -> Double {
  let spreadGap = (spreadA - spreadB) * (spreadA - spreadB)
  guard planar else { return spreadGap }
  let traceA = a.x + a.z
  let traceB = b.x + b.z
  // tr (A^½ B A^½)^½ = √(tr AB + 2 √(det A det B)) for 2 x 2 positive semi-definite A, B. Every
  // term is rounded up (determinants and tr AB by more than their rounding error, about
  // 4e-16 of the squared traces), so the root is not below its exact value even where a
  // determinant cancels to nothing, and the result is lowered by a margin of 1e-7 of the traces,
  // far above the remaining rounding and far below any pruning decision.
  let determinantA = max(0, a.x * a.z - a.y * a.y) + 1e-15 * traceA * traceA
  let determinantB = max(0, b.x * b.z - b.y * b.y) + 1e-15 * traceB * traceB
  let traceProduct = a.x * b.x + 2 * a.y * b.y + a.z * b.z + 1e-15 * traceA * traceB
  let root = max(0, traceProduct + 2 * (determinantA * determinantB).squareRoot()).squareRoot()
  let bures = traceA + traceB - 2 * root - 1e-7 * (traceA + traceB)
  return max(spreadGap, bures)
}
