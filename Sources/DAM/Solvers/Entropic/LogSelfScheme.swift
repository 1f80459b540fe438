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
    do throws(DAMError) {
      try kernel.softminRows(epsilon: epsilon, logWeights: logA, potential: p, into: &pTilde)
    } catch { throw .failure(error) }
    for j in 0..<a.count { p[j] = 0.5 * (p[j] + pTilde[j]) }
  }

  mutating func measure(omega: Double) throws(SchemeError) -> (error: Double, mass: Double) {
    do throws(DAMError) {
      try kernel.softminRows(epsilon: epsilon, logWeights: logA, potential: p, into: &pTilde)
      try requireFinitePotential(pTilde, epsilon, what)
    } catch { throw .failure(error) }
    let (rowError, mass) = rowMarginal(a, p, pTilde, epsilon)
    return (2 * rowError, mass)  // rows and columns agree by symmetry
  }

  mutating func advance(omega: Double) {
    for j in 0..<a.count { p[j] = 0.5 * (p[j] + pTilde[j]) }
  }

  func potentials() -> (f: [Double], g: [Double]) { (p, p) }

  mutating func reset(f: [Double], g: [Double]) { p = f }
}
