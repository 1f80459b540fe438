import DAM
import DAMDatasets
import Foundation

/// A capacity sweep for Gaussian memories: the fraction of perturbed queries retrieved against the
/// number N of stored Gaussians, for several dimensions d, BW-DAM against Eu-DAM, with Wilson
/// intervals. Memories and queries follow `bw-dam-synthetic` (Wasserstein sphere of radius 2,
/// eigenvalues in [0.5, 2], queries at W₂ = √λmin, softmax at β = 2, 10 steps).
package enum BWDAMCapacityExperiment {
  package static let name = "bw-dam-capacity"
  package static let summary =
    "BW-DAM capacity sweep: fraction retrieved against N for several d, BW against Eu-DAM"

  package static let beta = 2.0
  package static let steps = 10
  /// "Stored" at a given N: the Wilson lower bound of the BW retrieval rate is at least this.
  package static let threshold = 0.9

  package struct Row: Codable {
    package var dimension: Int
    package var memories: Int
    package var geometry: String
    package var queries: Int
    package var retrieved: Int
    package var rate: Double
    package var lower: Double
    package var upper: Double
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let dimensions = quick ? [2, 3] : [2, 3, 4, 6, 8]
    let counts = quick ? [10, 40] : [10, 30, 100, 300, 1000, 3000]
    let distance = BWDAMSyntheticExperiment.minimumEigenvalue.squareRoot()
    let stopping = try StoppingRule(
      maxSteps: steps, energyTolerance: nil, positionTolerance: nil, massTolerance: nil)
    var rows: [Row] = []
    let total = dimensions.count * counts.count
    var done = 0
    for d in dimensions {
      let model = try WassersteinSphereModel(
        dimension: d, radius: BWDAMSyntheticExperiment.radius,
        minimumEigenvalue: BWDAMSyntheticExperiment.minimumEigenvalue,
        maximumEigenvalue: BWDAMSyntheticExperiment.maximumEigenvalue)
      for n in counts {
        done += 1
        Terminal.progress("\(name): d = \(d), N = \(n) (\(done)/\(total))")
        var generator = SeededGenerator(seed: seed &+ UInt64(d) &* 104_729 &+ UInt64(n) &* 15_485_863)
        let patterns = try model.sample(count: n, using: &generator)
        let bw = try RetrievalEngine(
          memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
          geometry: BuresWassersteinGeometry(), beta: beta, stopping: stopping)
        let eu = try RetrievalEngine(
          memory: Memory(divergence: .squaredEuclidean, patterns: patterns.map(\.stacked)),
          separation: .softmax, geometry: EuclideanGeometry(), beta: beta, stopping: stopping)
        // Query t perturbs memory t mod N, with its own seed.
        let results = ParallelResults<(Bool, Bool)>(count: trials, initial: (false, false))
        forEachChunk(trials, workers: coreCount) { t in
          var g = SeededGenerator(
            seed: seed &+ UInt64(d) &* 7919 &+ UInt64(n) &* 31 &+ UInt64(t) &* 1_000_003)
          let i = t % n
          do {
            let query = try GaussianSampling.perturbation(of: patterns[i], distance: distance, using: &g)
            let b = try bw.retrieve(query)
            let e = try eu.retrieve(query.stacked)
            // A Euclidean state that is not a Gaussian (not positive definite) is a failure.
            let euState = try? Gaussian(stacked: e.state)
            results.set(
              t,
              (
                try BWDAMSyntheticExperiment.nearest(b.state, bw.memory) == i,
                try euState.map { try BWDAMSyntheticExperiment.nearest($0, bw.memory) == i } ?? false
              ))
          } catch {
            results.fail(at: t, "d = \(d), N = \(n), query \(t): \(error)")
          }
        }
        if let failure = results.failure { throw CLIError(name, "a query failed: \(failure)") }
        for (k, geometry) in BWDAMSyntheticExperiment.geometries.enumerated() {
          let successes = results.values.filter { k == 0 ? $0.0 : $0.1 }.count
          let interval = try WilsonInterval(successes: successes, trials: trials)
          rows.append(
            Row(
              dimension: d, memories: n, geometry: geometry, queries: trials, retrieved: successes,
              rate: interval.proportion, lower: interval.lower, upper: interval.upper))
        }
      }
    }
    Terminal.endProgress()
    try write(rows, report: report, trials: trials, seed: seed, quick: quick)
  }

  /// The figure of the report, drawn from its rows (so `--replot` redraws it from results.json).
  package static func chart(_ rows: [Row]) -> String {
    let dimensions = Array(Set(rows.map(\.dimension))).sorted()
    var series: [SVG.Series] = []
    for d in dimensions {
      for geometry in BWDAMSyntheticExperiment.geometries {
        let selected = rows.filter { $0.dimension == d && $0.geometry == geometry }.sorted {
          $0.memories < $1.memories
        }
        series.append(
          SVG.Series(
            label: "\(geometry == "euclidean" ? "Eu-DAM" : "BW-DAM"), d = \(d)",
            points: selected.map { (Double($0.memories), $0.rate) }, lower: selected.map(\.lower),
            upper: selected.map(\.upper)))
      }
    }
    let chart = SVG.lineChart(
      title: "Gaussian memories: fraction retrieved against N", xLabel: "N stored Gaussians (log scale)",
      yLabel: "fraction retrieved after \(steps) steps", series: series, logX: true, yRange: 0...1)
    return chart
  }

  package static func write(_ rows: [Row], report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    func interval(_ r: Row) -> String {
      "\(Table.percent(r.rate)) (\(Table.percent(r.lower))-\(Table.percent(r.upper)))"
    }
    let dimensions = Array(Set(rows.map(\.dimension))).sorted()
    let counts = Array(Set(rows.map(\.memories))).sorted()
    var table = Table(header: ["d"] + counts.flatMap { ["N = \($0) BW", "N = \($0) Eu"] })
    var capacity = Table(header: [
      "d", "largest N with BW lower bound >= 90%", "largest N with Eu lower bound >= 90%",
    ])
    for d in dimensions {
      var line = ["\(d)"]
      for n in counts {
        for geometry in BWDAMSyntheticExperiment.geometries {
          line.append(
            rows.first { $0.dimension == d && $0.memories == n && $0.geometry == geometry }.map(interval)
              ?? "")
        }
      }
      table.append(line)
      func largest(_ geometry: String) -> String {
        // The largest N below which every tested N passes.
        var best: Int? = nil
        for n in counts {
          guard
            let r = rows.first(where: { $0.dimension == d && $0.memories == n && $0.geometry == geometry }),
            r.lower >= threshold
          else { break }
          best = n
        }
        return best.map { "\($0)" } ?? "< \(counts[0])"
      }
      capacity.append(["\(d)", largest("bures-wasserstein"), largest("euclidean")])
    }
    var csv = "dimension,memories,geometry,queries,retrieved,rate,lower,upper\n"
    for r in rows {
      csv +=
        "\(r.dimension),\(r.memories),\(r.geometry),\(r.queries),\(r.retrieved),\(r.rate),\(r.lower),\(r.upper)\n"
    }
    let chart = chart(rows)
    let command = "dam experiment \(name) --trials \(trials) --seed \(seed)\(quick ? " --quick" : "")"
    let markdown = """
      # Gaussian memories: capacity sweep

      Command: `\(command)` (seed \(seed)), on \(Machine.description).

      For each dimension d and number N of memories: N Gaussians on a Wasserstein sphere as in
      `bw-dam-synthetic` (means on the sphere of radius \(BWDAMSyntheticExperiment.radius), eigenvalues uniform in
      [\(BWDAMSyntheticExperiment.minimumEigenvalue), \(BWDAMSyntheticExperiment.maximumEigenvalue)], random
      rotations), one memory draw per (d, N); \(trials) queries, query t perturbing memory t mod N to W2 =
      sqrt(lambda_min). Softmax at beta = \(beta), \(steps) steps; BW-DAM (Bures-Wasserstein divergence and
      geometry, tau = 1/2) against Eu-DAM (stacked (m, vec S), squared Euclidean, classic fixed point). A query
      is retrieved when the final state's nearest memory in W2 is the perturbed one. Intervals: Wilson 95%.

      \(table.markdown)

      \(capacity.markdown)

      ![retrieval against N](capacity.svg)
      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "results.csv": csv, "capacity.svg": chart])
    try folder.writeJSON("results.json", rows)
    print(markdown)
    print("Report: \(report)/")
  }
}
