import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

struct RetrieveCommandTests {
  /// Writes the issue's acceptance memory: 1,000 random unit vectors in ℝ⁶⁴ and a query equal to
  /// pattern 17 plus N(0, 0.05²) noise per coordinate.
  static func writeAcceptanceFiles(in folder: TemporaryFolder) throws -> [[Double]] {
    let patterns = TestData.unitVectors(count: 1000, dimension: 64, seed: 2024)
    var generator = SeededGenerator(seed: 17)
    let query = zip(patterns[17], generator.gaussians(64)).map { $0 + 0.05 * $1 }
    try NPY.write(NumPyArray(shape: [1000, 64], doubles: patterns.flatMap { $0 }), to: folder.path("M.npy"))
    try NPY.write(NumPyArray(shape: [64], doubles: query), to: folder.path("Q.npy"))
    return patterns
  }

  @Test func retrievesPattern17AsJSON() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try Self.writeAcceptanceFiles(in: folder)
    let run = try DamProcess.run([
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "8",
      "--separation", "softmax", "--json", "--all-weights",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.count == 1)
    let first = try #require(results.first)
    #expect(first["pattern_index"] as? Int == 17)
    let steps = try #require(first["steps"] as? Int)
    #expect(steps >= 1)
    #expect(["converged", "fixed_point"].contains(first["stop_reason"] as? String ?? ""))
    #expect((first["energy"] as? [Double])?.count == steps + 1)
    let weights = try #require(first["weights"] as? [Double])
    #expect(weights.count == 1000)
    #expect(abs(weights.reduce(0, +) - 1) < 1e-12)
    #expect(weights[17] > 0.99)
  }

  /// Without `--all-weights` the JSON lists only the patterns weighing more than the threshold (the
  /// 89 MB of a 200 x 20,000 softmax batch was every weight of every query), states the threshold
  /// and what the rest weighs: the listed and the omitted weight sum to 1, and the listed ones are
  /// exactly those of the full vector above the threshold.
  @Test(arguments: [1e-12, 1e-3])
  func jsonListsTheSupportByDefault(threshold: Double) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try Self.writeAcceptanceFiles(in: folder)
    func run(_ extra: [String]) throws -> [String: Any] {
      let run = try DamProcess.run(
        [
          "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "8",
          "--json",
        ] + extra)
      #expect(run.status == 0, "stderr: \(run.stderr)")
      let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
      return try #require((json["results"] as? [[String: Any]])?.first)
    }
    let compact = try run(["--weight-threshold", "\(threshold)"])
    let full = try #require(try run(["--all-weights"])["weights"] as? [Double])
    #expect(compact["weights"] == nil)
    let support = try #require(compact["support"] as? [String: Any])
    let indices = try #require(support["indices"] as? [Int])
    let weights = try #require(support["weights"] as? [Double])
    let omitted = try #require(support["omitted_weight"] as? Double)
    #expect(support["threshold"] as? Double == threshold)
    #expect(indices == full.indices.filter { full[$0] > threshold })
    #expect(weights == indices.map { full[$0] })
    #expect(abs(weights.reduce(0, +) + omitted - 1) < 1e-12)
    #expect(indices.contains(17))
    let bad = try DamProcess.run([
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "8",
      "--weight-threshold", "-0.1",
    ])
    #expect(bad.status != 0)
    #expect(bad.stderr.contains("--weight-threshold"))
  }

  @Test func batchOutputMatchesTheLibrary() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let patterns = TestData.unitVectors(count: 50, dimension: 8, seed: 3)
    var generator = SeededGenerator(seed: 4)
    let queries = (0..<5).map { i in zip(patterns[i * 7], generator.gaussians(8)).map { $0 + 0.1 * $1 } }
    try NPY.write(NumPyArray(shape: [50, 8], doubles: patterns.flatMap { $0 }), to: folder.path("M.npy"))
    try NPY.write(NumPyArray(shape: [5, 8], doubles: queries.flatMap { $0 }), to: folder.path("Q.npy"))
    let run = try DamProcess.run([
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "4",
      "--divergence", "dot-product", "--output", folder.path("R.npy"),
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let written = try NPY.read(contentsOf: folder.path("R.npy"))
    #expect(written.shape == [5, 8])
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 4)
    // The tool retrieves the batch together, as the library's batch does, to the bit; one by one
    // the scores come from smaller matrix products, whose sums BLAS may order otherwise.
    let expected = try engine.retrieve(batch: queries).flatMap(\.state)
    #expect(written.doubles() == expected, "the tool and the library take the same steps")
    let alone = try queries.flatMap { try engine.retrieve($0).state }
    #expect(zip(written.doubles(), alone).allSatisfy { abs($0 - $1) <= 1e-12 })
    #expect(run.stdout.contains("| query |"))
  }

  /// `dam` runs OpenBLAS on one thread and splits the products of a vector batch over its own
  /// threads (by columns: the patterns for the scores, the coordinates for the update) once they
  /// have at least 128 columns; the library in this process leaves the products whole to a
  /// multi-threaded OpenBLAS. Both must give every query's retrieval alone, to round-off.
  @Test(arguments: ["softmax", "sparsemax"])
  func splitProductsMatchTheLibrary(map: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let (count, dimension, batch) = (300, 160, 9)
    let patterns = TestData.unitVectors(count: count, dimension: dimension, seed: 11)
    var generator = SeededGenerator(seed: 12)
    let queries = (0..<batch).map { i in
      zip(patterns[i * 31], generator.gaussians(dimension)).map { $0 + 0.03 * $1 }
    }
    try NPY.write(
      NumPyArray(shape: [count, dimension], doubles: patterns.flatMap { $0 }), to: folder.path("M.npy"))
    try NPY.write(
      NumPyArray(shape: [batch, dimension], doubles: queries.flatMap { $0 }), to: folder.path("Q.npy"))
    let run = try DamProcess.run([
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "6",
      "--divergence", "dot-product", "--separation", map, "--output", folder.path("R.npy"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let written = try NPY.read(contentsOf: folder.path("R.npy")).doubles()
    let separation: AnySeparationMap =
      map == "softmax" ? AnySeparationMap(Softmax()) : AnySeparationMap(Sparsemax())
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: patterns), separation: separation,
      geometry: EuclideanGeometry(), beta: 6)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let reports = try #require(json["results"] as? [[String: Any]])
    #expect(reports.count == batch)
    for (b, query) in queries.enumerated() {
      let alone = try engine.retrieve(query)
      let state = Array(written[(b * dimension)..<((b + 1) * dimension)])
      #expect(zip(state, alone.state).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }, "query \(b)")
      #expect(reports.count == batch && reports[b]["steps"] as? Int == alone.steps, "query \(b)")
      // The dot product is no divergence: its term ½‖ξ‖² - ⟨ξ, X⟩ is reported under its own name.
      #expect(reports[b]["final_divergence"] == nil)
      let pattern = patterns[alone.nearestPattern]
      let expected =
        0.5 * state.reduce(0) { $0 + $1 * $1 } - zip(state, pattern).reduce(0) { $0 + $1.0 * $1.1 }
      let energy = try #require(reports[b]["final_dot_product_energy"] as? Double)
      #expect(abs(energy - expected) <= 1e-9 * max(1, abs(expected)), "query \(b)")
    }
  }

  /// Each bad input exits non-zero, names the option and the problem, and writes no output.
  @Test(arguments: [
    ("nan-memory", "--memory", "non-finite"),
    ("wrong-dimension", "--query", "dimension"),
    ("zero-beta", "--beta", "must be a finite number > 0, got 0.0"),
    ("negative-beta", "--beta", "must be a finite number > 0, got -1.0"),
    ("missing-output-folder", "--output", "does not exist"),
    ("truncated", "--memory", "truncated"),
    ("missing", "--query", "does not exist"),
    ("three-dimensional", "--memory", "2-D"),
    ("step-without-gradient", "--step", "gradient"),
    ("bad-pruning", "--pruning", "1.5"),
  ])
  func badInputIsRefused(kind: String, option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try Self.writeAcceptanceFiles(in: folder)
    var memory = folder.path("M.npy")
    var query = folder.path("Q.npy")
    var beta = "8"
    var extra: [String] = []
    switch kind {
    case "nan-memory":
      var values = try NPY.read(contentsOf: memory).doubles()
      values[5 * 64 + 3] = .nan
      try NPY.write(NumPyArray(shape: [1000, 64], doubles: values), to: folder.path("bad.npy"))
      memory = folder.path("bad.npy")
    case "wrong-dimension":
      try NPY.write(
        NumPyArray(shape: [63], doubles: [Double](repeating: 0.1, count: 63)), to: folder.path("bad.npy"))
      query = folder.path("bad.npy")
    case "zero-beta": beta = "0"
    case "negative-beta": beta = "-1"
    case "truncated":
      let bytes = try Data(contentsOf: URL(fileURLWithPath: memory))
      try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: folder.path("bad.npy")))
      memory = folder.path("bad.npy")
    case "missing": query = folder.path("nothing-here.npy")
    case "three-dimensional":
      try NPY.write(
        NumPyArray(shape: [2, 2, 2], doubles: [Double](repeating: 1, count: 8)), to: folder.path("bad.npy"))
      memory = folder.path("bad.npy")
    case "step-without-gradient": extra = ["--step", "0.3"]
    case "bad-pruning": extra = ["--pruning", "1.5"]
    case "missing-output-folder": extra = ["--output", folder.path("no/such/folder/R.npy")]
    default: Issue.record("unknown case \(kind)")
    }
    let run = try DamProcess.run(
      [
        "retrieve", "--memory", memory, "--query", query, "--beta", beta, "--json", "--output",
        folder.path("R.npy"),
      ]
        + extra)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
    #expect(!folder.exists("R.npy"), "no output on failure")
    #expect(run.stdout.isEmpty, "no half-written JSON")
  }

  @Test func helpExplainsEveryOption() throws {
    let run = try DamProcess.run(["retrieve", "--help"])
    #expect(run.status == 0)
    for option in [
      "--memory", "--query", "--beta", "--separation", "--divergence", "--geometry", "--step", "--max-steps",
      "--tolerance", "--energy-tolerance", "--json", "--output", "--alpha", "--k", "--pairwise",
      "--all-weights",
      "--weight-threshold",
    ] {
      #expect(run.stdout.contains(option), "\(option) is documented")
    }
  }

  /// Every separation map retrieves through the tool exactly as through the library (same
  /// engine, same steps), and sparse maps land exactly on pattern 17.
  @Test(arguments: [
    (["--separation", "sparsemax"], "sparsemax"),
    (["--separation", "entmax"], "1.5-entmax"),
    (["--separation", "entmax", "--alpha", "3"], "3-entmax"),
    (["--separation", "normmax", "--alpha", "2"], "2-normmax"),
    (["--separation", "ksubsets", "--k", "2"], "2-subsets"),
    (["--separation", "sequential-ksubsets", "--k", "2", "--pairwise", "0.5"], "sequential-2-subsets"),
  ])
  func sparseSeparationsMatchTheLibrary(options: [String], name: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let patterns = try Self.writeAcceptanceFiles(in: folder)
    let arguments = [
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "8",
      "--divergence", "dot-product", "--json", "--all-weights", "--output", folder.path("R.npy"),
    ]
    let run = try DamProcess.run(arguments + options)
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(json["separation"] as? String == name)
    let first = try #require((json["results"] as? [[String: Any]])?.first)
    let weights = try #require(first["weights"] as? [Double])
    let map: any SeparationMap =
      switch name {
      case "sparsemax": Sparsemax()
      case "1.5-entmax": Entmax15()
      case "3-entmax": try Entmax(alpha: 3)
      case "2-normmax": try Normmax(alpha: 2)
      case "2-subsets": try KSubsets(k: 2)
      default: try SequentialKSubsets(k: 2, pairwise: 0.5)
      }
    let query = try NPY.read(contentsOf: folder.path("Q.npy")).doubles()
    let expected = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: patterns), separation: AnySeparationMap(map),
      geometry: EuclideanGeometry(), beta: 8
    ).retrieve(query)
    #expect(try NPY.read(contentsOf: folder.path("R.npy")).doubles() == expected.state)
    #expect(weights == expected.weights)
    let k = name.hasSuffix("subsets") ? 2.0 : 1.0
    #expect(abs(weights.reduce(0, +) - k) < 1e-12)
    if k == 1 {
      // One-hot weights: the final state is pattern 17 bit for bit.
      #expect(first["pattern_index"] as? Int == 17)
      #expect(expected.state == patterns[17])
    }
  }

  /// Separation parameters are validated before any file is read and name their option.
  @Test(arguments: [
    (["--separation", "softmax", "--alpha", "2"], "--alpha", "entmax and normmax only"),
    (["--separation", "sparsemax", "--k", "2"], "--k", "ksubsets and sequential-ksubsets only"),
    (["--separation", "ksubsets"], "--k", "required"),
    (["--separation", "ksubsets", "--k", "2000"], "--k", "holds only 1000 patterns"),
    (["--separation", "sequential-ksubsets", "--k", "2"], "--pairwise", "required"),
    (["--separation", "entmax", "--alpha", "-1"], "--alpha", ">= 1"),
    (["--separation", "normmax", "--alpha", "0.5"], "--alpha", "> 1"),
    (["--separation", "argmax"], "--separation", "argmax"),
  ])
  func badSeparationOptionsAreRefused(options: [String], option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try Self.writeAcceptanceFiles(in: folder)
    let arguments = [
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "8", "--json",
      "--output", folder.path("R.npy"),
    ]
    let run = try DamProcess.run(arguments + options)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
    #expect(!folder.exists("R.npy"))
    #expect(run.stdout.isEmpty)
  }
}
