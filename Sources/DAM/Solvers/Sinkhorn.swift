/// Entropic optimal transport between weighted point clouds, in the log domain (no under- or
/// overflow at small ε), with ε-scaling, warm starts and symmetric self problems.
///
/// Conventions: cost `‖x - y‖²` (not halved), regularisation `ε KL(π | a ⊗ b)`, value = dual
/// objective. See ``EntropicTransport``.
public enum Sinkhorn {
  /// Solves `OT_ε(x, y)`.
  ///
  /// - Parameters:
  ///   - x: the source cloud (weights `a`).
  ///   - y: the target cloud (weights `b`), of the same dimension.
  ///   - cost: the ground cost `c(x, y)` (``SquaredEuclideanCost`` by default).
  ///   - options: ε, the tolerance, the backend and the other solver settings.
  ///   - warmStart: potentials `(f, g)` from a nearby problem (the previous retrieval step, say);
  ///     the solve then starts at the target ε without annealing.
  /// - Throws: ``DAMError`` if the clouds' dimensions differ or the cost does not apply to them,
  ///   ε is more than 1e6 times the problem's scale (the squared diameter of the clouds' bounding
  ///   box for the squared Euclidean cost, the cost's ``Cost/largestCost(_:_:)`` otherwise; the
  ///   potentials would carry round-off of about `ε · 1e-16`), a warm start has the wrong size,
  ///   a non-finite value appears, or the solve does not converge and `allowsUnconverged` is
  ///   false.
  public static func transport(
    from x: PointCloud, to y: PointCloud, cost: any Cost = SquaredEuclideanCost(), options: SinkhornOptions,
    warmStart: (f: [Double], g: [Double])? = nil
  ) throws(DAMError) -> EntropicTransport {
    try checkDimensions(x, y, cost)
    let matrix = CostMatrix(x.points, y.points, cost: cost)
    try requireTrustworthyEpsilon(options.epsilon, x, y, matrix)
    return try solveTransport(matrix, x.weights, y.weights, options, warmStart)
  }

  /// Solves the symmetric problem `OT_ε(x, x)`.
  public static func selfTransport(
    _ x: PointCloud, cost: any Cost = SquaredEuclideanCost(), options: SinkhornOptions,
    warmStart: [Double]? = nil
  ) throws(DAMError) -> SelfTransport {
    try selfTransport(x, cost: cost, options: options, warmStart: warmStart, name: "x")
  }

  /// ``selfTransport(_:cost:options:warmStart:)``, an asymmetric cost's error calling the cloud
  /// `name` (a divergence's `pattern`).
  static func selfTransport(
    _ x: PointCloud, cost: any Cost, options: SinkhornOptions, warmStart: [Double]?, name: String
  ) throws(DAMError) -> SelfTransport {
    try checkDimensions(x, x, cost)
    try requireSymmetricCost(cost, x, name: name)
    let matrix = CostMatrix(x.points, x.points, cost: cost)
    try requireTrustworthyEpsilon(options.epsilon, x, x, matrix)
    return try solveSelfTransport(matrix, x.weights, options, warmStart)
  }

  /// The debiased Sinkhorn divergence `S_ε(x, y)`.
  ///
  /// - Throws: ``DAMError`` as ``transport(from:to:cost:options:warmStart:)`` does; ε above 1e6
  ///   times the problem's scale is refused (naming `epsilon`): the potentials would carry
  ///   round-off of about `ε · 1e-16`, while the divergence there is already within `D²/8e6` of
  ///   its limit for large ε.
  public static func divergence(
    _ x: PointCloud, _ y: PointCloud, cost: any Cost = SquaredEuclideanCost(), options: SinkhornOptions
  ) throws(DAMError) -> SinkhornDivergenceValue {
    try checkDimensions(x, y, cost)
    try requireSymmetricCost(cost, x, name: "x")
    try requireSymmetricCost(cost, y, name: "y")
    let cross = CostMatrix(x.points, y.points, cost: cost)
    try requireTrustworthyEpsilon(options.epsilon, x, y, cross)
    return SinkhornDivergenceValue(
      crossTerm: try solveTransport(cross, x.weights, y.weights, options, nil),
      firstSelfTerm: try solveSelfTransport(
        CostMatrix(x.points, x.points, cost: cost), x.weights, options, nil),
      secondSelfTerm: try solveSelfTransport(
        CostMatrix(y.points, y.points, cost: cost), y.weights, options, nil)
    )
  }

  /// The barycentric projection of the optimal coupling: `T(xⱼ) = Σₖ πⱼₖ yₖ / Σₖ πⱼₖ`, the
  /// average destination of the mass at `xⱼ` (equal to `Σₖ πⱼₖ yₖ / aⱼ` at convergence). One row
  /// per atom of `x`; `cost` must be the one `transport` was solved with.
  public static func barycentricMap(
    from x: PointCloud, to y: PointCloud, cost: any Cost = SquaredEuclideanCost(),
    transport: EntropicTransport
  ) throws(DAMError) -> Matrix {
    let matrix = try solvedCost(x, y, cost, transport)
    return mapFromPotential(matrix, y, epsilon: transport.epsilon, logB: y.weights.map(_log), g: transport.g)
  }

  /// The gradient of the first potential, `∇f(xⱼ) = Σₖ πⱼₖ ∇ₓc(xⱼ, yₖ) / Σₖ πⱼₖ` (the envelope
  /// theorem on `f(x) = -ε log Σₖ bₖ exp((gₖ - c(x, yₖ))/ε)`): the direction in which moving the
  /// atom `xⱼ` raises `OT_ε` fastest, per unit of its mass. For the squared Euclidean cost it is
  /// `2 (xⱼ - T(xⱼ))`. One row per atom of `x`; `cost` must be the one `transport` was solved with.
  public static func potentialGradient(
    from x: PointCloud, to y: PointCloud, cost: any Cost = SquaredEuclideanCost(),
    transport: EntropicTransport
  ) throws(DAMError) -> Matrix {
    let matrix = try solvedCost(x, y, cost, transport)
    return gradientFromPotential(
      cost, matrix, x, y, epsilon: transport.epsilon, logB: y.weights.map(_log), g: transport.g)
  }

  /// The gradient of the symmetric potential of `OT_ε(x, x)`, `∇p(xⱼ)`; with
  /// ``potentialGradient(from:to:cost:transport:)`` it gives the gradient of the Sinkhorn
  /// divergence in the atoms: `∂S_ε(x, y)/∂xⱼ = aⱼ (∇f(xⱼ) - ∇p(xⱼ))`.
  public static func potentialGradient(
    of x: PointCloud, cost: any Cost = SquaredEuclideanCost(), selfTransport: SelfTransport
  ) throws(DAMError) -> Matrix {
    try checkDimensions(x, x, cost)
    guard selfTransport.potential.count == x.count else {
      throw DAMError.mismatch("selfTransport", "its potential does not fit this cloud")
    }
    let matrix = CostMatrix(x.points, x.points, cost: cost)
    return gradientFromPotential(
      cost, matrix, x, x, epsilon: selfTransport.epsilon, logB: x.weights.map(_log),
      g: selfTransport.potential)
  }
}

/// The cost matrix of a solved cross problem, after checking that the clouds fit the cost and
/// the transport's potentials.
private func solvedCost(_ x: PointCloud, _ y: PointCloud, _ cost: any Cost, _ transport: EntropicTransport)
  throws(DAMError) -> CostMatrix
{
  try checkDimensions(x, y, cost)
  guard transport.f.count == x.count, transport.g.count == y.count else {
    throw DAMError.mismatch("transport", "its potentials do not fit these clouds")
  }
  return CostMatrix(x.points, y.points, cost: cost)
}

func checkDimensions(_ x: PointCloud, _ y: PointCloud, _ cost: any Cost = SquaredEuclideanCost())
  throws(DAMError)
{
  guard x.dimension == y.dimension else {
    throw DAMError.mismatch("y", "has atoms of dimension \(y.dimension), x has \(x.dimension)")
  }
  try cost.validate(dimension: x.dimension)
}

/// ``requireTrustworthyEpsilon(_:squaredDiameter:scale:)`` for clouds: the scale is the squared
/// diameter of their bounding box for the squared Euclidean cost, the cost matrix's bound on its
/// largest entry for any other.
func requireTrustworthyEpsilon(
  _ epsilon: Double, _ x: PointCloud, _ y: PointCloud, _ cost: CostMatrix,
  names: (String, String) = ("x", "y")
)
  throws(DAMError)
{
  try requireFiniteCosts(x, y, cost, names: names)
  if cost.ground == nil, cost.power == 2 {
    try requireTrustworthyEpsilon(
      epsilon, squaredDiameter: boundingBoxSquaredDiameter(x, y), scale: cloudScale)
  } else {
    try requireTrustworthyEpsilon(
      epsilon, squaredDiameter: cost.maximum, scale: "the largest cost between the clouds")
  }
}

/// Throws `numericalFailure` naming the cloud at fault (`names`: how the caller calls `x` and `y`)
/// when the largest cost between the clouds is not finite: atoms so far apart (coordinates near
/// 1e154 and beyond, for the squared Euclidean cost) that a cost overflows. The solvers need the
/// largest cost finite: the ε annealing starts there, and every potential is a difference of costs.
/// The cloud blamed is one whose own largest cost overflows, else (each is fine alone, the two are
/// too far apart) `y`.
func requireFiniteCosts(_ x: PointCloud, _ y: PointCloud, _ cost: CostMatrix, names: (String, String))
  throws(DAMError)
{
  guard !cost.maximum.isFinite else { return }
  let own = { (c: PointCloud) in squaredReach(c.points, c.points).isFinite }
  let blamed = !own(x) ? names.0 : names.1
  let detail =
    own(x) && own(y)
    ? "each cloud's costs are finite, but those between \(names.0) and \(names.1) overflow (their atoms are too far apart)"
    : "its atoms are too far apart: a cost between two of them overflows"
  throw DAMError(
    .numericalFailure, argument: blamed,
    "\(detail) (the largest cost is \(cost.maximum)); move the clouds closer together or rescale the coordinates"
  )
}

/// The smallest ε, as a multiple of a problem's squared diameter `D²`, that the solvers accept.
///
/// The potentials are of size up to `D²` and carry a round-off of about `D² · 1.1e-16`; the Gibbs
/// weights are `exp((f + g - C)/ε)`, so below `1e-14 D²` their exponents are wrong by more than
/// 0.01 (a weight by more than 1%) and, a few orders lower, by more than 1: the marginal error
/// is then no measure of anything, and a solve can stop "converged" on a plan that is not near
/// the optimum (a 4 x 4 grid at ε = 5.5e-20 D² gave a cross term 8% below exact OT, which no
/// entropic value can be). See Docs/reliability.md, "Small ε".
let smallestRelativeEpsilon = 1e-14

/// The largest ε, as a multiple of a problem's squared diameter `D²`, that the solvers accept.
///
/// The potentials are `ε` times logarithms of sums of `exp(-C/ε)`-weighted masses, quantities of
/// size `D²/ε` computed to round-off (about 1e-16), so their absolute error grows like `ε · 1e-16`
/// and at ε near the largest doubles nothing of the value is left (Docs/reliability.md, "Large
/// ε"). Nothing is lost by the
/// limit: `OT_ε(a, b)` lies in `[E_{a⊗b} C - D⁴/(8ε), E_{a⊗b} C]` (the independent coupling above,
/// Hoeffding's lemma on the unconstrained problem below), so at ε = 1e6 D² the Sinkhorn
/// divergence is within `D²/8e6` of its limit as ε grows, `‖m(a) - m(b)‖²` (the squared distance
/// between the means, for the squared Euclidean cost).
let largestRelativeEpsilon = 1e6

/// Throws, naming `epsilon`, when `epsilon > 1e6 · squaredDiameter` (see
/// ``largestRelativeEpsilon``) or `epsilon < 1e-14 · squaredDiameter` (see
/// ``smallestRelativeEpsilon``); `scale` says what the diameter is of. A diameter of 0 (every
/// cost 0) is exempt from the first: the potentials are then 0 at every ε.
func requireTrustworthyEpsilon(_ epsilon: Double, squaredDiameter: Double, scale: String) throws(DAMError) {
  let smallest = smallestRelativeEpsilon * squaredDiameter
  if epsilon < smallest {
    throw DAMError.invalid(
      "epsilon",
      "is \(epsilon), less than 1e-14 times \(scale) (D^2 = \(squaredDiameter)): the potentials, of size up to D^2, carry round-off of about D^2 x 1e-16, which at this epsilon changes the transport plan's weights exp((f + g - C)/epsilon) by more than 1%, so no result could be trusted; use an epsilon >= \(smallest), or rescale the coordinates (or spacing) so that D^2 is closer to epsilon"
    )
  }
  let largest = largestRelativeEpsilon * squaredDiameter
  guard squaredDiameter > 0, epsilon > largest else { return }
  throw DAMError.invalid(
    "epsilon",
    "is \(epsilon), more than 1e6 times \(scale) (D^2 = \(squaredDiameter)): the potentials would carry round-off of about epsilon x 1e-16, so the result could not be trusted; at epsilon = 1e6 D^2 the Sinkhorn divergence is already within D^2/8e6 of its limit for large epsilon (the squared distance between the means), so use an epsilon <= \(largest)"
  )
}

/// The squared diameter of the bounding box of two clouds (of one if both are the same).
func boundingBoxSquaredDiameter(_ x: PointCloud, _ y: PointCloud) -> Double {
  var total = 0.0
  let d = x.dimension
  for t in 0..<d {
    var low = Double.infinity
    var high = -Double.infinity
    for cloud in [x, y] {
      for j in 0..<cloud.count {
        let v = cloud.points.elements[j * d + t]
        low = min(low, v)
        high = max(high, v)
      }
    }
    total += (high - low) * (high - low)
  }
  return total
}

let cloudScale = "the squared diameter of the clouds' bounding box"

/// The largest `n m` for which the kernel (scaling-domain) solver is used: its kernel is an `n x m`
/// matrix of doubles next to the cost (2 x 256 MiB at the limit). Larger problems run in the log
/// domain.
let kernelSizeLimit = 1 << 25

func usesKernel(_ cost: CostMatrix, _ options: SinkhornOptions) -> Bool {
  switch options.backend {
  case .automatic: cost.rows * cost.columns <= kernelSizeLimit
  case .kernel: true
  case .logDomain: false
  }
}

/// The backstop of every dense solve (the entry points name the cloud first, see
/// ``requireFiniteCosts(_:_:_:names:)``): a cost that overflows would start the ε annealing at
/// infinity.
func requireFiniteMaximum(_ cost: CostMatrix) throws(DAMError) {
  guard cost.maximum.isFinite else {
    throw DAMError(
      .numericalFailure, argument: "points",
      "a cost between two atoms overflows (the largest cost is \(cost.maximum)); the atoms are too far apart: rescale the coordinates"
    )
  }
}

/// Solves `OT_ε` on a dense cost: in the scaling domain on a stabilised kernel when it fits
/// (``kernelSizeLimit``), else in the log domain, both by the one loop (``SinkhornLoop``), which
/// polishes slow solves with Newton's method. Both domains stop at the same marginal error; a
/// scaling-domain solve that underflows is redone in the log domain, iterations added up.
func solveTransport(
  _ cost: CostMatrix, _ a: [Double], _ b: [Double], _ options: SinkhornOptions,
  _ warmStart: (f: [Double], g: [Double])?
) throws(DAMError) -> EntropicTransport {
  let (n, m) = (cost.rows, cost.columns)
  try requireFiniteMaximum(cost)
  if let warmStart {
    try checkWarmStart(
      [warmStart.f, warmStart.g], expected: [n, m],
      described: "the clouds have \(n) and \(m) atoms", epsilon: options.epsilon, what: "Sinkhorn")
  }
  let loop = SinkhornLoop(
    options: options, schedule: annealingSchedule(from: cost.maximum, options),
    newton: NewtonProblem(cost: cost, a: a, b: b))
  func logDomain() throws(DAMError) -> SinkhornRun {
    let kernel = DenseSoftmin(cost)
    return try loop.solve(warmStart: warmStart) { start, epsilon in
      LogScheme(kernel, a: a, b: b, start: start, epsilon: epsilon, what: "Sinkhorn")
    }
  }
  let run = try scalingOrLog(
    usesKernel: usesKernel(cost, options),
    scaling: { () throws(DAMError) in
      try loop.solve(warmStart: warmStart) { start, epsilon throws(DAMError) in
        try KernelScheme(cost, a: a, b: b, start: start, epsilon: epsilon)
      }
    }, log: logDomain)
  return try run.transport(a, b, options, what: "Sinkhorn")
}

/// Solves the symmetric `OT_ε(x, x)` (not annealed: the averaged update converges in a few
/// iterations from zero potentials at every ε, 16-17 at n = 1024, d = 2, against 27-33 with
/// annealing); see ``solveTransport(_:_:_:_:_:)``.
func solveSelfTransport(_ cost: CostMatrix, _ a: [Double], _ options: SinkhornOptions, _ warmStart: [Double]?)
  throws(DAMError) -> SelfTransport
{
  try requireFiniteMaximum(cost)
  if let warmStart {
    try checkWarmStart(
      [warmStart], expected: [cost.rows], described: "the cloud has \(cost.rows) atoms",
      epsilon: options.epsilon, what: "Sinkhorn")
  }
  let loop = SinkhornLoop(options: options, schedule: [], newton: nil)
  let start = warmStart.map { (f: $0, g: $0) }
  func logDomain() throws(DAMError) -> SinkhornRun {
    let kernel = DenseSoftmin(cost, symmetric: true)
    return try loop.solve(warmStart: start) { start, epsilon in
      LogSelfScheme(kernel, a: a, start: start?.f, epsilon: epsilon, what: "Sinkhorn")
    }
  }
  let run = try scalingOrLog(
    usesKernel: usesKernel(cost, options),
    scaling: { () throws(DAMError) in
      try loop.solve(warmStart: start) { start, epsilon throws(DAMError) in
        try KernelSelfScheme(cost, a: a, start: start?.f, epsilon: epsilon)
      }
    }, log: logDomain)
  return try run.selfTransport(a, options, what: "Sinkhorn")
}

/// `T(xⱼ) = Σₖ softmaxₖ(log bₖ + (gₖ - Cⱼₖ)/ε) yₖ`.
func mapFromPotential(_ cost: CostMatrix, _ y: PointCloud, epsilon: Double, logB: [Double], g: [Double])
  -> Matrix
{
  let d = y.dimension
  var result = [Double](repeating: 0, count: cost.rows * d)
  forEachCouplingRow(cost, epsilon: epsilon, logB: logB, g: g) { j, line in
    for k in 0..<cost.columns where line[k] > 0 {
      for t in 0..<d { result[j * d + t] += line[k] * y.points[k, t] }
    }
  }
  return Matrix(_rows: cost.rows, columns: d, elements: result)
}

/// `∇f(xⱼ) = Σₖ softmaxₖ(log bₖ + (gₖ - Cⱼₖ)/ε) ∇ₓc(xⱼ, yₖ)`.
func gradientFromPotential(
  _ ground: any Cost, _ cost: CostMatrix, _ x: PointCloud, _ y: PointCloud, epsilon: Double, logB: [Double],
  g: [Double]
) -> Matrix {
  let d = y.dimension
  var result = [Double](repeating: 0, count: cost.rows * d)
  var gradient = [Double](repeating: 0, count: d)
  x.points._elements.withUnsafeBufferPointer { px in
    y.points._elements.withUnsafeBufferPointer { py in
      gradient.withUnsafeMutableBufferPointer { gradient in
        forEachCouplingRow(cost, epsilon: epsilon, logB: logB, g: g) { j, line in
          let xj = UnsafeBufferPointer(rebasing: px[(j * d)..<((j + 1) * d)])
          for k in 0..<cost.columns where line[k] > 0 {
            ground.gradient(xj, UnsafeBufferPointer(rebasing: py[(k * d)..<((k + 1) * d)]), into: gradient)
            for t in 0..<d { result[j * d + t] += line[k] * gradient[t] }
          }
        }
      }
    }
  }
  return Matrix(_rows: cost.rows, columns: d, elements: result)
}

/// Calls `body(j, w)` for every row `j` with `w[k] = softmaxₖ(log bₖ + (gₖ - Cⱼₖ)/ε)`, the
/// conditional distribution of the coupling given `xⱼ` (`m` entries, valid during the call):
/// rows a block at a time, the cost, the exponents, one vectorised exp over the block.
func forEachCouplingRow(
  _ cost: CostMatrix, epsilon: Double, logB: [Double], g: [Double],
  _ body: (Int, UnsafeMutablePointer<Double>) -> Void
) {
  forEachCouplingRow(cost, epsilon: epsilon, logB: logB, g: g, logarithms: false) { j, line, _ in
    body(j, line)
  }
}

/// ``forEachCouplingRow(_:epsilon:logB:g:_:)``, with `logarithms` also `log w[k]` (from the
/// exponents, no logarithm per entry; `-∞` where `bₖ = 0`) as the third argument, else `nil`.
func forEachCouplingRow(
  _ cost: CostMatrix, epsilon: Double, logB: [Double], g: [Double], logarithms: Bool,
  _ body: (Int, UnsafeMutablePointer<Double>, UnsafePointer<Double>?) -> Void
) {
  let n = cost.rows
  let m = cost.columns
  let blockRows = max(1, min(n, 4096 / max(m, 1)))
  var block = [Double](repeating: 0, count: blockRows * m)
  var logBlock = [Double](repeating: 0, count: logarithms ? blockRows * m : 0)
  let inverse = 1 / epsilon
  block.withUnsafeMutableBufferPointer { buffer in
    logBlock.withUnsafeMutableBufferPointer { logBuffer in
      let h = buffer.baseAddress!
      // An empty array's buffer may still have an address (the shared empty storage).
      let logs = logarithms ? logBuffer.baseAddress : nil
      var start = 0
      while start < n {
        let rows = min(blockRows, n - start)
        cost.fill(rows: start..<(start + rows), into: h)
        for r in 0..<rows {
          let line = h + r * m
          var largest = -Double.infinity
          for k in 0..<m {
            let value = logB[k] + (g[k] - line[k]) * inverse
            line[k] = value
            if value > largest { largest = value }
          }
          for k in 0..<m { line[k] -= largest }
          if let logs { (logs + r * m).update(from: line, count: m) }
        }
        _expInPlace(h, count: rows * m)
        for r in 0..<rows {
          let line = h + r * m
          var sum = 0.0
          for k in 0..<m { sum += line[k] }
          let scale = 1 / sum
          for k in 0..<m { line[k] *= scale }
          if let logs {
            let logSum = _log(sum)
            for k in 0..<m { logs[r * m + k] -= logSum }
          }
          body(start + r, line, logs.map { UnsafePointer($0 + r * m) })
        }
        start += rows
      }
    }
  }
}

/// `KL(π | a ⊗ b) = Σⱼₖ πⱼₖ log(πⱼₖ / (aⱼ bₖ))` for the coupling `πⱼₖ = aⱼ w[k]` with the conditional
/// laws `w` of ``forEachCouplingRow(_:epsilon:logB:g:_:)``: its first marginal is `a` exactly, and at
/// the optimum it is the optimal coupling, so this is `∂OT_ε/∂ε` there (the envelope theorem on
/// `min ⟨C, π⟩ + ε KL(π | a ⊗ b)`). Atoms of weight zero contribute nothing.
func relativeEntropyFromPotential(
  _ cost: CostMatrix, a: [Double], epsilon: Double, logB: [Double], g: [Double]
) -> Double {
  var total = 0.0
  forEachCouplingRow(cost, epsilon: epsilon, logB: logB, g: g, logarithms: true) { j, line, logs in
    guard a[j] > 0, let logs else { return }
    var row = 0.0
    for k in 0..<cost.columns where line[k] > 0 { row += line[k] * (logs[k] - logB[k]) }
    total += a[j] * row
  }
  return total
}
