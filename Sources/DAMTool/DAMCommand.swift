import ArgumentParser
import DAM
import DAMExperiments
import Foundation

@main
struct DAMCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dam",
    abstract: "Dense associative memories (modern Hopfield networks) over vectors and distributions.",
    discussion: """
      Store patterns, then recall the closest one from a corrupted query by descending the energy \
      E(x) = -(1/beta) Omega*(-beta D(x, X)), for a divergence D, a separation map (Omega) and a \
      geometry that moves the query. Files are NumPy .npy/.npz (float64, float32, int64, int32, uint8 \
      or bool, read as float64; C or Fortran order, little-endian). Every command that computes something takes --json.

      The main job is dam compare: several engines side by side on the built-in data of every \
      family (vectors, point clouds, Gaussians, grid histograms) or on your files.
      """,
    version: "0.1.0",
    subcommands: [
      CompareCommand.self, RetrieveCommand.self, MemoryCommand.self, DivergenceCommand.self,
      BarycenterCommand.self, SeparateCommand.self, ExperimentCommand.self, DemoCommand.self,
      BenchCommand.self,
    ],
    defaultSubcommand: nil)

  static func main() {
    OpenBLASCore.reexecuteIfMisdetected()
    OpenBLASCore.useEngineThreads()
    // Batched retrieval allocates and frees many rows of N doubles every step. Above glibc's mmap
    // threshold each would be a fresh mapping whose pages the kernel faults in and zeroes; kept in
    // the heap (and not trimmed back) they are reused. 32 MiB is the largest threshold glibc
    // accepts on 64-bit systems.
    _ = _mallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 25)
    _ = _mallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
    // Every size check in the library and the readers consults these limits.
    do {
      ResourceLimits.current = try MemoryLimitSetting.limits()
    } catch {
      exit(withError: error)
    }
    do {
      var command = try parseAsRoot(nil)
      try command.run()
    } catch {
      if let refusal = negativeValueRefusal(error, arguments: Array(CommandLine.arguments.dropFirst())) {
        FileHandle.standardError.write(Data("Error: \(refusal)\n".utf8))
        Foundation.exit(1)
      }
      exit(withError: error)
    }
  }

  /// The message for a negative number given to an option that reads a value starting with '-'
  /// as the next option (a list such as `compare --beta 1 4`), which ArgumentParser reports as a
  /// missing value: the user is told the value is negative, naming the option. Every option of a
  /// single number reads the next argument unconditionally and checks its range itself.
  static func negativeValueRefusal(_ error: any Error, arguments: [String]) -> String? {
    let message = Self.message(for: error)
    if let start = message.range(of: "Missing value for '--") {
      let name = "--" + message[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
      guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
      let value = arguments[index + 1]
      guard value.hasPrefix("-"), Double(value) != nil else { return nil }
      return "\(name): got \(value), a negative number, which \(name) does not take"
    }
    // A negative number later in a list (`--beta 1 -2`) is reported as an unknown option: it
    // belongs to the last option before it.
    if let start = message.range(of: "Unknown option '-") {
      let value = "-" + message[start.upperBound...].prefix { $0 != "'" }
      guard Double(value) != nil, let index = arguments.firstIndex(of: value),
        let name = arguments[..<index].last(where: { $0.hasPrefix("--") })
      else { return nil }
      return "\(name): got \(value), a negative number, which \(name) does not take"
    }
    return nil
  }
}

/// glibc's `mallopt` (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func _mallopt(_ parameter: Int32, _ value: Int32) -> Int32
