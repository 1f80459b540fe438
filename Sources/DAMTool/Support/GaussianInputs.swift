import ArgumentParser
import DAM
import NumPyFiles

/// Reading and writing Gaussians in `.npz` archives: one Gaussian as `mean` (d) with `covariance`
/// (d, d) or `variance` (d); several as `means` (N, d) with `covariances` (N, d, d) or `variances`
/// (N, d).
enum GaussianInputs {
  /// Whether the `.npz` at `path` holds Gaussians (a `mean` or `means` member) rather than point
  /// clouds. Unreadable files are left to the reader that follows, which reports the problem.
  static func holdsGaussians(_ path: String) -> Bool {
    guard let archive = try? NPZ.read(contentsOf: path) else { return false }
    return archive["means"] != nil || (archive["mean"] != nil && archive["points"] == nil)
  }

  /// One Gaussian (`mean`) or a batch (`means`), with whether it was a batch.
  static func gaussians(_ path: String, option: String) throws(CLIError) -> (
    gaussians: [Gaussian], batch: Bool
  ) {
    let archive = try attributing(option) { try NPZ.read(contentsOf: path) }
    guard let means = archive["means"] else {
      if archive["mean"] != nil {
        return ([try BuresWassersteinCommand.gaussian(path, option: option)], false)
      }
      throw CLIError(option, "\(path): has neither `means` nor `mean` (members: \(archive.names))")
    }
    guard means.shape.count == 2, means.shape[0] > 0, means.shape[1] > 0 else {
      throw CLIError(option, "\(path): `means` must have shape (N, d) with N, d >= 1, got \(means.shape)")
    }
    let (n, d) = (means.shape[0], means.shape[1])
    let covariances = archive["covariances"]
    let variances = archive["variances"]
    if covariances != nil && variances != nil {
      throw CLIError(option, "\(path): has both `covariances` and `variances`; give one")
    }
    let meanValues = means.doubles()
    var result: [Gaussian] = []
    if let covariances {
      guard covariances.shape == [n, d, d] else {
        throw CLIError(
          option,
          "\(path): `covariances` must have shape [\(n), \(d), \(d)] like `means`, got \(covariances.shape)")
      }
      let values = covariances.doubles()
      for i in 0..<n {
        do {
          result.append(
            try Gaussian(
              mean: Array(meanValues[(i * d)..<((i + 1) * d)]),
              covariance: Matrix(
                rows: d, columns: d, elements: Array(values[(i * d * d)..<((i + 1) * d * d)]))))
        } catch {
          let member = error.argument == "mean" ? "means" : "covariances"
          throw CLIError(option, "\(path): `\(member)` of Gaussian \(i) \(error.message)")
        }
      }
    } else if let variances {
      guard variances.shape == [n, d] else {
        throw CLIError(
          option, "\(path): `variances` must have shape [\(n), \(d)] like `means`, got \(variances.shape)")
      }
      let values = variances.doubles()
      for i in 0..<n {
        do {
          result.append(
            try Gaussian(
              mean: Array(meanValues[(i * d)..<((i + 1) * d)]),
              variances: Array(values[(i * d)..<((i + 1) * d)])))
        } catch {
          let member = error.argument == "mean" ? "means" : "variances"
          throw CLIError(option, "\(path): `\(member)` of Gaussian \(i) \(error.message)")
        }
      }
    } else {
      throw CLIError(option, "\(path): has neither `covariances` nor `variances` (members: \(archive.names))")
    }
    return (result, true)
  }

  /// Writes Gaussians as `.npz`: `means` (B, d) and `covariances` (B, d, d), full matrices.
  static func write(_ gaussians: [Gaussian], to path: String, option: String) throws(CLIError) {
    try attributing(option) {
      let d = gaussians[0].dimension
      var archive = NumPyArchive()
      archive["means"] = try NumPyArray(shape: [gaussians.count, d], doubles: gaussians.flatMap(\.mean))
      archive["covariances"] = try NumPyArray(
        shape: [gaussians.count, d, d], doubles: gaussians.flatMap(\.covarianceMatrix.elements))
      try NPZ.write(archive, to: path)
    }
  }
}

/// Builds retrieval over Gaussians: the BW-DAM (the Bures-Wasserstein divergence and geometry) or
/// the Eu-DAM baseline (squared Euclidean distance between the stacked vectors `(m, vec S)`).
enum GaussianEngines {
  static func make(
    patterns: [Gaussian], geometry: GeometryChoice, separation: AnySeparationMap, beta: Double, step: Double?,
    stopping: StoppingRule, pruning: Pruning = .none
  ) throws(CLIError) -> (retrieve: ([Gaussian]) throws -> [RetrievalResult<Gaussian>], description: String) {
    switch geometry {
    case .buresWasserstein:
      let tau = step ?? 0.5
      let shape = try attributing("--step") { try BuresWassersteinGeometry(step: tau) }
      let memory = try attributing("--memory") {
        try Memory(divergence: BuresWassersteinDivergence(), patterns: patterns)
      }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: shape, beta: beta, stopping: stopping,
          pruning: pruning)
      }
      return ({ try engine.retrieve(batch: $0) }, "bures-wasserstein (step \(tau))")
    case .euclidean:
      let update: EuclideanGeometry.Update = step.map { .gradient(step: $0) } ?? .fixedPoint
      let shape = try attributing("--step") { try EuclideanGeometry(update: update) }
      let memory = try attributing("--memory") {
        try Memory(divergence: .squaredEuclidean, patterns: patterns.map(GaussianSampling.stacked))
      }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: shape, beta: beta, stopping: stopping,
          pruning: pruning)
      }
      return (
        { queries in
          try engine.retrieve(batch: queries.map(GaussianSampling.stacked)).map { result in
            let state: Gaussian
            do { state = try GaussianSampling.unstacked(result.state) } catch {
              throw CLIError("--geometry", "euclidean: the final state is not a Gaussian (\(error))")
            }
            return RetrievalResult(
              state: state, weights: result.weights, divergences: result.divergences,
              energies: result.energies,
              steps: result.steps, stopReason: result.stopReason, lastChange: result.lastChange,
              trajectory: try result.trajectory?.map(GaussianSampling.unstacked), evaluated: result.evaluated,
              evaluationCount: result.evaluationCount, droppedWeightBound: result.droppedWeightBound)
          }
        },
        step.map { "euclidean baseline (stacked (m, vec S), squared euclidean, gradient step \($0))" }
          ?? "euclidean baseline (stacked (m, vec S), squared euclidean, fixed point)"
      )
    default:
      throw CLIError(
        "--geometry", "\(geometry.rawValue) is not for Gaussians; they take bures-wasserstein or euclidean")
    }
  }
}
