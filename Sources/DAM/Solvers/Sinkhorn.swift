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
  ///   - options: ε, the tolerance, the backend and the other solver settings.
  ///   - warmStart: potentials `(f, g)` from a nearby problem (the previous retrieval step, say);
  ///     the solve then starts at the target ε without annealing.
  /// - Throws: ``DAMError`` if the clouds' dimensions differ, ε is more than 1e6 times the squared
  ///   diameter of their bounding box (the potentials would carry round-off of about `ε · 1e-16`;
  ///   ``selfTransport(_:options:warmStart:)`` uses the cloud's own box), a warm start has the
  ///   wrong size, a non-finite value appears, or the solve does not converge and
  ///   `allowsUnconverged` is false.
  public static func transport(
    from x: PointCloud, to y: PointCloud, options: SinkhornOptions,
    warmStart: (f: [Double], g: [Double])? = nil
  ) throws(DAMError) -> EntropicTransport {
    try _checkDimensions(x, y)
    try _requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: _boundingBoxSquaredDiameter(x, y), scale: _cloudScale)
    let cost = _CostMatrix(x.points, y.points)
    return try _transport(cost, x.weights, y.weights, options, warmStart)
  }

  /// Solves the symmetric problem `OT_ε(x, x)`.
  public static func selfTransport(_ x: PointCloud, options: SinkhornOptions, warmStart: [Double]? = nil)
    throws(DAMError) -> SelfTransport
  {
    try _requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: _boundingBoxSquaredDiameter(x, x), scale: _cloudScale)
    return try _selfTransport(_CostMatrix(x.points, x.points), x.weights, options, warmStart)
  }

  /// The debiased Sinkhorn divergence `S_ε(x, y)`.
  ///
  /// - Throws: ``DAMError`` as ``transport(from:to:options:warmStart:)`` does; ε above 1e6 times
  ///   the squared diameter of the two clouds' bounding box is refused (naming `epsilon`): the
  ///   potentials would carry round-off of about `ε · 1e-16`, while the divergence there is
  ///   already within `D²/8e6` of its limit for large ε, the squared distance between the means.
  public static func divergence(_ x: PointCloud, _ y: PointCloud, options: SinkhornOptions)
    throws(DAMError) -> SinkhornDivergenceValue
  {
    try _checkDimensions(x, y)
    try _requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: _boundingBoxSquaredDiameter(x, y), scale: _cloudScale)
    return SinkhornDivergenceValue(
      crossTerm: try _transport(_CostMatrix(x.points, y.points), x.weights, y.weights, options, nil),
      firstSelfTerm: try _selfTransport(_CostMatrix(x.points, x.points), x.weights, options, nil),
      secondSelfTerm: try _selfTransport(_CostMatrix(y.points, y.points), y.weights, options, nil))
  }

  /// The barycentric projection of the optimal coupling: `T(xⱼ) = Σₖ πⱼₖ yₖ / Σₖ πⱼₖ`, the
  /// average destination of the mass at `xⱼ` (equal to `Σₖ πⱼₖ yₖ / aⱼ` at convergence). One row
  /// per atom of `x`.
  public static func barycentricMap(from x: PointCloud, to y: PointCloud, transport: EntropicTransport)
    throws(DAMError) -> Matrix
  {
    try _checkDimensions(x, y)
    guard transport.f.count == x.count, transport.g.count == y.count else {
      throw DAMError.mismatch("transport", "its potentials do not fit these clouds")
    }
    let cost = _CostMatrix(x.points, y.points)
    return _barycentricMap(cost, y, transport.epsilon, y.weights.map(_log), transport.g)
  }
}

func _checkDimensions(_ x: PointCloud, _ y: PointCloud) throws(DAMError) {
  guard x.dimension == y.dimension else {
    throw DAMError.mismatch("y", "has atoms of dimension \(y.dimension), x has \(x.dimension)")
  }
}

/// The largest ε, as a multiple of a problem's squared diameter `D²`, that the solvers accept.
///
/// The potentials are `ε` times logarithms of sums of `exp(-C/ε)`-weighted masses, quantities of
/// size `D²/ε` computed to round-off (about 1e-16), so their absolute error grows like `ε · 1e-16`
/// (measured on an 8 x 8 grid, D² = 98: 17.1399999965 instead of 17.1400000011 at ε = 1e8, about
/// `0.2 ε · 2.2e-16` off). At ε = 1e300 the values were `0` or `±1e284`. Nothing is lost by the
/// limit: `OT_ε(a, b)` lies in `[E_{a⊗b} C - D⁴/(8ε), E_{a⊗b} C]` (the independent coupling above,
/// Hoeffding's lemma on the unconstrained problem below), so at ε = 1e6 D² the Sinkhorn
/// divergence is within `D²/8e6` of its limit as ε grows, `‖m(a) - m(b)‖²` (the squared distance
/// between the means, for the squared Euclidean cost).
let _largestRelativeEpsilon = 1e6

/// Throws, naming `epsilon`, when `epsilon > 1e6 · squaredDiameter` (see
/// ``_largestRelativeEpsilon``); `scale` says what the diameter is of. A diameter of 0 (every
/// cost 0) is exempt: the potentials are then 0 at every ε.
func _requireTrustworthyEpsilon(_ epsilon: Double, squaredDiameter: Double, scale: String) throws(DAMError) {
  let largest = _largestRelativeEpsilon * squaredDiameter
  guard squaredDiameter > 0, epsilon > largest else { return }
  throw DAMError.invalid(
    "epsilon",
    "is \(epsilon), more than 1e6 times \(scale) (D^2 = \(squaredDiameter)): the potentials would carry round-off of about epsilon x 1e-16, so the result could not be trusted; at epsilon = 1e6 D^2 the Sinkhorn divergence is already within D^2/8e6 of its limit for large epsilon (the squared distance between the means), so use an epsilon <= \(largest)"
  )
}

/// The squared diameter of the bounding box of two clouds (of one if both are the same).
func _boundingBoxSquaredDiameter(_ x: PointCloud, _ y: PointCloud) -> Double {
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

let _cloudScale = "the squared diameter of the clouds' bounding box"

/// The largest `n m` for which the kernel (scaling-domain) solver is used: its kernel is an `n x m`
/// matrix of doubles next to the cost (2 x 256 MiB at the limit). Larger problems run in the log
/// domain.
let _kernelSizeLimit = 1 << 25

func _usesKernel(_ cost: _CostMatrix, _ options: SinkhornOptions) -> Bool {
  switch options.backend {
  case .automatic: cost.rows * cost.columns <= _kernelSizeLimit
  case .kernel: true
  case .logDomain: false
  }
}

/// Solves `OT_ε` on a dense cost: in the scaling domain on a stabilised kernel when it fits
/// (``_kernelSizeLimit``), else in the log domain, both by the one loop (``_SinkhornLoop``), which
/// polishes slow solves with Newton's method. Both domains stop at the same marginal error; a
/// scaling-domain solve that underflows is redone in the log domain, iterations added up.
func _transport(
  _ cost: _CostMatrix, _ a: [Double], _ b: [Double], _ options: SinkhornOptions,
  _ warmStart: (f: [Double], g: [Double])?
) throws(DAMError) -> EntropicTransport {
  let (n, m) = (cost.rows, cost.columns)
  if let warmStart {
    try _checkWarmStart(
      [warmStart.f.count, warmStart.g.count], [warmStart.f, warmStart.g], expected: [n, m],
      described: "the clouds have \(n) and \(m) atoms", epsilon: options.epsilon, what: "Sinkhorn")
  }
  let loop = _SinkhornLoop(
    options: options, schedule: _annealingSchedule(from: cost.maximum, options),
    newton: _NewtonProblem(cost: cost, a: a, b: b))
  func logDomain() throws(DAMError) -> _SinkhornRun {
    let kernel = _DenseSoftmin(cost)
    return try loop.solve(warmStart: warmStart) { start, epsilon in
      _LogScheme(kernel, a: a, b: b, start: start, epsilon: epsilon, what: "Sinkhorn")
    }
  }
  var run: _SinkhornRun
  if _usesKernel(cost, options) {
    run = try loop.solve(warmStart: warmStart) { start, epsilon throws(DAMError) in
      try _KernelScheme(cost, a: a, b: b, start: start, epsilon: epsilon)
    }
    if run.underflowed { run = try logDomain().adding(run) }
  } else {
    run = try logDomain()
  }
  return try run.transport(a, b, options, what: "Sinkhorn")
}

/// Solves the symmetric `OT_ε(x, x)` (not annealed: the averaged update converges in a few
/// iterations from zero potentials at every ε, 16-17 at n = 1024, d = 2, against 27-33 with
/// annealing); see ``_transport(_:_:_:_:_:)``.
func _selfTransport(_ cost: _CostMatrix, _ a: [Double], _ options: SinkhornOptions, _ warmStart: [Double]?)
  throws(DAMError) -> SelfTransport
{
  if let warmStart {
    try _checkWarmStart(
      [warmStart.count], [warmStart], expected: [cost.rows], described: "the cloud has \(cost.rows) atoms",
      epsilon: options.epsilon, what: "Sinkhorn")
  }
  let loop = _SinkhornLoop(options: options, schedule: [], newton: nil)
  let start = warmStart.map { (f: $0, g: $0) }
  func logDomain() throws(DAMError) -> _SinkhornRun {
    let kernel = _DenseSoftmin(cost, symmetric: true)
    return try loop.solve(warmStart: start) { start, epsilon in
      _LogSelfScheme(kernel, a: a, start: start?.f, epsilon: epsilon, what: "Sinkhorn")
    }
  }
  var run: _SinkhornRun
  if _usesKernel(cost, options) {
    run = try loop.solve(warmStart: start) { start, epsilon throws(DAMError) in
      try _KernelSelfScheme(cost, a: a, start: start?.f, epsilon: epsilon)
    }
    if run.underflowed { run = try logDomain().adding(run) }
  } else {
    run = try logDomain()
  }
  return try run.selfTransport(a, options, what: "Sinkhorn")
}

/// `T(xⱼ) = Σₖ softmaxₖ(log bₖ + (gₖ - Cⱼₖ)/ε) yₖ`.
func _barycentricMap(_ cost: _CostMatrix, _ y: PointCloud, _ epsilon: Double, _ logB: [Double], _ g: [Double])
  -> Matrix
{
  let n = cost.rows
  let m = cost.columns
  let d = y.dimension
  var result = [Double](repeating: 0, count: n * d)
  // Rows a block at a time: costs, the exponents, one vectorised exp over the block.
  let blockRows = max(1, min(n, 4096 / max(m, 1)))
  var block = [Double](repeating: 0, count: blockRows * m)
  let inverse = 1 / epsilon
  block.withUnsafeMutableBufferPointer { buffer in
    let h = buffer.baseAddress!
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
      }
      _expInPlace(h, count: rows * m)
      for r in 0..<rows {
        let line = h + r * m
        let j = start + r
        var sum = 0.0
        for k in 0..<m { sum += line[k] }
        let scale = 1 / sum
        for k in 0..<m where line[k] > 0 {
          let w = line[k] * scale
          for t in 0..<d { result[j * d + t] += w * y.points[k, t] }
        }
      }
      start += rows
    }
  }
  return Matrix(_rows: n, columns: d, elements: result)
}
