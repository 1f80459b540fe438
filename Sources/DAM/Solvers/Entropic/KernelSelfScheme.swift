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
