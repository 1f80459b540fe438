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

  @Option(help: "Values per call (2^14 fits the L1 cache, 2^20 the L2).")
  var count: Int = 1 << 14

  @Option(help: "Timed runs per variant (after one warm-up run).")
  var repeats: Int = 5

  @Flag(help: "Print the results as JSON on standard output.")
  var json = false

  struct Row: Encodable {
    var variant: String
    var nanosecondsPerValue: Double
    var ratioToCLibrary: Double
  }

  func validate() throws {
    guard count >= 8 else { throw CLIError("--count", "must be >= 8, got \(count)") }
    guard repeats >= 1 else { throw CLIError("--repeats", "must be >= 1, got \(repeats)") }
  }

  func run() throws {
    let inputs = (0..<count).map { -50 * Double($0) / Double(count) }
    var buffer = inputs
    var sink = 0.0
    let vector = measure {
      buffer.withUnsafeMutableBufferPointer { b in
        inputs.withUnsafeBufferPointer { b.baseAddress!.update(from: $0.baseAddress!, count: count) }
        _expInPlace(b.baseAddress!, count: count)
      }
      sink += buffer[count / 3]
    }
    let copyOnly = measure {
      buffer.withUnsafeMutableBufferPointer { b in
        inputs.withUnsafeBufferPointer { b.baseAddress!.update(from: $0.baseAddress!, count: count) }
      }
      sink += buffer[count / 3]
    }
    let scalar = measure {
      buffer.withUnsafeMutableBufferPointer { b in
        inputs.withUnsafeBufferPointer { x in
          for i in 0..<count { b[i] = exp(x[i]) }
        }
      }
      sink += buffer[count / 3]
    }
    if sink.isNaN { Terminal.note("unexpected NaN") }
    let vectorTime = max(vector - copyOnly, 0)
    let rows = [
      Row(variant: "C library exp (scalar)", nanosecondsPerValue: scalar, ratioToCLibrary: 1),
      Row(
        variant: "dam vectorised exp (\(_vectorExtension))", nanosecondsPerValue: vectorTime,
        ratioToCLibrary: vectorTime / scalar),
    ]
    if json {
      try JSONOutput.print(rows)
      return
    }
    var table = Table(header: ["variant", "ns per value", "ratio to C library exp"])
    for row in rows {
      table.append([
        row.variant, Table.format(row.nanosecondsPerValue, digits: 4),
        Table.format(row.ratioToCLibrary, digits: 3),
      ])
    }
    print(table.markdown)
  }

  /// The median, over `repeats` runs, of the thread CPU time per value of `body`.
  func measure(_ body: () -> Void) -> Double {
    body()
    var samples: [Double] = []
    for _ in 0..<repeats {
      var calls = 0
      let start = Self.threadTime()
      var elapsed = 0.0
      while elapsed < 0.2 {
        body()
        calls += 1
        elapsed = Self.threadTime() - start
      }
      samples.append(elapsed / Double(calls * count) * 1e9)
    }
    return BenchSinkhornCommand.median(samples)
  }

  static func threadTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + 1e-9 * Double(time.tv_nsec)
  }
}
