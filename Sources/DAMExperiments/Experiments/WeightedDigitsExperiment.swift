import DAM
import DAMDatasets
import Foundation

/// A weighted experiment where the weights carry the information: handwritten digits as point
/// clouds on the pixel grid, weighted by intensity; queries with jittered positions and noisy
/// weights. SHK (transport and reweighting) against Wasserstein (transport only) against the
/// classic Hopfield network on the weight vectors.
package enum WeightedDigitsExperiment {
  package static let name = "shk-weighted-digits"
  package static let summary =
    "Digits as intensity-weighted point clouds, positions and weights corrupted: SHK vs Wasserstein vs Euclidean"

  package static let patternCount = 10  // one digit per class
  package static let epsilon = 0.01
  package static let beta = 1000.0  // Sinkhorn divergences between digit classes are about 0.015
  package static let step = 0.5
  package static let maxSteps = 60
  package static let positionNoise = 0.03  // the grid spacing is 1/7 = 0.143
  package static let weightFloor = 0.5  // added to the 0...16 intensities so every atom has mass

  package enum Method: String, CaseIterable {
    case shk = "sinkhorn-shk"
    case wasserstein = "sinkhorn-wasserstein"
    case euclidean = "euclidean-weights"
  }

  package static let hellingerScales: [Double] = [1, 10]

  package struct Row: Codable {
    package var variant: String
    package var weightNoise: Double
    package var method: String
    package var trials: Int
    package var successes: Int
    package var successRate: Double
    package var lower: Double
    package var upper: Double
    package var classRate: Double
    package var meanWeightError: Double
    package var meanSteps: Double

    package enum CodingKeys: String, CodingKey {
      case variant, method, trials, successes, lower, upper
      case weightNoise = "weight_noise"
      case successRate = "success_rate"
      case classRate = "class_rate"
      case meanWeightError = "mean_weight_error_l1"
      case meanSteps = "mean_steps"
    }
  }

  /// Digit `index` as a cloud of the 64 pixel centres in [0, 1]², weighted by intensity + floor.
  package static func cloud(_ digits: Digits, _ index: Int) throws -> PointCloud {
    let image = digits.image(index)
    var points: [Double] = []
    for row in 0..<8 {
      for column in 0..<8 { points += [Double(column) / 7, 1 - Double(row) / 7] }
    }
    return try PointCloud(
      points: Matrix(rows: 64, columns: 2, elements: points), masses: image.map { $0 + weightFloor })
  }

  package struct Outcome {
    package var success = false
    package var sameClass = false
    package var weightError = 0.0
    package var steps = 0
    package var failed = false
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let digits = Digits()
    let weightNoises: [Double] = quick ? [0.5] : [0.25, 0.5, 1.0]
    var methods: [(String, Method, Double)] = [
      ("\(Method.wasserstein.rawValue)", .wasserstein, 0), ("\(Method.euclidean.rawValue)", .euclidean, 0),
    ]
    for alpha in hellingerScales {
      methods.insert(("\(Method.shk.rawValue) (alpha \(Int(alpha)))", .shk, alpha), at: 0)
    }
    var rows: [Row] = []
    var configurations: [(Bool, Double, (String, Method, Double))] = []
    for permuted in [false, true] {
      for noise in weightNoises { for method in methods { configurations.append((permuted, noise, method)) } }
    }
    let options = try SinkhornOptions(epsilon: epsilon, tolerance: 1e-9, maxIterations: 20_000)
    for (number, (permuted, weightNoise, method)) in configurations.enumerated() {
      Terminal.progress(
        "\(name): \(number + 1)/\(configurations.count): \(permuted ? "permuted" : "ordered"), weight noise \(weightNoise), \(method.0)"
      )
      let results = ParallelResults<Outcome>(count: trials, initial: Outcome())
      forEachChunk(trials, workers: coreCount) { t in
        var generator = SeededGenerator(seed: seed &+ UInt64(t) &* 7919 &+ (permuted ? 1 : 0))
        do {
          // The memory: two seeded digits of each class.
          let order = Array(0..<digits.count).shuffled(using: &generator)
          var chosen: [Int] = []
          for label in 0..<10 { chosen += order.filter { digits.labels[$0] == label }.prefix(1) }
          let patterns = try chosen.map { try cloud(digits, $0) }
          let target = t % patternCount
          let stored = patterns[target]
          var atoms = (0..<64).map { j in
            (
              stored.points.row(j).map { $0 + positionNoise * generator.nextGaussian() },
              stored.weights[j] * exp(weightNoise * generator.nextGaussian())
            )
          }
          if permuted { atoms.shuffle(using: &generator) }
          let query = try PointCloud(points: Matrix(rowArrays: atoms.map(\.0)), masses: atoms.map(\.1))
          let final: PointCloud
          let steps: Int
          let stopping = try StoppingRule(
            maxSteps: maxSteps, energyTolerance: 1e-9, positionTolerance: nil, massTolerance: nil, patience: 3
          )
          switch method.1 {
          case .shk, .wasserstein:
            let geometry = try SHKGeometry(step: step, hellingerScale: method.2)
            let result = try RetrievalEngine(
              memory: Memory(divergence: SinkhornDivergence(options: options), patterns: patterns),
              separation: .softmax,
              geometry: geometry, beta: beta, stopping: stopping
            ).retrieve(query)
            final = result.state
            steps = result.steps
          case .euclidean:
            // The classic network on the weight vectors (pixel order as stored); positions are the grid.
            let result = try RetrievalEngine(
              memory: Memory(divergence: .dotProduct, patterns: patterns.map(\.weights)),
              separation: .softmax,
              geometry: EuclideanGeometry(), beta: beta, stopping: stopping
            ).retrieve(query.weights)
            final = try PointCloud(points: query.points, masses: result.state.map { max($0, 1e-12) })
            steps = result.steps
          }
          let divergences = try patterns.map { try Sinkhorn.divergence(final, $0, options: options).value }
          let nearest = divergences.indices.min { divergences[$0] < divergences[$1] } ?? -1
          // Weight error against the target, matching atoms by position (nearest grid cell).
          var recovered = [Double](repeating: 0, count: 64)
          for j in 0..<final.count {
            let x = min(7, max(0, Int((final.points[j, 0] * 7).rounded())))
            let y = min(7, max(0, Int(((1 - final.points[j, 1]) * 7).rounded())))
            recovered[y * 8 + x] += final.weights[j]
          }
          let weightError = zip(recovered, stored.weights).reduce(0) { $0 + abs($1.0 - $1.1) }
          results.set(
            t,
            Outcome(
              success: nearest == target,
              sameClass: nearest >= 0 && digits.labels[chosen[nearest]] == digits.labels[chosen[target]],
              weightError: weightError, steps: steps))
        } catch let error as DAMError where error.kind == .numericalFailure {
          results.set(t, Outcome(failed: true))
        } catch {
          results.fail(at: t, "\(method.0), trial \(t): \(error)")
        }
      }
      if let failure = results.failure { throw CLIError(name, "a trial failed: \(failure)") }
      let outcomes = results.values
      let successes = outcomes.filter(\.success).count
      let interval = try WilsonInterval(successes: successes, trials: trials)
      let n = Double(trials)
      rows.append(
        Row(
          variant: permuted ? "permuted" : "ordered", weightNoise: weightNoise, method: method.0,
          trials: trials,
          successes: successes, successRate: interval.proportion, lower: interval.lower,
          upper: interval.upper,
          classRate: Double(outcomes.filter(\.sameClass).count) / n,
          meanWeightError: outcomes.reduce(0) { $0 + $1.weightError } / n,
          meanSteps: Double(outcomes.reduce(0) { $0 + $1.steps }) / n))
    }
    Terminal.endProgress()
    try write(
      rows, report: report, trials: trials, seed: seed, quick: quick, methods: methods.map(\.0),
      noises: weightNoises)
  }

  /// The figure of the report, drawn from its rows (so `--replot` redraws it from results.json):
  /// every method in the order of the rows.
  package static func chart(_ rows: [Row]) -> String {
    var methods: [String] = []
    for r in rows where !methods.contains(r.method) { methods.append(r.method) }
    let trials = rows.first?.trials ?? 0
    var series: [SVG.Series] = []
    for method in methods {
      for variant in ["ordered", "permuted"] {
        let selected = rows.filter { $0.method == method && $0.variant == variant }
        series.append(
          SVG.Series(
            label: "\(method), \(variant)", points: selected.map { ($0.weightNoise, $0.successRate) },
            lower: selected.map(\.lower), upper: selected.map(\.upper)))
      }
    }
    let chart = SVG.lineChart(
      title: "Weighted digits: recall against weight noise (\(trials) trials per point)",
      xLabel: "log-normal weight noise sd", yLabel: "success rate", series: series, yRange: 0...1)
    return chart
  }

  package static func write(
    _ rows: [Row], report: String, trials: Int, seed: UInt64, quick: Bool, methods: [String], noises: [Double]
  ) throws {
    var table = Table(header: [
      "query atoms", "weight noise", "method", "success (95% CI)", "class", "weight L1 error", "steps",
    ])
    for r in rows {
      table.append([
        r.variant, Table.format(r.weightNoise, digits: 2), r.method,
        "\(Table.percent(r.successRate)) (\(Table.percent(r.lower))-\(Table.percent(r.upper)))",
        Table.percent(r.classRate), Table.format(r.meanWeightError, digits: 3),
        Table.format(r.meanSteps, digits: 3),
      ])
    }
    var csv =
      "variant,weight_noise,method,trials,successes,success_rate,lower,upper,class_rate,mean_weight_error_l1,mean_steps\n"
    for r in rows {
      csv +=
        "\(r.variant),\(r.weightNoise),\(r.method),\(r.trials),\(r.successes),\(r.successRate),\(r.lower),\(r.upper),\(r.classRate),\(r.meanWeightError),\(r.meanSteps)\n"
    }
    let chart = chart(rows)
    let command = "dam experiment \(name) --trials \(trials) --seed \(seed)\(quick ? " --quick" : "")"
    let markdown = """
      # Weighted digits: when the weights carry the information

      Command: `\(command)` (seed \(seed)), on \(Machine.description).

      Memory per trial: \(patternCount) digits of the built-in data set (one per class, seeded, so exact recall is class recall), each a point cloud of
      the 64 pixel centres in [0, 1]^2 weighted by intensity + \(weightFloor) (so every atom has mass; all digits share
      the same atom positions, so the information is in the weights). Query: the stored cloud number (trial mod
      \(patternCount)), every atom moved by Gaussian noise (sd \(positionNoise); the grid spacing is 1/7) and every weight
      multiplied by exp(s z) with z standard normal (s = the weight noise), then renormalised; *permuted* also puts the
      atoms in a random order. Methods: Sinkhorn (eps = \(epsilon), below the squared grid spacing 0.02) with the SHK
      geometry (tau = \(step), the Hellinger scale alpha given) or transport only (Wasserstein); and the classic Hopfield
      network x <- X^T softmax(beta X x) on the weight vectors in stored pixel order (the Euclidean baseline that
      fits this data: stacking positions would be meaningless, every digit has the same grid). softmax, beta = \(beta),
      at most \(maxSteps) steps, stopping on the energy. Success: the final state is nearest, in S_eps, to the corrupted
      pattern; class: nearest has its label; weight L1 error: the final weights (gathered on the nearest grid cells)
      against the stored weights.

      \(table.markdown)

      ![recall against weight noise](recall.svg)

      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "results.csv": csv, "recall.svg": chart])
    try folder.writeJSON("results.json", rows)
    print(markdown)
    print("Report: \(report)/")
  }
}
