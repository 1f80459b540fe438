/// `x^ω` for the over-relaxed scaling updates, where `x` (the ratio of the new to the old
/// scaling) is near 1 once the iterations settle: there the binomial series
/// `Σₖ C(ω, k) (x - 1)ᵏ` to degree 10 in Horner form, else the C library's `pow` (which took
/// about a fifth of a pruned retrieval's solves when it ran for every entry).
///
/// For `|x - 1| <= 1/32` and `0 <= ω <= 2` every omitted coefficient has `|C(ω, k)| <= 1`, so
/// the series is truncated below `2 (1/32)¹¹ < 6e-17` relative, under half an ulp of the result.
struct PowerNearOne {
  let exponent: Double
  private let coefficients: [Double]
  private let usable: Bool

  init(_ exponent: Double) {
    self.exponent = exponent
    usable = exponent >= 0 && exponent <= 2
    var c = [Double](repeating: 0, count: 11)
    c[0] = 1
    for k in 1...10 { c[k] = c[k - 1] * (exponent - Double(k - 1)) / Double(k) }
    coefficients = c
  }

  /// Replaces every `x` by `x^ω`: when all are within the series' range, one branch-free pass
  /// that the compiler vectorises (a dependent chain of ten FMAs per entry, interleaved across
  /// entries); otherwise entry by entry.
  func apply(_ values: inout [Double]) {
    let count = values.count
    values.withUnsafeMutableBufferPointer { buffer in
      guard let x = buffer.baseAddress else { return }
      var farthest = 0.0
      for i in 0..<count { farthest = Swift.max(farthest, abs(x[i] - 1)) }
      guard usable, farthest <= 0.03125 else {
        for i in 0..<count { x[i] = of(x[i]) }
        return
      }
      coefficients.withUnsafeBufferPointer { coefficient in
        let c = coefficient.baseAddress!
        let (c0, c1, c2, c3, c4, c5) = (c[0], c[1], c[2], c[3], c[4], c[5])
        let (c6, c7, c8, c9, c10) = (c[6], c[7], c[8], c[9], c[10])
        for i in 0..<count {
          let t = x[i] - 1
          var sum = c10
          sum = sum * t + c9
          sum = sum * t + c8
          sum = sum * t + c7
          sum = sum * t + c6
          sum = sum * t + c5
          sum = sum * t + c4
          sum = sum * t + c3
          sum = sum * t + c2
          sum = sum * t + c1
          x[i] = sum * t + c0
        }
      }
    }
  }

  @inline(__always)
  func of(_ x: Double) -> Double {
    let t = x - 1
    guard usable, abs(t) <= 0.03125 else { return _pow(x, exponent) }
    return coefficients.withUnsafeBufferPointer { c in
      var sum = c[10]
      for k in stride(from: 9, through: 0, by: -1) { sum = sum * t + c[k] }
      return sum
    }
  }
}

/// `x^ω` as the over-relaxed kernel updates compute it (``PowerNearOne``), for tests.
@_spi(Testing) public func _relaxedPower(_ x: Double, _ omega: Double) -> Double {
  PowerNearOne(omega).of(x)
}

/// `x^ω` for every entry, as the kernel updates compute a whole scaling vector, for tests.
@_spi(Testing) public func _relaxedPowers(_ x: [Double], _ omega: Double) -> [Double] {
  var values = x
  PowerNearOne(omega).apply(&values)
  return values
}
