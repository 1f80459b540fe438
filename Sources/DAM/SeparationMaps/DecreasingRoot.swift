/// The root of a continuous, non-increasing function on `[lo, hi]` with `f(lo) ≥ 0 ≥ f(hi)`, by
/// Newton steps kept inside a shrinking bracket and replaced by bisection when they leave it or
/// do not halve the step before last (the "rtsafe" safeguard of Numerical Recipes). Returns when
/// `f` is exactly 0, when a Newton step is below two ulps, or when the bracket is two ulps wide:
/// the root to machine precision.
///
/// `evaluate` returns `f(x)` and `f'(x)` (a one-sided derivative at kinks is fine). Cost: a few
/// evaluations when Newton converges, at most `maxEvaluations` (about 60 halvings of an O(1)
/// bracket suffice) otherwise.
func decreasingRoot(
  lo: Double, hi: Double, maxEvaluations: Int = 400, _ evaluate: (Double) -> (value: Double, slope: Double)
) -> Double {
  var lo = lo
  var hi = max(hi, lo)
  var x = lo
  var step = hi - lo
  var previousStep = step
  for _ in 0..<maxEvaluations {
    let (f, slope) = evaluate(x)
    if f == 0 { return x }
    if f > 0 { lo = x } else { hi = x }
    if hi - lo <= 2 * hi.ulp { return f > 0 ? lo : hi }
    let newton = x - f / slope
    // Bisect when Newton leaves the open bracket or does not at least halve the step before last.
    if !newton.isFinite || newton <= lo || newton >= hi || abs(2 * f) > abs(previousStep * slope) {
      previousStep = step
      step = 0.5 * (hi - lo)
      x = lo + step
    } else {
      previousStep = step
      step = newton - x
      x = newton
      if abs(step) <= 2 * x.ulp { return x }
    }
  }
  return x
}
