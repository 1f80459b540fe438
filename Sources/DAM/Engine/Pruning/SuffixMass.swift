/// `log Σ_{q ≥ p} exp(-β L_q)` at every position `p` of bounds in increasing order (`-∞` at the end).
///
/// In bound order the terms `tₚ = -β L_order[p]` do not increase, so `Sₚ = Σ_{q ≥ p} exp(t_q - tₚ)`
/// obeys `Sₚ = 1 + S_{p+1} exp(t_{p+1} - tₚ)` with every exponent `<= 0` (nothing overflows;
/// `1 <= Sₚ <= N`), and the suffix is `tₚ + log Sₚ`: one vectorised exponential per pattern, and
/// a logarithm only where a suffix is asked for.
struct SuffixMass {
  /// `tₚ`.
  private var terms: [Double] = []
  /// `Sₚ`.
  private var sums: [Double] = []

  init() {}

  /// The suffix masses of bounds in increasing order.
  init(_ sortedBounds: [Double], beta: Double) {
    let count = sortedBounds.count
    terms = sortedBounds.map { -beta * $0 }
    var steps = [Double](repeating: -.infinity, count: count)
    for p in 0..<max(count - 1, 0) {
      // Past a term of -∞ every later one is -∞ too (and -∞ - -∞ is NaN).
      steps[p] = terms[p] == -.infinity ? -.infinity : terms[p + 1] - terms[p]
    }
    steps.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { _expInPlace(base, count: count) } }
    sums = [Double](repeating: 1, count: count)
    if count >= 2 {
      for p in stride(from: count - 2, through: 0, by: -1) { sums[p] = 1 + sums[p + 1] * steps[p] }
    }
  }

  /// `log Σ_{q ≥ p} exp(-β L_q)`; `-∞` for `p` at the end.
  func logarithm(at p: Int) -> Double {
    guard p < terms.count, terms[p] != -.infinity else { return -.infinity }
    return terms[p] + _log(sums[p])
  }
}
