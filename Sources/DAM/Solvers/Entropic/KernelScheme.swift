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

/// The largest scaling `e^200 ≈ 7e86` (and smallest, its inverse) kept before it is absorbed into
/// the kernel, so that products of kernel entries and scalings stay far from overflow.
let absorptionBound = 7.225973768125749e86

func allPositiveFinite(_ values: [Double]) -> Bool {
  for value in values where !(value > 0 && value < .infinity) { return false }
  return true
}
