import ArgumentParser
import DAM
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `dam bench bures-wasserstein`: one BW-DAM retrieval step (W₂² to every stored Gaussian, softmax
/// weights, the averaged map, the new state) against N full Gaussians in dimension d, timed as the
/// median of several runs, with ratios against the per-pattern path run in the same process.
///
/// The workload is the one of the NumPy reference in `scripts/bench/bures-wasserstein.sh`
/// (after `/work/shared/bench/peers.py`): means standard normal, covariances `B Bᵀ / d + 0.1 I`
/// with `B` standard normal, for the query and for every memory.
struct BuresWassersteinBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bures-wasserstein",
    abstract: "Time one BW-DAM retrieval step against N full Gaussians (default N = 1000, d = 50).")

  @Option(parsing: .unconditional, help: "Stored Gaussians N.") var memories = 1000
  @Option(parsing: .unconditional, help: "Dimension d.") var dimension = 50
  @Option(parsing: .unconditional, help: "Inverse temperature (softmax).") var beta = 2.0
  @Option(parsing: .unconditional, help: "Timed runs per variant (the median is reported), at least 5.")
  var runs = 7
  @Option(help: "Seed of the random workload.") var seed: UInt64 = 50
  @Flag(help: "Print the results as JSON.") var json = false

  func validate() throws {
    guard memories >= 1 else { throw CLIError("--memories", "must be >= 1, got \(memories)") }
    guard dimension >= 1 else { throw CLIError("--dimension", "must be >= 1, got \(dimension)") }
    guard beta > 0, beta.isFinite else {
      throw CLIError("--beta", "must be a finite number > 0, got \(beta)")
    }
    guard runs >= 5 else { throw CLIError("--runs", "must be >= 5, got \(runs)") }
  }

  struct Variant: Encodable {
    var name: String
    /// Median wall time.
    var seconds: Double
    /// Median CPU time of the process (all threads): on a shared machine the work done, which
    /// other jobs do not inflate the way they inflate wall time.
    var cpuSeconds: Double
    var ratio: Double

    enum CodingKeys: String, CodingKey {
      case name, seconds, ratio
      case cpuSeconds = "cpu_seconds"
    }
  }

  struct Output: Encodable {
    var memories: Int
    var dimension: Int
    var beta: Double
    var runs: Int
    var meanW2Squared: Double
    var largestWeight: Double
    var variants: [Variant]
    var maxCovarianceDifference: Double

    enum CodingKeys: String, CodingKey {
      case memories, dimension, beta, runs, variants
      case meanW2Squared = "mean_w2_squared"
      case largestWeight = "largest_weight"
      case maxCovarianceDifference = "max_covariance_difference"
    }
  }

  static func randomGaussian(_ d: Int, using g: inout SeededGenerator) throws -> Gaussian {
    let mean = g.gaussians(d)
    let b = try Matrix(rows: d, columns: d, elements: g.gaussians(d * d))
    var covariance = try b.multiplied(by: b.transposed()).elements.map { $0 / Double(d) }
    for k in 0..<d { covariance[k * d + k] += 0.1 }
    return try Gaussian(mean: mean, covariance: Matrix(rows: d, columns: d, elements: covariance))
  }

  /// The process's CPU time so far (user + system, all threads), in seconds.
  static func cpuTime() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
      getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }

  /// The median wall and CPU times of `runs` calls after one warm-up call.
  static func median(_ runs: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    try body()
    var times: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<runs {
      let start = Terminal.now()
      let startCPU = cpuTime()
      try body()
      times.append(Terminal.now() - start)
      cpu.append(cpuTime() - startCPU)
    }
    return (times.sorted()[runs / 2], cpu.sorted()[runs / 2])
  }

  func run() throws {
    var g = SeededGenerator(seed: seed)
    let query = try Self.randomGaussian(dimension, using: &g)
    let patterns = try (0..<memories).map { _ in try Self.randomGaussian(dimension, using: &g) }
    let divergence = BuresWassersteinDivergence()
    let memory = try Memory(divergence: divergence, patterns: patterns)
    let geometry = try BuresWassersteinGeometry()
    let engine = try RetrievalEngine(memory: memory, separation: .softmax, geometry: geometry, beta: beta)
    let serialEngine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: geometry, beta: beta, parallelism: 1)

    // The per-pattern path (what every step did before the batched evaluation): value and map by
    // a full eigendecomposition at every pattern, in order, then every nonzero weight accumulated.
    func perPattern() throws -> Gaussian {
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
    func step(_ e: RetrievalEngine<BuresWassersteinDivergence, Softmax, BuresWassersteinGeometry>) throws
      -> Gaussian
    {
      try e.step(from: query, snapshot: e.snapshot(at: query))
    }

    Terminal.progress("bures-wasserstein: timing (N = \(memories), d = \(dimension))")
    var reference: Gaussian? = nil
    var fast: Gaussian? = nil
    let baseline = try Self.median(runs) { reference = try perPattern() }
    let serial = try Self.median(runs) { _ = try step(serialEngine) }
    let concurrent = try Self.median(runs) { fast = try step(engine) }
    let distances = try Self.median(runs) { _ = try engine.snapshot(at: query) }
    Terminal.endProgress()
    let snapshot = try engine.snapshot(at: query)
    let difference = zip(reference!.covarianceMatrix.elements, fast!.covarianceMatrix.elements).reduce(0.0) {
      max($0, abs($1.0 - $1.1))
    }
    let output = Output(
      memories: memories, dimension: dimension, beta: beta, runs: runs,
      meanW2Squared: snapshot.divergences.reduce(0, +) / Double(memories),
      largestWeight: snapshot.weights.max() ?? 0,
      variants: [
        Variant(
          name: "per-pattern path (full eigendecomposition at every pattern, serial)", seconds: baseline.wall,
          cpuSeconds: baseline.cpu, ratio: 1),
        Variant(
          name: "batched step, 1 thread", seconds: serial.wall, cpuSeconds: serial.cpu,
          ratio: baseline.wall / serial.wall),
        Variant(
          name: "batched step, all cores", seconds: concurrent.wall, cpuSeconds: concurrent.cpu,
          ratio: baseline.wall / concurrent.wall),
        Variant(
          name: "distances and weights only, all cores", seconds: distances.wall, cpuSeconds: distances.cpu,
          ratio: baseline.wall / distances.wall),
      ], maxCovarianceDifference: difference)
    if json {
      try JSONOutput.print(output)
      return
    }
    print(
      "One BW-DAM step, N = \(memories) full Gaussians, d = \(dimension), softmax beta = \(beta), median of \(runs)"
    )
    print("mean W2^2 = \(output.meanW2Squared), largest weight = \(output.largestWeight)")
    var table = Table(header: ["variant", "wall seconds", "CPU seconds", "wall speed-up vs per-pattern"])
    for v in output.variants {
      table.append([
        v.name, _snprintf("%.4f", v.seconds), _snprintf("%.4f", v.cpuSeconds), _snprintf("%.2fx", v.ratio),
      ])
    }
    print(table.markdown)
    print("max |W' batched - W' per-pattern| = \(difference)")
  }
}
