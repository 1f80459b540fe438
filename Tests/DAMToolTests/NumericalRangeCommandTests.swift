import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// Issue 19, classes 2 and 5 at the command line: inputs whose numbers overflow (costs, results,
/// reciprocals) or lose every digit (ε far below the problem's scale) are refused with exit
/// status 1, never a signal, a message naming the option, and no file written or changed; and
/// messages name what is wrong (a negative value, a subnormal β, a step that moved the state out
/// of range) instead of something else. One or more rows per family. The messages are printed as
/// table lines by `DAM_PRINT_TABLE=1 swift test --filter NumericalRangeCommand` (Docs/reliability.md).
struct NumericalRangeCommandTests {
  typealias Case = CommandCase

  /// BadInputCommandTests' inputs, and values near the ends of the doubles' range.
  static func writeInputs(_ folder: TemporaryFolder) throws {
    try BadInputCommandTests.writeInputs(folder)
    func npy(_ name: String, _ shape: [Int], _ values: [Double]) throws {
      try NPY.write(NumPyArray(shape: shape, doubles: values), to: folder.path(name))
    }
    func npz(_ name: String, _ arrays: [(String, NumPyArray)]) throws {
      var archive = NumPyArchive()
      for (key, array) in arrays { archive[key] = array }
      try NPZ.write(archive, to: folder.path(name))
    }
    try npy("Mbig.npy", [3, 2], [1e200, 0, 0, 1e200, 1, 1])
    try npy("scores_big.npy", [4], [1e308, -1e308, 1e308, 0])
    try npy("x.npy", [2, 1], [0, 1])
    try npy("xbig.npy", [2, 1], [0, 1e200])
    try npz("Cbig.npz", [("points", try NumPyArray(shape: [2, 2, 1], doubles: [0, 1e200, 5, 6]))])
    try npz("Cqbig.npz", [("points", try NumPyArray(shape: [2, 1], doubles: [1e200, -1e200]))])
    try npz(
      "Gbig.npz",
      [
        ("means", try NumPyArray(shape: [2, 2], doubles: [0, 0, 1e200, 0])),
        ("variances", try NumPyArray(shape: [2, 2], doubles: [1, 2, 0.5, 3])),
      ])
    try npz(
      "gfar.npz",
      [
        ("mean", try NumPyArray(shape: [2], doubles: [1e200, 0])),
        ("variance", try NumPyArray(shape: [2], doubles: [1, 1])),
      ])
    let h = (0..<16).map { Double($0 % 5 + 1) / 46 }  // as h.npy
    try npz(
      "Hfar.npz",
      [
        ("histograms", try NumPyArray(shape: [2, 4, 4], doubles: h + h.reversed())),
        ("spacing", try NumPyArray(shape: [2], doubles: [1e10, 1e10])),
      ])
    try npz(
      "Hhuge.npz",
      [
        ("histograms", try NumPyArray(shape: [2, 4, 4], doubles: h + h.reversed())),
        ("spacing", try NumPyArray(shape: [2], doubles: [1e200, 1])),
      ])
    _ = FileManager.default.createFile(atPath: folder.path("file"), contents: Data("not a folder".utf8))
    // A well-formed memory file whose clouds are 1e200 apart, written by NumPy
    // (scripts/fixtures/make_memory_file_fixtures.py): the writer would refuse to make it.
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("MemoryFilesTests/Fixtures")
    try FileManager.default.copyItem(
      at: fixtures.appendingPathComponent("numpy_clouds_overflow.npz"),
      to: folder.url.appendingPathComponent("cfar.npz"))
    let run = try DamProcess.run([
      "memory", "create", folder.path("m.npz"), "--patterns", folder.path("M.npy"),
    ])
    #expect(run.status == 0, "m.npz: \(run.stderr)")
  }

  static let cases: [Case] = [
    // Class 2: overflow and lost precision.
    Case(
      name: "vectors: k-subsets conjugate overflows (scores 1e308)",
      arguments: ["separate", "ksubsets", "$/scores_big.npy", "--k", "2"],
      expected: ["$/scores_big.npy", "overflows"]),
    Case(
      name: "vectors: beta x score overflows",
      arguments: ["separate", "softmax", "$/scores_big.npy", "--beta", "10"],
      expected: ["--beta", "overflows"]),
    Case(
      name: "vectors: compare's noise so large that squared distances overflow",
      arguments: ["compare", "--memory", "$/M.npy", "--noise", "1e300", "--report", "$/rep"],
      expected: ["--noise", "below 1e150"]),
    Case(
      name: "clouds: a cost between two atoms overflows (1e200)",
      arguments: ["divergence", "sinkhorn", "$/x.npy", "$/xbig.npy", "--epsilon", "1"],
      expected: ["$/xbig.npy", "overflows"]),
    Case(
      name: "clouds: retrieval with a query whose costs overflow",
      arguments: [
        "retrieve", "--memory", "$/C.npz", "--query", "$/Cqbig.npz", "--beta", "1", "--epsilon", "0.1",
        "--output",
        "$/out.npz",
      ],
      expected: ["--query", "overflows"]),
    Case(
      name: "Gaussians: W2^2 between means 1e200 apart overflows",
      arguments: ["divergence", "bures-wasserstein", "$/Gq.npz", "$/gfar.npz"],
      expected: ["$/gfar.npz", "overflows"]),
    Case(
      name: "grids: spacing 1e200 makes the largest cost overflow",
      arguments: [
        "divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1", "--spacing", "1e200,1",
      ],
      expected: ["--spacing", "overflow"]),
    Case(
      name: "grids: epsilon 1 at spacing 1e10 (5.5e-22 D^2) loses every digit",
      arguments: [
        "divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1", "--spacing", "1e10,1e10",
      ],
      expected: ["--epsilon", "less than 1e-14 times", "use an epsilon >="]),
    Case(
      name: "grids: epsilon below 1e-14 D^2 (1e-18 on a 4 x 4 grid)",
      arguments: ["divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1e-18"],
      expected: ["--epsilon", "less than 1e-14 times"]),
    Case(
      name: "grids: retrieval from histograms at spacing 1e10 with epsilon 1",
      arguments: [
        "retrieve", "--memory", "$/Hfar.npz", "--query", "$/h.npy", "--beta", "1", "--epsilon", "1",
        "--output",
        "$/out.npy",
      ],
      expected: ["--epsilon", "less than 1e-14 times"]),
    Case(
      name: "memory files: vectors 1e200 apart",
      arguments: ["memory", "create", "$/new.npz", "--patterns", "$/Mbig.npy"],
      expected: ["--patterns", "overflows"]),
    Case(
      name: "memory files: clouds whose costs overflow",
      arguments: ["memory", "create", "$/new.npz", "--patterns", "$/Cbig.npz", "--epsilon", "0.1"],
      expected: ["--patterns", "overflows"]),
    Case(
      name: "memory files: Gaussians 1e200 apart",
      arguments: ["memory", "create", "$/new.npz", "--patterns", "$/Gbig.npz"],
      expected: ["--patterns", "overflows"]),
    Case(
      name: "memory files: histograms at spacing 1e200",
      arguments: ["memory", "create", "$/new.npz", "--patterns", "$/Hhuge.npz", "--epsilon", "1"],
      expected: ["--patterns", "spacing", "overflow"]),
    Case(
      name: "memory files: verify a file whose clouds' costs overflow",
      arguments: ["memory", "verify", "$/cfar.npz"],
      expected: ["$/cfar.npz", "overflows"]),
    Case(
      name: "memory files: retrieve from a file whose clouds' costs overflow",
      arguments: [
        "retrieve", "--memory", "$/cfar.npz", "--query", "$/Cq.npz", "--beta", "1", "--output", "$/out.npz",
      ],
      expected: ["--memory", "cfar.npz", "overflows"]),
    // Class 5: the message names the real fault.
    Case(
      name: "vectors: subnormal beta (5e-324)",
      arguments: [
        "retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "5e-324", "--output", "$/out.npy",
      ],
      expected: ["--beta", "1/beta", "overflows"]),
    Case(
      name: "vectors: negative pruning mass",
      arguments: [
        "retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1", "--pruning", "-0.1",
      ],
      expected: ["--pruning", "[0, 1)", "-0.1"]),
    Case(
      name: "vectors: a negative beta in compare's list",
      arguments: [
        "compare", "--memory", "$/M.npy", "--noise", "0.1", "--beta", "1", "-2", "--report", "$/rep",
      ],
      expected: ["--beta", "-2", "negative"]),
    Case(
      name: "clouds: a huge SHK step is the step's fault, not epsilon's",
      arguments: [
        "retrieve", "--memory", "$/C.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1", "--step",
        "1e10",
        "--output", "$/out.npz",
      ],
      expected: ["--query", "step: the dynamics diverged at step 1", "reduce the step size"]),
    Case(
      name: "Gaussians: a negative beta in compare",
      arguments: ["compare", "--memory", "$/Gq3.npz", "--noise", "0.1", "--beta", "-1", "--report", "$/rep"],
      expected: ["--beta", "-1", "negative"]),
    Case(
      name: "Gaussians: subnormal beta in retrieval",
      arguments: ["retrieve", "--memory", "$/Gq3.npz", "--query", "$/Gq.npz", "--beta", "5e-324"],
      expected: ["--beta", "1/beta"]),
    Case(
      name: "grids: negative spacing",
      arguments: [
        "divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy", "--epsilon", "1", "--spacing", "-1,1",
      ],
      expected: ["--spacing", "-1.0"]),
    Case(
      name: "grids: negative spacing for a barycenter",
      arguments: ["barycenter", "$/H.npy", "--epsilon", "1", "--spacing", "-1,1", "--output", "$/bar.npy"],
      expected: ["--spacing", "-1.0"]),
    Case(
      name: "memory files: negative pruning mass with a memory file",
      arguments: [
        "retrieve", "--memory", "$/m.npz", "--query", "$/Q.npy", "--beta", "1", "--pruning", "-0.5",
        "--output",
        "$/out.npy",
      ],
      expected: ["--pruning", "-0.5"]),
    Case(
      name: "vectors: compare's report folder inside a regular file",
      arguments: ["compare", "--memory", "$/M.npy", "--noise", "0.1", "--report", "$/file/report"],
      expected: ["--report", "cannot be created", "is a regular file, not a folder"]),
    Case(
      name: "grids: bench grids' output folder inside a regular file",
      arguments: ["bench", "grids", "--output", "$/file/out"],
      expected: ["--output", "cannot be created", "not a folder"]),
    Case(
      name: "memory files: subnormal beta with a memory file",
      arguments: ["retrieve", "--memory", "$/m.npz", "--query", "$/Q.npy", "--beta", "5e-324"],
      expected: ["--beta", "1/beta"]),
  ]

  @Test(arguments: cases)
  func refused(_ testCase: Case) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    let before = try OutputRefusalTests.snapshot(folder)
    let run = try DamProcess.runRow(testCase.name, testCase.arguments, in: folder)
    #expect(!run.signaled, "\(testCase.name): ended by signal \(run.status)")
    run.expectRefusal(testCase.name, naming: testCase.expected, in: folder)
    #expect(!run.stdout.contains("inf") && !run.stdout.contains("nan"), "\(testCase.name): \(run.stdout)")
    #expect(try OutputRefusalTests.snapshot(folder) == before, "\(testCase.name): files changed")
  }

  /// A positive semi-definite covariance is accepted, as Docs/cli.md says: `diag(1, 0)` at the
  /// origin against `[[1, 1], [1, 1]]` at (3, 0) has `W₂² = 9 + tr(S₁ + S₂) - 2 tr((S₁^½ S₂
  /// S₁^½)^½) = 9 + 3 - 2 = 10` (`S₁^½ S₂ S₁^½ = diag(1, 0)`); POT gives 10 to 2e-16 (the case
  /// `issue_example_d2` of Tests/DAMTests/Fixtures/gaussian/psd_cases.json).
  @Test func semidefiniteCovarianceIsAccepted() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var a = NumPyArchive()
    a["mean"] = try NumPyArray(shape: [2], doubles: [0, 0])
    a["covariance"] = try NumPyArray(shape: [2, 2], doubles: [1, 0, 0, 0])
    try NPZ.write(a, to: folder.path("a.npz"))
    var b = NumPyArchive()
    b["mean"] = try NumPyArray(shape: [2], doubles: [3, 0])
    b["covariance"] = try NumPyArray(shape: [2, 2], doubles: [1, 1, 1, 1])
    try NPZ.write(b, to: folder.path("b.npz"))
    let run = try DamProcess.run(
      ["divergence", "bures-wasserstein", folder.path("a.npz"), folder.path("b.npz"), "--json"])
    #expect(run.status == 0, "\(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let value = try #require(json["value"] as? Double)
    #expect(abs(value - 10) <= 1e-14 * 10, "\(value)")
  }
}
