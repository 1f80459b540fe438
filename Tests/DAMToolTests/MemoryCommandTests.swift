import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

#if canImport(Glibc)
  import Glibc
#endif

struct MemoryCommandTests {
  static func write(_ rows: [[Double]], _ path: String) throws {
    try NPY.write(NumPyArray(shape: [rows.count, rows[0].count], doubles: rows.flatMap { $0 }), to: path)
  }

  static func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  @Test func createAppendInfoVerifyAndRetrieve() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let patterns = TestData.unitVectors(count: 20, dimension: 8, seed: 5)
    try Self.write(Array(patterns[..<12]), folder.path("a.npy"))
    try Self.write(Array(patterns[12...]), folder.path("b.npy"))
    try NPY.write(NumPyArray(shape: [8], doubles: patterns[15].map { $0 + 0.01 }), to: folder.path("q.npy"))
    let m = folder.path("m.npz")

    let create = try DamProcess.run(["memory", "create", m, "--patterns", folder.path("a.npy"), "--json"])
    #expect(create.status == 0, "\(create.stderr)")
    #expect(try Self.json(create.stdout)["count"] as? Int == 12)
    try FileManager.default.copyItem(atPath: m, toPath: folder.path("m0.npz"))

    let append = try DamProcess.run(["memory", "append", m, "--patterns", folder.path("b.npy"), "--json"])
    #expect(append.status == 0, "\(append.stderr)")
    #expect(try Self.json(append.stdout)["count"] as? Int == 20)

    let info = try DamProcess.run(["memory", "info", m, "--json"])
    let summary = try Self.json(info.stdout)
    #expect(summary["kind"] as? String == "vectors")
    #expect(summary["divergence"] as? String == "squared-euclidean")

    let verify = try DamProcess.run(["memory", "verify", m, "--starts-with", folder.path("m0.npz")])
    #expect(verify.status == 0, "\(verify.stderr)")
    let reversed = try DamProcess.run(["memory", "verify", folder.path("m0.npz"), "--starts-with", m])
    #expect(reversed.status != 0)

    // The memory file gives the same retrieval as the .npy of all 20 patterns.
    try Self.write(patterns, folder.path("all.npy"))
    let fromFile = try DamProcess.run([
      "retrieve", "--memory", m, "--query", folder.path("q.npy"), "--beta", "8", "--json", "--all-weights",
    ])
    let fromNPY = try DamProcess.run([
      "retrieve", "--memory", folder.path("all.npy"), "--query", folder.path("q.npy"), "--beta", "8",
      "--json", "--all-weights",
    ])
    #expect(fromFile.status == 0, "\(fromFile.stderr)")
    let a = try #require((try Self.json(fromFile.stdout)["results"] as? [[String: Any]])?.first)
    let b = try #require((try Self.json(fromNPY.stdout)["results"] as? [[String: Any]])?.first)
    #expect(a["pattern_index"] as? Int == 15)
    #expect(a["weights"] as? [Double] == b["weights"] as? [Double])
  }

  @Test func refusedAppendsExitNonZeroAndLeaveTheFileAlone() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write([[1, 2, 3], [4, 5, 6]], folder.path("a.npy"))
    try Self.write([[1, 2]], folder.path("narrow.npy"))
    try NPY.write(NumPyArray(shape: [1, 3], doubles: [1, .nan, 3]), to: folder.path("nan.npy"))
    let m = folder.path("m.npz")
    #expect(try DamProcess.run(["memory", "create", m, "--patterns", folder.path("a.npy")]).status == 0)
    let before = FileManager.default.contents(atPath: m)
    for (input, expected) in [
      ("narrow.npy", "--patterns"), ("nan.npy", "non-finite"), ("missing.npy", "does not exist"),
    ] {
      let run = try DamProcess.run(["memory", "append", m, "--patterns", folder.path(input)])
      #expect(run.status != 0)
      #expect(run.stderr.contains(expected), "\(run.stderr)")
    }
    #expect(FileManager.default.contents(atPath: m) == before)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted() == [
        "a.npy", "m.npz", "nan.npy", "narrow.npy",
      ])
    // create does not replace without --force.
    let again = try DamProcess.run(["memory", "create", m, "--patterns", folder.path("a.npy")])
    #expect(again.status != 0 && again.stderr.contains("--force"))
  }

  @Test func damagedFilesFailVerifyWithTheReason() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write([[1, 2, 3], [4, 5, 6]], folder.path("a.npy"))
    let m = folder.path("m.npz")
    #expect(try DamProcess.run(["memory", "create", m, "--patterns", folder.path("a.npy")]).status == 0)
    var bytes = [UInt8](try #require(FileManager.default.contents(atPath: m)))
    // Truncated: the ZIP directory is gone.
    _ = FileManager.default.createFile(
      atPath: folder.path("cut.npz"), contents: Data(bytes.prefix(bytes.count / 2)))
    let cut = try DamProcess.run(["memory", "verify", folder.path("cut.npz")])
    #expect(cut.status != 0 && cut.stderr.contains("cut.npz"), "\(cut.stderr)")
    // One data byte changed: the ZIP CRC of the member catches it.
    bytes[bytes.count - 200] ^= 1
    _ = FileManager.default.createFile(atPath: folder.path("flip.npz"), contents: Data(bytes))
    let flip = try DamProcess.run(["memory", "verify", folder.path("flip.npz")])
    #expect(flip.status != 0, "\(flip.stdout)")
    // A plain .npz is not a memory file.
    let plain = try DamProcess.run(["memory", "info", folder.path("a.npy")])
    #expect(plain.status != 0)
  }

  /// A small version of scripts/reliability/kill-append.sh: SIGKILL at random moments of
  /// `dam memory append`, then the file must verify and begin with the original patterns.
  @Test func killedAppendsLeaveALoadableFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var generator = SeededGenerator(seed: 9)
    let base = (0..<300).map { _ in generator.gaussians(500) }
    let more = (0..<300).map { _ in generator.gaussians(500) }
    try Self.write(base, folder.path("base.npy"))
    try Self.write(more, folder.path("more.npy"))
    let m = folder.path("m.npz")
    #expect(
      try DamProcess.run(["memory", "create", folder.path("base.npz"), "--patterns", folder.path("base.npy")])
        .status == 0)
    var delays = SeededGenerator(seed: 10)
    for trial in 0..<8 {
      try? FileManager.default.removeItem(atPath: m)
      try FileManager.default.copyItem(atPath: folder.path("base.npz"), toPath: m)
      let process = Process()
      process.executableURL = DamProcess.executable
      process.arguments = ["memory", "append", m, "--patterns", folder.path("more.npy")]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      usleep(UInt32(Double(delays.next() % 1000) / 1000 * 300_000))
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      let verify = try DamProcess.run([
        "memory", "verify", m, "--starts-with", folder.path("base.npz"), "--json",
      ])
      #expect(verify.status == 0, "trial \(trial): \(verify.stderr)")
      let count = try Self.json(verify.stdout)["count"] as? Int
      #expect(count == 300 || count == 600, "trial \(trial): \(count ?? -1) patterns")
    }
    // The next successful write removes the temporary files that killed appends left, and the
    // lock file of a writer killed holding the lock.
    let next = try DamProcess.run(["memory", "append", m, "--patterns", folder.path("base.npy")])
    #expect(next.status == 0, "\(next.stderr)")
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter {
      $0.hasPrefix(".")
    }
    #expect(left.isEmpty, "\(left)")
  }
}
