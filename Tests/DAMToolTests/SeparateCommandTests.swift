import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// `dam separate MAP scores.npy`, run as a process.
struct SeparateCommandTests {
  static let theta = [0.0, 0.25, 0.5, 0.75, 1]

  static func writeScores(_ values: [Double], in folder: TemporaryFolder, name: String = "s.npy") throws
    -> String
  {
    try NPY.write(NumPyArray(shape: [values.count], doubles: values), to: folder.path(name))
    return folder.path(name)
  }

  static func json(_ run: DamProcess.Output) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
  }

  /// Each map prints the library's weights (JSON round-trips doubles exactly; 1e-15 allows for
  /// an encoder that prints 15 digits), their support and the conjugate.
  @Test(arguments: [
    ("softmax", [String](), "softmax"),
    ("sparsemax", [], "sparsemax"),
    ("entmax", [], "1.5-entmax"),
    ("entmax", ["--alpha", "1.25"], "1.25-entmax"),
    ("entmax", ["--alpha", "2"], "sparsemax"),
    ("normmax", [], "2-normmax"),
    ("normmax", ["--alpha", "1000"], "1000-normmax"),
    ("ksubsets", ["--k", "2"], "2-subsets"),
    ("sequential-ksubsets", ["--k", "2", "--pairwise", "-0.5"], "sequential-2-subsets"),
  ])
  func printsTheLibrarysWeights(map: String, options: [String], name: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let path = try Self.writeScores(Self.theta, in: folder)
    let run = try DamProcess.run(["separate", map, path, "--beta", "2", "--json"] + options)
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try Self.json(run)
    #expect(json["name"] as? String == name)
    #expect(json["map"] as? String == map)
    let weights = try #require(json["weights"] as? [Double])
    let support = try #require(json["support"] as? [Int])
    let library: any SeparationMap =
      switch name {
      case "softmax": Softmax()
      case "sparsemax": Sparsemax()
      case "1.5-entmax": Entmax15()
      case "1.25-entmax": try Entmax(alpha: 1.25)
      case "2-normmax": try Normmax(alpha: 2)
      case "1000-normmax": try Normmax(alpha: 1000)
      case "2-subsets": try KSubsets(k: 2)
      default: try SequentialKSubsets(k: 2, pairwise: -0.5)
      }
    let expected = try library.separate(Self.theta.map { 2 * $0 })
    #expect(TestData.maxDifference(weights, expected.weights) < 1e-15)
    #expect(support == expected.weights.indices.filter { expected.weights[$0] != 0 })
    #expect(abs((json["conjugate"] as? Double ?? .nan) - expected.conjugate) < 1e-15)
  }

  /// The paper's 2-normmax values, and exact zeros left out of the support.
  @Test func normmaxSupportLeavesTheZeroOut() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let path = try Self.writeScores(Self.theta, in: folder)
    let run = try DamProcess.run(["separate", "normmax", path, "--alpha", "2", "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try Self.json(run)
    #expect(json["support"] as? [Int] == [1, 2, 3, 4])
    let weights = try #require(json["weights"] as? [Double])
    #expect(TestData.maxDifference(weights, [0, 0.0239, 0.1746, 0.3254, 0.4761]) < 5e-5)
  }

  /// Masked (-inf) scores get weight 0; a table is printed without --json.
  @Test func maskedScoresAndTextOutput() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let path = try Self.writeScores([-.infinity, 0.25, 0.5, -.infinity, 1], in: folder)
    let run = try DamProcess.run(["separate", "ksubsets", path, "--k", "2", "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let weights = try #require(try Self.json(run)["weights"] as? [Double])
    #expect(weights[0] == 0 && weights[3] == 0)
    #expect(abs(weights.reduce(0, +) - 2) < 1e-12)
    let text = try DamProcess.run(["separate", "sparsemax", path])
    #expect(text.status == 0)
    #expect(text.stdout.contains("| index |") && text.stdout.contains("sparsemax"))
  }

  /// Each bad input exits non-zero, names the option and the problem, and prints no JSON.
  @Test(arguments: [
    (["sparsemax", "S", "--alpha", "2"], "--alpha", "entmax and normmax only"),
    (["softmax", "S", "--k", "2"], "--k", "ksubsets and sequential-ksubsets only"),
    (["ksubsets", "S", "--pairwise", "1", "--k", "2"], "--pairwise", "sequential-ksubsets only"),
    (["ksubsets", "S"], "--k", "required"),
    (["ksubsets", "S", "--k", "0"], "--k", "at least 1"),
    (["ksubsets", "S", "--k", "9"], "--k", "holds only 5 scores"),
    (["sequential-ksubsets", "S", "--k", "2"], "--pairwise", "required"),
    (["entmax", "S", "--alpha", "0.5"], "--alpha", ">= 1"),
    (["normmax", "S", "--alpha", "1"], "--alpha", "> 1"),
    (["sparsemax", "S", "--beta", "0"], "--beta", "must be a finite number > 0"),
    (["sparsemax", "S", "--beta", "-2"], "--beta", "must be a finite number > 0"),
    (["sparsemax", "MATRIX"], "m.npy: expected a vector", "expected a vector"),
    (["sparsemax", "NAN"], "nan.npy: scores", "nan"),
    (["sparsemax", "MASKED"], "masked.npy: scores", "masked"),
    (["nomax", "S"], "nomax", "MAP"),
  ])
  func badInputIsRefused(arguments: [String], option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let paths: [String: String] = [
      "S": try Self.writeScores(Self.theta, in: folder),
      "NAN": try Self.writeScores([0, .nan, 1], in: folder, name: "nan.npy"),
      "MASKED": try Self.writeScores([-.infinity, -.infinity], in: folder, name: "masked.npy"),
    ]
    try NPY.write(NumPyArray(shape: [2, 2], doubles: [1, 2, 3, 4]), to: folder.path("m.npy"))
    let resolved = arguments.map { paths[$0] ?? ($0 == "MATRIX" ? folder.path("m.npy") : $0) }
    let run = try DamProcess.run(["separate"] + resolved + ["--json"])
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
    #expect(run.stdout.isEmpty, "no JSON on failure")
  }

  @Test func helpExplainsEveryOption() throws {
    let run = try DamProcess.run(["separate", "--help"])
    #expect(run.status == 0)
    for text in ["--alpha", "--k", "--pairwise", "--beta", "--json", "sequential-ksubsets", "normmax"] {
      #expect(run.stdout.contains(text), "\(text) is documented")
    }
  }
}
