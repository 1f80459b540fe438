import DAM
import DAMDatasets
import Foundation

/// The Sinkhorn-SHK paper's random pattern model (Appendix F, "SampAlgo"): how separated the
/// generated patterns are as the dimension grows (empirical pairwise Sinkhorn divergences next to
/// the certified mean-gap bound), and how often SHK retrieval recalls a noisy pattern.
package enum RandomPatternsExperiment {
  package static let name = "shk-random-patterns"
  package static let summary =
    "Sinkhorn-SHK paper, random pattern model (SampAlgo): pairwise separation against dimension, and recall"

  package static let patternCount = 40
  package static let atoms = 10
  package static let meanNorm = 1.0
  package static let shapeRadius = 0.5
  package static let epsilon = 0.05
  package static let beta = 50.0
  package static let noise = 0.1

  package struct Row: Codable {
    package var dimension: Int
    package var memories: Int
    package var pairs: Int
    package var identicalMeanFraction: Double
    package var minimumMeanGap: Double
    package var minimumDivergence: Double
    package var minimumBound: Double
    package var meanDivergence: Double
    package var recallTrials: Int
    package var recalled: Int
    package var recallRate: Double
    package var recallLower: Double
    package var recallUpper: Double

    package enum CodingKeys: String, CodingKey {
      case dimension, memories, pairs, recalled
      case identicalMeanFraction = "identical_mean_fraction"
      case minimumMeanGap = "minimum_mean_gap2"
      case minimumDivergence = "minimum_divergence"
      case minimumBound = "minimum_bound"
      case meanDivergence = "mean_divergence"
      case recallTrials = "recall_trials"
      case recallRate = "recall_rate"
      case recallLower = "recall_lower"
      case recallUpper = "recall_upper"
    }
  }

  package struct MemoryOutcome {
    package var identical = 0
    package var minimumGap = Double.infinity
    package var minimumDivergence = Double.infinity
    package var minimumBound = Double.infinity
    package var divergenceSum = 0.0
    package var pairs = 0
    package var recalled = 0
    package var trials = 0
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let dimensions = quick ? [2, 8] : [1, 2, 4, 8, 16, 32]
    let memories = max(1, trials / patternCount)  // recall trials = memories x patterns
    let options = try SinkhornOptions(epsilon: epsilon, tolerance: 1e-9, maxIterations: 20_000)
    var rows: [Row] = []
    for (number, d) in dimensions.enumerated() {
      Terminal.progress("\(name): dimension \(d) (\(number + 1)/\(dimensions.count))")
      let model = try RandomPatternModel(
        dimension: d, atoms: atoms, meanNorm: meanNorm, shapeRadius: shapeRadius)
      let results = ParallelResults<MemoryOutcome>(count: memories, initial: MemoryOutcome())
      forEachChunk(memories, workers: coreCount) { t in
        var generator = SeededGenerator(seed: seed &+ UInt64(t) &* 7919 &+ UInt64(d) &* 104_729)
        var outcome = MemoryOutcome()
        do {
          let patterns = try model.sample(count: patternCount, using: &generator)
          for i in 0..<patternCount {
            for j in (i + 1)..<patternCount {
              let mi = patterns[i].mean
              let mj = patterns[j].mean
              let gap = zip(mi, mj).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
              if gap < 1e-12 { outcome.identical += 1 }
              let s = try Sinkhorn.divergence(patterns[i], patterns[j], options: options).value
              outcome.minimumGap = min(outcome.minimumGap, gap)
              outcome.minimumDivergence = min(outcome.minimumDivergence, s)
              outcome.minimumBound = min(
                outcome.minimumBound,
                try SinkhornBounds.lowerBound(patterns[i], patterns[j], epsilon: epsilon))
              outcome.divergenceSum += s
              outcome.pairs += 1
            }
          }
          let engine = try RetrievalEngine(
            memory: Memory(divergence: SinkhornDivergence(options: options), patterns: patterns),
            separation: .softmax,
            geometry: SHKGeometry(step: 0.5, hellingerScale: epsilon / 10), beta: beta,
            stopping: StoppingRule(
              maxSteps: 60, energyTolerance: 1e-8, positionTolerance: nil, massTolerance: nil, patience: 3))
          for i in 0..<patternCount {
            let p = patterns[i]
            let noisy = try PointCloud(
              points: Matrix(
                rows: p.count, columns: d,
                elements: p.points.elements.map { $0 + noise * generator.nextGaussian() }),
              weights: p.weights)
            let result = try engine.retrieve(noisy)
            outcome.trials += 1
            if result.nearestPattern == i { outcome.recalled += 1 }
          }
          results.set(t, outcome)
        } catch {
          results.fail(at: t, "dimension \(d), memory \(t): \(error)")
        }
      }
      if let failure = results.failure { throw CLIError(name, "a memory failed: \(failure)") }
      let outcomes = results.values
      let pairs = outcomes.reduce(0) { $0 + $1.pairs }
      let recalled = outcomes.reduce(0) { $0 + $1.recalled }
      let recallTrials = outcomes.reduce(0) { $0 + $1.trials }
      let interval = try WilsonInterval(successes: recalled, trials: recallTrials)
      rows.append(
        Row(
          dimension: d, memories: memories, pairs: pairs,
          identicalMeanFraction: Double(outcomes.reduce(0) { $0 + $1.identical }) / Double(pairs),
          minimumMeanGap: outcomes.map(\.minimumGap).min() ?? .nan,
          minimumDivergence: outcomes.map(\.minimumDivergence).min() ?? .nan,
          minimumBound: outcomes.map(\.minimumBound).min() ?? .nan,
          meanDivergence: outcomes.reduce(0) { $0 + $1.divergenceSum } / Double(pairs),
          recallTrials: recallTrials,
          recalled: recalled, recallRate: interval.proportion, recallLower: interval.lower,
          recallUpper: interval.upper))
    }
    Terminal.endProgress()
    try write(rows, report: report, trials: trials, seed: seed, quick: quick)
  }

  /// The figure of the report, drawn from its rows (so `--replot` redraws it from results.json).
  package static func chart(_ rows: [Row]) -> String {
    let chart = SVG.lineChart(
      title: "Random pattern model: recall of noisy patterns against dimension",
      xLabel: "dimension d (log scale)",
      yLabel: "recall",
      series: [
        SVG.Series(
          label: "SHK recall", points: rows.map { (Double($0.dimension), $0.recallRate) },
          lower: rows.map(\.recallLower), upper: rows.map(\.recallUpper)),
        SVG.Series(
          label: "pairs with distinct means",
          points: rows.map { (Double($0.dimension), 1 - $0.identicalMeanFraction) }),
      ], logX: true, yRange: 0...1)
    return chart
  }

  package static func write(_ rows: [Row], report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    var table = Table(
      header: [
        "d", "pairs", "identical means", "min gap^2", "min S_eps", "min bound", "mean S_eps",
        "recall (95% CI)",
      ])
    for r in rows {
      table.append([
        "\(r.dimension)", "\(r.pairs)", Table.percent(r.identicalMeanFraction),
        Table.format(r.minimumMeanGap, digits: 3),
        Table.format(r.minimumDivergence, digits: 3), Table.format(r.minimumBound, digits: 3),
        Table.format(r.meanDivergence, digits: 3),
        "\(Table.percent(r.recallRate)) (\(Table.percent(r.recallLower))-\(Table.percent(r.recallUpper)))",
      ])
    }
    var csv =
      "dimension,memories,pairs,identical_mean_fraction,minimum_mean_gap2,minimum_divergence,minimum_bound,mean_divergence,recall_trials,recalled,recall_rate,recall_lower,recall_upper\n"
    for r in rows {
      csv +=
        "\(r.dimension),\(r.memories),\(r.pairs),\(r.identicalMeanFraction),\(r.minimumMeanGap),\(r.minimumDivergence),\(r.minimumBound),\(r.meanDivergence),\(r.recallTrials),\(r.recalled),\(r.recallRate),\(r.recallLower),\(r.recallUpper)\n"
    }
    let chart = chart(rows)
    let command = "dam experiment \(name) --trials \(trials) --seed \(seed)\(quick ? " --quick" : "")"
    let markdown = """
      # Sinkhorn-SHK paper: the random pattern model (SampAlgo)

      Command: `\(command)` (seed \(seed)), on \(Machine.description).

      Model (the paper's Appendix F; its constants were lost in extraction, ours are): \(patternCount) patterns
      per memory, \(atoms) atoms each, Rademacher means of norm R = \(meanNorm) (coordinates +-R/sqrt(d)), weights
      uniform in [0.5, 1.5] then normalised, shape points uniform in the ball of radius \(shapeRadius), mean-corrected
      so each cloud's weighted mean is exactly its Rademacher mean. Sinkhorn eps = \(epsilon). *min bound* is the
      certified lower bound S_eps >= ||m_i - m_j||^2 - (eps/2)(H(a_i) + H(a_j)) (Jensen for the cross term, the
      identity coupling for the self terms), the form the separation argument takes; the paper's exact margin
      constants were lost, so the empirical minimum is set beside this bound. Recall: each stored pattern plus
      Gaussian noise (sd \(noise) per coordinate, weights kept), SHK retrieval (tau = 1/2, alpha = eps/10, softmax,
      beta = \(beta)); success = the final state is nearest (in S_eps) to the pattern that was perturbed.

      \(table.markdown)

      ![recall against dimension](recall.svg)

      Reading: two patterns can only be confused when their Rademacher means coincide (probability 2^-d per pair);
      then their divergence is the small shape difference. Once d is large enough that no two means of the memory
      coincide, the minimum pairwise divergence jumps to the mean-gap scale 4R^2/d times the number of differing
      signs, the bound certifies it, and recall is limited only by the noise.
      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "results.csv": csv, "recall.svg": chart])
    try folder.writeJSON("results.json", rows)
    print(markdown)
    print("Report: \(report)/")
  }
}
