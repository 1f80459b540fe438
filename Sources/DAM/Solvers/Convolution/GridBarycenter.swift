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
    let kernel = try problem.kernel(options.epsilon, options.backend)
    var state: BarycenterState?
    if let separable = kernel.separable {
      state = try scaledBarycenter(histograms, lambda, options, debiased, separable)
    }
    var backend = kernel.backend
    if state == nil {
      let logKernel = kernel.separable == nil ? kernel : try problem.kernel(options.epsilon, .logDomain)
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

/// One domain of the barycenter iterations: the log domain on any backend, or the scalings with
/// BLAS convolutions. ``iterateBarycenter(_:inputs:cells:_:_:)`` runs either; a scheme says what
/// one half-step computes and whether it can go on (the scaled domain gives up on an underflow,
/// and the iterations are redone in the log domain).
private protocol BarycenterScheme {
  /// Whether a non-finite residual abandons the iterations (`true`: they are redone in the log
  /// domain) rather than ending them unconverged.
  static var abandonsOnNonFinite: Bool { get }
  /// `Uᵢ = Aᵢ / K Vᵢ`; returns `Σᵢ λᵢ ‖Uᵢ(old) ⊙ K Vᵢ - Aᵢ‖₁` (0 on the first iteration), or `nil`
  /// to abandon.
  mutating func updateInputs(first: Bool) -> Double?
  /// `K Uᵢ`; returns the spread of the barycenter-side marginals `Vᵢ ⊙ K Uᵢ`, or `nil` to abandon.
  mutating func convolveInputs() -> Double?
  /// `bar = d ⊙ Πᵢ (K Uᵢ)^λᵢ`, kept as ``logBar``.
  mutating func formBarycenter()
  /// `‖d ⊙ K d - bar‖₁`, or `nil` to abandon.
  mutating func debiasingResidual() -> Double?
  /// Ten steps `d ← (d ⊙ bar / K d)^½`; `false` to abandon.
  mutating func updateDebiasing() -> Bool
  /// `Vᵢ = bar / K Uᵢ`.
  mutating func updateOutputs()
  /// The logarithm of the barycenter last formed.
  var logBar: [Double] { get }
}

/// The iterations of either scheme, with the stopping rules, the early stop and the work budget
/// in one place; `nil` when the scheme abandons them.
private func iterateBarycenter<S: BarycenterScheme>(
  _ scheme: inout S, inputs count: Int, cells n: Int, _ options: GridSinkhornOptions, _ debiased: Bool
) throws(DAMError) -> BarycenterState? {
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
    guard let inputError = scheme.updateInputs(first: iterations == 0),
      let inputSpread = scheme.convolveInputs()
    else { return nil }
    (error, spread) = (inputError, inputSpread)
    scheme.formBarycenter()
    if debiased {
      guard let residual = scheme.debiasingResidual() else { return nil }
      debiasing = residual
    }
    if iterations > 0 {
      if !error.isFinite || !spread.isFinite || !debiasing.isFinite {
        if S.abandonsOnNonFinite { return nil }
        break
      }
      if error <= options.tolerance && spread <= options.tolerance && debiasing <= options.tolerance {
        converged = true
        break
      }
      if iterations >= options.maxIterations { break }
      if stagnation.isHopeless(error: max(error, spread, debiasing), iteration: iterations) { break }
    }
    if debiased { guard scheme.updateDebiasing() else { return nil } }
    scheme.updateOutputs()
    iterations += 1
    if iterations % every == 0 {
      try checkBarycenterBudget(iterations: every, count, n, options, iterations, error)
    }
  }
  try checkBarycenterBudget(iterations: iterations % every, count, n, options, iterations, error)
  return BarycenterState(
    logBar: scheme.logBar, iterations: iterations, error: error, spread: spread, debiasing: debiasing,
    converged: converged, stagnation: stagnation)
}

/// The iterations in the log domain on any backend's `logConvolve`; cannot underflow.
private func logBarycenter(
  _ histograms: [GridHistogram], _ lambda: [Double], _ options: GridSinkhornOptions, _ debiased: Bool,
  _ kernel: GridKernel
) throws(DAMError) -> BarycenterState {
  var scheme = LogBarycenter(histograms, lambda, kernel)
  guard
    let state = try iterateBarycenter(
      &scheme, inputs: histograms.count, cells: kernel.cellCount, options, debiased)
  else {
    // Unreachable: no half-step of the log domain gives up.
    throw DAMError(.numericalFailure, argument: "epsilon", "the log-domain barycenter iterations gave up")
  }
  return state
}

/// The log-domain scheme: log scalings, `logConvolve` of the backend.
private struct LogBarycenter: BarycenterScheme {
  static var abandonsOnNonFinite: Bool { false }
  let histograms: [GridHistogram]
  let lambda: [Double]
  let kernel: GridKernel
  let workspace: GridKernel.Workspace
  let n: Int
  let logA: [[Double]]
  var logU: [[Double]]
  var logV: [[Double]]
  var ku: [[Double]]
  var kv: [Double]
  var logBar: [Double]
  var logD: [Double]
  var kd: [Double]

  init(_ histograms: [GridHistogram], _ lambda: [Double], _ kernel: GridKernel) {
    self.histograms = histograms
    self.lambda = lambda
    self.kernel = kernel
    workspace = GridKernel.Workspace(cells: kernel.cellCount)
    n = kernel.cellCount
    logA = histograms.map { $0.masses.map(_log) }
    logU = [[Double]](repeating: [Double](repeating: 0, count: n), count: histograms.count)
    logV = logU
    ku = logU
    kv = [Double](repeating: 0, count: n)
    logBar = kv
    logD = kv
    kd = kv
  }

  mutating func updateInputs(first: Bool) -> Double? {
    var error = 0.0
    for i in 0..<histograms.count {
      kernel.logConvolve(logV[i], into: &kv, workspace: workspace)
      var e = 0.0
      for j in 0..<n {
        guard logA[i][j] > -.infinity else {
          logU[i][j] = -.infinity
          continue
        }
        let updated = logA[i][j] - kv[j]
        if !first { e += histograms[i].masses[j] * abs(_exp(logU[i][j] - updated) - 1) }
        logU[i][j] = updated
      }
      error += lambda[i] * e
    }
    return error
  }

  mutating func convolveInputs() -> Double? {
    for i in 0..<histograms.count { kernel.logConvolve(logU[i], into: &ku[i], workspace: workspace) }
    return marginalSpread(inputs: histograms.count, cells: n) { i, j in _exp(logV[i][j] + ku[i][j]) }
  }

  mutating func formBarycenter() {
    for j in 0..<n {
      var s = logD[j]
      for i in 0..<histograms.count { s += lambda[i] * ku[i][j] }
      logBar[j] = s
    }
  }

  mutating func debiasingResidual() -> Double? {
    kernel.logConvolve(logD, into: &kd, workspace: workspace)
    var residual = 0.0
    for j in 0..<n { residual += abs(_exp(logD[j] + kd[j]) - _exp(logBar[j])) }
    return residual
  }

  mutating func updateDebiasing() -> Bool {
    for step in 0..<10 {
      if step > 0 { kernel.logConvolve(logD, into: &kd, workspace: workspace) }
      for j in 0..<n { logD[j] = 0.5 * (logD[j] + logBar[j] - kd[j]) }
    }
    return true
  }

  mutating func updateOutputs() {
    for i in 0..<histograms.count {
      for j in 0..<n { logV[i][j] = logBar[j] - ku[i][j] }
    }
  }
}

/// The iterations on the scalings themselves with BLAS convolutions (all inputs at once), as POT
/// runs them. Returns nil when a convolution output that the update divides by, or takes the
/// logarithm of, is at or below ``scaledFloor`` or not finite.
private func scaledBarycenter(
  _ histograms: [GridHistogram], _ lambda: [Double], _ options: GridSinkhornOptions, _ debiased: Bool,
  _ kernel: SeparableKernelConvolution
) throws(DAMError) -> BarycenterState? {
  var scheme = ScaledBarycenter(histograms, lambda, kernel)
  return try iterateBarycenter(&scheme, inputs: histograms.count, cells: kernel.cells, options, debiased)
}

/// The scaled scheme: the scalings in one row-major array per quantity, all inputs convolved by
/// one BLAS call.
private struct ScaledBarycenter: BarycenterScheme {
  static var abandonsOnNonFinite: Bool { true }
  let lambda: [Double]
  let kernel: SeparableKernelConvolution
  let n: Int
  let count: Int
  var a: [Double]
  var u: [Double]
  var v: [Double]
  var kv: [Double]
  var ku: [Double]
  var scratch: [Double]
  var logBar: [Double]
  var bar: [Double]
  var d: [Double]
  var kd: [Double]

  init(_ histograms: [GridHistogram], _ lambda: [Double], _ kernel: SeparableKernelConvolution) {
    self.lambda = lambda
    self.kernel = kernel
    n = kernel.cells
    count = histograms.count
    a = [Double](repeating: 0, count: count * n)
    for i in 0..<count {
      for j in 0..<n { a[i * n + j] = histograms[i].masses[j] }
    }
    u = [Double](repeating: 0, count: count * n)
    v = [Double](repeating: 1, count: count * n)
    kv = u
    ku = u
    scratch = u
    logBar = [Double](repeating: 0, count: n)
    bar = logBar
    d = [Double](repeating: 1, count: n)
    kd = logBar
  }

  /// `y = K x` for `count` stacked inputs.
  static func convolve(
    _ kernel: SeparableKernelConvolution, _ x: [Double], into y: inout [Double], scratch: inout [Double],
    count: Int
  ) {
    x.withUnsafeBufferPointer { x in
      y.withUnsafeMutableBufferPointer { y in
        scratch.withUnsafeMutableBufferPointer { s in
          kernel.apply(x.baseAddress!, into: y.baseAddress!, scratch: s.baseAddress!, count: count)
        }
      }
    }
  }

  func usable(_ x: Double) -> Bool { x > scaledFloor && x < .infinity }

  mutating func updateInputs(first: Bool) -> Double? {
    Self.convolve(kernel, v, into: &kv, scratch: &scratch, count: count)
    var error = 0.0
    for i in 0..<count {
      var e = 0.0
      for j in i * n..<(i + 1) * n where a[j] > 0 {
        guard usable(kv[j]) else { return nil }
        if !first { e += abs(u[j] * kv[j] - a[j]) }
        u[j] = a[j] / kv[j]
      }
      error += lambda[i] * e
    }
    return error
  }

  mutating func convolveInputs() -> Double? {
    Self.convolve(kernel, u, into: &ku, scratch: &scratch, count: count)
    for j in 0..<count * n where !usable(ku[j]) { return nil }
    return marginalSpread(inputs: count, cells: n) { i, j in v[i * n + j] * ku[i * n + j] }
  }

  mutating func formBarycenter() {
    for j in 0..<n {
      var s = _log(d[j])
      for i in 0..<count { s += lambda[i] * _log(ku[i * n + j]) }
      logBar[j] = s
      bar[j] = _exp(s)
    }
  }

  mutating func debiasingResidual() -> Double? {
    Self.convolve(kernel, d, into: &kd, scratch: &scratch, count: 1)
    var residual = 0.0
    for j in 0..<n {
      guard usable(kd[j]) else { return nil }
      residual += abs(d[j] * kd[j] - bar[j])
    }
    return residual
  }

  mutating func updateDebiasing() -> Bool {
    for step in 0..<10 {
      if step > 0 { Self.convolve(kernel, d, into: &kd, scratch: &scratch, count: 1) }
      for j in 0..<n {
        guard usable(kd[j]) else { return false }
        d[j] = (d[j] * bar[j] / kd[j]).squareRoot()
      }
    }
    return true
  }

  mutating func updateOutputs() {
    for i in 0..<count {
      for j in 0..<n { v[i * n + j] = bar[j] / ku[i * n + j] }
    }
  }
}
