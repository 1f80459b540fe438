import DAM
import Foundation

/// `dam bench bures-wasserstein`: one BW-DAM retrieval step (W₂² to every stored Gaussian, softmax
/// weights, the averaged map, the new state) for a batch of B queries against N full Gaussians in
/// dimension d, timed as the median of several runs. With one query the per-pattern path and the
/// earlier variants are timed beside it in the same process.
///
/// The Gaussians come from `--memory` and `--queries` (`.npz`), so that a reference implementation
/// can be run on the same data (`scripts/bench/bures-wasserstein.sh`), or are drawn from a seeded
/// generator with the peer benchmark's BW workload: means standard normal, covariances
/// `B Bᵀ / d + 0.1 I` with `B` standard normal, for every query and every memory.
package struct BuresWassersteinBenchmark {
  package var memories: Int?
  package var dimension: Int?
  package var batch: Int?
  package var beta: Double
  package var runs: Int
  package var seed: UInt64?
  package var memoryPath: String?
  package var queriesPath: String?
  package var outputPath: String?
  package var json: Bool

  package init(
    memories: Int?, dimension: Int?, batch: Int?, beta: Double, runs: Int,
    seed: UInt64?, memoryPath: String?, queriesPath: String?, outputPath: String?,
    json: Bool
  ) {
    self.memories = memories
    self.dimension = dimension
    self.batch = batch
    self.beta = beta
    self.runs = runs
    self.seed = seed
    self.memoryPath = memoryPath
    self.queriesPath = queriesPath
    self.outputPath = outputPath
    self.json = json
  }

  /// Whether the workload comes from files (`--memory` and `--queries`) rather than being drawn.
  package var fromFiles: Bool { memoryPath != nil }

  package struct Variant: Encodable {
    package var name: String
    /// Median wall time.
    package var seconds: Double
    /// Median CPU time of the process (all threads): on a shared machine the work done, which
    /// other jobs do not inflate the way they inflate wall time.
    package var cpuSeconds: Double
    package var ratio: Double
    /// For the batched step: the wall time of its snapshots (distances, weights) and of its steps
    /// (maps, new states), in the run of median wall time.
    package var snapshotSeconds: Double? = nil
    package var stepsSeconds: Double? = nil

    package enum CodingKeys: String, CodingKey {
      case name, seconds, ratio
      case cpuSeconds = "cpu_seconds"
      case snapshotSeconds = "snapshot_seconds"
      case stepsSeconds = "steps_seconds"
    }
  }

  package struct Output: Encodable {
    package var memories: Int
    package var dimension: Int
    /// The number of queries B stepped together.
    package var queries: Int
    /// `drawn (seed S)` or `files`.
    package var workload: String
    package var beta: Double
    package var runs: Int
    /// The mean of W₂² over all B x N (query, pattern) pairs.
    package var meanW2Squared: Double
    package var largestWeight: Double
    package var variants: [Variant]
    /// The largest difference between the first query's next covariance from the batched step and
    /// from the per-pattern path.
    package var maxCovarianceDifference: Double
    /// Sums of all entries of the next means and of the next covariances (a checksum of the step).
    package var nextMeanSum: Double
    package var nextCovarianceSum: Double

    package enum CodingKeys: String, CodingKey {
      case memories, dimension, queries, workload, beta, runs, variants
      case meanW2Squared = "mean_w2_squared"
      case largestWeight = "largest_weight"
      case maxCovarianceDifference = "max_covariance_difference"
      case nextMeanSum = "next_mean_sum"
      case nextCovarianceSum = "next_covariance_sum"
    }
  }

  package static func randomGaussian(_ d: Int, using g: inout SeededGenerator) throws -> Gaussian {
    let mean = g.gaussians(d)
    let b = try Matrix(rows: d, columns: d, elements: g.gaussians(d * d))
    var covariance = try b.multiplied(by: b.transposed()).elements.map { $0 / Double(d) }
    for k in 0..<d { covariance[k * d + k] += 0.1 }
    return try Gaussian(mean: mean, covariance: Matrix(rows: d, columns: d, elements: covariance))
  }

  /// The median wall and CPU times of `runs` calls after one warm-up call.
  package static func median(_ runs: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    try body()
    var times: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<runs {
      let start = Terminal.now()
      let startCPU = Terminal.cpuTime()
      try body()
      times.append(Terminal.now() - start)
      cpu.append(Terminal.cpuTime() - startCPU)
    }
    return (times.sorted()[runs / 2], cpu.sorted()[runs / 2])
  }

  /// The stored Gaussians and the queries: read from `--memory` and `--queries`, or drawn.
  package func workload() throws -> (patterns: [Gaussian], queries: [Gaussian], description: String) {
    guard let memoryPath, let queriesPath else {
      var g = SeededGenerator(seed: seed ?? 50)
      let d = dimension ?? 50
      let queries = try (0..<(batch ?? 1)).map { _ in try Self.randomGaussian(d, using: &g) }
      let patterns = try (0..<(memories ?? 1000)).map { _ in try Self.randomGaussian(d, using: &g) }
      return (patterns, queries, "drawn (seed \(seed ?? 50))")
    }
    let patterns = try GaussianInputs.gaussians(memoryPath, option: "--memory").gaussians
    let queries = try GaussianInputs.gaussians(queriesPath, option: "--queries").gaussians
    let d = patterns[0].dimension
    if let k = queries.firstIndex(where: { $0.dimension != d }) {
      throw CLIError(
        "--queries",
        "\(queriesPath): query \(k) has dimension \(queries[k].dimension), the Gaussians of --memory (\(memoryPath)) have \(d)"
      )
    }
    return (patterns, queries, "files")
  }

  package func run() throws {
    let (patterns, queries, description) = try workload()
    let d = patterns[0].dimension
    let n = patterns.count
    let b = queries.count
    let divergence = BuresWassersteinDivergence()
    let memory = try attributing("--memory") { try Memory(divergence: divergence, patterns: patterns) }
    let geometry = try BuresWassersteinGeometry()
    let engine = try RetrievalEngine(memory: memory, separation: .softmax, geometry: geometry, beta: beta)
    let serialEngine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: geometry, beta: beta, parallelism: 1)

    // The per-pattern path (what every step did before the batched evaluation): value and map by
    // a full eigendecomposition at every pattern, in order, then every nonzero weight accumulated.
    func perPattern(_ query: Gaussian) throws -> Gaussian {
      let cache = try divergence.prepareQuery(query)
      var evaluations: [BuresWassersteinDivergence.Evaluation] = []
      for i in 0..<memory.count {
        evaluations.append(
          try divergence.evaluate(query, query: cache, pattern: patterns[i], cache: memory.caches[i]))
      }
      let weights = try Softmax().separate(evaluations.map { -beta * $0.value }).weights
      var variation = divergence.zeroVariation(at: query)
      for i in 0..<memory.count where weights[i] != 0 {
        try divergence.accumulate(
          weights[i], of: evaluations[i], at: query, query: cache, pattern: patterns[i],
          cache: memory.caches[i],
          into: &variation)
      }
      return try geometry.step(from: query, along: variation)
    }

    Terminal.progress("bures-wasserstein: timing (B = \(b), N = \(n), d = \(d))")
    // The batched step: the snapshots of all B queries (one block evaluation), then one step from
    // each (one block accumulation), as one step of `retrieve(batch:)`.
    var next: [Gaussian] = []
    var snapshots: [RetrievalEngine<BuresWassersteinDivergence, Softmax, BuresWassersteinGeometry>.Snapshot] =
      []
    var timings: [(wall: Double, cpu: Double, snapshot: Double, steps: Double)] = []
    for run in 0...runs {
      let start = Terminal.now()
      let startCPU = Terminal.cpuTime()
      snapshots = try engine.snapshots(at: queries)
      let middle = Terminal.now()
      next = try engine.steps(from: snapshots)
      let end = Terminal.now()
      // Run 0 is the warm-up.
      if run > 0 {
        timings.append((end - start, Terminal.cpuTime() - startCPU, middle - start, end - middle))
      }
    }
    let medianRun = timings.sorted { $0.wall < $1.wall }[runs / 2]
    let batched = Variant(
      name: b == 1 ? "batched step, all cores" : "batched step of \(b) queries, all cores",
      seconds: medianRun.wall,
      cpuSeconds: timings.map(\.cpu).sorted()[runs / 2], ratio: 1, snapshotSeconds: medianRun.snapshot,
      stepsSeconds: medianRun.steps)
    var variants: [Variant] = []
    var reference: Gaussian? = nil
    if b == 1 {
      // One query: the earlier variants beside the batched step, ratios against the per-pattern path.
      let query = queries[0]
      let baseline = try Self.median(runs) { reference = try perPattern(query) }
      let serial = try Self.median(runs) {
        _ = try serialEngine.step(from: query, snapshot: serialEngine.snapshot(at: query))
      }
      let distances = try Self.median(runs) { _ = try engine.snapshot(at: query) }
      variants = [
        Variant(
          name: "per-pattern path (full eigendecomposition at every pattern, serial)", seconds: baseline.wall,
          cpuSeconds: baseline.cpu, ratio: 1),
        Variant(
          name: "batched step, 1 thread", seconds: serial.wall, cpuSeconds: serial.cpu,
          ratio: baseline.wall / serial.wall),
        batched,
        Variant(
          name: "distances and weights only, all cores", seconds: distances.wall, cpuSeconds: distances.cpu,
          ratio: baseline.wall / distances.wall),
      ]
      variants[2].ratio = baseline.wall / batched.seconds
    } else {
      variants = [batched]
      reference = try perPattern(queries[0])
    }
    Terminal.endProgress()
    let difference = zip(reference!.covarianceMatrix.elements, next[0].covarianceMatrix.elements).reduce(0.0)
    {
      max($0, abs($1.0 - $1.1))
    }
    var sum = 0.0
    for snapshot in snapshots { for value in snapshot.divergences { sum += value } }
    let output = Output(
      memories: n, dimension: d, queries: b, workload: description, beta: beta, runs: runs,
      meanW2Squared: sum / Double(b * n),
      largestWeight: snapshots.map { $0.weights.max() ?? 0 }.max() ?? 0,
      variants: variants, maxCovarianceDifference: difference,
      nextMeanSum: next.reduce(0.0) { $0 + $1.mean.reduce(0, +) },
      nextCovarianceSum: next.reduce(0.0) { $0 + $1.covarianceMatrix.elements.reduce(0, +) })
    if let outputPath { try GaussianInputs.write(next, to: outputPath, option: "--output") }
    if json {
      try JSONOutput.print(output)
      return
    }
    print(
      "One BW-DAM step, B = \(b) queries, N = \(n) full Gaussians (\(description)), d = \(d), softmax beta = \(beta), median of \(runs)"
    )
    print(
      "mean W2^2 over the B x N pairs = \(output.meanW2Squared), largest weight = \(output.largestWeight)")
    var table = Table(header: ["variant", "wall seconds", "CPU seconds", "wall speed-up vs per-pattern"])
    for v in output.variants {
      table.append([
        v.name, _snprintf("%.4f", v.seconds), _snprintf("%.4f", v.cpuSeconds),
        b == 1 ? _snprintf("%.2fx", v.ratio) : "-",
      ])
    }
    print(table.markdown)
    print(
      "batched step: snapshots \(_snprintf("%.4f", batched.snapshotSeconds!)) s, steps \(_snprintf("%.4f", batched.stepsSeconds!)) s (median run)"
    )
    print("max |W' batched - W' per-pattern| (first query) = \(difference)")
  }
}
