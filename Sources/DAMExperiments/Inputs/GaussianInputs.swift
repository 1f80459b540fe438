import DAM
import NumPyFiles

/// Reading and writing Gaussians in `.npz` archives: one Gaussian as `mean` (d) with `covariance`
/// (d, d) or `variance` (d); several as `means` (N, d) with `covariances` (N, d, d) or `variances`
/// (N, d).
package enum GaussianInputs {
  /// Whether the `.npz` at `path` holds Gaussians (a `mean` or `means` member) rather than point
  /// clouds. Unreadable files are left to the reader that follows, which reports the problem.
  package static func holdsGaussians(_ path: String) -> Bool {
    guard let archive = try? InputFiles.npz(path) else { return false }
    return archive["means"] != nil || (archive["mean"] != nil && archive["points"] == nil)
  }

  /// A Gaussian from a `.npz` archive holding `mean` and `covariance` or `variance`.
  package static func gaussian(_ path: String, option: String) throws(CLIError) -> Gaussian {
    let archive = try attributing(option) { try InputFiles.npz(path) }
    guard let mean = archive["mean"] else {
      throw CLIError(option, "\(path): has no `mean` array (members: \(archive.names))")
    }
    guard mean.shape.count == 1, mean.shape[0] > 0 else {
      throw CLIError(option, "\(path): `mean` must be a non-empty vector (d), got shape \(mean.shape)")
    }
    let d = mean.shape[0]
    let covariance = archive["covariance"]
    let variance = archive["variance"]
    if covariance != nil && variance != nil {
      throw CLIError(option, "\(path): has both `covariance` and `variance`; give one")
    }
    return try attributing(option) {
      do {
        if let covariance {
          guard covariance.shape == [d, d] else {
            throw CLIError(
              option,
              "\(path): `covariance` must have shape [\(d), \(d)] like `mean`, got \(covariance.shape)")
          }
          return try Gaussian(
            mean: mean.doubles(), covariance: Matrix(rows: d, columns: d, elements: covariance.doubles()))
        }
        guard let variance else {
          throw CLIError(
            option, "\(path): has neither `covariance` nor `variance` (members: \(archive.names))")
        }
        guard variance.shape == [d] else {
          throw CLIError(
            option, "\(path): `variance` must have shape [\(d)] like `mean`, got \(variance.shape)")
        }
        return try Gaussian(mean: mean.doubles(), variances: variance.doubles())
      } catch let error as DAMError {
        let member = error.argument == "variances" ? "variance" : error.argument
        throw CLIError(option, "\(path): `\(member)` \(error.message)")
      }
    }
  }

  /// One Gaussian (`mean`) or a batch (`means`), with whether it was a batch.
  package static func gaussians(_ path: String, option: String) throws(CLIError) -> (
    gaussians: [Gaussian], batch: Bool
  ) {
    let archive = try attributing(option) { try InputFiles.npz(path) }
    guard let means = archive["means"] else {
      if archive["mean"] != nil {
        return ([try gaussian(path, option: option)], false)
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
  package static func write(_ gaussians: [Gaussian], to path: String, option: String) throws(CLIError) {
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
package enum GaussianEngines {
  package static func make(
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
      let stacking = Stacking<Gaussian>.meanAndCovariance
      let memory = try attributing("--memory") {
        try Memory(divergence: .squaredEuclidean, patterns: try patterns.map(stacking.stack))
      }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: shape, beta: beta, stopping: stopping,
          pruning: pruning)
      }
      let baseline = StackedRetrievalEngine(AnyRetrievalEngine(engine), stacking: stacking)
      return (
        { queries in
          do {
            return try baseline.retrieve(batch: queries)
          } catch let error as DAMError where error.argument == "vector" {
            throw CLIError("--geometry", "euclidean: the final state is not a Gaussian (\(error))")
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
