import DAM
import DAMDatasets
import Foundation

/// The one-step audit of BW-DAM: how close one retrieval step from a perturbed query lands to the
/// stored Gaussian, as a function of β and of whether the covariances commute.
///
/// One full step gives `W' = Ã W Ã` with `Ã = Σλᵢ Aᵢ`. With one-hot weights `Ã` is the optimal map
/// to the target and the step is exact whatever the commutation; with spread weights it averages
/// maps, which for commuting covariances gives the weighted barycenter and for non-commuting ones
/// something else. The experiment measures `W₂(Φ(ξ), Xᵢ)` and the weight left off the target,
/// `1 - λᵢ`, in the synthetic experiment's setting (Wasserstein sphere, queries at W₂ = √λmin),
/// with covariances either all diagonal in one shared random basis (commuting) or in independent
/// random bases (non-commuting, the paper's model).
package enum BWDAMOneStepExperiment {
  package static let name = "bw-dam-one-step"
  package static let summary =
    "BW-DAM one-step audit: W2 from one step to the stored Gaussian against beta, commuting vs non-commuting covariances"

  package static let radius = BWDAMSyntheticExperiment.radius
  package static let minimumEigenvalue = BWDAMSyntheticExperiment.minimumEigenvalue
  package static let maximumEigenvalue = BWDAMSyntheticExperiment.maximumEigenvalue
  package static let betas = [0.1, 0.3, 1, 2, 3, 5, 10, 30]
  package static let structures = ["commuting", "non-commuting"]

  package struct Row: Codable {
    package var dimension: Int
    package var memories: Int
    package var structure: String
    package var beta: Double
    package var queries: Int
    package var medianDistance: Double
    package var p90Distance: Double
    package var maxDistance: Double
    package var medianOffWeight: Double
    package var maxOffWeight: Double
    package var retrieved: Int

    package enum CodingKeys: String, CodingKey {
      case dimension, memories, structure, beta, queries, retrieved
      case medianDistance = "median_w2"
      case p90Distance = "p90_w2"
      case maxDistance = "max_w2"
      case medianOffWeight = "median_off_weight"
      case maxOffWeight = "max_off_weight"
    }
  }

  /// Memories with covariances `Q diag(λ) Qᵀ`, one shared `Q` when `commuting`, and a query at
  /// W₂ = `distance` from memory `index`: for commuting memories the perturbation keeps the shared
  /// basis (mean moved by `r/√2` in a random direction, square-root eigenvalues by a random vector
  /// of norm `r/√2`, so W₂² = r² exactly), otherwise ``GaussianSampling/perturbation(of:distance:using:)``.
  package static func memories(d: Int, count: Int, commuting: Bool, seed: UInt64) throws -> (
    patterns: [Gaussian], basis: Matrix
  ) {
    var g = SeededGenerator(seed: seed)
    let shared = GaussianSampling.randomRotation(dimension: d, using: &g)
    var patterns: [Gaussian] = []
    for _ in 0..<count {
      let mean = g.unitVector(dimension: d).map { radius * $0 }
      let eigenvalues = (0..<d).map { _ in Double.random(in: minimumEigenvalue...maximumEigenvalue, using: &g)
      }
      let q = commuting ? shared : GaussianSampling.randomRotation(dimension: d, using: &g)
      patterns.append(try Gaussian(mean: mean, covariance: rotated(q, eigenvalues)))
    }
    return (patterns, shared)
  }

  /// `Q diag(λ) Qᵀ`, symmetrised.
  package static func rotated(_ q: Matrix, _ eigenvalues: [Double]) throws -> Matrix {
    let d = eigenvalues.count
    var elements = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
      for j in i..<d {
        var s = 0.0
        for k in 0..<d { s += q[i, k] * eigenvalues[k] * q[j, k] }
        elements[i * d + j] = s
        elements[j * d + i] = s
      }
    }
    return try Matrix(rows: d, columns: d, elements: elements)
  }

  /// A query at W₂ = `distance` from `pattern` whose covariance stays diagonal in `basis`.
  package static func commutingPerturbation(
    of pattern: Gaussian, basis q: Matrix, distance: Double, using g: inout SeededGenerator
  ) throws -> Gaussian {
    let d = pattern.dimension
    let s = pattern.covarianceMatrix
    // The eigenvalues in the shared basis: diag(Qᵀ S Q).
    let eigenvalues = (0..<d).map { k in
      var v = 0.0
      for i in 0..<d { for j in 0..<d { v += q[i, k] * s[i, j] * q[j, k] } }
      return v
    }
    let part = distance / 2.0.squareRoot()
    let u = g.unitVector(dimension: d)
    let v = g.unitVector(dimension: d)
    // √λ + part·v stays positive: part ≤ √λmin / √2 < √λmin.
    let moved = zip(eigenvalues, v).map { pow($0.squareRoot() + part * $1, 2) }
    return try Gaussian(mean: zip(pattern.mean, u).map { $0 + part * $1 }, covariance: rotated(q, moved))
  }

  package static func quantile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let dimensions = quick ? [4] : [10, 20]
    let count = quick ? 50 : 1000
    let queryCount = min(trials, count)
    let distance = minimumEigenvalue.squareRoot()
    var rows: [Row] = []
    for d in dimensions {
      for structure in structures {
        Terminal.progress("\(name): d = \(d), \(structure)")
        let commuting = structure == "commuting"
        let (patterns, basis) = try memories(
          d: d, count: count, commuting: commuting, seed: seed &+ UInt64(d) &* 104_729)
        let memory = try Memory(divergence: BuresWassersteinDivergence(), patterns: patterns)
        let engines = try betas.map {
          try RetrievalEngine(
            memory: memory, separation: .softmax, geometry: BuresWassersteinGeometry(), beta: $0)
        }
        // Per query and β: (W₂ after one step, 1 - λ_target at the query, nearest is the target).
        let results = ParallelResults<[(Double, Double, Bool)]>(count: queryCount, initial: [])
        forEachChunk(queryCount, workers: coreCount) { i in
          var g = SeededGenerator(seed: seed &+ UInt64(d) &* 7919 &+ UInt64(i) &* 1_000_003)
          do {
            let query =
              commuting
              ? try commutingPerturbation(of: patterns[i], basis: basis, distance: distance, using: &g)
              : try GaussianSampling.perturbation(of: patterns[i], distance: distance, using: &g)
            var out: [(Double, Double, Bool)] = []
            for engine in engines {
              let snapshot = try engine.snapshot(at: query)
              let next = try engine.step(from: query, snapshot: snapshot)
              let w2 = max(0, try BuresWasserstein.distanceSquared(next, patterns[i])).squareRoot()
              let retrieved = try BWDAMSyntheticExperiment.nearest(next, memory) == i
              out.append((w2, 1 - snapshot.weights[i], retrieved))
            }
            results.set(i, out)
          } catch {
            results.fail(at: i, "d = \(d), \(structure), query \(i): \(error)")
          }
        }
        if let failure = results.failure { throw CLIError(name, "a query failed: \(failure)") }
        for (b, beta) in betas.enumerated() {
          let distances = results.values.map { $0[b].0 }
          let off = results.values.map { $0[b].1 }
          rows.append(
            Row(
              dimension: d, memories: count, structure: structure, beta: beta, queries: queryCount,
              medianDistance: quantile(distances, 0.5), p90Distance: quantile(distances, 0.9),
              maxDistance: distances.max() ?? .nan, medianOffWeight: quantile(off, 0.5),
              maxOffWeight: off.max() ?? .nan,
              retrieved: results.values.filter { $0[b].2 }.count))
        }
      }
    }
    Terminal.endProgress()
    try write(rows, report: report, trials: trials, seed: seed, quick: quick)
  }

  /// The figure of the report, drawn from its rows (so `--replot` redraws it from results.json).
  package static func chart(_ rows: [Row]) -> String {
    var series: [SVG.Series] = []
    for d in Set(rows.map(\.dimension)).sorted() {
      for structure in structures {
        let selected = rows.filter { $0.dimension == d && $0.structure == structure }
        // W2 on a log axis, floored at 1e-16 (round-off) so exact steps stay on the chart.
        series.append(
          SVG.Series(
            label: "d = \(d), \(structure)",
            points: selected.map { ($0.beta, max($0.medianDistance, 1e-16)) },
            lower: selected.map { max($0.medianDistance, 1e-16) },
            upper: selected.map { max($0.p90Distance, 1e-16) }))
      }
    }
    let chart = SVG.lineChart(
      title: "BW-DAM: distance to the stored Gaussian after one step", xLabel: "beta (log scale)",
      yLabel: "W2(one step, target): median, bar to 90% quantile", series: series, logX: true, logY: true)
    return chart
  }

  package static func write(_ rows: [Row], report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    func e(_ x: Double) -> String { _snprintf("%.2e", x) }
    var table = Table(header: [
      "d", "covariances", "beta", "queries", "median W2 after 1 step", "90% quantile", "max",
      "median 1 - weight of target",
      "max 1 - weight", "nearest is target",
    ])
    var csv =
      "dimension,memories,structure,beta,queries,median_w2,p90_w2,max_w2,median_off_weight,max_off_weight,retrieved\n"
    for r in rows {
      table.append([
        "\(r.dimension)", r.structure, "\(r.beta)", "\(r.queries)", e(r.medianDistance), e(r.p90Distance),
        e(r.maxDistance),
        e(r.medianOffWeight), e(r.maxOffWeight), "\(r.retrieved)/\(r.queries)",
      ])
      csv +=
        "\(r.dimension),\(r.memories),\(r.structure),\(r.beta),\(r.queries),\(r.medianDistance),\(r.p90Distance),\(r.maxDistance),\(r.medianOffWeight),\(r.maxOffWeight),\(r.retrieved)\n"
    }
    let chart = chart(rows)
    let command = "dam experiment \(name) --trials \(trials) --seed \(seed)\(quick ? " --quick" : "")"
    let n = rows.first?.memories ?? 0
    let markdown = """
      # BW-DAM one-step audit: does one step land on the stored Gaussian?

      Command: `\(command)` (seed \(seed)), on \(Machine.description).

      Memories: N = \(n) Gaussians in R^d as in `bw-dam-synthetic` (means on the sphere of radius \(radius),
      eigenvalues uniform in [\(minimumEigenvalue), \(maximumEigenvalue)]), with covariances Q diag(lambda) Q^T
      either in one shared random basis Q (*commuting*) or each in its own random basis (*non-commuting*, the
      paper's model). Query i perturbs memory i to W2 = sqrt(lambda_min) (commuting: in the shared basis, so
      the query commutes with every memory too). One softmax BW-DAM step (tau = 1/2): m' = sum w_i mu_i,
      W' = A W A with A = sum w_i A_i. Reported: W2 from the one-step state to the perturbed memory, the
      softmax weight the query puts off that memory (1 - w_i), and how often the memory nearest to the
      one-step state is the perturbed one.

      \(table.markdown)

      ![one-step error against beta](one-step.svg)

      What the algebra says, and the tests check (`BuresWassersteinOneStepTests`): with one-hot weights A is
      the optimal map to the memory and one step is exact whatever the commutation (to 1e-12 in W2^2); with
      spread weights the commuting step is the weighted barycenter of the memories, and the non-commuting
      step is not even that (Bures^2 1.1e-3 from the barycenter in the scipy fixture). So the one-step error is governed by the weight left off the target. In the table the median W2 after
      one step follows the median weight left off the target, with commuting and non-commuting covariances
      alike (the same order of magnitude at every beta).
      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "results.csv": csv, "one-step.svg": chart])
    try folder.writeJSON("results.json", rows)
    print(markdown)
    print("Report: \(report)/")
  }
}
