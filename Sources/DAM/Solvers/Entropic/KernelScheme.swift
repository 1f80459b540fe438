/// Sinkhorn in the scaling domain on a stabilised Gibbs kernel (see ``GibbsKernel``).
///
/// The iteration is the log-domain one (``LogScheme``) written for scalings: with
/// `f = f̂ + ε log u` and `g = ĝ + ε log v`, the soft-minimum `g̃ = c-transform(f)` is
/// `ĝ + ε log ṽ` with `ṽ = 1 / K̂ᵀ(a ∘ u)`, and likewise for `f̃`. The L1 marginal errors and the
/// over-relaxation (`v ← v (ṽ/v)^ω`) are those of the log domain, so both stop at the same point;
/// this one spends two matrix-vector products per iteration instead of `2 n m` exponentials, and
/// `n m` exponentials per kernel rebuild: one at the start, one at the target ε, one per
/// absorption. The annealing stages from ε to ε/2 square the scaled kernel instead
/// (`(K̂ⱼₖ uⱼ vₖ)²`, no exponentials).
///
/// A scaling is absorbed into the kernel when `|log u|` or `|log v|` exceeds 200
/// (``absorptionBound``), so products never overflow. After a u-update every row sum
/// `Σₖ bₖ K̂ⱼₖ vₖ uⱼ` is exactly 1, so squaring cannot empty a row (Jensen); should a sum still
/// underflow after absorbing, the scheme gives up (``SchemeError/underflow``) and the solve is
/// redone in the log domain, which cannot.
struct KernelScheme: SinkhornScheme {
  private let cost: CostMatrix
  private var kernel: GibbsKernel
  private let a: [Double]
  private let b: [Double]
  private var u: [Double]
  private var v: [Double]
  private var weightedU: [Double]
  private var weightedV: [Double]
  private var rowSum: [Double]
  private var columnSum: [Double]
  private var ratio: [Double]
  private var uRatio: [Double]
  private var uTilde: [Double]
  private var power = PowerNearOne(1)
  private var retriedAfterAbsorbing = false

  static var cheapIterations: Bool { true }
  var rows: Int { a.count }
  var columns: Int { b.count }

  /// - Throws: ``DAMError`` (`backend`) when the kernel cannot be allocated.
  init(_ cost: CostMatrix, a: [Double], b: [Double], start: (f: [Double], g: [Double])?, epsilon: Double)
    throws(DAMError)
  {
    let (n, m) = (cost.rows, cost.columns)
    self.cost = cost
    kernel = try GibbsKernel(
      cost: cost, epsilon: epsilon, f: start?.f ?? [Double](repeating: 0, count: n),
      g: start?.g ?? [Double](repeating: 0, count: m))
    self.a = a
    self.b = b
    u = [Double](repeating: 1, count: n)
    v = [Double](repeating: 1, count: m)
    weightedU = [Double](repeating: 0, count: n)
    weightedV = [Double](repeating: 0, count: m)
    rowSum = [Double](repeating: 0, count: n)
    columnSum = [Double](repeating: 0, count: m)
    ratio = [Double](repeating: 0, count: m)
    uRatio = [Double](repeating: 0, count: n)
    uTilde = [Double](repeating: 0, count: n)
  }

  mutating func move(to epsilon: Double, exact: Bool) {
    kernel.absorb(&u, &v, newEpsilon: epsilon, cost: cost, exact: exact)
  }

  mutating func annealingIteration() throws(SchemeError) {
    for j in 0..<rows { weightedU[j] = a[j] * u[j] }
    kernel.multiplyTransposed(weightedU, into: &columnSum)
    guard allPositiveFinite(columnSum) else { throw .underflow }
    for k in 0..<columns { v[k] = 1 / columnSum[k] }
    for k in 0..<columns { weightedV[k] = b[k] * v[k] }
    kernel.multiply(weightedV, into: &rowSum)
    guard allPositiveFinite(rowSum) else { throw .underflow }
    for j in 0..<rows { u[j] = 1 / rowSum[j] }
  }

  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double) {
    let (n, m) = (rows, columns)
    if omega != power.exponent { power = PowerNearOne(omega) }
    while true {
      // v-update from u, relaxed; the column error of (u, v) follows from ṽ / v.
      for j in 0..<n { weightedU[j] = a[j] * u[j] }
      kernel.multiplyTransposed(weightedU, into: &columnSum)
      guard allPositiveFinite(columnSum) else {
        try absorbOnce()
        continue
      }
      // ṽ = 1 / columnSum; v ← v (ṽ / v)^ω; the error term is |v_new / ṽ - 1|.
      if omega == 1 {
        for k in 0..<m { v[k] = 1 / columnSum[k] }
      } else {
        for k in 0..<m { ratio[k] = (1 / columnSum[k]) / v[k] }
        power.apply(&ratio)
        for k in 0..<m { v[k] *= ratio[k] }
      }
      var columnError = 0.0
      for k in 0..<m { columnError += b[k] * abs(v[k] * columnSum[k] - 1) }
      for k in 0..<m { weightedV[k] = b[k] * v[k] }
      kernel.multiply(weightedV, into: &rowSum)
      guard allPositiveFinite(rowSum) else {
        try absorbOnce()
        continue
      }
      retriedAfterAbsorbing = false
      var rowError = 0.0
      var mass = 0.0
      for j in 0..<n {
        uTilde[j] = 1 / rowSum[j]
        let ratio = u[j] * rowSum[j]
        mass += a[j] * ratio
        rowError += a[j] * abs(ratio - 1)
      }
      let error = rowError + columnError
      guard error.isFinite else { throw .underflow }
      return (error, mass)
    }
  }

  /// A product under- or overflowed: absorb the scalings and redo the iteration, once.
  private mutating func absorbOnce() throws(SchemeError) {
    if retriedAfterAbsorbing { throw .underflow }
    retriedAfterAbsorbing = true
    kernel.absorb(&u, &v, newEpsilon: kernel.epsilon, cost: cost, exact: true)
  }

  mutating func advance(omega: Double) {
    let n = rows
    if omega != power.exponent { power = PowerNearOne(omega) }
    if omega == 1 {
      for j in 0..<n { u[j] = uTilde[j] }
    } else {
      for j in 0..<n { uRatio[j] = uTilde[j] / u[j] }
      power.apply(&uRatio)
      for j in 0..<n { u[j] *= uRatio[j] }
    }
    var drifted = false
    for j in 0..<n { drifted = drifted || !(u[j] < absorptionBound && u[j] > 1 / absorptionBound) }
    for k in 0..<columns { drifted = drifted || !(v[k] < absorptionBound && v[k] > 1 / absorptionBound) }
    if drifted { kernel.absorb(&u, &v, newEpsilon: kernel.epsilon, cost: cost, exact: true) }
  }

  func potentials() -> (f: [Double], g: [Double]) { kernel.potentials(u, v) }

  mutating func reset(f: [Double], g: [Double]) {
    kernel.reset(f: f, g: g, cost: cost)
    for j in 0..<rows { u[j] = 1 }
    for k in 0..<columns { v[k] = 1 }
  }
}

/// The symmetric problem `OT_ε(x, x)` in the scaling domain, with the averaged update
/// `p ← (p + p̃)/2`, i.e. `w ← √(w w̃)`; see ``KernelScheme``.
struct KernelSelfScheme: SinkhornScheme {
  private let cost: CostMatrix
  private var kernel: GibbsKernel
  private let a: [Double]
  private var w: [Double]
  private var other: [Double]
  private var weighted: [Double]
  private var rowSum: [Double]
  private var retriedAfterAbsorbing = false

  static var cheapIterations: Bool { true }
  var rows: Int { a.count }
  var columns: Int { a.count }

  /// - Throws: ``DAMError`` (`backend`) when the kernel cannot be allocated.
  init(_ cost: CostMatrix, a: [Double], start: [Double]?, epsilon: Double) throws(DAMError) {
    let p0 = start ?? [Double](repeating: 0, count: cost.rows)
    self.cost = cost
    kernel = try GibbsKernel(cost: cost, epsilon: epsilon, f: p0, g: p0, symmetric: true)
    self.a = a
    w = [Double](repeating: 1, count: cost.rows)
    other = w
    weighted = [Double](repeating: 0, count: cost.rows)
    rowSum = [Double](repeating: 0, count: cost.rows)
  }

  /// Absorbs `w` on both sides (a symmetric kernel needs equal scalings).
  private mutating func absorb(to epsilon: Double, exact: Bool) {
    other = w
    kernel.absorb(&w, &other, newEpsilon: epsilon, cost: cost, exact: exact)
  }

  mutating func move(to epsilon: Double, exact: Bool) { absorb(to: epsilon, exact: exact) }

  /// A product under- or overflowed: absorb the scaling and redo the iteration, once.
  private mutating func absorbOnce() throws(SchemeError) {
    if retriedAfterAbsorbing { throw .underflow }
    retriedAfterAbsorbing = true
    absorb(to: kernel.epsilon, exact: true)
  }

  mutating func annealingIteration() throws(SchemeError) {
    for j in 0..<rows { weighted[j] = a[j] * w[j] }
    kernel.multiply(weighted, into: &rowSum)
    guard allPositiveFinite(rowSum) else { throw .underflow }
    for j in 0..<rows { w[j] = (w[j] / rowSum[j]).squareRoot() }
  }

  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double) {
    while true {
      for j in 0..<rows { weighted[j] = a[j] * w[j] }
      kernel.multiply(weighted, into: &rowSum)
      guard allPositiveFinite(rowSum) else {
        try absorbOnce()
        continue
      }
      retriedAfterAbsorbing = false
      var rowError = 0.0
      var mass = 0.0
      for j in 0..<rows {
        let ratio = w[j] * rowSum[j]  // exp((p - p̃)/ε)
        mass += a[j] * ratio
        rowError += a[j] * abs(ratio - 1)
      }
      let error = 2 * rowError  // rows and columns agree by symmetry
      guard error.isFinite else { throw .underflow }
      return (error, mass)
    }
  }

  mutating func advance(omega: Double) {
    var drifted = false
    for j in 0..<rows {
      let updated = (w[j] / rowSum[j]).squareRoot()
      w[j] = updated
      drifted = drifted || !(updated < absorptionBound && updated > 1 / absorptionBound)
    }
    if drifted { absorb(to: kernel.epsilon, exact: true) }
  }

  func potentials() -> (f: [Double], g: [Double]) {
    let p = kernel.potentials(w, w).f
    return (p, p)
  }

  mutating func reset(f: [Double], g: [Double]) {
    kernel.reset(f: f, g: f, cost: cost)
    for j in 0..<rows { w[j] = 1 }
  }
}

/// The largest scaling `e^200 ≈ 7e86` (and smallest, its inverse) kept before it is absorbed into
/// the kernel, so that products of kernel entries and scalings stay far from overflow.
let absorptionBound = 7.225973768125749e86

func allPositiveFinite(_ values: [Double]) -> Bool {
  for value in values where !(value > 0 && value < .infinity) { return false }
  return true
}

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
