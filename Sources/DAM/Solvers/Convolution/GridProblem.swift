/// A grid (as 3-D, leading axes of size 1 added) and its kernels.
struct GridProblem: Sendable {
  let shape3: [Int]
  let spacing3: [Double]
  let cells: Int
  /// `Σₐ (hₐ (nₐ - 1))²`, the largest cost on the grid.
  let squaredDiameter: Double

  init(_ histogram: GridHistogram) {
    self.init(shape: histogram.shape, spacing: histogram.spacing)
  }

  init(shape: [Int], spacing: [Double]) {
    let missing = 3 - shape.count
    shape3 = [Int](repeating: 1, count: missing) + shape
    spacing3 = [Double](repeating: 1, count: missing) + spacing
    cells = shape.reduce(1, *)
    var d2 = 0.0
    for axis in 0..<3 {
      let extent = spacing3[axis] * Double(shape3[axis] - 1)
      d2 += extent * extent
    }
    squaredDiameter = d2
  }

  /// Throws unless the kernels `backend` builds fit ``ResourceLimits/current``: every backend but
  /// the FFT keeps, per axis, the `n x n` matrix of the 1-D kernel (the log-domain one, and the
  /// scaled one again for ``GridKernelBackend/separableKernel``, which ``GridKernelBackend/automatic``
  /// may choose at the larger ε of an annealing). A 1-D grid of 300,000 cells would need 720 GB.
  func requireKernelsFit(_ backend: GridKernelBackend) throws(DAMError) {
    guard backend != .fft else { return }
    var doubles = 0
    for n in shape3 {
      let (square, overflow) = n.multipliedReportingOverflow(by: n)
      let (sum, overflowSum) = doubles.addingReportingOverflow(square)
      guard !overflow, !overflowSum else {
        doubles = Int.max
        break
      }
      doubles = sum
    }
    let copies = backend == .logDomain ? 1 : 2
    let largest = shape3.max() ?? 1
    try ResourceLimits.current.check(
      bytes: ResourceLimits.bytes([doubles, copies], elementSize: MemoryLayout<Double>.stride),
      for: "backend",
      "the kernel of a grid of \(cells) cells (its 1-D kernel matrices, \(largest) x \(largest) on the longest axis)",
      remedy: GridKernelBackend.isFFTAvailable
        ? "use the FFT backend, whose memory is O(cells), or a coarser grid" : "use a coarser grid")
  }

  /// The kernel at `epsilon` (from the cache, or built). Under a work budget, building the
  /// kernel of a grid with an axis of at least 256 cells polls the time limit (see
  /// ``pollingBudget()``), and a construction that gave up throws the budget's error.
  func kernel(_ epsilon: Double, _ backend: GridKernelBackend) throws(DAMError) -> GridKernel {
    let budget = pollingBudget()
    let kernel = GridKernelCache.kernel(
      shape3: shape3, spacing3: spacing3, epsilon: epsilon,
      backend: backend.resolved(epsilon: epsilon, squaredDiameter: squaredDiameter), budget: budget)
    if !kernel.complete {
      let axes = shape3.filter { $0 > 1 }
      let grid =
        axes.count > 1
        ? "a \(axes.map(String.init).joined(separator: " x ")) grid (\(cells) cells)"
        : "a grid of \(cells) cells"
      try budgetRanOut(budget, "building the kernel of \(grid) at epsilon \(epsilon)")
    }
    return kernel
  }

  /// The work budget that the kernels' construction and the log-domain passes poll: bound, and
  /// the grid has an axis of at least 256 cells, whose 1-D kernel (`n²` exponentials) or line
  /// passes (`n²` terms per line) are long enough that a clock read every `2^14` terms costs
  /// nothing; nil otherwise.
  func pollingBudget() -> WorkBudget? {
    (shape3.max() ?? 1) >= 256 ? currentBudget() : nil
  }

  /// Throws the budget's error after work that gave up once its time limit had passed, naming
  /// `activity`.
  func budgetRanOut(_ budget: WorkBudget?, _ activity: @autoclosure () -> String) throws(DAMError) -> Never {
    try budget?.check(iterations: 0, activity)
    // Unreachable: work gives up only once the time limit has passed, so the check throws.
    throw DAMError(.budgetExceeded, argument: "timeLimit", "the time limit ran out, in \(activity())")
  }

  func transport(
    _ a: [Double], _ b: [Double], _ options: GridSinkhornOptions, _ warmStart: (f: [Double], g: [Double])?
  ) throws(DAMError) -> EntropicTransport {
    // `backend` is a variable: options made with another backend may have been changed since.
    try options.backend.checkAvailable()
    try requireKernelsFit(options.backend)
    try requireTrustworthyEpsilon(options.epsilon, squaredDiameter: squaredDiameter, scale: gridScale)
    if let warmStart {
      try checkWarmStart(
        [warmStart.f, warmStart.g], expected: [cells, cells],
        described: "the grid has \(cells) cells", epsilon: options.epsilon, what: "grid Sinkhorn")
    }
    // No Newton's method on the convolutions: the dense fallback has it.
    let loop = SinkhornLoop(
      options: options, schedule: annealingSchedule(from: squaredDiameter, options), newton: nil)
    let kernel = GridSoftmin(self, backend: options.backend)
    let run = try loop.solve(warmStart: warmStart) { start, epsilon in
      LogScheme(kernel, a: a, b: b, start: start, epsilon: epsilon, what: "grid Sinkhorn")
    }
    if !run.converged, !options.allowsUnconverged,
      let dense = try denseTransport(a, b, options, iterations: run.iterations)
    {
      return dense
    }
    return try run.transport(a, b, options, what: "grid Sinkhorn")
  }

  func selfTransport(_ a: [Double], _ options: GridSinkhornOptions, _ warmStart: [Double]?) throws(DAMError)
    -> SelfTransport
  {
    try options.backend.checkAvailable()
    try requireKernelsFit(options.backend)
    try requireTrustworthyEpsilon(options.epsilon, squaredDiameter: squaredDiameter, scale: gridScale)
    if let warmStart {
      try checkWarmStart(
        [warmStart], expected: [cells], described: "the grid has \(cells) cells",
        epsilon: options.epsilon, what: "grid Sinkhorn")
    }
    // Unlike the point-cloud self problem, the grid's is annealed.
    let loop = SinkhornLoop(
      options: options, schedule: annealingSchedule(from: squaredDiameter, options), newton: nil)
    let kernel = GridSoftmin(self, backend: options.backend)
    let run = try loop.solve(warmStart: warmStart.map { (f: $0, g: $0) }) { start, epsilon in
      LogSelfScheme(kernel, a: a, start: start?.f, epsilon: epsilon, what: "grid Sinkhorn")
    }
    if !run.converged, !options.allowsUnconverged,
      let dense = try denseSelfTransport(a, options, iterations: run.iterations)
    {
      return dense
    }
    return try run.selfTransport(a, options, what: "grid Sinkhorn")
  }
}

// MARK: The dense fallback at small ε

/// The largest support (cells of positive mass, both histograms together) solved densely when
/// the convolutional iterations cannot reach the tolerance: the dense solver's Newton polish
/// (``newtonSizeLimit``) is what converges at small ε. Kept at the 3000 cells the fallback was
/// measured and documented with (Docs/reliability.md), below the point-cloud limit.
let gridDenseSupportLimit = 3000

extension GridProblem {
  /// The cells of positive mass, their centres (row-major, spacing applied) and masses.
  func support(_ masses: [Double]) -> (cells: [Int], points: Matrix, weights: [Double]) {
    var cells: [Int] = []
    var points: [Double] = []
    var weights: [Double] = []
    for (cell, mass) in masses.enumerated() where mass > 0 {
      cells.append(cell)
      weights.append(mass)
      points += centre(cell)
    }
    return (cells, Matrix(_rows: cells.count, columns: 3, elements: points), weights)
  }

  /// The centre of `cell` in 3-D (leading axes of size 1 at 0).
  func centre(_ cell: Int) -> [Double] {
    let (n1, n2) = (shape3[1], shape3[2])
    return [
      Double(cell / (n1 * n2)) * spacing3[0], Double((cell / n2) % n1) * spacing3[1],
      Double(cell % n2) * spacing3[2],
    ]
  }

  /// Every cell's centre.
  var centres: Matrix {
    Matrix(_rows: cells, columns: 3, elements: (0..<cells).flatMap(centre))
  }

  /// The dense solver's settings for the grid's.
  func denseOptions(_ options: GridSinkhornOptions) -> SinkhornOptions {
    options.with(backend: SinkhornBackend.automatic)
  }

  /// `OT_ε(a, b)` by the dense point-cloud solver (with Newton's method) on the cells of positive
  /// mass, when the supports are small enough (``gridDenseSupportLimit``); `nil` otherwise. The
  /// potentials on the other cells are the soft-minimum formulas of the solution (`f` from `g`,
  /// `g` from `f`), as the convolutional iterations define them.
  func denseTransport(_ a: [Double], _ b: [Double], _ options: GridSinkhornOptions, iterations: Int)
    throws(DAMError) -> EntropicTransport?
  {
    let (x, y) = (support(a), support(b))
    guard x.cells.count + y.cells.count <= gridDenseSupportLimit else { return nil }
    let solved = try solveTransport(
      CostMatrix(x.points, y.points), x.weights, y.weights, denseOptions(options), nil)
    let all = centres
    var f = [Double](repeating: 0, count: cells)
    var g = [Double](repeating: 0, count: cells)
    cTransform(
      CostMatrix(all, y.points), epsilon: options.epsilon, logWeights: y.weights.map(_log),
      potential: solved.g, into: &f)
    cTransform(
      CostMatrix(all, x.points), epsilon: options.epsilon, logWeights: x.weights.map(_log),
      potential: solved.f, into: &g)
    for (index, cell) in x.cells.enumerated() { f[cell] = solved.f[index] }
    for (index, cell) in y.cells.enumerated() { g[cell] = solved.g[index] }
    return EntropicTransport(
      epsilon: solved.epsilon, value: solved.value, f: f, g: g, iterations: iterations + solved.iterations,
      newtonSteps: solved.newtonSteps, marginalError: solved.marginalError, converged: solved.converged)
  }

  /// `OT_ε(a, a)` by the dense solver on the cells of positive mass; see
  /// ``denseTransport(_:_:_:iterations:)``.
  func denseSelfTransport(_ a: [Double], _ options: GridSinkhornOptions, iterations: Int)
    throws(DAMError) -> SelfTransport?
  {
    let x = support(a)
    guard 2 * x.cells.count <= gridDenseSupportLimit else { return nil }
    let solved = try solveSelfTransport(CostMatrix(x.points, x.points), x.weights, denseOptions(options), nil)
    var p = [Double](repeating: 0, count: cells)
    cTransform(
      CostMatrix(centres, x.points), epsilon: options.epsilon, logWeights: x.weights.map(_log),
      potential: solved.potential, into: &p)
    for (index, cell) in x.cells.enumerated() { p[cell] = solved.potential[index] }
    return SelfTransport(
      epsilon: solved.epsilon, value: solved.value, potential: p, iterations: iterations + solved.iterations,
      marginalError: solved.marginalError, converged: solved.converged)
  }
}
