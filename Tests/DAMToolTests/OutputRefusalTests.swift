import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Outputs that must not be written, refused before any work: an input of the command, a
/// directory, a device node or FIFO, a read-only file, an existing memory file without --force.
/// Each row exits 1 naming the option, and leaves every file in the folder as it was (type, mode,
/// inode, modification time and bytes).
struct OutputRefusalTests {
  typealias Case = CommandCase

  /// The inputs of BadInputCommandTests, a memory file of each family and the files to refuse:
  /// `ro.*` (mode 0444), `dir.*` (directories), `fifo.*` (FIFOs), `dev.*` (character devices,
  /// as root), `file` (a regular file where a folder is expected), `mlink.npy` (a symbolic link
  /// to M.npy), `Qhard.npy` (a hard link to Q.npy).
  static func writeInputs(_ folder: TemporaryFolder) throws {
    try BadInputCommandTests.writeInputs(folder)
    var grids = NumPyArchive()
    let h = (0..<16).map { Double($0 % 5 + 1) / 46 }  // as h.npy and H.npy
    grids["histograms"] = try NumPyArray(shape: [2, 4, 4], doubles: h + h.reversed())
    try NPZ.write(grids, to: folder.path("Hm.npz"))
    for (memory, patterns, extra) in [
      ("m.npz", "M.npy", [String]()), ("cm.npz", "C.npz", ["--epsilon", "0.1"]), ("gm.npz", "Gq3.npz", []),
      ("hm.npz", "Hm.npz", ["--epsilon", "1"]),
    ] {
      let run = try DamProcess.run(
        ["memory", "create", folder.path(memory), "--patterns", folder.path(patterns)] + extra)
      #expect(run.status == 0, "\(memory): \(run.stderr)")
    }
    for name in ["ro.npy", "ro.npz"] {
      try FileManager.default.copyItem(atPath: folder.path("Q.npy"), toPath: folder.path(name))
    }
    for name in ["rom.npz", "rohm.npz"] {
      try FileManager.default.copyItem(
        atPath: folder.path(name == "rom.npz" ? "m.npz" : "hm.npz"), toPath: folder.path(name))
    }
    for name in ["ro.npy", "ro.npz", "rom.npz", "rohm.npz"] { chmod(folder.path(name), 0o444) }
    for name in ["dir.npy", "dir.npz"] {
      try FileManager.default.createDirectory(atPath: folder.path(name), withIntermediateDirectories: false)
    }
    for name in ["fifo.npy", "fifo.npz"] { #expect(mkfifo(folder.path(name), 0o644) == 0) }
    if getuid() == 0 {
      // The device numbers of /dev/null (major 1, minor 3): a device node safe to make and refuse.
      for name in ["dev.npy", "dev.npz"] {
        #expect(mknod(folder.path(name), S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0)
      }
    }
    _ = FileManager.default.createFile(atPath: folder.path("file"), contents: Data("not a folder".utf8))
    try FileManager.default.createSymbolicLink(atPath: folder.path("mlink.npy"), withDestinationPath: "M.npy")
    try FileManager.default.linkItem(atPath: folder.path("Q.npy"), toPath: folder.path("Qhard.npy"))
  }

  static let vectors = ["retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1", "--output"]
  static let clouds = [
    "retrieve", "--memory", "$/C.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1", "--output",
  ]
  static let gaussians = [
    "retrieve", "--memory", "$/Gq3.npz", "--query", "$/Gq.npz", "--beta", "1", "--output",
  ]
  static let grids = [
    "retrieve", "--memory", "$/Hm.npz", "--query", "$/h.npy", "--beta", "1", "--epsilon", "1",
  ]

  static let cases: [Case] = [
    // Vectors.
    Case(
      name: "vectors: output is the memory", arguments: vectors + ["$/M.npy"],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "vectors: output is the query", arguments: vectors + ["$/Q.npy"],
      expected: ["--output", "same file as --query"]),
    Case(
      name: "vectors: output is a hard link to the query", arguments: vectors + ["$/Qhard.npy"],
      expected: ["--output", "same file as --query"]),
    Case(
      name: "vectors: output is a symbolic link to the memory", arguments: vectors + ["$/mlink.npy"],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "vectors: output is the memory, spelled differently",
      arguments: vectors + ["$/./dir.npy/../M.npy"],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "vectors: output is a directory", arguments: vectors + ["$/dir.npy"],
      expected: ["--output", "is a directory"]),
    Case(
      name: "vectors: output is a device", arguments: vectors + ["$/dev.npy"],
      expected: ["--output", "is a character device, not a regular file"], needsDevice: true),
    Case(
      name: "vectors: output is a FIFO", arguments: vectors + ["$/fifo.npy"],
      expected: ["--output", "is a FIFO"]),
    Case(
      name: "vectors: output is read-only (0444)", arguments: vectors + ["$/ro.npy"],
      expected: ["--output", "is read-only (mode 444)", "chmod"]),
    // Point clouds.
    Case(
      name: "clouds: output is the memory", arguments: clouds + ["$/C.npz"],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "clouds: output is read-only (0444)", arguments: clouds + ["$/ro.npz"],
      expected: ["--output", "read-only"]),
    Case(
      name: "clouds: output is a directory", arguments: clouds + ["$/dir.npz"],
      expected: ["--output", "is a directory"]),
    // Gaussians.
    Case(
      name: "Gaussians: output is the query", arguments: gaussians + ["$/Gq.npz"],
      expected: ["--output", "same file as --query"]),
    Case(
      name: "Gaussians: output is a FIFO", arguments: gaussians + ["$/fifo.npz"],
      expected: ["--output", "is a FIFO"]),
    Case(
      name: "bench bures-wasserstein: output is the memory",
      arguments: [
        "bench", "bures-wasserstein", "--memory", "$/Gq3.npz", "--queries", "$/Gq.npz", "--output",
        "$/Gq3.npz",
      ],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "bench bures-wasserstein: output is read-only",
      arguments: [
        "bench", "bures-wasserstein", "--memory", "$/Gq3.npz", "--queries", "$/Gq.npz", "--output",
        "$/ro.npz",
      ],
      expected: ["--output", "read-only"]),
    // Grid histograms.
    Case(
      name: "grids: retrieve output is the query", arguments: grids + ["--output", "$/h.npy"],
      expected: ["--output", "same file as --query"]),
    Case(
      name: "grids: barycenter output is the input",
      arguments: ["barycenter", "$/H.npy", "--epsilon", "1", "--output", "$/H.npy"],
      expected: ["--output", "same file as histograms"]),
    Case(
      name: "grids: barycenter output is a device",
      arguments: ["barycenter", "$/H.npy", "--epsilon", "1", "--output", "$/dev.npy"],
      expected: ["--output", "character device"], needsDevice: true),
    Case(
      name: "grids: barycenter output is read-only",
      arguments: ["barycenter", "$/H.npy", "--epsilon", "1", "--output", "$/ro.npy"],
      expected: ["--output", "read-only"]),
    // Memory files.
    Case(
      name: "memory create without --force on an existing file",
      arguments: ["memory", "create", "$/m.npz", "--patterns", "$/Q.npy"],
      expected: ["$/m.npz", "exists", "--force"]),
    Case(
      name: "memory create (grids) without --force on an existing file",
      arguments: ["memory", "create", "$/hm.npz", "--patterns", "$/Hm.npz", "--epsilon", "1"],
      expected: ["$/hm.npz", "exists"]),
    Case(
      name: "memory create --force onto a read-only file",
      arguments: ["memory", "create", "$/rom.npz", "--patterns", "$/M.npy", "--force"],
      expected: ["$/rom.npz", "read-only"]),
    Case(
      name: "memory create --force onto its own patterns",
      arguments: ["memory", "create", "$/m.npz", "--patterns", "$/m.npz", "--force"],
      expected: ["$/m.npz", "same file as --patterns"]),
    Case(
      name: "memory create onto a directory",
      arguments: ["memory", "create", "$/dir.npz", "--patterns", "$/M.npy"],
      expected: ["$/dir.npz", "is a directory"]),
    Case(
      name: "memory create onto a FIFO",
      arguments: ["memory", "create", "$/fifo.npz", "--patterns", "$/M.npy", "--force"],
      expected: ["$/fifo.npz", "FIFO"]),
    Case(
      name: "memory create onto a device",
      arguments: ["memory", "create", "$/dev.npz", "--patterns", "$/M.npy", "--force"],
      expected: ["$/dev.npz", "character device"], needsDevice: true),
    Case(
      name: "memory append to a read-only file",
      arguments: ["memory", "append", "$/rom.npz", "--patterns", "$/M.npy"],
      expected: ["$/rom.npz", "read-only"]),
    Case(
      name: "memory append (grids) to a read-only file",
      arguments: ["memory", "append", "$/rohm.npz", "--patterns", "$/Hm.npz"],
      expected: ["$/rohm.npz", "read-only"]),
    Case(
      name: "memory append to a FIFO",
      arguments: ["memory", "append", "$/fifo.npz", "--patterns", "$/M.npy"],
      expected: ["$/fifo.npz", "FIFO"]),
    Case(
      name: "retrieve from a memory file: output is the memory file",
      arguments: [
        "retrieve", "--memory", "$/m.npz", "--query", "$/Q.npy", "--beta", "1", "--output", "$/m.npz",
      ],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "retrieve from a cloud memory file: output is the memory file",
      arguments: [
        "retrieve", "--memory", "$/cm.npz", "--query", "$/Cq.npz", "--beta", "1", "--output", "$/cm.npz",
      ],
      expected: ["--output", "same file as --memory"]),
    Case(
      name: "retrieve from a Gaussian memory file: output is read-only",
      arguments: [
        "retrieve", "--memory", "$/gm.npz", "--query", "$/Gq.npz", "--beta", "1", "--output", "$/ro.npz",
      ],
      expected: ["--output", "read-only"]),
    // Report folders.
    Case(
      name: "compare: report is a file",
      arguments: ["compare", "--memory", "$/M.npy", "--noise", "0.1", "--report", "$/file"],
      expected: ["--report", "a regular file, not a folder"]),
    Case(
      name: "experiment: report is a FIFO",
      arguments: ["experiment", "shk-random-patterns", "--quick", "--report", "$/fifo.npy"],
      expected: ["--report", "a FIFO, not a folder"]),
    Case(
      name: "demo: report is a file", arguments: ["demo", "--report", "$/file"],
      expected: ["--report", "not a folder"]),
    Case(
      name: "bench grids: output folder is a file", arguments: ["bench", "grids", "--output", "$/file"],
      expected: ["--output", "not a folder"]),
  ]

  /// Every entry of `folder` (not following symbolic links) and its state.
  static func snapshot(_ folder: TemporaryFolder) throws -> [String: FileState] {
    var states: [String: FileState] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder.url.path) {
      states[name] = FileState(folder.path(name))
    }
    return states
  }

  @Test(arguments: cases)
  func refused(_ testCase: Case) throws {
    if testCase.needsDevice && getuid() != 0 { return }  // mknod needs root; the FIFO rows remain
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    let before = try Self.snapshot(folder)
    let start = Date()
    let run = try DamProcess.runRow(testCase.name, testCase.arguments, in: folder)
    run.expectRefusal(testCase.name, naming: testCase.expected, in: folder)
    // Refused before any work: no solve, no retrieval ran.
    #expect(
      Date().timeIntervalSince(start) < 20, "\(testCase.name): took \(Date().timeIntervalSince(start)) s")
    #expect(try Self.snapshot(folder) == before, "\(testCase.name): files changed")
  }

  /// `--output /dev/null` (root could replace the node by a regular file) is refused and the node
  /// stays a character device. Run only after the same refusal held for a device node in a
  /// scratch folder, so that a regression cannot replace the machine's /dev/null.
  @Test func devNullStaysACharacterDevice() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    let path = getuid() == 0 ? folder.path("dev.npy") : folder.path("fifo.npy")
    let rehearsal = try DamProcess.run(
      Self.vectors.map { $0.replacingOccurrences(of: "$", with: folder.url.path) } + [path])
    try #require(
      rehearsal.status == 1 && rehearsal.stderr.contains("not a regular file"), "\(rehearsal.stderr)")
    let before = FileState("/dev/null")
    #expect((before?.mode ?? 0) & S_IFMT == S_IFCHR)
    let run = try DamProcess.run(
      Self.vectors.map { $0.replacingOccurrences(of: "$", with: folder.url.path) } + ["/dev/null"])
    #expect(run.status == 1, "\(run.stderr)")
    #expect(run.stderr.hasPrefix("Error: --output: /dev/null:"), "\(run.stderr)")
    let after = FileState("/dev/null")
    #expect((after?.mode ?? 0) & S_IFMT == S_IFCHR)
    #expect(after?.inode == before?.inode)
  }
}
