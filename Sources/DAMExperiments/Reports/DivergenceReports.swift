import DAM
import NumPyFiles

/// What `dam divergence sinkhorn` prints: the debiased Sinkhorn divergence between two point
/// clouds, its three transport terms and how the solve went. The JSON keys are the command's
/// (`ot_xy`, `newton_steps`, ...); ``text`` is its plain output.
package struct SinkhornDivergenceReport: Encodable, Equatable {
  package var value: Double
  package var otXY: Double
  package var otXX: Double
  package var otYY: Double
  package var iterations: Int
  package var newtonSteps: Int
  package var marginalError: Double
  package var epsilon: Double
  package var cost: String

  enum CodingKeys: String, CodingKey {
    case value, iterations, epsilon, cost
    case otXY = "ot_xy"
    case otXX = "ot_xx"
    case otYY = "ot_yy"
    case newtonSteps = "newton_steps"
    case marginalError = "marginal_error"
  }

  /// The report of a solved divergence at `epsilon` with the named ground cost.
  package init(_ result: SinkhornDivergenceValue, epsilon: Double, cost: String) {
    value = result.value
    otXY = result.crossTerm.value
    otXX = result.firstSelfTerm.value
    otYY = result.secondSelfTerm.value
    iterations = result.iterations
    newtonSteps = result.crossTerm.newtonSteps
    marginalError = result.marginalError
    self.epsilon = epsilon
    self.cost = cost
  }

  /// The plain output: one line per term, then the solve.
  package var text: String {
    """
    S_eps       \(value)
    OT_eps(x,y) \(otXY)
    OT_eps(x,x) \(otXX)
    OT_eps(y,y) \(otYY)
    iterations  \(iterations) (Newton steps \(newtonSteps)), marginal error \(marginalError)
    """
  }

  /// The `--gradient` archive of the divergence's gradients: `x` and `y` in the positions, each
  /// in its input's shape (`xShape`, `yShape`: `(n, d)`, or `(n)` for points on a line),
  /// `x_weights` and `y_weights` in the weights, and `epsilon` (a 0-d array).
  ///
  /// - Throws: ``CLIError`` naming `--gradient` if the gradients hold no derivative in epsilon,
  ///   or if a shape does not hold its gradient's values.
  package static func gradientArchive(
    _ gradients: DivergenceGradient<PointCloudGradient, PointCloudGradient>, xShape: [Int], yShape: [Int]
  ) throws(CLIError) -> NumPyArchive {
    guard let epsilon = gradients.epsilon else {
      throw CLIError("--gradient", "the divergence gave no derivative in epsilon")
    }
    return try attributing("--gradient") {
      var archive = NumPyArchive()
      archive["x"] = try NumPyArray(shape: xShape, doubles: gradients.state.points.elements)
      archive["y"] = try NumPyArray(shape: yShape, doubles: gradients.pattern.points.elements)
      archive["x_weights"] = try NumPyArray(
        shape: [gradients.state.weights.count], doubles: gradients.state.weights)
      archive["y_weights"] = try NumPyArray(
        shape: [gradients.pattern.weights.count], doubles: gradients.pattern.weights)
      archive["epsilon"] = try NumPyArray(shape: [], doubles: [epsilon])
      return archive
    }
  }
}

/// What `dam divergence sinkhorn-grid` prints: the debiased Sinkhorn divergence between two
/// histograms on one grid, its three transport terms, the grid and the kernel backend used.
package struct GridSinkhornDivergenceReport: Encodable, Equatable {
  package var value: Double
  package var otAB: Double
  package var otAA: Double
  package var otBB: Double
  package var iterations: Int
  package var marginalError: Double
  package var epsilon: Double
  package var shape: [Int]
  package var spacing: [Double]
  package var backend: String

  enum CodingKeys: String, CodingKey {
    case value, iterations, epsilon, shape, spacing, backend
    case otAB = "ot_ab"
    case otAA = "ot_aa"
    case otBB = "ot_bb"
    case marginalError = "marginal_error"
  }

  /// The report of a divergence solved at `epsilon` on the grid of `histogram` with `backend`.
  package init(
    _ result: SinkhornDivergenceValue, on histogram: GridHistogram, epsilon: Double,
    backend: GridKernelBackend
  ) {
    value = result.value
    otAB = result.crossTerm.value
    otAA = result.firstSelfTerm.value
    otBB = result.secondSelfTerm.value
    iterations = result.iterations
    marginalError = result.marginalError
    self.epsilon = epsilon
    shape = histogram.shape
    spacing = histogram.spacing
    self.backend = GridBackendChoice.name(backend)
  }

  /// The plain output: one line per term, then the solve.
  package var text: String {
    """
    S_eps       \(value)
    OT_eps(a,b) \(otAB)
    OT_eps(a,a) \(otAA)
    OT_eps(b,b) \(otBB)
    iterations  \(iterations), marginal error \(marginalError), backend \(backend)
    """
  }

  /// The `--gradient` archive: `a` and `b` in the cell masses, in the histograms' `shape`, and
  /// `epsilon` (a 0-d array).
  ///
  /// - Throws: ``CLIError`` naming `--gradient` if the gradients hold no derivative in epsilon,
  ///   or if `shape` does not hold their values.
  package static func gradientArchive(_ gradients: DivergenceGradient<[Double], [Double]>, shape: [Int])
    throws(CLIError) -> NumPyArchive
  {
    guard let epsilon = gradients.epsilon else {
      throw CLIError("--gradient", "the divergence gave no derivative in epsilon")
    }
    return try attributing("--gradient") {
      var archive = NumPyArchive()
      archive["a"] = try NumPyArray(shape: shape, doubles: gradients.state)
      archive["b"] = try NumPyArray(shape: shape, doubles: gradients.pattern)
      archive["epsilon"] = try NumPyArray(shape: [], doubles: [epsilon])
      return archive
    }
  }
}

/// What `dam divergence bures-wasserstein` prints: `W₂²` between two Gaussians and its root.
package struct BuresWassersteinReport: Encodable, Equatable {
  package var value: Double
  package var distance: Double
  package var dimension: Int

  /// The report of `W₂² = value` in dimension `dimension`.
  package init(value: Double, dimension: Int) {
    self.value = value
    distance = value.squareRoot()
    self.dimension = dimension
  }

  /// The plain output, with the line about `--gradient` when one was written.
  package func text(gradient: String?) -> String {
    "W2^2 \(value)\nW2   \(distance)" + (gradient.map { "\ngradients written to \($0)" } ?? "")
  }

  /// The `--gradient` archive of `W₂²(first, second)`'s gradients: `a_mean`, `a_covariance`,
  /// `b_mean`, `b_covariance`.
  ///
  /// - Throws: ``CLIError`` naming `firstPath` or `secondPath` (the input at fault) where the
  ///   gradients do not exist (a singular covariance).
  package static func gradientArchive(
    _ first: Gaussian, _ second: Gaussian, firstPath: String, secondPath: String
  )
    throws(CLIError) -> NumPyArchive
  {
    let result: DivergenceGradient<GaussianGradient, GaussianGradient>
    do {
      result = try BuresWasserstein.gradient(first, second)
    } catch {
      throw CLIError(error.argument == "a" ? firstPath : secondPath, error.message)
    }
    let d = first.dimension
    return try attributing("--gradient") {
      var archive = NumPyArchive()
      archive["a_mean"] = try NumPyArray(shape: [d], doubles: result.state.mean)
      archive["a_covariance"] = try NumPyArray(shape: [d, d], doubles: result.state.covariance.elements)
      archive["b_mean"] = try NumPyArray(shape: [d], doubles: result.pattern.mean)
      archive["b_covariance"] = try NumPyArray(shape: [d, d], doubles: result.pattern.covariance.elements)
      return archive
    }
  }
}

extension SinkhornDivergenceReport {
  /// `dam divergence sinkhorn`'s work: reads the clouds `x` and `y` (`.npy`, with optional weight
  /// vectors), solves the divergence and, given a `gradient` path, writes
  /// ``gradientArchive(_:xShape:yShape:)`` there. Errors name the input or option at fault.
  package static func compute(
    x: String, y: String, xWeights: String?, yWeights: String?, options: SinkhornOptions, cost: any Cost,
    gradient: String?
  ) throws(CLIError) -> SinkhornDivergenceReport {
    let first = try Inputs.cloud(x, weights: xWeights, option: x, weightsOption: "--x-weights")
    let second = try Inputs.cloud(y, weights: yWeights, option: y, weightsOption: "--y-weights")
    guard first.dimension == second.dimension else {
      throw CLIError(y, "atoms have dimension \(second.dimension), those of \(x) have \(first.dimension)")
    }
    let inputs: [String: (option: String, path: String)] = ["x": (x, x), "y": (y, y)]
    let result = try attributingSolve(inputs: inputs) {
      try Sinkhorn.divergence(first, second, cost: cost, options: options)
    }
    if let gradient {
      let gradients = try attributingSolve(inputs: inputs) {
        try Sinkhorn.divergenceGradient(first, second, cost: cost, divergence: result)
      }
      let xShape = try attributing(x) { try InputFiles.npy(x).shape }
      let yShape = try attributing(y) { try InputFiles.npy(y).shape }
      try writeArchive(gradientArchive(gradients, xShape: xShape, yShape: yShape), to: gradient)
    }
    return SinkhornDivergenceReport(result, epsilon: options.epsilon, cost: cost.description)
  }
}

extension GridSinkhornDivergenceReport {
  /// `dam divergence sinkhorn-grid`'s work: reads the histograms `a` and `b` (`.npy`, on the
  /// grid `spacing` describes), solves the divergence and, given a `gradient` path, writes
  /// ``gradientArchive(_:shape:)`` there. Errors name the input or option at fault.
  package static func compute(
    a: String, b: String, spacing: String?, options: GridSinkhornOptions, gradient: String?
  )
    throws(CLIError) -> GridSinkhornDivergenceReport
  {
    let first = try GridInputs.histogram(a, spacing: spacing, option: a)
    let second = try GridInputs.histogram(b, spacing: spacing, option: b)
    guard first.shape == second.shape else {
      throw CLIError(b, "has grid shape \(second.shape), \(a) has \(first.shape)")
    }
    let result = try attributingSolve { try GridSinkhorn.divergence(first, second, options: options) }
    if let gradient {
      let gradients = try attributingSolve {
        try GridSinkhorn.divergenceGradient(first, second, options: options, divergence: result)
      }
      try writeArchive(gradientArchive(gradients, shape: first.shape), to: gradient)
    }
    return GridSinkhornDivergenceReport(
      result, on: first, epsilon: options.epsilon, backend: GridSinkhorn.backend(for: first, options: options)
    )
  }
}

extension BuresWassersteinReport {
  /// `dam divergence bures-wasserstein`'s work: reads the Gaussians `a` and `b` (`.npz`), computes
  /// `W₂²` and, given a `gradient` path, writes ``gradientArchive(_:_:firstPath:secondPath:)``
  /// there. Errors name the input or option at fault.
  package static func compute(a: String, b: String, gradient: String?) throws(CLIError)
    -> BuresWassersteinReport
  {
    let first = try GaussianInputs.gaussian(a, option: a)
    let second = try GaussianInputs.gaussian(b, option: b)
    guard first.dimension == second.dimension else {
      throw CLIError(b, "has dimension \(second.dimension), \(a) has \(first.dimension)")
    }
    let value = try attributing(b) { try BuresWasserstein.distanceSquared(first, second) }
    if let gradient {
      try writeArchive(gradientArchive(first, second, firstPath: a, secondPath: b), to: gradient)
    }
    return BuresWassersteinReport(value: value, dimension: first.dimension)
  }
}

/// Writes a `--gradient` archive (replaced atomically), a failure attributed to `--gradient`.
private func writeArchive(_ archive: NumPyArchive, to path: String) throws(CLIError) {
  try attributing("--gradient") { try NPZ.write(archive, to: path) }
}
