import Foundation
import NumPyFiles
import Testing

/// `dam compare`: the report's files and rows, numbers checked against closed forms on memories
/// whose outcome is known exactly, and refusal of bad input with nothing written.
struct CompareCommandTests {
  static func rows(_ stdout: String) throws -> [[String: Any]] {
    try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [[String: Any]])
  }

  @Test func quickBuiltInRunWritesTheWholeReport() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let run = try DamProcess.run(["compare", "--quick", "--report", folder.path("report"), "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let rows = try Self.rows(run.stdout)
    // vectors: 2 divergences x 3 maps x 1 beta; clouds: 3 geometries x 2 maps; Gaussians: 2 x 2;
    // grid histograms: 3 geometries x 2 maps.
    #expect(rows.count == 6 + 6 + 4 + 6)
    for family in ["vectors", "point clouds", "gaussians", "grid histograms"] {
      #expect(rows.contains { $0["family"] as? String == family }, "\(family) present")
    }
    for row in rows {
      let rate = try #require(row["success_rate"] as? Double)
      let lower = try #require(row["lower"] as? Double)
      let upper = try #require(row["upper"] as? Double)
      let successes = try #require(row["successes"] as? Int)
      let queries = try #require(row["queries"] as? Int)
      #expect(lower <= rate && rate <= upper)
      #expect(abs(rate - Double(successes) / Double(queries)) < 1e-15)
      let support = try #require(row["mean_support"] as? Double)
      #expect(support >= 1)
      if row["separation"] as? String == "sparsemax", row["family"] as? String == "gaussians" {
        // At beta 2 the perturbed Gaussians are far inside sparsemax's margin: one pattern only.
        #expect(support == 1)
      }
    }
    for stem in ["vectors", "point-clouds", "gaussians", "grid-histograms"] {
      for kind in ["success", "energy", "trajectory"] {
        let name = "report/\(kind)-\(stem).svg"
        #expect(folder.exists(name), "\(name) written")
        let svg = try String(contentsOfFile: folder.path(name), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
      }
    }
    for name in ["summary.md", "results.csv", "results.json"] { #expect(folder.exists("report/\(name)")) }
    let csv = try String(contentsOfFile: folder.path("report/results.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == rows.count + 1)
    let summary = try String(contentsOfFile: folder.path("report/summary.md"), encoding: .utf8)
    #expect(summary.contains("dam compare --quick"))
    // The baselines say what they are: the family's vector engine, its divergence and the encoding.
    for row in rows where row["geometry"] as? String == "euclidean" {
      switch row["family"] as? String {
      case "point clouds":
        #expect(
          row["baseline"] as? String == "stacked-euclidean" && row["divergence"] as? String == "dot-product")
      case "gaussians":
        #expect(
          row["baseline"] as? String == "stacked-euclidean"
            && row["divergence"] as? String == "squared-euclidean")
      case "grid histograms":
        #expect(
          row["baseline"] as? String == "pixel-euclidean"
            && row["divergence"] as? String == "squared-euclidean")
      default: #expect(row["baseline"] == nil)
      }
    }

    // `--replot` redraws the success and energy figures from results.json exactly as the run drew them.
    var drawn: [String: String] = [:]
    for stem in ["vectors", "point-clouds", "gaussians", "grid-histograms"] {
      for kind in ["success", "energy"] {
        let name = "report/\(kind)-\(stem).svg"
        drawn[name] = try String(contentsOfFile: folder.path(name), encoding: .utf8)
        try FileManager.default.removeItem(atPath: folder.path(name))
      }
    }
    let replot = try DamProcess.run(["compare", "--replot", folder.path("report")])
    #expect(replot.status == 0, "stderr: \(replot.stderr)")
    for (name, svg) in drawn {
      #expect(
        (try? String(contentsOfFile: folder.path(name), encoding: .utf8)) == svg, "\(name) redrawn as drawn")
    }
  }

  /// Four orthonormal patterns queried with themselves: under sparsemax at beta 10 the scores
  /// -beta ||x - X_i||^2 are 0 for the target and -20 for the others, 20 beyond sparsemax's margin
  /// of 1, so the weights are one-hot, the first step returns the pattern itself (a fixed point
  /// after 1 step) and the final divergence is exactly 0. With the targets permuted nothing is
  /// recalled, and the Wilson upper bound for 0 of 4 is z^2 / (4 + z^2).
  @Test(arguments: [true, false])
  func exactQueriesOnOrthonormalPatterns(correctTargets: Bool) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var identity = [Double](repeating: 0, count: 16)
    for i in 0..<4 { identity[i * 4 + i] = 1 }
    try NPY.write(NumPyArray(shape: [4, 4], doubles: identity), to: folder.path("m.npy"))
    try NPY.write(
      NumPyArray(shape: [4], integers: correctTargets ? [0, 1, 2, 3] : [1, 0, 3, 2]), to: folder.path("t.npy")
    )
    let run = try DamProcess.run([
      "compare", "--memory", folder.path("m.npy"), "--queries", folder.path("m.npy"), "--targets",
      folder.path("t.npy"), "--separation", "sparsemax", "--beta", "10", "--vector-divergence",
      "squared-euclidean",
      "--report", folder.path("report"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let rows = try Self.rows(run.stdout)
    let row = try #require(rows.first)
    #expect(rows.count == 1)
    #expect(row["queries"] as? Int == 4)
    #expect(row["mean_steps"] as? Double == 1)
    #expect(row["mean_support"] as? Double == 1)
    if correctTargets {
      #expect(row["successes"] as? Int == 4)
      #expect(row["mean_final_divergence"] as? Double == 0)
    } else {
      #expect(row["successes"] as? Int == 0)
      // The final state is the query's own pattern, at squared distance 2 from the named target.
      #expect(row["mean_final_divergence"] as? Double == 2)
      let z = 1.959_963_984_540_054
      let upper = try #require(row["upper"] as? Double)
      #expect(abs(upper - z * z / (4 + z * z)) < 1e-12)
    }
  }

  /// Three well separated clouds queried with exact copies (atoms shuffled): the transport-only
  /// geometry's variation 2 (T_self - T_target) vanishes when the query is the pattern, so the
  /// state stays put and its Sinkhorn divergence to the target is zero up to the solver's
  /// tolerance (1e-9 on the marginals; we allow 1e-6).
  @Test func cloudCopiesStayPut() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var points: [Double] = []
    for (cx, cy) in [(0.0, 0.0), (5.0, 0.0), (0.0, 5.0)] {
      for j in 0..<6 {
        let angle = Double(j) * 2 * Double.pi / 6 + cx
        points += [cx + cos(angle), cy + 0.5 * sin(angle)]
      }
    }
    var archive = NumPyArchive()
    archive["points"] = try NumPyArray(shape: [3, 6, 2], doubles: points)
    try NPZ.write(archive, to: folder.path("clouds.npz"))
    let run = try DamProcess.run([
      "compare", "--memory", folder.path("clouds.npz"), "--noise", "0", "--count", "3", "--epsilon", "0.05",
      "--geometry", "wasserstein", "--separation", "sparsemax", "--beta", "50", "--report",
      folder.path("report"),
      "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let row = try #require(try Self.rows(run.stdout).first)
    #expect(row["successes"] as? Int == 3)
    let final = try #require(row["mean_final_divergence"] as? Double)
    #expect(abs(final) < 1e-6)
  }

  /// Gaussians queried with exact copies (`--noise 0`): under sparsemax at beta 50 the weights are
  /// one-hot (W2² to the other patterns is at least 16, far beyond the margin of 1 over beta), the
  /// Eu-DAM fixed point returns the stacked pattern and BW-DAM pushes the query by the optimal map
  /// to itself; both end at W2² = 0 up to the round-off of the matrix square roots (1e-10).
  @Test func gaussianCopiesAreRecalledExactly() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var archive = NumPyArchive()
    archive["means"] = try NumPyArray(shape: [3, 2], doubles: [0, 0, 4, 0, 0, 4])
    archive["variances"] = try NumPyArray(shape: [3, 2], doubles: [1, 0.5, 0.3, 2, 1.5, 1.5])
    try NPZ.write(archive, to: folder.path("g.npz"))
    let run = try DamProcess.run([
      "compare", "--memory", folder.path("g.npz"), "--noise", "0", "--count", "3", "--separation",
      "sparsemax",
      "--beta", "50", "--report", folder.path("report"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let rows = try Self.rows(run.stdout)
    #expect(rows.map { $0["geometry"] as? String } == ["bures-wasserstein", "euclidean"])
    for row in rows {
      #expect(row["successes"] as? Int == 3)
      #expect(row["mean_support"] as? Double == 1)
      let final = try #require(row["mean_final_divergence"] as? Double)
      #expect(abs(final) < 1e-10)
    }
  }

  @Test(arguments: [
    (["--queries", "m.npy"], "--targets"),
    (["--queries", "m.npy", "--targets", "bad.npy"], "--targets"),
    ([], "--noise"),
    (["--noise", "0.1", "--beta", "0"], "--beta"),
    (["--noise", "-1"], "--noise"),
    (["--noise", "0.1", "--geometry", "shk"], "--geometry"),
    (["--queries", "m.npy", "--targets", "good.npy", "--noise", "0.1"], "--noise"),
    (["--queries", "m.npy", "--targets", "good.npy", "--count", "3"], "--count"),
  ])
  func badInputIsRefusedAndNothingWritten(extra: [String], option: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [2, 2], doubles: [1, 0, 0, 1]), to: folder.path("m.npy"))
    try NPY.write(NumPyArray(shape: [2], integers: [0, 2]), to: folder.path("bad.npy"))
    try NPY.write(NumPyArray(shape: [2], integers: [0, 1]), to: folder.path("good.npy"))
    let arguments = extra.map { $0.hasSuffix(".npy") ? folder.path($0) : $0 }
    let run = try DamProcess.run(
      ["compare", "--memory", folder.path("m.npy"), "--report", folder.path("report")] + arguments)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(!folder.exists("report"))
  }

  @Test func cloudFilesNeedEpsilon() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var archive = NumPyArchive()
    archive["points"] = try NumPyArray(shape: [2, 3, 2], doubles: [0, 0, 1, 0, 0, 1, 5, 5, 6, 5, 5, 6])
    try NPZ.write(archive, to: folder.path("clouds.npz"))
    let run = try DamProcess.run([
      "compare", "--memory", folder.path("clouds.npz"), "--noise", "0.1", "--report", folder.path("report"),
    ])
    #expect(run.status != 0)
    #expect(run.stderr.contains("--epsilon"))
    #expect(!folder.exists("report"))
  }
}
