import Foundation
import NumPyFiles
import Testing

/// Several `dam memory append` and `dam memory create` processes on one memory file at once
/// (the full run with more rounds: scripts/reliability/concurrent-writers.sh).
struct ConcurrentWritersTests {
  static let rounds = 20
  static let writers = 8

  /// Starts `dam` with each argument list at once and waits for all of them.
  static func runTogether(_ argumentLists: [[String]]) throws -> [DamProcess.Output] {
    var running: [(Process, Pipe, Pipe)] = []
    for arguments in argumentLists {
      let process = Process()
      process.executableURL = DamProcess.executable
      process.arguments = arguments
      let (out, err) = (Pipe(), Pipe())
      process.standardOutput = out
      process.standardError = err
      running.append((process, out, err))
    }
    for (process, _, _) in running { try process.run() }
    // The outputs are a few lines, well within a pipe's buffer: waiting first cannot block.
    return running.map { process, out, err in
      process.waitUntilExit()
      return DamProcess.Output(
        status: process.terminationStatus,
        stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
        stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
  }

  /// The stored vectors of a memory file, read as a plain .npz.
  static func storedRows(_ path: String) throws -> [[Double]] {
    let patterns = try #require(try NPZ.read(contentsOf: path)["patterns"])
    let (n, d) = (patterns.shape[0], patterns.shape[1])
    let values = patterns.doubles()
    return (0..<n).map { Array(values[($0 * d)..<(($0 + 1) * d)]) }
  }

  /// The pattern of writer `i` in round `round`.
  static func row(_ round: Int, _ i: Int) -> [Double] { [Double(round), Double(i), 0.25] }

  @Test func concurrentAppendsAllLand() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let m = folder.path("m.npz")
    try NPY.write(NumPyArray(shape: [2, 3], doubles: [-1, -1, -1, -2, -2, -2]), to: folder.path("base.npy"))
    #expect(try DamProcess.run(["memory", "create", m, "--patterns", folder.path("base.npy")]).status == 0)
    let start = Date()
    for round in 0..<Self.rounds {
      var lists: [[String]] = []
      for i in 0..<Self.writers {
        let input = folder.path("p\(round)-\(i).npy")
        try NPY.write(NumPyArray(shape: [1, 3], doubles: Self.row(round, i)), to: input)
        lists.append(["memory", "append", m, "--patterns", input])
      }
      let runs = try Self.runTogether(lists)
      for (i, run) in runs.enumerated() {
        #expect(run.status == 0, "round \(round), writer \(i): \(run.stderr)")
      }
      let stored = try Self.storedRows(m)
      #expect(stored.count == 2 + Self.writers * (round + 1), "round \(round): \(stored.count) patterns")
      for i in 0..<Self.writers {
        #expect(
          stored.filter { $0 == Self.row(round, i) }.count == 1, "round \(round): writer \(i)'s pattern")
      }
    }
    let seconds = Date().timeIntervalSince(start)
    let verify = try DamProcess.run(["memory", "verify", m, "--json"])
    #expect(verify.status == 0, "\(verify.stderr)")
    #expect(verify.stdout.contains("\"count\":\(2 + Self.rounds * Self.writers)"), "\(verify.stdout)")
    #expect(!verify.stderr.contains("stale"), "\(verify.stderr)")
    // No temporary or lock file is left.
    let hidden = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter {
      $0.hasPrefix(".")
    }
    #expect(hidden.isEmpty, "\(hidden)")
    print("\(Self.rounds) rounds of \(Self.writers) concurrent appends: all landed, \(seconds) s")
  }

  @Test func concurrentCreatesHaveOneWinner() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    for i in 0..<Self.writers {
      try NPY.write(NumPyArray(shape: [1, 3], doubles: Self.row(0, i)), to: folder.path("p\(i).npy"))
    }
    let start = Date()
    for round in 0..<Self.rounds {
      let m = folder.path("m\(round).npz")
      let runs = try Self.runTogether(
        (0..<Self.writers).map { ["memory", "create", m, "--patterns", folder.path("p\($0).npy"), "--json"] })
      let winners = runs.indices.filter { runs[$0].status == 0 }
      #expect(winners.count == 1, "round \(round): \(winners.count) creators succeeded")
      for (i, run) in runs.enumerated() where run.status != 0 {
        #expect(run.status == 1, "round \(round), writer \(i): status \(run.status)")
        #expect(
          run.stderr.contains("Error: \(m): exists; use --force"),
          "round \(round), writer \(i): \(run.stderr)")
      }
      guard let winner = winners.first else { continue }
      // The file is the winner's, complete.
      #expect(try Self.storedRows(m) == [Self.row(0, winner)], "round \(round)")
      #expect(try DamProcess.run(["memory", "verify", m]).status == 0)
    }
    let seconds = Date().timeIntervalSince(start)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
    #expect(names.filter { $0.hasPrefix(".") }.isEmpty, "\(names)")
    #expect(names.filter { $0.hasSuffix(".npz") }.count == Self.rounds)
    print("\(Self.rounds) rounds of \(Self.writers) concurrent creates: one winner each, \(seconds) s")
  }
}
