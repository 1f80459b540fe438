import Foundation
import NumPyFiles
import Testing

struct DivergenceCommandTests {
  /// Two Diracs: S_ε = OT_ε = ‖x - y‖² for every ε; the self terms are 0.
  @Test func twoDiracsAsJSON() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [1, 3], doubles: [0.5, -1, 2]), to: folder.path("x.npy"))
    try NPY.write(NumPyArray(shape: [1, 3], doubles: [1.5, 1, 0]), to: folder.path("y.npy"))
    let run = try DamProcess.run([
      "divergence", "sinkhorn", folder.path("x.npy"), folder.path("y.npy"), "--epsilon", "0.01", "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    for key in ["value", "ot_xy"] {
      let value = try #require(json[key] as? Double)
      #expect(abs(value - 9) < 1e-12 * 9, "\(key)")
    }
    #expect(json["ot_xx"] as? Double == 0)
    #expect(json["ot_yy"] as? Double == 0)
    #expect(json["iterations"] is Int)
    #expect((json["marginal_error"] as? Double).map { $0 <= 1e-9 } == true)
  }

  /// Two Diracs under `--cost power --power p`: `S_ε = OT_ε = ‖x - y‖ᵖ` for every ε, the self
  /// terms 0; the JSON names the cost.
  @Test(arguments: [1.0, 1.5, 3])
  func powerCostOfTwoDiracs(power: Double) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [1, 3], doubles: [0.5, -1, 2]), to: folder.path("x.npy"))
    try NPY.write(NumPyArray(shape: [1, 3], doubles: [1.5, 1, 0]), to: folder.path("y.npy"))
    let run = try DamProcess.run([
      "divergence", "sinkhorn", folder.path("x.npy"), folder.path("y.npy"), "--epsilon", "0.01", "--cost",
      "power",
      "--power", "\(power)", "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let expected = Foundation.pow(3.0, power)  // ‖x - y‖ = 3
    let value = try #require(json["value"] as? Double)
    #expect(abs(value - expected) < 1e-12 * expected)
    #expect(json["cost"] as? String == "power(\(power))")
  }

  @Test(arguments: [
    ("power-without-cost", "--power", "applies to --cost power only"),
    ("power-missing", "--power", "is required"),
    ("power-below-one", "--power", ">= 1"),
    ("negative-weights", "--x-weights", "negative"),
    ("wrong-weight-count", "--y-weights", "expected shape"),
    ("zero-epsilon", "--epsilon", "> 0"),
    ("dimension-mismatch", "y3.npy: atoms have dimension", "dimension"),
  ])
  func badInputIsRefused(kind: String, option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [3, 2], doubles: [0, 0, 1, 0, 0, 1]), to: folder.path("x.npy"))
    try NPY.write(NumPyArray(shape: [2, 2], doubles: [1, 1, 2, 2]), to: folder.path("y.npy"))
    try NPY.write(NumPyArray(shape: [2, 3], doubles: [1, 1, 2, 2, 3, 3]), to: folder.path("y3.npy"))
    try NPY.write(NumPyArray(shape: [3], doubles: [0.5, 0.7, -0.2]), to: folder.path("bad.npy"))
    try NPY.write(NumPyArray(shape: [3], doubles: [0.2, 0.3, 0.5]), to: folder.path("three.npy"))
    var arguments = [
      "divergence", "sinkhorn", folder.path("x.npy"), folder.path("y.npy"), "--epsilon", "0.1",
    ]
    switch kind {
    case "negative-weights": arguments += ["--x-weights", folder.path("bad.npy")]
    case "wrong-weight-count": arguments += ["--y-weights", folder.path("three.npy")]
    case "zero-epsilon": arguments[5] = "0"
    case "dimension-mismatch": arguments[3] = folder.path("y3.npy")
    case "power-without-cost": arguments += ["--power", "2"]
    case "power-missing": arguments += ["--cost", "power"]
    case "power-below-one": arguments += ["--cost", "power", "--power", "0.5"]
    default: Issue.record("unknown case \(kind)")
    }
    let run = try DamProcess.run(arguments)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
  }

  /// Writes a Gaussian archive with the given members.
  static func gaussian(_ path: String, _ members: [String: NumPyArray]) throws {
    var archive = NumPyArchive()
    for (name, array) in members.sorted(by: { $0.key < $1.key }) { archive[name] = array }
    try NPZ.write(archive, to: path)
  }

  /// N([1, 0], diag(4, 1)) and N([0, 2], diag(1, 9)): W2² = 1 + 4 + (2 - 1)² + (1 - 3)² = 10, in
  /// the full and the diagonal forms (closed form; the computation is exact to a few ulps).
  @Test func buresWassersteinAsJSON() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.gaussian(
      folder.path("a.npz"),
      [
        "mean": NumPyArray(shape: [2], doubles: [1, 0]),
        "covariance": NumPyArray(shape: [2, 2], doubles: [4, 0, 0, 1]),
      ])
    try Self.gaussian(
      folder.path("b.npz"),
      [
        "mean": NumPyArray(shape: [2], doubles: [0, 2]), "variance": NumPyArray(shape: [2], doubles: [1, 9]),
      ])
    try Self.gaussian(
      folder.path("c.npz"),
      [
        "mean": NumPyArray(shape: [2], doubles: [0, 2]),
        "covariance": NumPyArray(shape: [2, 2], doubles: [1, 0, 0, 9]),
      ])
    for second in ["b.npz", "c.npz"] {
      let run = try DamProcess.run([
        "divergence", "bures-wasserstein", folder.path("a.npz"), folder.path(second), "--json",
      ])
      #expect(run.status == 0, "stderr: \(run.stderr)")
      let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
      let value = try #require(json["value"] as? Double)
      #expect(abs(value - 10) < 1e-13 * 10, "\(second): \(value)")
      #expect(json["dimension"] as? Int == 2)
    }
  }

  @Test(arguments: [
    ("no-mean", "a.npz", "mean"),
    ("both", "a.npz", "both"),
    ("not-positive-definite", "a.npz", "positive definite"),
    ("negative-variance", "a.npz", "variance"),
    ("dimension-mismatch", "b.npz", "dimension"),
  ])
  func badGaussiansAreRefused(kind: String, option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let mean = try NumPyArray(shape: [2], doubles: [0, 0])
    let identity = try NumPyArray(shape: [2, 2], doubles: [1, 0, 0, 1])
    var first: [String: NumPyArray] = ["mean": mean, "covariance": identity]
    var second: [String: NumPyArray] = [
      "mean": mean, "variance": try NumPyArray(shape: [2], doubles: [1, 2]),
    ]
    switch kind {
    case "no-mean": first["mean"] = nil
    case "both": first["variance"] = try NumPyArray(shape: [2], doubles: [1, 1])
    case "not-positive-definite": first["covariance"] = try NumPyArray(shape: [2, 2], doubles: [1, 2, 2, 1])
    case "negative-variance":
      first = ["mean": mean, "variance": try NumPyArray(shape: [2], doubles: [1, -1])]
    case "dimension-mismatch":
      second = [
        "mean": try NumPyArray(shape: [3], doubles: [0, 0, 0]),
        "variance": try NumPyArray(shape: [3], doubles: [1, 1, 1]),
      ]
    default: Issue.record("unknown case \(kind)")
    }
    try Self.gaussian(folder.path("a.npz"), first)
    try Self.gaussian(folder.path("b.npz"), second)
    let run = try DamProcess.run([
      "divergence", "bures-wasserstein", folder.path("a.npz"), folder.path("b.npz"),
    ])
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
  }
}
