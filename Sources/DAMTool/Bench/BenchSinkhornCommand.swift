import ArgumentParser
import DAM
import DAMExperiments

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `dam bench sinkhorn`: the debiased Sinkhorn divergence between two uniform clouds in the unit
/// cube (the peer workloads of `scripts/bench/sinkhorn.sh`), for each backend, in one process.
struct BenchSinkhornCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sinkhorn",
    abstract: "Time the debiased Sinkhorn divergence on uniform clouds, backend against backend.",
    discussion: """
      For every (n, d, eps) the two clouds are drawn once (uniform in [0, 1]^d, seeded), then each \
      backend solves the three problems of S_eps (xy, xx, yy) to the L1 marginal tolerance: one \
      warm-up run and --repeats timed runs, median reported. Ratios are against the first backend \
      listed, timed in the same process. CPU time is reported next to wall time because these \
      machines are shared: when CPU time exceeds wall time, the solver used several cores.
      """)

  @Option(parsing: .unconditional, help: "Cloud sizes n = m, comma-separated.")
  var sizes: String = "1024"

  @Option(parsing: .unconditional, help: "Dimensions d, comma-separated.")
  var dimensions: String = "2"

  @Option(parsing: .unconditional, help: "Regularisations eps, comma-separated.")
  var epsilons: String = "0.05,0.005"

  @Option(help: "Backends, comma-separated: kernel, log-domain (the first is the baseline of the ratios).")
  var backends: String = "log-domain,kernel"

  @Option(parsing: .unconditional, help: "The L1 marginal tolerance of each solve.")
  var tolerance: Double = 1e-6

  @Flag(
    inversion: .prefixedNo, help: "Whether slow solves switch to Newton's method (SinkhornOptions.newton).")
  var newton = true

  @Option(parsing: .unconditional, help: "Timed runs per case (after one warm-up run).")
  var repeats: Int = 5

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "The eps-annealing factor q in (0, 1), or 'none' to start at the target eps (SinkhornOptions.epsilonScaling).",
      valueName: "q|none"))
  var epsilonScaling: String = "0.5"

  @Option(parsing: .unconditional, help: "The seed of the clouds.")
  var seed: UInt64 = 1

  @OptionGroup var format: OutputFormat

  func validate() throws {
    guard repeats >= 1 else { throw CLIError("--repeats", "must be >= 1, got \(repeats)") }
    _ = try SinkhornBenchmark.scalingFactor(epsilonScaling)
    guard tolerance.isFinite, tolerance >= 0 else {
      throw CLIError("--tolerance", "must be a finite number >= 0, got \(tolerance)")
    }
    // The two clouds of a case, n points in R^d and their weights, before they are drawn (the
    // kernel backend's n x n kernel is checked by the library, naming backend).
    let dimensionList = try SinkhornBenchmark.integers(dimensions, "--dimensions")
    for d in dimensionList {
      try requireMemory(
        "--dimensions", bytes: ResourceLimits.bytes([2, d + 1], elementSize: 8),
        "a pair of points in dimension \(d)")
    }
    for n in try SinkhornBenchmark.integers(sizes, "--sizes") {
      let d = dimensionList.max() ?? 1
      try requireMemory(
        "--sizes", bytes: ResourceLimits.bytes([2, n, d + 1], elementSize: 8),
        "a pair of clouds of \(n) points in dimension \(d) with their weights")
      if backends.contains("kernel") {
        try requireMemory(
          "--sizes", bytes: ResourceLimits.bytes([n, n], elementSize: 8),
          "the kernel backend's \(n) x \(n) matrix of doubles", remedy: "time only --backends log-domain")
      }
    }
  }

  func run() throws {
    try SinkhornBenchmark(
      sizes: sizes, dimensions: dimensions, epsilons: epsilons, backends: backends, tolerance: tolerance,
      newton: newton, repeats: repeats, epsilonScaling: epsilonScaling, seed: seed, json: format.json
    ).run()
  }
}
