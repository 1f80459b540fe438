import DAM

/// The Wilson score interval for a binomial proportion: the confidence interval reported with
/// every success rate of the package's experiments. Unlike the normal approximation it stays
/// inside `[0, 1]` and behaves at 0 and `n` successes.
package struct WilsonInterval: Sendable, Hashable {
  /// The observed proportion `successes / trials`.
  package let proportion: Double
  /// The lower end of the interval.
  package let lower: Double
  /// The upper end of the interval.
  package let upper: Double

  /// The interval for `successes` out of `trials` at the normal quantile `z` (1.959964 for 95%).
  ///
  /// - Throws: `DAMError` if `trials < 1`, `successes` is outside `0...trials` or `z <= 0`.
  package init(successes: Int, trials: Int, z: Double = 1.959_963_984_540_054) throws(DAMError) {
    guard trials >= 1 else {
      throw DAMError(.invalidArgument, argument: "trials", "must be >= 1, got \(trials)")
    }
    guard (0...trials).contains(successes) else {
      throw DAMError(.invalidArgument, argument: "successes", "must be in 0...\(trials), got \(successes)")
    }
    guard z.isFinite, z > 0 else {
      throw DAMError(.invalidArgument, argument: "z", "must be a finite number > 0, got \(z)")
    }
    let n = Double(trials)
    let p = Double(successes) / n
    let z2 = z * z
    let denominator = 1 + z2 / n
    let center = (p + z2 / (2 * n)) / denominator
    let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
    proportion = p
    // The interval contains p; clamping to it keeps the ends exact at 0 and n successes, where
    // the formula's two terms cancel only to rounding (5.6e-17 at 0 of 3).
    lower = min(p, max(0, center - half))
    upper = max(p, min(1, center + half))
  }
}
