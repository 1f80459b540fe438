import DAM
import DAMDatasets
import Foundation

/// The BW-DAM paper's synthetic experiment: Gaussians on a Wasserstein sphere, queries perturbed
/// at W₂ = √λmin, retrieval after one step and after k steps with softmax at a low and a high
/// inverse temperature, the Bures-Wasserstein geometry (BW-DAM) against the Euclidean baseline on
/// the stacked `(m, vec S)` (Eu-DAM).
package enum BWDAMSyntheticExperiment {
  package static let name = "bw-dam-synthetic"
  package static let summary =
    "BW-DAM paper, synthetic Gaussians on a Wasserstein sphere: one-step and k-step retrieval, BW against Eu-DAM"

  package static let radius = 2.0
  package static let minimumEigenvalue = 0.5
  package static let maximumEigenvalue = 2.0
  package static let betas = [0.1, 2.0]
  package static let steps = 10
  package static let queryFraction = 0.75

  package struct Row: Codable {
    package var dimension: Int
    package var memories: Int
    package var beta: Double
    package var geometry: String
    package var queries: Int
    package var retrievedOneStep: Int
    package var oneStepRate: Double
    package var oneStepLower: Double
    package var oneStepUpper: Double
    package var retrievedKSteps: Int
    package var kStepRate: Double
    package var kStepLower: Double
    package var kStepUpper: Double

    package enum CodingKeys: String, CodingKey {
      case dimension, memories, beta, geometry, queries
      case retrievedOneStep = "retrieved_one_step"
      case oneStepRate = "one_step_rate"
      case oneStepLower = "one_step_lower"
      case oneStepUpper = "one_step_upper"
      case retrievedKSteps = "retrieved_k_steps"
      case kStepRate = "k_step_rate"
      case kStepLower = "k_step_lower"
      case kStepUpper = "k_step_upper"
    }
  }

  /// Per query: retrieved after one step and after k steps, for each (β, geometry) in the order
  /// of `configurations`.
  package struct Outcome {
    package var oneStep: [Bool] = []
    package var kSteps: [Bool] = []
    /// Diagnostics of the BW-DAM runs that did not end at the perturbed memory.
    package var drifts: [Drift] = []
  }

  /// Why a BW-DAM query ended away from its memory: distances among the query, its memory `i`, the
  /// memory `j` nearest to memory `i`, and the memory `w` the state ended nearest to; the weight of
  /// `i` at the query and at the end; the energy at the start and the end.
  package struct Drift: Encodable {
    package var dimension: Int
    package var beta: Double
    package var query: Int
    package var ended: Int
    package var neighbour: Int
    package var queryToMemory: Double
    package var queryToEnded: Double
    package var memoryToNeighbour: Double
    package var memoryToEnded: Double
    package var finalToEnded: Double
    package var finalToMemory: Double
    package var startWeight: Double
    package var endWeight: Double
    package var endedWeight: Double
    package var startEnergy: Double
    package var endEnergy: Double
    package var energyOfMemory: Double
    package var energyOfEnded: Double
  }

  package static let geometries = ["bures-wasserstein", "euclidean"]

  /// The index of the pattern of `memory` nearest to `state` in W₂ (the lowest on ties),
  /// `excluded` left out; through the divergence's batched evaluation (values only).
  package static func nearest(
    _ state: Gaussian, _ memory: Memory<BuresWassersteinDivergence>, excluding excluded: Int? = nil
  ) throws -> Int {
    let divergence = memory.divergence
    let item = EvaluationBlock<BuresWassersteinDivergence>.Item(
      state: state, query: try divergence.prepareQuery(state), indices: .all(memory.count))
    let values = try divergence.evaluate(
      EvaluationBlock(
        memory: memory, items: [item], parallelism: ProcessInfo.processInfo.activeProcessorCount))[0]
    var best = 0
    var bestValue = Double.infinity
    for (i, evaluation) in values.enumerated() where i != excluded && evaluation.value < bestValue {
      (best, bestValue) = (i, evaluation.value)
    }
    return best
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let dimensions = quick ? [10] : [10, 20]
    let count = quick ? 100 : 1000
    let perturbed = Int((queryFraction * Double(count)).rounded())
    let queryCount = min(trials, perturbed)
    let distance = minimumEigenvalue.squareRoot()
    let stopping = try StoppingRule(
      maxSteps: steps, energyTolerance: nil, positionTolerance: nil, massTolerance: nil)
    let configurations = betas.flatMap { beta in geometries.map { (beta, $0) } }
    var rows: [Row] = []
    var drifts: [Drift] = []
    for (number, d) in dimensions.enumerated() {
      Terminal.progress("\(name): dimension \(d) (\(number + 1)/\(dimensions.count))")
      let model = try WassersteinSphereModel(
        dimension: d, radius: radius, minimumEigenvalue: minimumEigenvalue,
        maximumEigenvalue: maximumEigenvalue)
      var generator = SeededGenerator(seed: seed &+ UInt64(d) &* 104_729)
      let patterns = try model.sample(count: count, using: &generator)
      let bwMemory = try Memory(divergence: BuresWassersteinDivergence(), patterns: patterns)
      let euMemory = try Memory(
        divergence: .squaredEuclidean, patterns: patterns.map(\.stacked))
      let bwEngines = try betas.map { beta in
        try RetrievalEngine(
          memory: bwMemory, separation: .softmax, geometry: BuresWassersteinGeometry(step: 0.5), beta: beta,
          stopping: stopping)
      }
      let euEngines = try betas.map { beta in
        try RetrievalEngine(
          memory: euMemory, separation: .softmax, geometry: EuclideanGeometry(), beta: beta,
          stopping: stopping)
      }
      let results = ParallelResults<Outcome>(count: queryCount, initial: Outcome())
      forEachChunk(queryCount, workers: coreCount) { i in
        // Query i perturbs stored pattern i (the patterns are i.i.d., so the first 75% are a
        // random 75%); its own seed makes it reproducible whatever the scheduling.
        var g = SeededGenerator(seed: seed &+ UInt64(d) &* 7919 &+ UInt64(i) &* 1_000_003)
        do {
          let query = try GaussianSampling.perturbation(of: patterns[i], distance: distance, using: &g)
          var outcome = Outcome()
          for (b, _) in betas.enumerated() {
            let bw = try bwEngines[b].retrieve(query, recordingTrajectory: true)
            let bwFirst = bw.trajectory.map { $0[min(1, $0.count - 1)] } ?? bw.state
            outcome.oneStep.append(try nearest(bwFirst, bwMemory) == i)
            let ended = try nearest(bw.state, bwMemory)
            outcome.kSteps.append(ended == i)
            if ended != i {
              let engine = bwEngines[b]
              let start = try engine.snapshot(at: query)
              let end = try engine.snapshot(at: bw.state)
              let neighbour = try nearest(patterns[i], bwMemory, excluding: i)
              outcome.drifts.append(
                Drift(
                  dimension: d, beta: betas[b], query: i, ended: ended, neighbour: neighbour,
                  queryToMemory: start.divergences[i], queryToEnded: start.divergences[ended],
                  memoryToNeighbour: try BuresWasserstein.distanceSquared(patterns[i], patterns[neighbour]),
                  memoryToEnded: try BuresWasserstein.distanceSquared(patterns[i], patterns[ended]),
                  finalToEnded: end.divergences[ended], finalToMemory: end.divergences[i],
                  startWeight: start.weights[i],
                  endWeight: end.weights[i], endedWeight: end.weights[ended], startEnergy: start.energy,
                  endEnergy: end.energy, energyOfMemory: try engine.energy(at: patterns[i]),
                  energyOfEnded: try engine.energy(at: patterns[ended])))
            }
            let eu = try euEngines[b].retrieve(query.stacked, recordingTrajectory: true)
            let euFirst = eu.trajectory.map { $0[min(1, $0.count - 1)] } ?? eu.state
            // A state that is not a Gaussian (not positive definite) is a failed retrieval.
            let first = try? Gaussian(stacked: euFirst)
            let last = try? Gaussian(stacked: eu.state)
            outcome.oneStep.append(try first.map { try nearest($0, bwMemory) == i } ?? false)
            outcome.kSteps.append(try last.map { try nearest($0, bwMemory) == i } ?? false)
          }
          results.set(i, outcome)
        } catch {
          results.fail(at: i, "dimension \(d), query \(i): \(error)")
        }
      }
      if let failure = results.failure { throw CLIError(name, "a query failed: \(failure)") }
      let outcomes = results.values
      drifts += outcomes.flatMap(\.drifts)
      for (c, (beta, geometry)) in configurations.enumerated() {
        let one = outcomes.filter { $0.oneStep[c] }.count
        let k = outcomes.filter { $0.kSteps[c] }.count
        let oneInterval = try WilsonInterval(successes: one, trials: queryCount)
        let kInterval = try WilsonInterval(successes: k, trials: queryCount)
        rows.append(
          Row(
            dimension: d, memories: count, beta: beta, geometry: geometry, queries: queryCount,
            retrievedOneStep: one,
            oneStepRate: oneInterval.proportion, oneStepLower: oneInterval.lower,
            oneStepUpper: oneInterval.upper,
            retrievedKSteps: k, kStepRate: kInterval.proportion, kStepLower: kInterval.lower,
            kStepUpper: kInterval.upper))
      }
    }
    Terminal.endProgress()
    try write(
      rows, drifts: drifts, report: report, trials: trials, seed: seed, quick: quick, perturbed: perturbed)
  }

  /// The diagnostics of drifted queries as a Markdown table ("none" when there are none).
  package static func driftTable(_ drifts: [Drift]) -> String {
    guard !drifts.isEmpty else { return "None." }
    func g(_ x: Double) -> String { _snprintf("%.3g", x) }
    var table = Table(header: [
      "d", "query i", "ended w", "nearest j", "W2^2(query, i)", "W2^2(query, w)", "W2^2(i, j)", "W2^2(i, w)",
      "W2^2(final, w)", "weight of i at query", "at end", "weight of w at end", "E(query)", "E(final)",
      "E(memory i)",
      "E(memory w)",
    ])
    for x in drifts.sorted(by: { ($0.dimension, $0.query) < ($1.dimension, $1.query) }) {
      table.append([
        "\(x.dimension)", "\(x.query)", "\(x.ended)", "\(x.neighbour)", g(x.queryToMemory), g(x.queryToEnded),
        g(x.memoryToNeighbour), g(x.memoryToEnded), g(x.finalToEnded), g(x.startWeight), g(x.endWeight),
        g(x.endedWeight),
        g(x.startEnergy), g(x.endEnergy), g(x.energyOfMemory), g(x.energyOfEnded),
      ])
    }
    return table.markdown
  }

  /// Whether every row selected by `filter` satisfies `condition`.
  package static func all(_ rows: [Row], _ filter: (Row) -> Bool, _ condition: (Row) -> Bool) -> Bool {
    let selected = rows.filter(filter)
    return !selected.isEmpty && selected.allSatisfy(condition)
  }

  /// The figure of the report, drawn from its rows (so `--replot` redraws it from results.json).
  package static func chart(_ rows: [Row]) -> String {
    var series: [SVG.Series] = []
    for d in Set(rows.map(\.dimension)).sorted() {
      for geometry in geometries {
        let selected = rows.filter { $0.dimension == d && $0.geometry == geometry }.sorted {
          $0.beta < $1.beta
        }
        series.append(
          SVG.Series(
            label: "\(geometry == "euclidean" ? "Eu-DAM" : "BW-DAM"), d = \(d), 1 step",
            points: selected.map { ($0.beta, $0.oneStepRate) }, lower: selected.map(\.oneStepLower),
            upper: selected.map(\.oneStepUpper)))
        series.append(
          SVG.Series(
            label: "\(geometry == "euclidean" ? "Eu-DAM" : "BW-DAM"), d = \(d), \(steps) steps",
            points: selected.map { ($0.beta, $0.kStepRate) }, lower: selected.map(\.kStepLower),
            upper: selected.map(\.kStepUpper)))
      }
    }
    let chart = SVG.lineChart(
      title: "BW-DAM synthetic: retrieval against inverse temperature", xLabel: "beta (log scale)",
      yLabel: "fraction retrieved", series: series, logX: true, yRange: 0...1)
    return chart
  }

  package static func write(
    _ rows: [Row], drifts: [Drift], report: String, trials: Int, seed: UInt64, quick: Bool, perturbed: Int
  ) throws {
    func interval(_ rate: Double, _ lower: Double, _ upper: Double) -> String {
      "\(Table.percent(rate)) (\(Table.percent(lower))-\(Table.percent(upper)))"
    }
    var table = Table(header: [
      "d", "N", "beta", "geometry", "queries", "retrieved after 1 step (95% CI)",
      "after \(steps) steps (95% CI)",
    ])
    for r in rows {
      table.append([
        "\(r.dimension)", "\(r.memories)", "\(r.beta)", r.geometry, "\(r.queries)",
        interval(r.oneStepRate, r.oneStepLower, r.oneStepUpper),
        interval(r.kStepRate, r.kStepLower, r.kStepUpper),
      ])
    }
    var csv =
      "dimension,memories,beta,geometry,queries,retrieved_one_step,one_step_rate,one_step_lower,one_step_upper,retrieved_k_steps,k_step_rate,k_step_lower,k_step_upper\n"
    for r in rows {
      csv +=
        "\(r.dimension),\(r.memories),\(r.beta),\(r.geometry),\(r.queries),\(r.retrievedOneStep),\(r.oneStepRate),\(r.oneStepLower),\(r.oneStepUpper),\(r.retrievedKSteps),\(r.kStepRate),\(r.kStepLower),\(r.kStepUpper)\n"
    }
    let hot = betas.max()!
    let cold = betas.min()!
    // Criteria: "retrieves" = the Wilson lower bound is at least 90% (50 of 50 gives 92.9%);
    // "does not retrieve" = the upper bound is at most 50%.
    func verdict(_ geometry: String) -> (oneStep: Bool, temperatureOne: Bool, temperature: Bool) {
      let oneStep = all(rows, { $0.geometry == geometry && $0.beta == hot }) { $0.oneStepLower >= 0.9 }
      let temperatureOne =
        oneStep && all(rows, { $0.geometry == geometry && $0.beta == cold }) { $0.oneStepUpper <= 0.5 }
      let temperature =
        all(rows, { $0.geometry == geometry && $0.beta == hot }) { $0.kStepLower >= 0.9 }
        && all(rows, { $0.geometry == geometry && $0.beta == cold }) { $0.kStepUpper <= 0.5 }
      return (oneStep, temperatureOne, temperature)
    }
    let bw = verdict("bures-wasserstein")
    let eu = verdict("euclidean")
    func says(_ value: Bool) -> String { value ? "holds" : "does not hold" }
    let chart = chart(rows)
    let command = "dam experiment \(name) --trials \(trials) --seed \(seed)\(quick ? " --quick" : "")"
    let n = rows.first?.memories ?? 0
    let markdown = """
      # BW-DAM paper: synthetic Gaussians on a Wasserstein sphere

      Command: `\(command)` (seed \(seed)), on \(Machine.description).

      Memories: N = \(n) Gaussians N(m, S) in R^d, means uniform on the sphere of radius R = \(radius), covariances
      Q diag(lambda) Q^T with Q a random rotation (Gram-Schmidt of Gaussian vectors) and eigenvalues uniform in
      [lambda_min, lambda_max] = [\(minimumEigenvalue), \(maximumEigenvalue)] (our choice of constants;
      the paper's are not restated here). Queries: \(Int(queryFraction * 100))% of the memories (\(perturbed)) are
      perturbed to W2 = sqrt(lambda_min) = \(Table.format(minimumEigenvalue.squareRoot(), digits: 4)) (a random
      direction in mean and covariance, rescaled by bisection to 1e-10 relative); the first min(--trials,
      \(perturbed)) of them are run. Softmax, beta in \(betas.map { "\($0)" }.joined(separator: ", ")); BW-DAM: the
      Bures-Wasserstein divergence and geometry (tau = 1/2, the barycentric fixed point); Eu-DAM: the squared
      Euclidean distance between stacked (m, vec S) and its fixed point. A query is *retrieved* when the state's
      nearest stored Gaussian in W2 is the one that was perturbed, after 1 step and after k = \(steps) steps (no early
      stopping). Intervals: Wilson 95%.

      \(table.markdown)

      ![retrieval against beta](retrieval.svg)

      Verdicts, over every dimension (retrieves = Wilson lower bound >= 90%; does not = upper bound <= 50%):

      - One-step retrieval at beta = \(hot): BW-DAM \(says(bw.oneStep)); Eu-DAM \(says(eu.oneStep)).
      - Temperature effect after 1 step (beta = \(hot) retrieves, beta = \(cold) does not): BW-DAM
        \(says(bw.temperatureOne)); Eu-DAM \(says(eu.temperatureOne)).
      - Temperature effect after \(steps) steps: BW-DAM \(says(bw.temperature)); Eu-DAM \(says(eu.temperature)).

      ## BW-DAM queries that ended at another memory after \(steps) steps, at beta = \(hot)

      Query i perturbs memory i; j is the memory nearest to memory i; w the memory nearest to the final
      state. W2^2 values; weights are softmax weights of memory i (at the query and at the end) and of w
      (at the end); E(.) is the energy at a state.

      \(driftTable(drifts.filter { $0.beta == hot }))
      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "results.csv": csv, "retrieval.svg": chart])
    try folder.writeJSON("results.json", rows)
    try folder.writeJSON("drifts.json", drifts)
    print(markdown)
    print("Report: \(report)/")
  }
}
