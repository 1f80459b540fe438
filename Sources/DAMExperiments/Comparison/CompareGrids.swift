import DAM
import DAMDatasets

extension CompareWorkloads {
  // MARK: Grid histograms

  /// The grid geometries: the two of the grid Sinkhorn memories, and the Euclidean baseline on
  /// the pixel intensities.
  package static let gridGeometries: [GeometryChoice] = [.hellinger, .barycentric, .euclidean]

  /// The side of the upsampled digits of the `grid-digits` workload (16, not the experiment's 32,
  /// to keep the main job short: a grid solve costs about cells x side).
  package static let gridSide = 16

  /// Images as histograms: ten seeded built-in digits (one per class) upsampled to 16 x 16 and
  /// normalised to mass 1; queries are stored digits with a random quarter of the image masked and
  /// Gaussian noise (sd `noise` x the largest cell mass) on every cell, clipped and renormalised.
  package static func gridDigits(_ settings: CompareSettings) throws -> ComparisonCase<GridHistogram>? {
    let geometries = settings.geometries(gridGeometries)
    guard !geometries.isEmpty else { return nil }
    let digits = Digits()
    var generator = SeededGenerator(seed: settings.seed &+ 3)
    let indices = GridImageData.digitIndices(digits, perClass: 1, generator: &generator)
    let patterns = try indices.map { try GridImageData.digit(digits, $0, side: gridSide) }
    let noise = settings.noise ?? 0.25
    let count = settings.count ?? (settings.quick ? 4 : 12)
    let targets = (0..<count).map { $0 % patterns.count }
    let queries = try targets.map { target in
      let masked = try GridImageData.corrupt(patterns[target], .mask, level: 0.25, generator: &generator)
        .histogram
      return try GridImageData.corrupt(masked, .noise, level: noise, generator: &generator).histogram
    }
    let epsilon = settings.epsilon ?? 2
    let options = try attributing("--epsilon") {
      try GridSinkhornOptions(epsilon: epsilon, tolerance: 1e-6, maxIterations: 20_000)
    }
    let stopping = try attributing("--max-steps") {
      try StoppingRule(
        maxSteps: settings.maxSteps ?? 5, energyTolerance: 1e-6, positionTolerance: nil, massTolerance: nil)
    }
    let memory = try attributing("--epsilon") {
      try Memory(divergence: GridSinkhornDivergence(options: options), patterns: patterns)
    }
    // The baseline sees the images as pixel intensities in [0, 1] (mass / the memory's largest mass),
    // so that its squared distances are on the scale of S_eps in squared pixels and one beta serves both.
    let peak = patterns.map { $0.masses.max() ?? 0 }.max() ?? 1
    let pixels = try attributing("--memory") {
      try Memory(divergence: .squaredEuclidean, patterns: patterns.map { $0.masses.map { $0 / peak } })
    }
    let shape = patterns[0].shape
    let betas = settings.betas([1])
    var engines: [ComparedEngine<GridHistogram>] = []
    for geometry in geometries {
      for separation in settings.separations(costlySeparations) {
        for beta in betas {
          let label: EngineLabel
          let retrieve: @Sendable (GridHistogram, Bool) throws -> RetrievalResult<GridHistogram>
          var retrieveBatch: (@Sendable ([GridHistogram], Bool) throws -> [RetrievalResult<GridHistogram>])? =
            nil
          switch geometry {
          case .hellinger:
            let shape = try attributing("--epsilon") {
              try GridHellingerGeometry(
                step: 0.5, hellingerScale: GridImagesExperiment.hellingerRate / (0.5 * epsilon))
            }
            let engine = try attributing("--beta") {
              try RetrievalEngine(
                memory: memory, separation: separation, geometry: shape, beta: beta, stopping: stopping,
                pruning: settings.pruning)
            }
            label = EngineLabel(
              divergence: "sinkhorn-grid", geometry: "hellinger", separation: separation.name, beta: beta)
            retrieve = { try engine.retrieve($0, recordingTrajectory: $1) }
            retrieveBatch = { try engine.retrieve(batch: $0, recordingTrajectory: $1) }
          case .barycentric:
            let engine = try attributing("--beta") {
              try RetrievalEngine(
                memory: memory, separation: separation,
                geometry: try TruncatedBarycenter.geometry(epsilon: epsilon),
                beta: beta, stopping: stopping, pruning: settings.pruning)
            }
            label = EngineLabel(
              divergence: "sinkhorn-grid", geometry: "barycentric", separation: separation.name, beta: beta)
            retrieve = { try engine.retrieve($0, recordingTrajectory: $1) }
            retrieveBatch = { try engine.retrieve(batch: $0, recordingTrajectory: $1) }
          default:
            let engine = try attributing("--beta") {
              try RetrievalEngine(
                memory: pixels, separation: separation, geometry: EuclideanGeometry(), beta: beta,
                stopping: stopping, pruning: settings.pruning)
            }
            label = EngineLabel(
              divergence: "squared-euclidean", geometry: "euclidean", separation: separation.name,
              beta: beta, baseline: "pixel-euclidean")
            retrieve = { query, record in
              let result = try engine.retrieve(query.masses.map { $0 / peak }, recordingTrajectory: record)
              func histogram(_ v: [Double]) throws -> GridHistogram {
                do { return try GridHistogram(shape: shape, intensities: v.map { max($0, 0) }) } catch {
                  throw RetrievalFailure(reason: "the Euclidean state is not a histogram (\(error.message))")
                }
              }
              return try result.mapStates(histogram)
            }
          }
          engines.append(ComparedEngine(label: label, retrieve: retrieve, retrieveBatch: retrieveBatch))
        }
      }
    }
    return ComparisonCase(
      family: "grid histograms",
      workload:
        "10 built-in digits (one per class, seed \(settings.seed &+ 3)) upsampled to \(gridSide)x\(gridSide) (bilinear) as histograms of mass 1; \(count) queries = a stored digit with a random quarter of the image masked and Gaussian noise of sd \(noise) x the largest cell mass on every cell, clipped at 0 and renormalised; the Euclidean baseline sees the images as intensities (mass / largest stored mass)",
      reference: "grid Sinkhorn divergence S_eps, eps = \(epsilon) squared pixels",
      queries: queries, targets: targets, engines: engines,
      distances: { state in
        try patterns.map { try GridSinkhorn.divergence(state, $0, options: options).value }
      },
      picture: { query, target, runs in
        gridPicture(patterns: patterns, query: query, target: target, runs: runs)
      })
  }

  /// The first query: the stored target, the query and each engine's final state.
  package static func gridPicture(
    patterns: [GridHistogram], query: GridHistogram, target: Int,
    runs: [(label: EngineLabel, result: RetrievalResult<GridHistogram>)]
  ) -> String {
    var images = [
      SVG.CaptionedImage(
        caption: "stored target", values: GridImageData.shade(patterns[target]), side: gridSide),
      SVG.CaptionedImage(caption: "query", values: GridImageData.shade(query), side: gridSide),
    ]
    for run in pictureRuns(runs) {
      images.append(
        SVG.CaptionedImage(
          caption: "\(run.label.geometry), \(run.label.separation)",
          values: GridImageData.shade(run.result.state),
          side: gridSide))
    }
    let beta = pictureRuns(runs).first.map { Table.format($0.label.beta, digits: 4) } ?? ""
    return SVG.imageRows(
      title: "Query 1: the stored target, the query and each engine's final state (beta \(beta))",
      rows: [(caption: "", images: images)], size: 96, captionWidth: 12)
  }
}
