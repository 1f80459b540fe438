import CLinearAlgebra

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Works around OpenBLAS builds that do not recognise the CPU.
///
/// OpenBLAS picks its kernels when it is loaded, from the CPU model. A build older than the CPU
/// (Debian 12 ships 0.3.21, which does not know Intel's model 207, Emerald Rapids) falls back to
/// its generic `Prescott` (SSE3) kernels, several times slower in matrix products than the
/// AVX-512 ones the CPU can run. The choice can only be overridden by the environment variable
/// `OPENBLAS_CORETYPE` before the library loads, so when it is unset, the loaded library reports
/// `Prescott` and the CPU has AVX-512 (or AVX2 with FMA), `dam` sets it (`SkylakeX` or `Haswell`)
/// and re-executes itself once. Setting `OPENBLAS_CORETYPE` yourself (any value) disables this.
package enum OpenBLASCore {
  package static func reexecuteIfMisdetected() {
    guard getenv("OPENBLAS_CORETYPE") == nil, let name = openblas_get_corename() else { return }
    guard String(cString: name).lowercased() == "prescott" else { return }
    let flags = cpuFlags()
    let core: String
    if flags.contains("avx512f") && flags.contains("avx512vl") && flags.contains("avx512bw") {
      core = "SkylakeX"
    } else if flags.contains("avx2") && flags.contains("fma") {
      core = "Haswell"
    } else {
      return
    }
    setenv("OPENBLAS_CORETYPE", core, 1)
    // On success execv does not return; on failure this process goes on with the slow kernels.
    _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
  }

  /// Runs OpenBLAS on one thread unless `OPENBLAS_NUM_THREADS` says otherwise.
  ///
  /// `dam`'s engines run on one thread per core, and the matrix products of vector memories are
  /// split over those threads when BLAS is single-threaded (`VectorBlocks.productSlices`).
  /// OpenBLAS's own workers would compete with them: after every product each worker spins
  /// (calling `sched_yield`) for about 0.1 s before it sleeps, taking a core from the engine's
  /// threads while they compute the separation weights, whose time then varies from run to run
  /// (Docs/performance.md, "Batched retrieval").
  package static func useEngineThreads() {
    guard getenv("OPENBLAS_NUM_THREADS") == nil else { return }
    openblas_set_num_threads(1)
    // The workers OpenBLAS started when it loaded spin for their first 0.1 s whatever the thread
    // count says; a single-threaded OpenBLAS never wakes them again, so stop them now. Found by
    // name: only OpenBLAS's threaded builds have it.
    typealias Shutdown = @convention(c) () -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") {
      _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }
  }

  /// The flags of the first processor in /proc/cpuinfo (empty where there is none).
  private static func cpuFlags() -> Set<Substring> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>? = nil
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0 {
      guard let line else { break }
      let text = String(cString: line)
      guard text.hasPrefix("flags") else { continue }
      guard let colon = text.firstIndex(of: ":") else { return [] }
      return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }))
    }
    return []
  }
}
