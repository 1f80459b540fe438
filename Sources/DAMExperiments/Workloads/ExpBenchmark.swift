@_spi(Testing) import DAM

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
package struct ExpBenchmark {
  package var count: Int
  package var repeats: Int
  package var json: Bool

  package init(count: Int, repeats: Int, json: Bool) {
    self.count = count
    self.repeats = repeats
    self.json = json
  }

  package struct Row: Encodable {
    package var variant: String
    package var nanosecondsPerValue: Double
    package var ratioToCLibrary: Double
  }

  package func run() throws {
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
  package func measure(_ body: () -> Void) -> Double {
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
    return SinkhornBenchmark.median(samples)
  }

  package static func threadTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + 1e-9 * Double(time.tv_nsec)
  }
}
