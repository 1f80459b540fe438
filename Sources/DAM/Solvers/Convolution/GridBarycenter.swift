/// An entropic Wasserstein barycenter of histograms on one grid; see
/// ``GridSinkhorn/barycenter(of:weights:options:)``.
public struct GridBarycenter: Sendable, Hashable {
  /// The barycenter, renormalised to total mass 1.
  public let histogram: GridHistogram
  /// Iterations performed (each updates every coupling once).
  public let iterations: Int
  /// `Σᵢ λᵢ ‖πᵢ 1 - bᵢ‖₁`, the weighted L1 error of the input-side marginals at the end.
  public let marginalError: Double
  /// Whether ``marginalError`` met the tolerance.
  public let converged: Bool
}

extension GridSinkhorn {
  /// The entropic Wasserstein barycenter of `histograms` with `weights` (uniform when `nil`): the
  /// barycenter of Benamou et al. (2015) by iterative Bregman projections, the minimiser over `x`
  /// of `Σᵢ λᵢ min over πᵢ of (⟨C, πᵢ⟩ + ε KL(πᵢ | K))` with the Gibbs kernel `K` as reference,
  /// as POT's `convolutional_barycenter2d` computes it (without its `1e-30` stabiliser). It is
  /// blurred by about ε (it is not the debiased barycenter of Janati et al. 2020, which this
  /// package does not provide).
  ///
  /// Iterations run in the log domain with the kernel backend of `options` (no ε-scaling), until
  /// the weighted L1 marginal error on the inputs' side, `Σᵢ λᵢ ‖πᵢ 1 - bᵢ‖₁`, is at most
  /// `options.tolerance`; the barycenter side is exact after every iteration.
  ///
  /// - Throws: ``DAMError`` naming `histograms` (empty, or different grids), `weights` (wrong
  ///   count, negative, not summing to 1) or `maxIterations` (not converged, unless allowed).
  public static func barycenter(
    of histograms: [GridHistogram], weights: [Double]? = nil, options: GridSinkhornOptions
  ) throws(DAMError) -> GridBarycenter {
    guard let first = histograms.first else { throw DAMError.invalid("histograms", "is empty") }
    for (i, h) in histograms.enumerated().dropFirst() {
      try _checkSameGrid(first, h, argument: "histograms[\(i)]")
    }
    let lambda: [Double]
    if let weights {
      guard weights.count == histograms.count else {
        throw DAMError.mismatch("weights", "has \(weights.count) values for \(histograms.count) histograms")
      }
      lambda = try _probabilityWeights(weights, "weights", normalize: false)
    } else {
      lambda = [Double](repeating: 1 / Double(histograms.count), count: histograms.count)
    }
    let problem = _GridProblem(first)
    let kernel = problem.kernel(options.epsilon, options.backend)
    let workspace = _GridKernel.Workspace(cells: problem.cells)
    let n = problem.cells
    let count = histograms.count
    let logA = histograms.map { $0.masses.map(_log) }
    var logU = [[Double]](repeating: [Double](repeating: 0, count: n), count: count)
    var logV = logU
    var kv = [Double](repeating: 0, count: n)
    var ku = [[Double]](repeating: [Double](repeating: 0, count: n), count: count)
    var logBar = [Double](repeating: 0, count: n)
    var error = Double.infinity
    var iterations = 0
    var converged = false
    var stagnation = _Stagnation(
      tolerance: options.tolerance, maxIterations: options.maxIterations,
      allowsUnconverged: options.allowsUnconverged)
    while true {
      // Input side: U_i = A_i / K V_i; the error of the previous U_i is the marginal error.
      error = 0
      for i in 0..<count {
        kernel.logConvolve(logV[i], into: &kv, workspace: workspace)
        var e = 0.0
        for j in 0..<n where logA[i][j] > -.infinity {
          let updated = logA[i][j] - kv[j]
          if iterations > 0 { e += histograms[i].masses[j] * abs(_exp(logU[i][j] - updated) - 1) }
          logU[i][j] = updated
        }
        for j in 0..<n where logA[i][j] == -.infinity { logU[i][j] = -.infinity }
        error += lambda[i] * e
      }
      if iterations > 0 {
        if !error.isFinite {
          throw DAMError(
            .numericalFailure, argument: "epsilon",
            "the grid barycenter iterations produced a non-finite value at epsilon = \(options.epsilon)")
        }
        if error <= options.tolerance {
          converged = true
          break
        }
        if iterations >= options.maxIterations { break }
        if stagnation.isHopeless(error: error, iteration: iterations) { break }
      }
      // Barycenter side: bar = Πᵢ (K U_i)^λᵢ, then V_i = bar / K U_i.
      for i in 0..<count { kernel.logConvolve(logU[i], into: &ku[i], workspace: workspace) }
      for j in 0..<n {
        var s = 0.0
        for i in 0..<count { s += lambda[i] * ku[i][j] }
        logBar[j] = s
      }
      for i in 0..<count {
        for j in 0..<n { logV[i][j] = logBar[j] - ku[i][j] }
      }
      iterations += 1
    }
    guard converged || options.allowsUnconverged else {
      throw _notConverged(
        "the grid barycenter", tolerance: options.tolerance, maxIterations: options.maxIterations,
        epsilon: options.epsilon, error: error, advice: false, stagnation: stagnation)
    }
    let largest = logBar.max() ?? 0
    let masses = logBar.map { _exp($0 - largest) }
    let histogram = try GridHistogram(shape: first.shape, intensities: masses, spacing: first.spacing)
    return GridBarycenter(
      histogram: histogram, iterations: iterations, marginalError: error, converged: converged)
  }
}
