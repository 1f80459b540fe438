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
    do throws(DAMError) {
      try kernel.softminColumns(epsilon: epsilon, logWeights: logA, potential: f, into: &g)
      try kernel.softminRows(epsilon: epsilon, logWeights: logB, potential: g, into: &f)
    } catch { throw .failure(error) }
  }

  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double) {
    // g-update from f, relaxed; the column error of (f, g) follows from g̃ - g.
    do throws(DAMError) {
      try kernel.softminColumns(epsilon: epsilon, logWeights: logA, potential: f, into: &gTilde)
    } catch { throw .failure(error) }
    var columnError = 0.0
    for k in 0..<b.count {
      let updated = g[k] + omega * (gTilde[k] - g[k])
      g[k] = updated
      if b[k] > 0 { columnError += b[k] * abs(_exp((updated - gTilde[k]) / epsilon) - 1) }
    }
    // f̃ from g gives the row marginal of (f, g) without another pass.
    do throws(DAMError) {
      try kernel.softminRows(epsilon: epsilon, logWeights: logB, potential: g, into: &fTilde)
      try requireFinitePotential(fTilde, epsilon, what)
    } catch { throw .failure(error) }
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

/// The L1 error `Σⱼ |rⱼ - aⱼ|` of the row marginal `rⱼ = aⱼ exp((fⱼ - f̃ⱼ)/ε)` of the coupling of
/// `(f, g)`, `f̃` the row update from `g`, and its mass `Σⱼ rⱼ`; atoms of weight 0 are skipped
/// (their potentials are arbitrary).
func rowMarginal(_ a: [Double], _ f: [Double], _ fTilde: [Double], _ epsilon: Double)
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
