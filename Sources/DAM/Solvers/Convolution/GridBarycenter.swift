/// An entropic Wasserstein barycenter of histograms on one grid; see
/// ``GridSinkhorn/barycenter(of:weights:options:debiased:)``.
public struct GridBarycenter: Sendable, Hashable {
  /// The barycenter, renormalised to total mass 1.
  public let histogram: GridHistogram
  /// Iterations performed (each updates every coupling once).
  public let iterations: Int
  /// `Σᵢ λᵢ ‖πᵢ 1 - bᵢ‖₁`, the weighted L1 error of the input-side marginals before the last
  /// input-side update.
  public let marginalError: Double
  /// `Σⱼ stdᵢ (πᵢᵀ 1)ⱼ`, the spread (population standard deviation over the inputs, summed over
  /// the cells) of the barycenter-side marginals of the returned couplings, whose input-side
  /// marginals are exact: the quantity POT's `convolutional_barycenter2d` compares with its
  /// `stopThr`.
  public let spread: Double
  /// For the debiased barycenter, `‖d ⊙ K d - x‖₁`, how far the debiasing vector `d` is from
  /// solving its equation for the returned (unnormalised) barycenter `x`; 0 for the classic one.
  public let debiasingError: Double
  /// Whether ``marginalError``, ``spread`` and ``debiasingError`` all met the tolerance.
  public let converged: Bool
  /// Whether this is the debiased barycenter of Janati et al. (2020).
  public let debiased: Bool
  /// The kernel backend the iterations ran on (``GridKernelBackend/logDomain`` when the
  /// ``GridKernelBackend/separableKernel`` iterations underflowed and were redone).
  public let backend: GridKernelBackend
}

extension GridSinkhorn {
  /// The entropic Wasserstein barycenter of `histograms` with `weights` (uniform when `nil`).
  ///
  /// - The classic barycenter (`debiased == false`) is that of Benamou et al. (2015) by iterative
  ///   Bregman projections: the minimiser over `x` of `Σᵢ λᵢ min over πᵢ of (⟨C, πᵢ⟩ + ε KL(πᵢ | K))`
  ///   with the Gibbs kernel `K` as reference, as POT's `convolutional_barycenter2d` computes it
  ///   (without its `1e-30` stabiliser). It is blurred by about ε.
  /// - The debiased barycenter (`debiased == true`) is that of Janati, Cuturi and Gramfort (2020),
  ///   "Debiased Sinkhorn barycenters": the barycenter step is multiplied by a debiasing vector
  ///   `d` solving `d ⊙ K d = x` (the symmetric scaling of the barycenter with itself), which
  ///   removes the blur: the debiased barycenter of identical inputs is that input, of translates
  ///   of one shape the mean translate. As in POT's `convolutional_barycenter2d_debiased`, `d` is
  ///   updated ten times per iteration, `d ← (d ⊙ x / K d)^½`, after `x` is formed with the
  ///   previous `d`. Its fixed points are the stationary points of `Σᵢ λᵢ S_ε(bᵢ, x)`, `S_ε` the
  ///   Sinkhorn divergence. It reproduces the closed forms (identical inputs to 6e-8 of the peak,
  ///   translates of a blob to 4e-7 in L1) and an independent dense reference of the fixed point,
  ///   which POT's `convolutional_barycenter2d_debiased` also meets, to 3.5e-9 of the peak at
  ///   tolerance 1e-12 (GridSeparableKernelTests). When ε is large against the inputs' features the
  ///   fixed point can lie on the boundary of the simplex: cells of the iterate tend to 0 (below
  ///   1e-50 within a few thousand iterations) and the rest drifts ever more slowly; the iterations
  ///   then do not converge (``GridBarycenter/debiasingError`` stays above the tolerance), and
  ///   POT's, run as long, do not either (Docs/grids.md).
  ///
  /// Each iteration updates the input-side scalings `Uᵢ = bᵢ / K Vᵢ`, then the barycenter
  /// `x = d ⊙ Πᵢ (K Uᵢ)^λᵢ` (`d = 1` for the classic one) and `Vᵢ = x / K Uᵢ`. The iterations stop
  /// when both the weighted L1 error of the input-side marginals, `Σᵢ λᵢ ‖πᵢ 1 - bᵢ‖₁`, and the
  /// spread of the barycenter-side marginals (``GridBarycenter/spread``, POT's stopping quantity,
  /// which POT checks every tenth iteration) are at most `options.tolerance`, and for the debiased
  /// barycenter also ``GridBarycenter/debiasingError`` (without it, identical inputs would stop
  /// after one iteration: their marginals agree before `d` has converged; POT instead always runs
  /// at least 20 iterations). The barycenter
  /// returned is then formed from the final scalings, as POT returns it. The tolerance bounds these
  /// residuals, not the distance to the fixed point, which is about the residual divided by one
  /// minus the contraction rate of the iterations (3.5e-9 of the peak at tolerance 1e-12 on the
  /// slowest fixture case).
  ///
  /// With ``GridKernelBackend/separableKernel`` (which ``GridKernelBackend/automatic`` chooses for
  /// `ε ≥ 0.001 D²`) the iterations run on the scalings themselves, as POT's do, with BLAS matrix
  /// products; should a convolution underflow (outputs below `1e-282` of the largest input) they
  /// are redone from the start in the log domain, which cannot underflow. The other backends run
  /// in the log domain throughout. `options.epsilonScaling` is not used.
  ///
  /// Iterations that cannot reach the tolerance within `options.maxIterations` stop early, as
  /// Sinkhorn's do (the largest of the three errors is watched; see the early stop of
  /// ``Sinkhorn``), unless `options.allowsUnconverged` is set.
  ///
  /// - Throws: ``DAMError`` naming `histograms` (empty, or different grids), `weights` (wrong
  ///   count, negative, not summing to 1), `epsilon` (above 1e6 times the grid's squared
  ///   diameter, as for ``GridSinkhorn``; a non-finite value, or stopped early as
  ///   hopeless; `tolerance` when the tolerance is 0) or `maxIterations` (not converged within
  ///   them), unless unconverged results are allowed; `backend` when it is
  ///   ``GridKernelBackend/fft`` in a build without the `FFTW` trait.
  public static func barycenter(
    of histograms: [GridHistogram], weights: [Double]? = nil, options: GridSinkhornOptions,
    debiased: Bool = false
  ) throws(DAMError) -> GridBarycenter {
    try options.backend.checkAvailable()
    guard let first = histograms.first else { throw DAMError.invalid("histograms", "is empty") }
    for (i, h) in histograms.enumerated().dropFirst() {
      try checkSameGrid(first, h, argument: "histograms[\(i)]")
    }
    let lambda: [Double]
    if let weights {
      guard weights.count == histograms.count else {
        throw DAMError.mismatch("weights", "has \(weights.count) values for \(histograms.count) histograms")
      }
      lambda = try probabilityWeights(weights, "weights", normalize: false)
    } else {
      lambda = [Double](repeating: 1 / Double(histograms.count), count: histograms.count)
    }
    let problem = GridProblem(first)
    try problem.requireKernelsFit(options.backend)
    // As for grid Sinkhorn: above 1e6 D² nothing is left to compute but round-off (the plain
    // barycenter is uniform to about D²/ε there; the debiased one is not determined and its
    // iterations returned a uniform histogram whose mean is not the inputs' average).
    try requireTrustworthyEpsilon(
      options.epsilon, squaredDiameter: problem.squaredDiameter, scale: gridScale)
    let kernel = problem.kernel(options.epsilon, options.backend)
    var state: BarycenterState?
    if let separable = kernel.separable {
      state = try scaledBarycenter(histograms, lambda, options, debiased, separable)
    }
    var backend = kernel.backend
    if state == nil {
      let logKernel = kernel.separable == nil ? kernel : problem.kernel(options.epsilon, .logDomain)
      backend = logKernel.backend
      state = try logBarycenter(histograms, lambda, options, debiased, logKernel)
    }
    let result = state!
    if !result.error.isFinite || !result.spread.isFinite {
      throw DAMError(
        .numericalFailure, argument: "epsilon",
        "the grid barycenter iterations produced a non-finite value at epsilon = \(options.epsilon)")
    }
    guard result.converged || options.allowsUnconverged else {
      throw notConverged(
        "the grid barycenter", tolerance: options.tolerance, maxIterations: options.maxIterations,
        epsilon: options.epsilon, error: max(result.error, result.spread, result.debiasing), advice: false,
        stagnation: result.stagnation, remedy: debiased ? debiasedStallRemedy : "raise epsilon")
    }
    let largest = result.logBar.max() ?? 0
    let masses = result.logBar.map { _exp($0 - largest) }
    let histogram = try GridHistogram(shape: first.shape, intensities: masses, spacing: first.spacing)
    return GridBarycenter(
      histogram: histogram, iterations: result.iterations, marginalError: result.error, spread: result.spread,
      debiasingError: result.debiasing, converged: result.converged, debiased: debiased, backend: backend)
  }
}

/// What to do when the debiased barycenter's iterations stall. Unlike the classic barycenter's,
/// they also stall when ε is large against the inputs' features: the fixed point then lies on the
/// boundary of the simplex and the iterates approach it ever more slowly (Docs/grids.md, "Where it
/// does not converge"), so raising ε is not the only way out and often the wrong one.
let debiasedStallRemedy =
  "raise epsilon if it is small against the cells, otherwise lower it (at large epsilon the debiased barycenter's fixed point can lie on the boundary of the simplex, which the iterations approach ever more slowly) or compute the classic barycenter"

/// Checks the work budget, if one is bound, counting `iterations` more (see ``WorkBudget``).
private func checkBarycenterBudget(
  iterations counted: Int, _ inputs: Int, _ cells: Int, _ options: GridSinkhornOptions, _ iterations: Int,
  _ error: Double
) throws(DAMError) {
  guard counted > 0, let budget = currentBudget() else { return }
  try budget.check(iterations: counted) {
    "a grid barycenter of \(inputs) histograms (\(cells) cells) at epsilon \(options.epsilon), iteration \(iterations) of at most \(options.maxIterations), marginal error \(error)"
  }
}

/// Where the barycenter iterations ended.
struct BarycenterState {
  var logBar: [Double]
  var iterations: Int
  var error: Double
  var spread: Double
  var debiasing: Double
  var converged: Bool
  /// The early stop's record (why the iterations were found hopeless, if they were).
  var stagnation: Stagnation
}

/// `Σⱼ stdᵢ (marginal(i, j))`, the population standard deviation over the inputs, per cell.
@inline(__always)
private func marginalSpread(inputs count: Int, cells n: Int, _ marginal: (Int, Int) -> Double)
  -> Double
{
  var total = 0.0
  for j in 0..<n {
    var mean = 0.0
    for i in 0..<count { mean += marginal(i, j) }
    mean /= Double(count)
    var variance = 0.0
    for i in 0..<count {
      let d = marginal(i, j) - mean
      variance += d * d
    }
    total += (variance / Double(count)).squareRoot()
  }
  return total
}

/// The iterations in the log domain on any backend's `logConvolve`; cannot underflow.
private func logBarycenter(
  _ histograms: [GridHistogram], _ lambda: [Double], _ options: GridSinkhornOptions, _ debiased: Bool,
  _ kernel: GridKernel
) throws(DAMError) -> BarycenterState {
  let workspace = GridKernel.Workspace(cells: kernel.cellCount)
  let n = kernel.cellCount
  let count = histograms.count
  let logA = histograms.map { $0.masses.map(_log) }
  var logU = [[Double]](repeating: [Double](repeating: 0, count: n), count: count)
  var logV = logU
  var ku = logU
  var kv = [Double](repeating: 0, count: n)
  var logBar = [Double](repeating: 0, count: n)
  var logD = [Double](repeating: 0, count: n)
  var kd = [Double](repeating: 0, count: n)
  var error = Double.infinity
  var spread = Double.infinity
  var debiasing = 0.0
  var iterations = 0
  var converged = false
  var stagnation = Stagnation(
    tolerance: options.tolerance, maxIterations: options.maxIterations,
    allowsUnconverged: options.allowsUnconverged)
  // A work budget is checked every `every` iterations (an iteration convolves every input).
  let every = WorkBudget.checkInterval(work: count * n * n)
  while true {
    // Input side: U_i = A_i / K V_i; the error of the previous U_i is the marginal error.
    error = 0
    for i in 0..<count {
      kernel.logConvolve(logV[i], into: &kv, workspace: workspace)
      var e = 0.0
      for j in 0..<n {
        guard logA[i][j] > -.infinity else {
          logU[i][j] = -.infinity
          continue
        }
        let updated = logA[i][j] - kv[j]
        if iterations > 0 { e += histograms[i].masses[j] * abs(_exp(logU[i][j] - updated) - 1) }
        logU[i][j] = updated
      }
      error += lambda[i] * e
    }
    for i in 0..<count { kernel.logConvolve(logU[i], into: &ku[i], workspace: workspace) }
    // POT's stopping quantity: the spread of the barycenter-side marginals V_i ⊙ K U_i.
    spread = marginalSpread(inputs: count, cells: n) { i, j in _exp(logV[i][j] + ku[i][j]) }
    // Barycenter side: bar = d ⊙ Πᵢ (K U_i)^λᵢ, then V_i = bar / K U_i.
    for j in 0..<n {
      var s = logD[j]
      for i in 0..<count { s += lambda[i] * ku[i][j] }
      logBar[j] = s
    }
    if debiased {
      kernel.logConvolve(logD, into: &kd, workspace: workspace)
      debiasing = 0
      for j in 0..<n { debiasing += abs(_exp(logD[j] + kd[j]) - _exp(logBar[j])) }
    }
    if iterations > 0 {
      if !error.isFinite || !spread.isFinite || !debiasing.isFinite { break }
      if error <= options.tolerance && spread <= options.tolerance && debiasing <= options.tolerance {
        converged = true
        break
      }
      if iterations >= options.maxIterations { break }
      if stagnation.isHopeless(error: max(error, spread, debiasing), iteration: iterations) { break }
    }
    if debiased {
      for step in 0..<10 {
        if step > 0 { kernel.logConvolve(logD, into: &kd, workspace: workspace) }
        for j in 0..<n { logD[j] = 0.5 * (logD[j] + logBar[j] - kd[j]) }
      }
    }
    for i in 0..<count {
      for j in 0..<n { logV[i][j] = logBar[j] - ku[i][j] }
    }
    iterations += 1
    if iterations % every == 0 {
      try checkBarycenterBudget(iterations: every, count, n, options, iterations, error)
    }
  }
  try checkBarycenterBudget(
    iterations: iterations % every, count, n, options, iterations, error)
  return BarycenterState(
    logBar: logBar, iterations: iterations, error: error, spread: spread, debiasing: debiasing,
    converged: converged, stagnation: stagnation)
}

/// The iterations on the scalings themselves with BLAS convolutions (all inputs at once), as POT
/// runs them. Returns nil when a convolution output that the update divides by, or takes the
/// logarithm of, is at or below ``scaledFloor`` or not finite.
private func scaledBarycenter(
  _ histograms: [GridHistogram], _ lambda: [Double], _ options: GridSinkhornOptions, _ debiased: Bool,
  _ kernel: SeparableKernelConvolution
) throws(DAMError) -> BarycenterState? {
  let n = kernel.cells
  let count = histograms.count
  var a = [Double](repeating: 0, count: count * n)
  for i in 0..<count {
    for j in 0..<n { a[i * n + j] = histograms[i].masses[j] }
  }
  var u = [Double](repeating: 0, count: count * n)
  var v = [Double](repeating: 1, count: count * n)
  var kv = [Double](repeating: 0, count: count * n)
  var ku = [Double](repeating: 0, count: count * n)
  var scratch = [Double](repeating: 0, count: count * n)
  var logBar = [Double](repeating: 0, count: n)
  var bar = [Double](repeating: 0, count: n)
  var d = [Double](repeating: 1, count: n)
  var kd = [Double](repeating: 0, count: n)
  var error = Double.infinity
  var spread = Double.infinity
  var debiasing = 0.0
  var iterations = 0
  var converged = false
  var stagnation = Stagnation(
    tolerance: options.tolerance, maxIterations: options.maxIterations,
    allowsUnconverged: options.allowsUnconverged)
  // A work budget is checked every `every` iterations (an iteration convolves every input).
  let every = WorkBudget.checkInterval(work: count * n * n)

  func convolve(_ x: [Double], into y: inout [Double], count: Int) {
    x.withUnsafeBufferPointer { x in
      y.withUnsafeMutableBufferPointer { y in
        scratch.withUnsafeMutableBufferPointer { s in
          kernel.apply(x.baseAddress!, into: y.baseAddress!, scratch: s.baseAddress!, count: count)
        }
      }
    }
  }
  func usable(_ x: Double) -> Bool { x > scaledFloor && x < .infinity }

  while true {
    // Input side: U_i = A_i / K V_i, marginal error Σ |U_i(old) ⊙ K V_i - A_i|.
    convolve(v, into: &kv, count: count)
    error = 0
    for i in 0..<count {
      var e = 0.0
      for j in i * n..<(i + 1) * n where a[j] > 0 {
        guard usable(kv[j]) else { return nil }
        if iterations > 0 { e += abs(u[j] * kv[j] - a[j]) }
        u[j] = a[j] / kv[j]
      }
      error += lambda[i] * e
    }
    convolve(u, into: &ku, count: count)
    for j in 0..<count * n where !usable(ku[j]) { return nil }
    spread = marginalSpread(inputs: count, cells: n) { i, j in v[i * n + j] * ku[i * n + j] }
    // Barycenter side: bar = d ⊙ Πᵢ (K U_i)^λᵢ, then V_i = bar / K U_i.
    for j in 0..<n {
      var s = _log(d[j])
      for i in 0..<count { s += lambda[i] * _log(ku[i * n + j]) }
      logBar[j] = s
      bar[j] = _exp(s)
    }
    if debiased {
      convolve(d, into: &kd, count: 1)
      debiasing = 0
      for j in 0..<n {
        guard usable(kd[j]) else { return nil }
        debiasing += abs(d[j] * kd[j] - bar[j])
      }
    }
    if iterations > 0 {
      if !error.isFinite || !spread.isFinite || !debiasing.isFinite { return nil }
      if error <= options.tolerance && spread <= options.tolerance && debiasing <= options.tolerance {
        converged = true
        break
      }
      if iterations >= options.maxIterations { break }
      if stagnation.isHopeless(error: max(error, spread, debiasing), iteration: iterations) { break }
    }
    if debiased {
      for step in 0..<10 {
        if step > 0 { convolve(d, into: &kd, count: 1) }
        for j in 0..<n {
          guard usable(kd[j]) else { return nil }
          d[j] = (d[j] * bar[j] / kd[j]).squareRoot()
        }
      }
    }
    for i in 0..<count {
      for j in 0..<n { v[i * n + j] = bar[j] / ku[i * n + j] }
    }
    iterations += 1
    if iterations % every == 0 {
      try checkBarycenterBudget(iterations: every, count, n, options, iterations, error)
    }
  }
  try checkBarycenterBudget(
    iterations: iterations % every, count, n, options, iterations, error)
  return BarycenterState(
    logBar: logBar, iterations: iterations, error: error, spread: spread, debiasing: debiasing,
    converged: converged, stagnation: stagnation)
}
