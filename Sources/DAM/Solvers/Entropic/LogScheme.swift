/// The soft-minimum (c-transform) of a potential through a cost `C` between `rows` and `columns`
/// atoms, the operator of the log-domain schemes: implemented by the dense cost formed on the fly
/// (``CostMatrix``) and by the grid's convolutions (``GridSoftmin``).
protocol SoftminOperator {
  var rows: Int { get }
  var columns: Int { get }
  /// `out_j = -ε log Σₖ exp(logWeights_k + (potential_k - C_jk)/ε)` for every row `j`: the row
  /// potential's update from the column potential. Atoms of weight zero (`logWeights = -∞`)
  /// contribute nothing.
  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double])
  /// The same over the rows, for every column `k`: the column potential's update.
  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double])
}

/// The dense cost between two point sets, formed on the fly a block of rows at a time.
struct DenseSoftmin: SoftminOperator {
  let cost: CostMatrix
  /// The cost from the columns to the rows, for the column updates (`nil` for a symmetric problem,
  /// which only updates rows).
  let transposed: CostMatrix?

  init(_ cost: CostMatrix, symmetric: Bool = false) {
    self.cost = cost
    transposed = symmetric ? nil : cost.transposed()
  }

  var rows: Int { cost.rows }
  var columns: Int { cost.columns }

  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    cTransform(cost, epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out)
  }

  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    cTransform(transposed ?? cost, epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out)
  }
}

/// Sinkhorn in the log domain: every update is a soft-minimum over `-C/ε + potential`, which
/// cannot under- or overflow; the operator decides how (``SoftminOperator``).
struct LogScheme<Operator: SoftminOperator>: SinkhornScheme {
  let kernel: Operator
  let a: [Double]
  let b: [Double]
  private let logA: [Double]
  private let logB: [Double]
  /// Names the solver in errors ("Sinkhorn", "grid Sinkhorn").
  private let what: String
  private var epsilon: Double
  private var f: [Double]
  private var g: [Double]
  private var fTilde: [Double]
  private var gTilde: [Double]

  static var cheapIterations: Bool { false }
  var rows: Int { kernel.rows }
  var columns: Int { kernel.columns }

  init(
    _ kernel: Operator, a: [Double], b: [Double], start: (f: [Double], g: [Double])?, epsilon: Double,
    what: String
  ) {
    self.kernel = kernel
    self.a = a
    self.b = b
    logA = a.map(_log)
    logB = b.map(_log)
    self.what = what
    self.epsilon = epsilon
    f = start?.f ?? [Double](repeating: 0, count: a.count)
    g = start?.g ?? [Double](repeating: 0, count: b.count)
    fTilde = [Double](repeating: 0, count: a.count)
    gTilde = [Double](repeating: 0, count: b.count)
  }

  mutating func move(to epsilon: Double, exact: Bool) { self.epsilon = epsilon }

  mutating func annealingIteration() throws(SchemeError) {
    kernel.softminColumns(epsilon: epsilon, logWeights: logA, potential: f, into: &g)
    kernel.softminRows(epsilon: epsilon, logWeights: logB, potential: g, into: &f)
  }

  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double) {
    // g-update from f, relaxed; the column error of (f, g) follows from g̃ - g.
    kernel.softminColumns(epsilon: epsilon, logWeights: logA, potential: f, into: &gTilde)
    var columnError = 0.0
    for k in 0..<b.count {
      let updated = g[k] + omega * (gTilde[k] - g[k])
      g[k] = updated
      if b[k] > 0 { columnError += b[k] * abs(_exp((updated - gTilde[k]) / epsilon) - 1) }
    }
    // f̃ from g gives the row marginal of (f, g) without another pass.
    kernel.softminRows(epsilon: epsilon, logWeights: logB, potential: g, into: &fTilde)
    do throws(DAMError) { try requireFinitePotential(fTilde, epsilon, what) } catch { throw .failure(error) }
    let (rowError, mass) = rowMarginal(a, f, fTilde, epsilon)
    return (rowError + columnError, mass)
  }

  mutating func advance(omega: Double) {
    for j in 0..<a.count { f[j] += omega * (fTilde[j] - f[j]) }
  }

  func potentials() -> (f: [Double], g: [Double]) { (f, g) }

  mutating func reset(f: [Double], g: [Double]) {
    self.f = f
    self.g = g
  }
}

/// The symmetric problem `OT_ε(a, a)` in the log domain, with averaged updates
/// `p ← (p + p̃)/2` (Feydy et al. 2019), which converge in a few iterations at every ε.
struct LogSelfScheme<Operator: SoftminOperator>: SinkhornScheme {
  let kernel: Operator
  let a: [Double]
  private let logA: [Double]
  private let what: String
  private var epsilon: Double
  private var p: [Double]
  private var pTilde: [Double]

  static var cheapIterations: Bool { false }
  var rows: Int { kernel.rows }
  var columns: Int { kernel.rows }

  init(_ kernel: Operator, a: [Double], start: [Double]?, epsilon: Double, what: String) {
    self.kernel = kernel
    self.a = a
    logA = a.map(_log)
    self.what = what
    self.epsilon = epsilon
    p = start ?? [Double](repeating: 0, count: a.count)
    pTilde = [Double](repeating: 0, count: a.count)
  }

  mutating func move(to epsilon: Double, exact: Bool) { self.epsilon = epsilon }

  mutating func annealingIteration() throws(SchemeError) {
    kernel.softminRows(epsilon: epsilon, logWeights: logA, potential: p, into: &pTilde)
    for j in 0..<a.count { p[j] = 0.5 * (p[j] + pTilde[j]) }
  }

  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double) {
    kernel.softminRows(epsilon: epsilon, logWeights: logA, potential: p, into: &pTilde)
    do throws(DAMError) { try requireFinitePotential(pTilde, epsilon, what) } catch { throw .failure(error) }
    let (rowError, mass) = rowMarginal(a, p, pTilde, epsilon)
    return (2 * rowError, mass)  // rows and columns agree by symmetry
  }

  mutating func advance(omega: Double) {
    for j in 0..<a.count { p[j] = 0.5 * (p[j] + pTilde[j]) }
  }

  func potentials() -> (f: [Double], g: [Double]) { (p, p) }

  mutating func reset(f: [Double], g: [Double]) { p = f }
}

/// The L1 error `Σⱼ |rⱼ - aⱼ|` of the row marginal `rⱼ = aⱼ exp((fⱼ - f̃ⱼ)/ε)` of the coupling of
/// `(f, g)`, `f̃` the row update from `g`, and its mass `Σⱼ rⱼ`; atoms of weight 0 are skipped
/// (their potentials are arbitrary).
private func rowMarginal(_ a: [Double], _ f: [Double], _ fTilde: [Double], _ epsilon: Double)
  -> (error: Double, mass: Double)
{
  var error = 0.0
  var mass = 0.0
  for j in 0..<a.count where a[j] > 0 {
    let ratio = _exp((f[j] - fTilde[j]) / epsilon)
    mass += a[j] * ratio
    error += a[j] * abs(ratio - 1)
  }
  return (error, mass)
}
