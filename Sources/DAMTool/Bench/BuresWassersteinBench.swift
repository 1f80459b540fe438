import ArgumentParser
import DAM
import DAMExperiments
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `dam bench bures-wasserstein`: one BW-DAM retrieval step (W₂² to every stored Gaussian, softmax
/// weights, the averaged map, the new state) for a batch of B queries against N full Gaussians in
/// dimension d, timed as the median of several runs. With one query the per-pattern path and the
/// earlier variants are timed beside it in the same process.
///
/// The Gaussians come from `--memory` and `--queries` (`.npz`), so that a reference implementation
/// can be run on the same data (`scripts/bench/bures-wasserstein.sh`), or are drawn from a seeded
/// generator with the peer benchmark's BW workload: means standard normal, covariances
/// `B Bᵀ / d + 0.1 I` with `B` standard normal, for every query and every memory.
struct BuresWassersteinBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bures-wasserstein",
    abstract:
      "Time one BW-DAM retrieval step of B queries against N full Gaussians (drawn, or from .npz files).")

  @Option(parsing: .unconditional, help: "Stored Gaussians N when drawing the workload (default 1000).")
  var memories: Int?

  @Option(parsing: .unconditional, help: "Dimension d when drawing the workload (default 50).") var dimension:
    Int?

  @Option(parsing: .unconditional, help: "Queries B when drawing the workload (default 1).") var batch: Int?

  @Option(parsing: .unconditional, help: "Inverse temperature (softmax).") var beta = 2.0

  @Option(parsing: .unconditional, help: "Timed runs per variant (the median is reported), at least 5.")
  var runs = 7

  @Option(parsing: .unconditional, help: "Seed of the random workload (default 50).") var seed: UInt64?

  @Option(
    name: .customLong("memory"),
    help:
      "Stored Gaussians from .npz (`means` (N, d), `covariances` (N, d, d)); with --queries, instead of drawing."
  )
  var memoryPath: String?

  @Option(
    name: .customLong("queries"),
    help:
      "Queries from .npz (`means` (B, d), `covariances` (B, d, d), or one `mean`/`covariance`); with --memory."
  )
  var queriesPath: String?

  @Option(
    name: .customLong("output"),
    help: "Write the B next states of the timed step here (.npz: `means` (B, d), `covariances` (B, d, d)).")
  var outputPath: String?

  @Flag(help: "Print the results as JSON.") var json = false

  func validate() throws {
    switch (memoryPath, queriesPath) {
    case (nil, nil): break
    case (nil, _): throw CLIError("--queries", "needs --memory as well (give both files or neither)")
    case (_, nil): throw CLIError("--memory", "needs --queries as well (give both files or neither)")
    default:
      for (name, given) in [
        ("--memories", memories != nil), ("--dimension", dimension != nil), ("--batch", batch != nil),
        ("--seed", seed != nil),
      ] where given {
        throw CLIError(name, "only for a drawn workload; the Gaussians come from --memory and --queries")
      }
    }
    if let memories, memories < 1 { throw CLIError("--memories", "must be >= 1, got \(memories)") }
    if let dimension, dimension < 1 { throw CLIError("--dimension", "must be >= 1, got \(dimension)") }
    if let batch, batch < 1 { throw CLIError("--batch", "must be >= 1, got \(batch)") }
    // A drawn workload, before it is drawn: each stored Gaussian holds its covariance, the
    // square root and the Cholesky factor prepared for it (at most 3 d² doubles) and its mean;
    // each query its covariance and mean, and the step a value per query and pattern.
    let d = dimension ?? 50
    let perGaussian = ResourceLimits.bytes([3 * d + 1, d], elementSize: 8)
    try requireMemory(
      "--dimension", bytes: perGaussian, "one Gaussian in dimension \(d) with its prepared data")
    let n = memories ?? 1000
    try requireMemory(
      "--memories", bytes: perGaussian.flatMap { ResourceLimits.bytes([n], elementSize: $0) },
      "a memory of \(n) Gaussians in dimension \(d) with their prepared data (3 d² + d doubles each)")
    let b = batch ?? 1
    try requireMemory(
      "--batch", bytes: ResourceLimits.bytes([b, n + d * (d + 1)], elementSize: 8),
      "a batch of \(b) queries in dimension \(d) with their values against \(n) Gaussians")
    try checkInverseTemperature(beta)
    guard runs >= 5 else { throw CLIError("--runs", "must be >= 5, got \(runs)") }
    if let outputPath {
      try OutputPath.check(
        outputPath, option: "--output", inputs: [("--memory", memoryPath), ("--queries", queriesPath)])
    }
  }

  func run() throws {
    try BuresWassersteinBenchmark(
      memories: memories, dimension: dimension, batch: batch, beta: beta, runs: runs, seed: seed,
      memoryPath: memoryPath, queriesPath: queriesPath, outputPath: outputPath, json: json
    ).run()
  }
}
