import DAM
import DAMDatasets
import Foundation

/// Images as histograms on a grid (issue 6, scope 7): the built-in digits upsampled to 32 x 32 and
/// seeded synthetic shapes at 128 x 128, recalled from masked and noisy queries by grid Sinkhorn
/// memories (spherical Hellinger and barycentric geometries, softmax and sparsemax) against the
/// Euclidean (classic modern) Hopfield network on the flattened images; and a picture of
/// Wasserstein barycenters next to Euclidean averages.
package enum GridImagesExperiment {
  package static let name = "grid-images"
  package static let summary =
    "Images as grid histograms (digits 32x32, shapes 128x128): masked/noisy recall, grid Sinkhorn vs Euclidean Hopfield; barycenters"

  /// The inverse temperatures tried, as multiples of `1 / gap`, `gap` the median over stored
  /// patterns of the divergence to the nearest other pattern (so `κ = 1` weighs the nearest other
  /// pattern `e^κ` times less than an exact match).
  package static let kappas: [Double] = [4, 16, 64]
  /// Queries per corruption in the tuning of κ (seeds disjoint from the evaluation's); 2 with --quick.
  package static let tuningTrials = 2
  /// The seed offset of the tuning queries.
  package static let tuningSeedOffset: UInt64 = 1_000_003
  package static let gridMaxSteps = 5
  package static let euclideanMaxSteps = 100
  /// The Hellinger step: `τ α ε = 0.05` (the potentials are in squared pixels, so the rate is
  /// scaled by 1/ε). At `τ α ε = 0.5` softmax queries collapsed onto a few cells within 5 steps
  /// (the first variation spans hundreds of squared pixels) and lost even clean queries.
  package static let hellingerRate = 0.05

  // MARK: Settings

  package struct DatasetSettings {
    package var name: String
    package var side: Int
    package var patternCount: Int
    package var epsilon: Double
    /// The marginal tolerance of the Sinkhorn solves.
    package var tolerance: Double
    package var levels: [GridImageData.Corruption: [Double]]
    package var trials: Int
    /// Whether κ is tuned on this data set (otherwise the previous data set's choice is reused).
    package var tunes: Bool
  }

  /// Digits: `trials` queries per cell, κ tuned. Shapes (128 x 128, each solve ~64 times the
  /// cost of a 32 x 32 one): `trials / 2` queries per cell, κ reused from the digits.
  package static func settings(quick: Bool, trials: Int) -> [DatasetSettings] {
    let corruptions = GridImageData.Corruption.allCases
    func levels(_ mask: [Double], _ noise: [Double], _ salt: [Double]) -> [GridImageData.Corruption: [Double]]
    {
      Dictionary(uniqueKeysWithValues: zip(corruptions, [mask, noise, salt]))
    }
    if quick {
      return [
        DatasetSettings(
          name: "digits", side: 32, patternCount: 10, epsilon: 4, tolerance: 1e-6,
          levels: levels([0.25], [0.5], [0.05]), trials: trials, tunes: true),
        DatasetSettings(
          name: "shapes", side: 48, patternCount: 4, epsilon: 16, tolerance: 1e-4,
          levels: levels([0.25], [0.25], [0.01]), trials: max(1, trials / 2), tunes: false),
      ]
    }
    return [
      DatasetSettings(
        name: "digits", side: 32, patternCount: 10, epsilon: 4, tolerance: 1e-6,
        levels: levels([0.25, 0.5], [0.25, 1.0], [0.02, 0.1]), trials: trials, tunes: true),
      DatasetSettings(
        name: "shapes", side: 128, patternCount: 8, epsilon: 32, tolerance: 1e-4,
        levels: levels([0.5], [0.2], [0.01]), trials: max(1, trials / 2), tunes: false),
    ]
  }

  // MARK: Methods

  package enum Engine: String, CaseIterable {
    case hellinger = "grid sinkhorn / hellinger"
    case barycentric = "grid sinkhorn / barycentric"
    case squaredEuclidean = "squared-euclidean / fixed-point"
    case dotProduct = "dot-product / fixed-point"

    package var isGrid: Bool { self == .hellinger || self == .barycentric }
  }

  package struct Method: Hashable {
    package var engine: Engine
    package var sparse: Bool
    package var label: String { "\(engine.rawValue), \(sparse ? "sparsemax" : "softmax")" }
  }

  package static let methods: [Method] = [
    Method(engine: .hellinger, sparse: false), Method(engine: .hellinger, sparse: true),
    Method(engine: .barycentric, sparse: false), Method(engine: .barycentric, sparse: true),
    Method(engine: .squaredEuclidean, sparse: false), Method(engine: .squaredEuclidean, sparse: true),
    Method(engine: .dotProduct, sparse: false),
  ]

  /// A stored data set and its memories.
  package struct Dataset: @unchecked Sendable {
    package var settings: DatasetSettings
    package var patterns: [GridHistogram]
    /// Class (digits) or kind (shapes) of each pattern.
    package var labels: [String]
    package var options: GridSinkhornOptions
    package var grid: Memory<GridSinkhornDivergence>
    package var squared: Memory<SquaredEuclideanDivergence>
    package var dot: Memory<DotProductDivergence>
    /// The median nearest-neighbour gap per engine (see ``kappas``).
    package var gaps: [Engine: Double]
  }

  /// What one retrieval gave.
  package struct Outcome: Sendable {
    package var retrieved = -1
    package var final: GridHistogram? = nil
    package var steps = 0
    package var seconds = 0.0
    package var failure: String? = nil
  }

  package typealias Retriever = @Sendable (GridHistogram) throws -> Outcome

  package static func retriever(_ method: Method, beta: Double, dataset: Dataset) throws -> Retriever {
    let map = method.sparse ? AnySeparationMap(Sparsemax()) : AnySeparationMap(Softmax())
    let patterns = dataset.patterns
    let shape = patterns[0].shape
    switch method.engine {
    case .hellinger, .barycentric:
      let stopping = try StoppingRule(
        maxSteps: gridMaxSteps, energyTolerance: 1e-6, positionTolerance: nil, massTolerance: nil)
      if method.engine == .hellinger {
        let geometry = try GridHellingerGeometry(
          step: 0.5, hellingerScale: hellingerRate / (0.5 * dataset.options.epsilon))
        let engine = try RetrievalEngine(
          memory: dataset.grid, separation: map, geometry: geometry, beta: beta, stopping: stopping,
          parallelism: 1)
        return { query in
          let result = try engine.retrieve(query)
          return Outcome(retrieved: result.nearestPattern, final: result.state, steps: result.steps)
        }
      }
      let engine = try RetrievalEngine(
        memory: dataset.grid, separation: map,
        geometry: try TruncatedBarycenter.geometry(epsilon: dataset.options.epsilon),
        beta: beta, stopping: stopping, parallelism: 1)
      return { query in
        let result = try engine.retrieve(query)
        return Outcome(retrieved: result.nearestPattern, final: result.state, steps: result.steps)
      }
    case .squaredEuclidean, .dotProduct:
      let stopping = try StoppingRule(maxSteps: euclideanMaxSteps)
      let vectors = patterns.map(\.masses)
      // The final state is judged by squared Euclidean distance (for both energies).
      @Sendable func judge(_ state: [Double], steps: Int) throws -> Outcome {
        let distances = vectors.map { p in zip(state, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        let nearest = distances.indices.min { distances[$0] < distances[$1] } ?? -1
        let final = try? GridHistogram(shape: shape, intensities: state.map { max($0, 0) })
        return Outcome(retrieved: nearest, final: final, steps: steps)
      }
      if method.engine == .squaredEuclidean {
        let engine = try RetrievalEngine(
          memory: dataset.squared, separation: map, geometry: EuclideanGeometry(), beta: beta,
          stopping: stopping,
          parallelism: 1)
        return { query in
          let result = try engine.retrieve(query.masses)
          return try judge(result.state, steps: result.steps)
        }
      }
      let engine = try RetrievalEngine(
        memory: dataset.dot, separation: map, geometry: EuclideanGeometry(), beta: beta, stopping: stopping,
        parallelism: 1)
      return { query in
        let result = try engine.retrieve(query.masses)
        return try judge(result.state, steps: result.steps)
      }
    }
  }

  // MARK: Data

  package static func dataset(_ settings: DatasetSettings, seed: UInt64) throws -> Dataset {
    var generator = SeededGenerator(seed: seed &+ (settings.name == "digits" ? 11 : 13))
    var patterns: [GridHistogram] = []
    var labels: [String] = []
    if settings.name == "digits" {
      let digits = Digits()
      let indices = GridImageData.digitIndices(
        digits, perClass: settings.patternCount / 10, generator: &generator)
      patterns = try indices.map { try GridImageData.digit(digits, $0, side: settings.side) }
      labels = indices.map { "\(digits.labels[$0])" }
    } else {
      let shapes = try GridImageData.shapes(
        count: settings.patternCount, side: settings.side, generator: &generator)
      patterns = try shapes.map {
        try GridHistogram(
          shape: [settings.side, settings.side],
          intensities: try GridImageData.render($0, side: settings.side))
      }
      labels = shapes.map(\.kind.rawValue)
    }
    let options = try GridSinkhornOptions(
      epsilon: settings.epsilon, tolerance: settings.tolerance, maxIterations: 20_000)
    let grid = try Memory(divergence: GridSinkhornDivergence(options: options), patterns: patterns)
    let squared = try Memory(divergence: .squaredEuclidean, patterns: patterns.map(\.masses))
    let dot = try Memory(divergence: .dotProduct, patterns: patterns.map(\.masses))
    // Nearest-neighbour gaps: S_eps between every pair (symmetric), the vector divergences directly.
    let n = patterns.count
    let stored = patterns
    let pairs = (0..<n).flatMap { i in ((i + 1)..<n).map { (i, $0) } }
    let values = ParallelResults<Double>(count: pairs.count, initial: .nan)
    forEachChunk(pairs.count, workers: coreCount) { k in
      do {
        values.set(
          k, try GridSinkhorn.divergence(stored[pairs[k].0], stored[pairs[k].1], options: options).value)
      } catch {
        values.fail(at: k, "S_eps between patterns \(pairs[k]): \(error)")
      }
    }
    if let failure = values.failure { throw CLIError(name, failure) }
    var sinkhorn = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for (k, (i, j)) in pairs.enumerated() {
      sinkhorn[i][j] = values.values[k]
      sinkhorn[j][i] = values.values[k]
    }
    func median(_ x: [Double]) -> Double {
      let s = x.sorted()
      return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    func gap(_ d: (Int, Int) -> Double) -> Double {
      median((0..<n).map { i in (0..<n).filter { $0 != i }.map { d(i, $0) - d(i, i) }.min() ?? 0 })
    }
    let x = patterns.map(\.masses)
    func dotValue(_ i: Int, _ j: Int) -> Double {
      0.5 * zip(x[i], x[i]).reduce(0) { $0 + $1.0 * $1.1 } - zip(x[i], x[j]).reduce(0) { $0 + $1.0 * $1.1 }
    }
    func squaredValue(_ i: Int, _ j: Int) -> Double {
      zip(x[i], x[j]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }
    let sinkhornGap = gap { sinkhorn[$0][$1] }
    let gaps: [Engine: Double] = [
      .hellinger: sinkhornGap, .barycentric: sinkhornGap, .squaredEuclidean: gap(squaredValue),
      .dotProduct: gap(dotValue),
    ]
    return Dataset(
      settings: settings, patterns: patterns, labels: labels, options: options, grid: grid, squared: squared,
      dot: dot,
      gaps: gaps)
  }

  /// The query of trial `t` at a corruption and level: the pattern `t mod N`, corrupted with the
  /// trial's own seed.
  package static func query(
    _ dataset: Dataset, corruption: GridImageData.Corruption, level: Double, trial: Int, seed: UInt64
  ) throws -> (target: Int, query: GridHistogram, redrawn: Bool) {
    let target = trial % dataset.patterns.count
    let corruptionIndex = UInt64(GridImageData.Corruption.allCases.firstIndex(of: corruption) ?? 0)
    var generator = SeededGenerator(
      seed: seed &+ UInt64(trial) &* 7919 &+ corruptionIndex &* 104_729 &+ UInt64((level * 1e6).rounded())
        &* 31)
    let (histogram, redrawn) = try GridImageData.corrupt(
      dataset.patterns[target], corruption, level: level, generator: &generator)
    return (target, histogram, redrawn)
  }

  /// Runs `retrieve` on the queries of `trials` trials, concurrently.
  package static func runQueries(
    _ dataset: Dataset, retrieve: Retriever, corruption: GridImageData.Corruption, level: Double, trials: Int,
    seed: UInt64, label: String
  ) throws -> [(target: Int, outcome: Outcome)] {
    let results = ParallelResults<(Int, Outcome)>(count: trials, initial: (-1, Outcome()))
    forEachChunk(trials, workers: coreCount) { t in
      do {
        let (target, q, _) = try query(dataset, corruption: corruption, level: level, trial: t, seed: seed)
        let start = Terminal.now()
        do {
          var outcome = try retrieve(q)
          outcome.seconds = Terminal.now() - start
          results.set(t, (target, outcome))
        } catch let error as DAMError where error.kind == .numericalFailure {
          results.set(t, (target, Outcome(seconds: Terminal.now() - start, failure: error.description)))
        }
      } catch {
        results.fail(at: t, "\(label), trial \(t): \(error)")
      }
    }
    if let failure = results.failure { throw CLIError(name, "a trial failed: \(failure)") }
    return results.values.map { (target: $0.0, outcome: $0.1) }
  }

  // MARK: Rows

  package struct Row: Codable {
    package var dataset: String
    package var corruption: String
    package var level: Double
    package var method: String
    package var kappa: Double
    package var beta: Double
    package var trials: Int
    package var successes: Int
    package var successRate: Double
    package var lower: Double
    package var upper: Double
    package var sameLabelRate: Double
    package var meanSteps: Double
    package var failures: Int
    package var secondsPerQuery: Double

    package enum CodingKeys: String, CodingKey {
      case dataset, corruption, level, method, kappa, beta, trials, successes, lower, upper, failures
      case successRate = "success_rate"
      case sameLabelRate = "same_label_rate"
      case meanSteps = "mean_steps"
      case secondsPerQuery = "seconds_per_query"
    }
  }

  package struct TuningRow: Codable {
    package var dataset: String
    package var method: String
    package var kappa: Double
    package var beta: Double
    package var trials: Int
    package var successes: Int
    package var chosen: Bool
  }

  package struct DatasetJSON: Codable {
    package var name: String
    package var side: Int
    package var patterns: Int
    package var epsilon: Double
    package var labels: [String]
    package var gaps: [String: Double]
  }

  package struct ReportJSON: Codable {
    package var command: String
    package var seed: UInt64
    package var machine: String
    package var seconds: Double
    package var datasets: [DatasetJSON]
    package var tuning: [TuningRow]
    package var rows: [Row]
  }

  // MARK: Run

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let start = Terminal.now()
    let tuningTrials = quick ? 1 : Self.tuningTrials
    let cpuStart = Terminal.cpuTime()
    var rows: [Row] = []
    var tuning: [TuningRow] = []
    var datasets: [Dataset] = []
    var examples: [String: String] = [:]
    var chosen: [Method: Double] = [:]
    var datasetSeconds: [String: Double] = [:]
    var redraws = 0
    for settings in settings(quick: quick, trials: trials) {
      let datasetStart = Terminal.now()
      Terminal.progress("\(name): \(settings.name): storing \(settings.patternCount) patterns")
      let data = try dataset(settings, seed: seed)
      datasets.append(data)
      // Tuning: every κ on the middle level of every corruption, seeds disjoint from the evaluation.
      for method in methods where settings.tunes {
        var best = (kappa: kappas[0], successes: -1)
        var lines: [TuningRow] = []
        for kappa in kappas {
          let beta = kappa / data.gaps[method.engine]!
          Terminal.progress("\(name): \(settings.name): tuning \(method.label), kappa \(Int(kappa))")
          let retrieve = try retriever(method, beta: beta, dataset: data)
          var successes = 0
          for corruption in GridImageData.Corruption.allCases {
            let levels = settings.levels[corruption]!
            let level = levels[levels.count / 2]
            let results = try runQueries(
              data, retrieve: retrieve, corruption: corruption, level: level, trials: tuningTrials,
              seed: seed &+ tuningSeedOffset, label: "tuning \(method.label)")
            successes += results.filter { $0.outcome.retrieved == $0.target }.count
          }
          lines.append(
            TuningRow(
              dataset: settings.name, method: method.label, kappa: kappa, beta: beta,
              trials: tuningTrials * GridImageData.Corruption.allCases.count, successes: successes,
              chosen: false))
          if successes > best.successes { best = (kappa, successes) }
        }
        chosen[method] = best.kappa
        tuning += lines.map {
          var line = $0
          line.chosen = line.kappa == best.kappa
          return line
        }
      }
      // Evaluation: the clean queries once, then every corruption and level.
      var cells: [(GridImageData.Corruption?, Double)] = [(nil, 0)]
      for corruption in GridImageData.Corruption.allCases {
        for level in settings.levels[corruption]! { cells.append((corruption, level)) }
      }
      var firstOutcomes: [String: [Method: Outcome]] = [:]
      for (number, (corruption, level)) in cells.enumerated() {
        if let corruption {
          for t in 0..<settings.trials
          where try query(data, corruption: corruption, level: level, trial: t, seed: seed).redrawn {
            redraws += 1
          }
        }
        for method in methods {
          let kappa = chosen[method]!
          let beta = kappa / data.gaps[method.engine]!
          Terminal.progress(
            "\(name): \(settings.name): \(number + 1)/\(cells.count): \(corruption?.rawValue ?? "clean") \(level), \(method.label)"
          )
          let retrieve = try retriever(method, beta: beta, dataset: data)
          let results = try runQueries(
            data, retrieve: retrieve, corruption: corruption ?? .mask, level: level, trials: settings.trials,
            seed: seed,
            label: "\(settings.name), \(method.label)")
          let successes = results.filter { $0.outcome.retrieved == $0.target }.count
          let sameLabel = results.filter {
            $0.outcome.retrieved >= 0 && data.labels[$0.outcome.retrieved] == data.labels[$0.target]
          }.count
          let interval = try WilsonInterval(successes: successes, trials: settings.trials)
          let n = Double(settings.trials)
          rows.append(
            Row(
              dataset: settings.name, corruption: corruption?.rawValue ?? "none", level: level,
              method: method.label,
              kappa: kappa, beta: beta, trials: settings.trials, successes: successes,
              successRate: interval.proportion, lower: interval.lower, upper: interval.upper,
              sameLabelRate: Double(sameLabel) / n,
              meanSteps: Double(results.reduce(0) { $0 + $1.outcome.steps }) / n,
              failures: results.filter { $0.outcome.failure != nil }.count,
              secondsPerQuery: results.reduce(0) { $0 + $1.outcome.seconds } / n))
          if let corruption, level == settings.levels[corruption]!.last {
            firstOutcomes[corruption.rawValue, default: [:]][method] = results[0].outcome
          }
        }
      }
      examples[settings.name] = try examplePicture(data, outcomes: firstOutcomes, seed: seed)
      datasetSeconds[settings.name] = Terminal.now() - datasetStart
    }
    Terminal.progress("\(name): barycenters")
    let barycenters = try barycenterPicture(datasets, seed: seed)
    Terminal.endProgress()
    let seconds = Terminal.now() - start
    let cpu = Terminal.cpuTime() - cpuStart
    try write(
      rows, tuning: tuning, datasets: datasets, examples: examples, barycenters: barycenters, report: report,
      trials: trials, seed: seed, quick: quick, seconds: seconds, cpu: cpu, redraws: redraws,
      tuningTrials: tuningTrials, datasetSeconds: datasetSeconds)
  }

  // MARK: Pictures

  package static func displayed(_ histogram: GridHistogram) -> SVG.CaptionedImage {
    displayed(GridImageData.shade(histogram), side: histogram.shape[0], caption: "")
  }

  /// Images wider than 64 pixels are drawn at 64 x 64 (block means).
  package static func displayed(_ values: [Double], side: Int, caption: String) -> SVG.CaptionedImage {
    let factor = max(1, side / 64)
    let image = GridImageData.downsample(values, side: side, factor: factor)
    let peak = image.max() ?? 0
    return SVG.CaptionedImage(
      caption: caption, values: peak > 0 ? image.map { $0 / peak } : image, side: side / factor)
  }

  /// Trial 0 of every corruption at its strongest level: the target, the query and each method's
  /// final state with the pattern it retrieved.
  package static func examplePicture(_ data: Dataset, outcomes: [String: [Method: Outcome]], seed: UInt64)
    throws
    -> String
  {
    var rows: [(caption: String, images: [SVG.CaptionedImage])] = []
    for corruption in GridImageData.Corruption.allCases {
      let level = data.settings.levels[corruption]!.last!
      let (target, q, _) = try query(data, corruption: corruption, level: level, trial: 0, seed: seed)
      var images = [
        withCaption(displayed(data.patterns[target]), "target #\(target)"),
        withCaption(displayed(q), "query"),
      ]
      for method in methods {
        guard let outcome = outcomes[corruption.rawValue]?[method] else { continue }
        let mark = outcome.retrieved == target ? "ok" : "wrong"
        let short =
          "\(method.engine.isGrid ? (method.engine == .hellinger ? "hell." : "bary.") : (method.engine == .dotProduct ? "dot" : "eucl.")) \(method.sparse ? "sparse" : "soft")"
        if let final = outcome.final {
          images.append(withCaption(displayed(final), "\(short): #\(outcome.retrieved) \(mark)"))
        } else {
          images.append(SVG.CaptionedImage(caption: "\(short): failed", values: [], side: 1))
        }
      }
      rows.append(("\(corruption.rawValue) \(Table.format(level, digits: 3))", images))
    }
    return SVG.imageRows(
      title:
        "\(data.settings.name) (\(data.settings.side)x\(data.settings.side)): query, final state of each method, retrieved pattern",
      rows: rows, size: 92, captionWidth: 120)
  }

  package static func withCaption(_ image: SVG.CaptionedImage, _ caption: String) -> SVG.CaptionedImage {
    var image = image
    image.caption = caption
    return image
  }

  /// Wasserstein barycenters next to Euclidean averages: two shapes interpolated, four shapes with
  /// uniform weights, and four digits of one class.
  package static func barycenterPicture(_ datasets: [Dataset], seed: UInt64) throws -> String {
    var rows: [(caption: String, images: [SVG.CaptionedImage])] = []
    func average(_ hs: [GridHistogram], _ w: [Double]) -> [Double] {
      var out = [Double](repeating: 0, count: hs[0].cellCount)
      for (h, weight) in zip(hs, w) { for j in out.indices { out[j] += weight * h.masses[j] } }
      return out
    }
    if let shapes = datasets.first(where: { $0.settings.name == "shapes" }) {
      let side = shapes.settings.side
      let s = Double(side)
      // Two shapes far apart: a disc on the left, a ring on the right (fixed, not seeded).
      let a = GridImageData.Shape(
        kind: .disc, x: 0.27 * s, y: 0.35 * s, size: 0.13 * s, thickness: 0, angle: 0)
      let b = GridImageData.Shape(
        kind: .cross, x: 0.72 * s, y: 0.65 * s, size: 0.18 * s, thickness: 0.05 * s, angle: 0.3)
      let pair = try [a, b].map {
        try GridHistogram(shape: [side, side], intensities: try GridImageData.render($0, side: side))
      }
      let ts = [0, 0.25, 0.5, 0.75, 1.0]
      var wasserstein: [SVG.CaptionedImage] = []
      var euclidean: [SVG.CaptionedImage] = []
      for t in ts {
        let w = [1 - t, t]
        let bar = try GridSinkhorn.barycenter(of: pair, weights: w, options: shapes.options).histogram
        wasserstein.append(withCaption(displayed(bar), "t = \(t)"))
        euclidean.append(displayed(average(pair, w), side: side, caption: "t = \(t)"))
      }
      rows.append(("Wasserstein, (1-t) A + t B", wasserstein))
      rows.append(("Euclidean average", euclidean))
      // Four stored shapes (one of each of the first four kinds found), uniform weights.
      var picked: [GridHistogram] = []
      var kinds: Set<String> = []
      for (p, label) in zip(shapes.patterns, shapes.labels) where !kinds.contains(label) && picked.count < 4 {
        kinds.insert(label)
        picked.append(p)
      }
      let uniform = [Double](repeating: 1 / Double(picked.count), count: picked.count)
      let bar = try GridSinkhorn.barycenter(of: picked, weights: uniform, options: shapes.options).histogram
      rows.append(
        (
          "\(picked.count) stored shapes",
          picked.enumerated().map { withCaption(displayed($0.element), "shape \($0.offset + 1)") }
            + [
              withCaption(displayed(bar), "Wasserstein"),
              displayed(average(picked, uniform), side: side, caption: "Euclidean"),
            ]
        ))
    }
    if let digits = datasets.first(where: { $0.settings.name == "digits" }) {
      let side = digits.settings.side
      let all = Digits()
      var generator = SeededGenerator(seed: seed &+ 17)
      let label = 3
      let indices = Array(
        (0..<all.count).filter { all.labels[$0] == label }.shuffled(using: &generator).prefix(4))
      let images = try indices.map { try GridImageData.digit(all, $0, side: side) }
      let uniform = [Double](repeating: 1 / Double(images.count), count: images.count)
      let bar = try GridSinkhorn.barycenter(of: images, weights: uniform, options: digits.options).histogram
      rows.append(
        (
          "\(images.count) digits '\(label)'",
          images.enumerated().map { withCaption(displayed($0.element), "digit \($0.offset + 1)") }
            + [
              withCaption(displayed(bar), "Wasserstein"),
              displayed(average(images, uniform), side: side, caption: "Euclidean"),
            ]
        ))
    }
    return SVG.imageRows(
      title: "Entropic Wasserstein barycenters (GridSinkhorn.barycenter) next to Euclidean averages",
      rows: rows, size: 110, captionWidth: 190)
  }

  // MARK: Report

  /// The recall figures of a report folder, from its rows (the example and barycenter pictures
  /// need the retrievals and are not redrawn).
  package static func replot(folder: String, seed: UInt64) throws -> [String: String] {
    let report = try Experiment.rows(folder, as: ReportJSON.self)
    var files: [String: String] = [:]
    for dataset in report.datasets {
      files.merge(recallCharts(report.rows, dataset: dataset.name, side: dataset.side)) { $1 }
    }
    return files
  }

  /// The recall figures of one data set, drawn from the report's rows (so `--replot` redraws them
  /// from results.json): per corruption, success against level, the clean queries at level 0.
  package static func recallCharts(_ rows: [Row], dataset: String, side: Int) -> [String: String] {
    var files: [String: String] = [:]
    let mine = rows.filter { $0.dataset == dataset }
    let trials = mine.first?.trials ?? 0
    for corruption in GridImageData.Corruption.allCases {
      let levels = [0] + Set(mine.filter { $0.corruption == corruption.rawValue }.map(\.level)).sorted()
      let series = methods.map { method in
        let selected = levels.compactMap { level in
          mine.first {
            $0.method == method.label
              && ($0.corruption == corruption.rawValue || (level == 0 && $0.corruption == "none"))
              && $0.level == level
          }
        }
        return SVG.Series(
          label: method.label, points: selected.map { ($0.level, $0.successRate) },
          lower: selected.map(\.lower),
          upper: selected.map(\.upper))
      }
      files["recall-\(dataset)-\(corruption.rawValue).svg"] = SVG.lineChart(
        title:
          "\(dataset) \(side)x\(side), \(corruption.rawValue): recall (\(trials) queries per point, Wilson 95%)",
        xLabel: corruption.levelName, yLabel: "success rate", series: series, yRange: 0...1)
    }
    return files
  }

  package static func write(
    _ rows: [Row], tuning: [TuningRow], datasets: [Dataset], examples: [String: String], barycenters: String,
    report: String, trials: Int, seed: UInt64, quick: Bool, seconds: Double, cpu: Double, redraws: Int,
    tuningTrials: Int, datasetSeconds: [String: Double]
  ) throws {
    func interval(_ r: Row) -> String {
      "\(Table.percent(r.successRate)) (\(Table.percent(r.lower))-\(Table.percent(r.upper)))"
    }
    let command = "dam experiment \(name) --trials \(trials) --seed \(seed)\(quick ? " --quick" : "")"
    var files: [String: String] = [:]
    var sections = ""
    for data in datasets {
      let s = data.settings
      var table = Table(header: ["corruption", "level"] + methods.map(\.label))
      var cells: [(String, Double)] = [("none", 0)]
      for corruption in GridImageData.Corruption.allCases {
        for level in s.levels[corruption]! { cells.append((corruption.rawValue, level)) }
      }
      for (corruption, level) in cells {
        var line = [corruption, Table.format(level, digits: 3)]
        for method in methods {
          line.append(
            rows.first {
              $0.dataset == s.name && $0.corruption == corruption && $0.level == level
                && $0.method == method.label
            }
            .map(interval) ?? "")
        }
        table.append(line)
      }
      var steps = Table(header: [
        "method", "kappa", "beta", "mean steps", "s/query", "same label", "failures",
      ])
      for method in methods {
        let mine = rows.filter { $0.dataset == s.name && $0.method == method.label }
        guard let first = mine.first else { continue }
        let n = Double(mine.count)
        steps.append([
          method.label, Table.format(first.kappa, digits: 3), Table.format(first.beta, digits: 4),
          Table.format(mine.reduce(0) { $0 + $1.meanSteps } / n, digits: 3),
          Table.format(mine.reduce(0) { $0 + $1.secondsPerQuery } / n, digits: 3),
          Table.percent(mine.reduce(0) { $0 + $1.sameLabelRate } / n),
          "\(mine.reduce(0) { $0 + $1.failures })",
        ])
      }
      var tuned = Table(header: ["method"] + kappas.map { "kappa \(Int($0))" })
      for method in methods {
        let mine = tuning.filter { $0.dataset == s.name && $0.method == method.label }
        tuned.append(
          [method.label]
            + kappas.map { k in
              mine.first { $0.kappa == k }.map { "\($0.successes)/\($0.trials)\($0.chosen ? " *" : "")" }
                ?? ""
            })
      }
      files.merge(recallCharts(rows, dataset: s.name, side: s.side)) { $1 }
      files["examples-\(s.name).svg"] = examples[s.name]
      let gaps = Engine.allCases.map { "\($0.rawValue) \(Table.format(data.gaps[$0]!, digits: 3))" }.joined(
        separator: "; ")
      sections += """

        ## \(s.name) (\(s.side) x \(s.side), \(data.patterns.count) stored, eps = \(Table.format(s.epsilon, digits: 3)) squared pixels, \(s.trials) queries per cell)

        \(Table.format(datasetSeconds[s.name] ?? 0, digits: 3)) s wall for this data set (tuning included). Stored labels: \(data.labels.joined(separator: " ")). Median nearest-neighbour gaps (the unit of beta): \(gaps).

        \(table.markdown)

        Chosen temperatures (beta = kappa / gap), steps, time and how often the retrieved pattern has the target's \(s.name == "digits" ? "class" : "kind"):

        \(steps.markdown)

        \(s.tunes ? "Tuning (successes over \(tuningTrials) queries per corruption at its middle level, seeds disjoint from the evaluation; * = chosen):\n\n" + tuned.markdown : "kappa as tuned on the digits (beta in units of this data set's own gap).")

        ![recall, masks](recall-\(s.name)-mask.svg)
        ![recall, noise](recall-\(s.name)-noise.svg)
        ![recall, salt and pepper](recall-\(s.name)-salt-pepper.svg)

        ![examples](examples-\(s.name).svg)

        """
    }
    let markdown = """
      # Images as grid histograms: recall from masked and noisy queries, and barycenters

      Command: `\(command)` (seed \(seed)), on \(Machine.description). \(Table.format(seconds, digits: 3)) s wall, \(Table.format(cpu, digits: 3)) s CPU (load average \(CompareReport.loadAverage() ?? "unknown") at the end).

      **Data.** *digits*: the built-in 8 x 8 digits (Data/digits), one seeded image per class, upsampled to 32 x 32 by
      bilinear interpolation (pixel centres aligned, border pixels clamped, as OpenCV's INTER_LINEAR enlarges) and
      normalised to mass 1; blank pixels stay empty cells (no floor: the grid solver takes zero cells). *shapes*:
      seeded discs, rings, squares, crosses and bars at 128 x 128 (4 x 4 supersampled coverage), drawn as pairs of
      near twins (same kind, moved by 4-10% of the side, resized by up to 20%) so that every shape has a close
      neighbour; sizes 6-22% of the side. Grid spacing 1, so eps is in squared pixels.

      **Queries.** Query t corrupts stored pattern t mod N with its own seed, then renormalises: *mask* removes a
      random rectangle of the given fraction of the area (aspect ratio in [1/2, 2]); level 0.5 removes a random half
      (left, right, top or bottom); *noise* adds Gaussian noise of sd level x the largest cell mass to every cell and
      clips at 0; *salt-pepper* sets a fraction level of the cells to 0 or to the largest mass (half each). Queries
      whose corruption removed all mass would be redrawn (\(redraws) were). Level 0 is the stored pattern itself.

      **Methods.** Grid Sinkhorn memories (the debiased divergence S_eps by convolution, marginal tolerance 1e-6,
      at most \(gridMaxSteps) steps, stopping on a relative energy change of 1e-6) with the spherical Hellinger geometry
      (reweighting on the fixed grid, tau alpha eps = \(hellingerRate): the potentials are in squared pixels, so the
      rate is scaled by 1/eps; it cannot put mass back into masked cells) or the barycentric geometry (the query
      becomes the entropic barycenter of the patterns with the separation weights; patterns with under
      \(TruncatedBarycenter.threshold) of the weight are left out and the barycenter iterations stop at an L1 marginal
      error of \(TruncatedBarycenter.tolerance) or after \(TruncatedBarycenter.maxIterations) iterations, so that softmax costs about what sparsemax does), each with softmax and
      sparsemax; against the classic modern Hopfield network on the flattened mass vectors (CCCP fixed point, at
      most \(euclideanMaxSteps) steps) with the squared Euclidean energy (softmax, sparsemax) and with the dot-product
      energy of Ramsauer et al. (softmax).

      **Temperatures.** Scales differ by orders of magnitude (S_eps is in squared pixels, the vector energies
      are products of masses of order 1/cells), so beta = kappa / gap with gap the median over stored patterns of
      the divergence to the nearest other pattern, minus the divergence to itself. kappa in \(kappas.map { "\(Int($0))" }.joined(separator: ", ")) was chosen per
      method by the most successes on separate tuning queries of the digits (seed + \(tuningSeedOffset), \(tuningTrials) per
      corruption at its middle level; ties go to the smaller kappa) and reused on the shapes, whose solves cost
      about 64 times more (beta is in units of each data set's own gap, so kappa carries over).

      **Success** = the retrieved pattern, the stored pattern nearest to the final state, is the one the query was
      made from: nearest in S_eps for the grid memories (the engine's final divergences), in squared Euclidean
      distance for both Hopfield baselines. Intervals: Wilson 95%.
      \(sections)
      ## Barycenters

      ![barycenters](barycenters.svg)

      Entropic barycenters (Benamou et al. 2015, `GridSinkhorn.barycenter`, at each data set's eps) are blurred
      by about eps; they move mass (a shape slides and morphs between A and B), where the Euclidean average
      cross-fades two images in place.
      """
    files["summary.md"] = markdown
    files["barycenters.svg"] = barycenters
    var csv =
      "dataset,corruption,level,method,kappa,beta,trials,successes,success_rate,lower,upper,same_label_rate,mean_steps,failures,seconds_per_query\n"
    for r in rows {
      csv +=
        "\(r.dataset),\(r.corruption),\(r.level),\(r.method),\(r.kappa),\(r.beta),\(r.trials),\(r.successes),\(r.successRate),\(r.lower),\(r.upper),\(r.sameLabelRate),\(r.meanSteps),\(r.failures),\(r.secondsPerQuery)\n"
    }
    files["results.csv"] = csv
    let folder = ReportFolder(path: report)
    try folder.write(files)
    try folder.writeJSON(
      "results.json",
      ReportJSON(
        command: command, seed: seed, machine: Machine.description, seconds: seconds,
        datasets: datasets.map { d in
          DatasetJSON(
            name: d.settings.name, side: d.settings.side, patterns: d.patterns.count,
            epsilon: d.settings.epsilon,
            labels: d.labels,
            gaps: Dictionary(uniqueKeysWithValues: Engine.allCases.map { ($0.rawValue, d.gaps[$0]!) }))
        }, tuning: tuning, rows: rows))
    print(markdown)
    print("Report: \(report)/")
  }
}

/// The barycentric geometry of the grid memories with two economies, so that softmax (whose
/// weights are never exactly zero) costs about what sparsemax does: patterns with less than
/// ``threshold`` of the total weight are left out of the barycenter (their mass would be below the
/// solver's tolerance), and the barycenter iterations stop at an L1 marginal error of
/// ``tolerance`` or after ``maxIterations`` (the approximate barycenter is still a histogram; the
/// geometry is a step rule, not a reported value).
package enum TruncatedBarycenter {
  package static let threshold = 1e-3
  package static let tolerance = 1e-4
  package static let maxIterations = 200

  package static func geometry(epsilon: Double) throws -> GridBarycentricGeometry {
    try GridBarycentricGeometry(
      options: try GridSinkhornOptions(
        epsilon: epsilon, tolerance: tolerance, maxIterations: maxIterations, allowsUnconverged: true),
      weightThreshold: threshold)
  }
}
