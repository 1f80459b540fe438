import DAM
import DAMDatasets

/// The choices `dam compare` crosses, after parsing: what each family builds its engines from.
package struct CompareSettings: Sendable {
  /// Inverse temperatures; `nil` takes the family's default.
  package var betas: [Double]?
  /// Separation maps; `nil` takes the family's default.
  package var separations: [AnySeparationMap]?
  /// Geometries to keep; `nil` keeps every geometry of the family.
  package var geometries: [GeometryChoice]?
  /// Vector divergences to keep; `nil` keeps both.
  package var vectorDivergences: [VectorDivergenceChoice]?
  /// Queries per family (built-in workloads, or generated from a memory file); `nil` for the default.
  package var count: Int?
  package var seed: UInt64
  package var maxSteps: Int?
  package var epsilon: Double?
  /// The corruption of generated queries; `nil` for the built-in default (required with a memory file).
  package var noise: Double?
  package var keepAtomOrder: Bool
  package var quick: Bool
  /// Which patterns the engines may skip (`--pruning`).
  package var pruning: Pruning = .none

  package init(
    betas: [Double]?, separations: [AnySeparationMap]?, geometries: [GeometryChoice]?,
    vectorDivergences: [VectorDivergenceChoice]?, count: Int?, seed: UInt64, maxSteps: Int?, epsilon: Double?,
    noise: Double?, keepAtomOrder: Bool, quick: Bool, pruning: Pruning = .none
  ) {
    self.betas = betas
    self.separations = separations
    self.geometries = geometries
    self.vectorDivergences = vectorDivergences
    self.count = count
    self.seed = seed
    self.maxSteps = maxSteps
    self.epsilon = epsilon
    self.noise = noise
    self.keepAtomOrder = keepAtomOrder
    self.quick = quick
    self.pruning = pruning
  }

  package func betas(_ defaults: [Double]) -> [Double] { betas ?? defaults }
  package func separations(_ defaults: [AnySeparationMap]) -> [AnySeparationMap] { separations ?? defaults }
  /// The family's geometries that were asked for, in the family's order.
  package func geometries(_ available: [GeometryChoice]) -> [GeometryChoice] {
    guard let geometries else { return available }
    return available.filter(geometries.contains)
  }
}

/// The four families' comparisons (grid histograms in CompareGrids.swift), on built-in data or
/// on the user's files.
package enum CompareWorkloads {
  /// The maps crossed by default on vectors (cheap): softmax and two sparse maps.
  package static let defaultSeparations = [
    AnySeparationMap(Softmax()), AnySeparationMap(Sparsemax()), AnySeparationMap(Entmax15()),
  ]
  /// The maps crossed by default on point clouds and Gaussians (each step costs transport solves or
  /// eigendecompositions per pattern): softmax and sparsemax.
  package static let costlySeparations = [AnySeparationMap(Softmax()), AnySeparationMap(Sparsemax())]

  // MARK: Vectors

  /// The vector geometries; the gradient step (size 1/2) runs only when asked for with --geometry.
  package static let vectorGeometries: [GeometryChoice] = [.fixedPoint, .gradient]

  /// The built-in digits: all 1,797 stored (pixels / 16, R^64), a seeded sample corrupted by
  /// Gaussian pixel noise.
  package static func digits(_ settings: CompareSettings) throws -> ComparisonCase<[Double]>? {
    let digits = Digits()
    let patterns = (0..<digits.count).map { digits.image($0).map { $0 / Double(Digits.maxIntensity) } }
    let noise = settings.noise ?? 0.3
    let count = settings.count ?? (settings.quick ? 8 : 60)
    guard count <= patterns.count else {
      throw CLIError("--count", "the digits hold \(patterns.count) images; got \(count)")
    }
    var generator = SeededGenerator(seed: settings.seed)
    let targets = Array((0..<patterns.count).shuffled(using: &generator).prefix(count))
    let queries = targets.map { i in patterns[i].map { $0 + noise * generator.nextGaussian() } }
    return try vectors(
      patterns: patterns, queries: queries, targets: targets, imageSide: 8,
      workload:
        "the 1,797 built-in 8x8 digits (pixels / 16, vectors in R^64); \(count) of them (seed \(settings.seed)) with Gaussian pixel noise, sd \(noise)",
      settings: settings, defaultBetas: settings.quick ? [4] : [1, 4, 16])
  }

  package static func vectors(
    patterns: [[Double]], queries: [[Double]], targets: [Int], imageSide: Int?, workload: String,
    settings: CompareSettings, defaultBetas: [Double]
  ) throws -> ComparisonCase<[Double]>? {
    let geometries = settings.geometries == nil ? [.fixedPoint] : settings.geometries(vectorGeometries)
    guard !geometries.isEmpty else { return nil }
    let stopping = try attributing("--max-steps") { try StoppingRule(maxSteps: settings.maxSteps ?? 100) }
    var engines: [ComparedEngine<[Double]>] = []
    for divergence in settings.vectorDivergences ?? VectorDivergenceChoice.allCases {
      for geometry in geometries {
        for separation in settings.separations(defaultSeparations) {
          for beta in settings.betas(defaultBetas) {
            guard let vectorGeometry = VectorGeometryChoice(rawValue: geometry.rawValue) else { continue }
            let engine = try VectorEngines.make(
              patterns: .rows(patterns), divergence: divergence, separation: separation,
              geometry: vectorGeometry,
              step: nil,
              beta: beta, stopping: stopping, pruning: settings.pruning)
            engines.append(
              ComparedEngine(
                label: EngineLabel(
                  divergence: divergence.rawValue, geometry: geometry.rawValue, separation: separation.name,
                  beta: beta),
                retrieve: { try engine.retrieve($0, recordingTrajectory: $1) },
                retrieveBatch: { try engine.retrieve(batch: $0, recordingTrajectory: $1) }))
          }
        }
      }
    }
    return ComparisonCase(
      family: "vectors", workload: workload, reference: "squared Euclidean distance", queries: queries,
      targets: targets, engines: engines,
      distances: { state in
        patterns.map { p in zip(state, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
      },
      picture: { query, target, runs in
        try vectorPicture(patterns: patterns, query: query, target: target, runs: runs, imageSide: imageSide)
      })
  }

  /// The first query's recall: images step by step when the vectors are square images in [0, 1],
  /// otherwise the first two coordinates of the trajectories.
  package static func vectorPicture(
    patterns: [[Double]], query: [Double], target: Int,
    runs: [(label: EngineLabel, result: RetrievalResult<[Double]>)],
    imageSide: Int?
  ) throws -> String {
    let shown = pictureRuns(runs)
    if let side = imageSide {
      // Five columns: steps 0 to 3 (blank where the retrieval had already stopped) and the final
      // state; the first row holds the stored target and the query.
      var images: [[[Double]]] = [[patterns[target], query, [], [], []]]
      var labels = ["stored target, query"]
      for run in shown {
        let states = run.result.trajectory ?? [run.result.state]
        let picks = (0..<4).map { $0 < states.count - 1 ? states[$0] : [] } + [run.result.state]
        images.append(picks)
        labels.append("\(run.label.divergence), \(run.label.separation)")
      }
      return SVG.imageGrid(
        title:
          "Query 1 recalled step by step (beta \(Table.format(shown.first?.label.beta ?? 0, digits: 4)))",
        images: images, side: side, rowLabels: labels,
        columnLabels: ["step 0", "step 1", "step 2", "step 3", "final"], labelWidth: 230)
    }
    var sets = [
      SVG.PointSet(
        label: "stored (first 2 coordinates)", points: patterns.map { ($0[0], $0.count > 1 ? $0[1] : 0) },
        color: "#bbb", radius: 2),
      SVG.PointSet(
        label: "target",
        points: [(patterns[target][0], patterns[target].count > 1 ? patterns[target][1] : 0)], color: "#000",
        radius: 6, hollow: true),
    ]
    var paths: [[(x: Double, y: Double)]] = []
    for (k, run) in shown.enumerated() {
      let states = run.result.trajectory ?? [query, run.result.state]
      let path = states.map { ($0[0], $0.count > 1 ? $0[1] : 0) }
      paths.append(path)
      sets.append(
        SVG.PointSet(
          label: "\(run.label.divergence), \(run.label.separation)", points: [path.last ?? (0, 0)],
          color: SVG.palette[k % SVG.palette.count], radius: 4))
    }
    return SVG.scatter(title: "Query 1: trajectories (first two coordinates)", sets: sets, paths: paths)
  }

  /// The runs shown in pictures: every method and separation map at the largest beta (at most 8).
  package static func pictureRuns<State>(_ runs: [(label: EngineLabel, result: RetrievalResult<State>)]) -> [(
    label: EngineLabel, result: RetrievalResult<State>
  )] {
    let beta = runs.map(\.label.beta).max() ?? 0
    return Array(runs.filter { $0.label.beta == beta }.prefix(8))
  }

  // MARK: Point clouds

  package static let cloudGeometries: [GeometryChoice] = [.shk, .wasserstein, .euclidean]
  /// The point-cloud engines' stopping rule: energy change at most this for three steps in a row.
  package static let cloudEnergyTolerance = 1e-5
  /// The point-cloud engines' default step limit.
  package static let cloudStepLimit = 50

  /// Experiment 2 of the Sinkhorn-SHK paper: five clouds of 40 points from centred 2-D Gaussians
  /// with random covariances; queries are noisy copies with their atoms in a random order.
  package static func gaussianClouds(_ settings: CompareSettings) throws -> ComparisonCase<PointCloud>? {
    var generator = SeededGenerator(seed: settings.seed &+ 1)
    let patterns = try GaussianCloudsExperiment.patterns(experiment: 2, generator: &generator)
    let noise = settings.noise ?? 0.2
    let count = settings.count ?? (settings.quick ? 4 : 30)
    let targets = (0..<count).map { $0 % patterns.count }
    let queries = try targets.map {
      try noisyCloud(patterns[$0], noise: noise, permuted: !settings.keepAtomOrder, generator: &generator)
    }
    return try clouds(
      patterns: patterns, queries: queries, targets: targets,
      workload:
        "Sinkhorn-SHK paper, Experiment 2: 5 stored clouds of 40 points from centred 2-D Gaussians with random covariances (seed \(settings.seed &+ 1)); \(count) queries = a stored cloud with Gaussian noise, sd \(noise), on every point\(settings.keepAtomOrder ? "" : ", atoms in a random order"); the engines stop when the energy changes by at most \(Table.format(cloudEnergyTolerance, digits: 1)) for three steps in a row, or after \(settings.maxSteps ?? cloudStepLimit) steps",
      settings: settings, defaultEpsilon: 0.1, defaultBetas: settings.quick ? [20] : [5, 20])
  }

  package static func noisyCloud(
    _ cloud: PointCloud, noise: Double, permuted: Bool, generator: inout SeededGenerator
  )
    throws -> PointCloud
  {
    var order = Array(0..<cloud.count)
    if permuted { order.shuffle(using: &generator) }
    let rows = order.map { j in cloud.points.row(j).map { $0 + noise * generator.nextGaussian() } }
    return try PointCloud(points: Matrix(rowArrays: rows), weights: order.map { cloud.weights[$0] })
  }

  package static func clouds(
    patterns: [PointCloud], queries: [PointCloud], targets: [Int], workload: String,
    settings: CompareSettings,
    defaultEpsilon: Double?, defaultBetas: [Double]
  ) throws -> ComparisonCase<PointCloud>? {
    let geometries = settings.geometries(cloudGeometries)
    guard !geometries.isEmpty else { return nil }
    guard let epsilon = settings.epsilon ?? defaultEpsilon else {
      throw CLIError(
        "--epsilon",
        "required for point clouds: the entropic blur of the Sinkhorn divergence, in squared distance units")
    }
    let options = try attributing("--epsilon") {
      try SinkhornOptions(epsilon: epsilon, maxIterations: 10_000)
    }
    // Stop on the energy (three calm steps), not on atom moves: when eps is comparable to the atom
    // spacing the atoms drift along near-flat directions long after recall is decided. On the
    // built-in workload the first step lowers the energy by about 4e-2 and the energy then changes
    // by 1e-5 to 1e-6 per step for hundreds of steps (the Hellinger reweighting keeps it above 1e-6
    // through 300 steps), so the tolerance is 1e-5 (absolute: these energies are below 1 in
    // magnitude), a quarter of a thousandth of the first descent; the step limit is a safety budget.
    let stopping = try attributing("--max-steps") {
      try StoppingRule(
        maxSteps: settings.maxSteps ?? cloudStepLimit, energyTolerance: cloudEnergyTolerance,
        positionTolerance: nil, massTolerance: nil, patience: 3)
    }
    var engines: [ComparedEngine<PointCloud>] = []
    for geometry in geometries {
      for separation in settings.separations(costlySeparations) {
        for beta in settings.betas(defaultBetas) {
          let retriever = try CloudEngines.make(
            patterns: patterns, geometry: geometry, separation: separation, beta: beta,
            epsilon: geometry == .euclidean ? nil : epsilon, step: nil, hellingerScale: nil,
            stopping: stopping, pruning: settings.pruning)
          // The Euclidean baseline stacks the atoms and runs the classic network (dot product).
          let divergence = geometry == .euclidean ? "dot-product" : "sinkhorn"
          engines.append(
            ComparedEngine(
              label: EngineLabel(
                divergence: divergence, geometry: geometry.rawValue, separation: separation.name, beta: beta,
                baseline: geometry == .euclidean ? "stacked-euclidean" : nil),
              retrieve: { try retriever.retrieve($0, recordingTrajectory: $1) },
              retrieveBatch: { try retriever.retrieve(batch: $0, recordingTrajectory: $1) }))
        }
      }
    }
    return ComparisonCase(
      family: "point clouds", workload: workload, reference: "Sinkhorn divergence S_eps, eps = \(epsilon)",
      queries: queries, targets: targets, engines: engines,
      distances: { state in try patterns.map { try Sinkhorn.divergence(state, $0, options: options).value } },
      picture: { query, target, runs in
        cloudPicture(patterns: patterns, query: query, target: target, runs: runs)
      })
  }

  package static func cloudPicture(
    patterns: [PointCloud], query: PointCloud, target: Int,
    runs: [(label: EngineLabel, result: RetrievalResult<PointCloud>)]
  ) -> String {
    func xy(_ cloud: PointCloud) -> [(x: Double, y: Double)] {
      (0..<cloud.count).map { j in (cloud.points[j, 0], cloud.dimension > 1 ? cloud.points[j, 1] : 0) }
    }
    let shown = pictureRuns(runs).filter { $0.label.separation == runs.first?.label.separation }
    var sets = [
      SVG.PointSet(
        label: "stored target", points: xy(patterns[target]), color: "#000", radius: 4, hollow: true),
      SVG.PointSet(label: "query", points: xy(query), color: "#999", radius: 2),
    ]
    var paths: [[(x: Double, y: Double)]] = []
    for (k, run) in shown.enumerated() {
      // Decreasing sizes, so that finals that coincide stay visible as concentric dots.
      sets.append(
        SVG.PointSet(
          label: "\(run.label.geometry) (final)", points: xy(run.result.state),
          color: SVG.palette[k % SVG.palette.count], radius: max(1.2, 4 - 1.2 * Double(k))))
      if k == 0, let trajectory = run.result.trajectory {
        for j in 0..<query.count {
          paths.append(trajectory.map { ($0.points[j, 0], $0.dimension > 1 ? $0.points[j, 1] : 0) })
        }
      }
    }
    let first =
      shown.first.map {
        "\($0.label.geometry), \($0.label.separation), beta \(Table.format($0.label.beta, digits: 4))"
      } ?? ""
    return SVG.scatter(
      title:
        "Query 1: final atoms of each geometry; grey paths: \(first)\(query.dimension > 2 ? " (first two coordinates)" : "")",
      sets: sets, paths: paths)
  }

  // MARK: Gaussians

  package static let gaussianGeometries: [GeometryChoice] = [.buresWasserstein, .euclidean]

  /// The BW-DAM paper's synthetic model: Gaussians on a Wasserstein sphere (d = 10, radius 2,
  /// covariance eigenvalues in [0.5, 2]); queries perturbed at W2 = sqrt(lambda_min).
  package static func sphereGaussians(_ settings: CompareSettings) throws -> ComparisonCase<Gaussian>? {
    let dimension = 10
    let stored = settings.quick ? 20 : 100
    let model = try WassersteinSphereModel(
      dimension: dimension, radius: BWDAMSyntheticExperiment.radius,
      minimumEigenvalue: BWDAMSyntheticExperiment.minimumEigenvalue,
      maximumEigenvalue: BWDAMSyntheticExperiment.maximumEigenvalue)
    var generator = SeededGenerator(seed: settings.seed &+ 2)
    let patterns = try model.sample(count: stored, using: &generator)
    let distance = settings.noise ?? BWDAMSyntheticExperiment.minimumEigenvalue.squareRoot()
    let count = settings.count ?? (settings.quick ? 4 : 30)
    let targets = (0..<count).map { _ in Int.random(in: 0..<stored, using: &generator) }
    let queries = try attributing("--noise") {
      try targets.map {
        try GaussianSampling.perturbation(of: patterns[$0], distance: distance, using: &generator)
      }
    }
    return try gaussians(
      patterns: patterns, queries: queries, targets: targets,
      workload:
        "BW-DAM paper's synthetic model: \(stored) Gaussians in d = \(dimension) on a Wasserstein sphere of radius \(BWDAMSyntheticExperiment.radius), covariance eigenvalues in [\(BWDAMSyntheticExperiment.minimumEigenvalue), \(BWDAMSyntheticExperiment.maximumEigenvalue)] (seed \(settings.seed &+ 2)); \(count) queries = a stored Gaussian perturbed at W2 = \(Table.format(distance, digits: 4))",
      settings: settings, defaultBetas: settings.quick ? [2] : [0.1, 2])
  }

  package static func gaussians(
    patterns: [Gaussian], queries: [Gaussian], targets: [Int], workload: String, settings: CompareSettings,
    defaultBetas: [Double]
  ) throws -> ComparisonCase<Gaussian>? {
    let geometries = settings.geometries(gaussianGeometries)
    guard !geometries.isEmpty else { return nil }
    let stopping = try attributing("--max-steps") { try StoppingRule(maxSteps: settings.maxSteps ?? 100) }
    let bw = try attributing("--memory") {
      try Memory(divergence: BuresWassersteinDivergence(), patterns: patterns)
    }
    let stacked = try attributing("--memory") {
      try Memory(divergence: .squaredEuclidean, patterns: patterns.map(\.stacked))
    }
    var engines: [ComparedEngine<Gaussian>] = []
    for geometry in geometries {
      for separation in settings.separations(costlySeparations) {
        for beta in settings.betas(defaultBetas) {
          let label: EngineLabel
          let retrieve: @Sendable (Gaussian, Bool) throws -> RetrievalResult<Gaussian>
          var retrieveBatch: (@Sendable ([Gaussian], Bool) throws -> [RetrievalResult<Gaussian>])? = nil
          if geometry == .buresWasserstein {
            let engine = try attributing("--beta") {
              try RetrievalEngine(
                memory: bw, separation: separation, geometry: BuresWassersteinGeometry(step: 0.5), beta: beta,
                stopping: stopping, pruning: settings.pruning)
            }
            label = EngineLabel(
              divergence: "bures-wasserstein", geometry: geometry.rawValue, separation: separation.name,
              beta: beta)
            retrieve = { try engine.retrieve($0, recordingTrajectory: $1) }
            retrieveBatch = { try engine.retrieve(batch: $0, recordingTrajectory: $1) }
          } else {
            let engine = try attributing("--beta") {
              try RetrievalEngine(
                memory: stacked, separation: separation, geometry: EuclideanGeometry(), beta: beta,
                stopping: stopping, pruning: settings.pruning)
            }
            label = EngineLabel(
              divergence: "squared-euclidean", geometry: geometry.rawValue, separation: separation.name,
              beta: beta, baseline: "stacked-euclidean")
            retrieve = { query, record in
              let result = try engine.retrieve(query.stacked, recordingTrajectory: record)
              func gaussian(_ v: [Double]) throws -> Gaussian {
                do { return try Gaussian(stacked: v) } catch {
                  throw RetrievalFailure(reason: "the stacked state is not a Gaussian (\(error.message))")
                }
              }
              return try result.mapStates(gaussian)
            }
          }
          engines.append(ComparedEngine(label: label, retrieve: retrieve, retrieveBatch: retrieveBatch))
        }
      }
    }
    return ComparisonCase(
      family: "gaussians", workload: workload, reference: "squared 2-Wasserstein distance W2^2",
      queries: queries,
      targets: targets, engines: engines,
      distances: { state in try patterns.map { try BuresWasserstein.distanceSquared(state, $0) } },
      picture: { query, target, runs in
        gaussianPicture(patterns: patterns, query: query, target: target, runs: runs)
      })
  }

  package static func gaussianPicture(
    patterns: [Gaussian], query: Gaussian, target: Int,
    runs: [(label: EngineLabel, result: RetrievalResult<Gaussian>)]
  ) -> String {
    func xy(_ g: Gaussian) -> (x: Double, y: Double) { (g.mean[0], g.dimension > 1 ? g.mean[1] : 0) }
    var sets = [
      SVG.PointSet(label: "stored means", points: patterns.map(xy), color: "#ccc", radius: 2),
      SVG.PointSet(label: "target", points: [xy(patterns[target])], color: "#000", radius: 7, hollow: true),
      SVG.PointSet(label: "query", points: [xy(query)], color: "#666", radius: 4),
    ]
    var paths: [[(x: Double, y: Double)]] = []
    for (k, run) in pictureRuns(runs).enumerated() {
      paths.append((run.result.trajectory ?? [query, run.result.state]).map(xy))
      sets.append(
        SVG.PointSet(
          label: "\(run.label.geometry), \(run.label.separation)", points: [xy(run.result.state)],
          color: SVG.palette[k % SVG.palette.count], radius: max(1.5, 6 - 1.2 * Double(k))))
    }
    return SVG.scatter(
      title: "Query 1: the mean's path to its final value, first two coordinates", sets: sets, paths: paths)
  }
}
