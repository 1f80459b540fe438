import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// `--time-limit` and `--iteration-limit` (class 6 of issue 19): a long command bounded by a
/// limit that runs out ends with exit status 1 and an error naming the option, writes no output
/// and changes no file. One row per family (vectors, clouds, Gaussians, grids, memory files: retrieval from a file).
/// The tests' standard error is a pipe, not a terminal: no progress line may appear on it.
struct BudgetCommandTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var arguments: [String]
    /// The option the message must name.
    var option = "--time-limit"
    /// What else the message must say (what was running).
    var running: [String] = []
    /// The output the command would have written, which must not exist afterwards.
    var output: String?
    var testDescription: String { name }
  }

  /// The inputs of BadInputCommandTests and a memory file of each family.
  static func writeInputs(_ folder: TemporaryFolder) throws {
    try BadInputCommandTests.writeInputs(folder)
    // Clouds of 300 atoms and 1-D histograms of 300 cells: large enough that building their
    // kernels polls the time limit.
    var generator = SeededGenerator(seed: 19)
    for name in ["X300.npy", "Y300.npy"] {
      try NPY.write(
        NumPyArray(shape: [300, 2], doubles: (0..<600).map { _ in generator.nextGaussian() }),
        to: folder.path(name))
    }
    for (name, shift) in [("hl1.npy", 0), ("hl2.npy", 4)] {
      let line = (0..<300).map { Double(($0 + shift) % 11 + 1) }
      let total = line.reduce(0, +)
      try NPY.write(NumPyArray(shape: [300], doubles: line.map { $0 / total }), to: folder.path(name))
    }
    var grids = NumPyArchive()
    let h = (0..<16).map { Double($0 % 5 + 1) / 46 }  // as h.npy and H.npy
    grids["histograms"] = try NumPyArray(shape: [2, 4, 4], doubles: h + h.reversed())
    try NPZ.write(grids, to: folder.path("Hm.npz"))
    for (memory, patterns, extra) in [
      ("cm.npz", "C.npz", ["--epsilon", "0.1"]), ("hm.npz", "Hm.npz", ["--epsilon", "1"]),
    ] {
      let run = try DamProcess.run(
        ["memory", "create", folder.path(memory), "--patterns", folder.path(patterns)] + extra)
      #expect(run.status == 0, "\(memory): \(run.stderr)")
    }
  }

  static let zero = ["--time-limit", "0"]

  static let cases: [Case] = [
    Case(
      name: "vectors: retrieve",
      arguments: ["retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1"] + zero,
      output: "out.npy"),
    Case(
      name: "clouds: retrieve",
      arguments: [
        "retrieve", "--memory", "$/C.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
      ] + zero,
      output: "out.npz"),
    Case(
      name: "clouds: retrieve, iteration limit",
      arguments: [
        "retrieve", "--memory", "$/C.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        "--iteration-limit", "0",
      ], option: "--iteration-limit", output: "out.npz"),
    Case(
      name: "clouds: divergence sinkhorn",
      arguments: ["divergence", "sinkhorn", "$/M.npy", "$/M.npy", "--epsilon", "0.01"] + zero),
    Case(
      name: "clouds: divergence sinkhorn, building the Gibbs kernel",
      arguments: ["divergence", "sinkhorn", "$/X300.npy", "$/Y300.npy", "--epsilon", "0.05"] + zero,
      running: ["building the 300 x 300 Gibbs kernel"]),
    Case(
      name: "vectors: retrieve, sequential k-subsets",
      arguments: [
        "retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1", "--separation",
        "sequential-ksubsets", "--k", "2", "--pairwise", "0.5", "--iteration-limit", "0",
      ], option: "--iteration-limit", running: ["a SparseMAP active-set solve"], output: "out.npy"),
    Case(
      name: "Gaussians: retrieve",
      arguments: ["retrieve", "--memory", "$/Gq3.npz", "--query", "$/Gq.npz", "--beta", "1"] + zero,
      running: ["a Bures-Wasserstein batch"], output: "out.npz"),
    Case(
      name: "grids: retrieve",
      arguments: ["retrieve", "--memory", "$/Hm.npz", "--query", "$/h.npy", "--beta", "1", "--epsilon", "1"]
        + zero,
      output: "out.npy"),
    Case(
      name: "grids: divergence sinkhorn-grid",
      arguments: ["divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1"] + zero),
    Case(
      name: "grids: divergence sinkhorn-grid, building the kernel",
      arguments: ["divergence", "sinkhorn-grid", "$/hl1.npy", "$/hl2.npy", "--epsilon", "1000"] + zero,
      running: ["building the kernel of a grid of 300 cells"]),
    Case(
      name: "grids: barycenter", arguments: ["barycenter", "$/H.npy", "--epsilon", "1"] + zero,
      output: "bar.npy"),
    Case(
      name: "memory files: retrieve from a cloud memory",
      arguments: ["retrieve", "--memory", "$/cm.npz", "--query", "$/Cq.npz", "--beta", "1"] + zero,
      output: "out.npz"),
    Case(
      name: "memory files: retrieve from a grid memory",
      arguments: ["retrieve", "--memory", "$/hm.npz", "--query", "$/h.npy", "--beta", "1"] + zero,
      output: "out.npy"),
  ]

  @Test(arguments: cases) func limitEndsTheCommand(_ row: Case) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
    let before = names.map { FileState(folder.path($0)) }
    let extra = row.output.map { ["--output", folder.path($0)] } ?? []
    let run = try DamProcess.runRow(row.name, row.arguments, in: folder, extra: extra)
    run.expectRefusal(
      row.name,
      naming: [
        row.option, row.option == "--time-limit" ? "the time limit of 0.0 s ran out" : "iterations ran out",
      ] + row.running,
      in: folder)
    #expect(run.stdout.isEmpty, "\(run.stdout)")
    // Not a terminal: no progress line (carriage return, or the escape that clears the line).
    #expect(!run.stderr.contains("\r") && !run.stderr.contains("\u{1B}["))
    // Nothing written, nothing changed.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted() == names.sorted())
    // (Compared without printing: the states hold every file's bytes.)
    let after = names.map { FileState(folder.path($0)) }
    #expect(
      after == before, "a file changed: \(zip(names, zip(before, after)).filter { $1.0 != $1.1 }.map(\.0))")
  }

  /// A limit that does not run out changes nothing: the same report as without it, and no
  /// progress text on a standard error that is not a terminal.
  @Test func generousLimitsGiveTheSameResult() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    for arguments in [
      [
        "retrieve", "--memory", "$/C.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1", "--json",
      ],
      ["divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1", "--json"],
      ["retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1", "--json"],
    ] {
      let plain = try DamProcess.runRow("unbounded", arguments, in: folder)
      let bounded = try DamProcess.runRow(
        "bounded", arguments, in: folder, extra: ["--time-limit", "600", "--iteration-limit", "100000000"])
      #expect(plain.status == 0 && bounded.status == 0, "\(plain.stderr) \(bounded.stderr)")
      #expect(bounded.stdout == plain.stdout)
      #expect(bounded.stderr.isEmpty, "\(bounded.stderr)")
    }
  }

  @Test func negativeLimitsAreRefused() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    let base = ["divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1"]
    let time = try DamProcess.runRow("negative time limit", base + ["--time-limit", "-1"], in: folder)
    #expect(time.status != 0 && time.stderr.contains("--time-limit") && time.stderr.contains("-1"))
    let nan = try DamProcess.runRow("NaN time limit", base + ["--time-limit", "nan"], in: folder)
    #expect(nan.status != 0 && nan.stderr.contains("--time-limit"))
    let count = try DamProcess.runRow(
      "negative iteration limit", base + ["--iteration-limit", "-5"], in: folder)
    #expect(count.status != 0 && count.stderr.contains("--iteration-limit") && count.stderr.contains("-5"))
  }
}
