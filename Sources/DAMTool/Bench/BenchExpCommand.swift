import ArgumentParser
@_spi(Testing) import DAM
import DAMExperiments

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `dam bench exp`: throughput of the solvers' vectorised exponential against the C library's
/// scalar `exp`, on one thread, in the same process. `scripts/bench/exp.sh` adds the machine's
/// own vector exp (glibc's libmvec) measured in the same script.
struct BenchExpCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exp",
    abstract: "Time the vectorised exp of the solvers against the C library's exp, on one thread.",
    discussion: """
      Each variant exponentiates --count doubles spread over [-50, 0] (the range of shifted \
      log-domain exponents), repeated until about 0.2 s of thread CPU time has passed; the median \
      of --repeats such runs is reported in nanoseconds per value. Ratios are against the C \
      library's scalar exp timed in the same process.
      """)

  @Option(parsing: .unconditional, help: "Values per call (2^14 fits the L1 cache, 2^20 the L2).")
  var count: Int = 1 << 14

  @Option(parsing: .unconditional, help: "Timed runs per variant (after one warm-up run).")
  var repeats: Int = 5

  @OptionGroup var format: OutputFormat

  func validate() throws {
    guard count >= 8 else { throw CLIError("--count", "must be >= 8, got \(count)") }
    try requireMemory(
      "--count", bytes: ResourceLimits.bytes([count, 2], elementSize: 8),
      "\(count) values per call (an input and an output array of doubles)")
    guard repeats >= 1 else { throw CLIError("--repeats", "must be >= 1, got \(repeats)") }
  }

  func run() throws {
    try ExpBenchmark(count: count, repeats: repeats, json: format.json).run()
  }
}
