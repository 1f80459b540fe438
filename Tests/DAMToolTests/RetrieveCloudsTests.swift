import DAM
import Foundation
import NumPyFiles
import Testing

struct RetrieveCloudsTests {
  /// Five clouds of 20 atoms around distinct means in R², as (N, n, d), and a noisy copy of cloud 2.
  static func write(in folder: TemporaryFolder, ragged: Bool = false) throws {
    var g = SeededGenerator(seed: 5)
    let means = [[0.0, 0], [3, 0], [0, 3], [3, 3], [1.5, -2.5]]
    let sizes = ragged ? [20, 15, 25, 20, 10] : [20, 20, 20, 20, 20]
    var clouds: [[Double]] = []
    for (i, mean) in means.enumerated() {
      clouds.append((0..<(2 * sizes[i])).map { mean[$0 % 2] + 0.5 * g.nextGaussian() })
    }
    var archive = NumPyArchive()
    if ragged {
      var offsets = [0]
      for size in sizes { offsets.append(offsets.last! + size) }
      archive["points"] = try NumPyArray(shape: [offsets.last!, 2], doubles: clouds.flatMap { $0 })
      archive["offsets"] = try NumPyArray(shape: [6], integers: offsets)
    } else {
      archive["points"] = try NumPyArray(shape: [5, 20, 2], doubles: clouds.flatMap { $0 })
    }
    try NPZ.write(archive, to: folder.path("memory.npz"))
    var query = NumPyArchive()
    query["points"] = try NumPyArray(
      shape: [sizes[2], 2], doubles: clouds[2].map { $0 + 0.3 * g.nextGaussian() })
    try NPZ.write(query, to: folder.path("query.npz"))
  }

  @Test(arguments: [("shk", false), ("wasserstein", false), ("euclidean", false), ("shk", true)])
  func retrievesANoisyCloud(geometry: String, ragged: Bool) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write(in: folder, ragged: ragged)
    var arguments = [
      "retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npz"), "--beta", "20",
      "--geometry", geometry, "--json", "--output", folder.path("final.npz"),
    ]
    if geometry != "euclidean" { arguments += ["--epsilon", "0.1"] }
    let run = try DamProcess.run(arguments)
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let first = try #require((json["results"] as? [[String: Any]])?.first)
    #expect(first["pattern_index"] as? Int == 2)
    let output = try NPZ.read(contentsOf: folder.path("final.npz"))
    #expect(output["points"]?.shape == [ragged ? 25 : 20, 2])
    let weights = try #require(output["weights"]).doubles()
    #expect(abs(weights.reduce(0, +) - 1) < 1e-12)
    if geometry == "euclidean" {
      // The baseline says what it is, and its dot-product term is named as such: ½‖ξ‖² - ⟨ξ, X⟩
      // of the stacked final atoms ξ and the stacked pattern X (cloud 2), recomputed here.
      #expect(json["baseline"] as? String == "stacked-euclidean")
      #expect(json["divergence"] as? String == "dot-product")
      #expect(first["final_divergence"] == nil)
      let energy = try #require(first["final_dot_product_energy"] as? Double)
      let state = try #require(output["points"]).doubles()
      let memory = try #require(try NPZ.read(contentsOf: folder.path("memory.npz"))["points"]).doubles()
      let pattern = Array(memory[80..<120])
      let expected =
        0.5 * state.reduce(0) { $0 + $1 * $1 } - zip(state, pattern).reduce(0) { $0 + $1.0 * $1.1 }
      #expect(abs(energy - expected) <= 1e-9 * max(1, abs(expected)), "\(energy) against \(expected)")
    } else {
      // A Sinkhorn divergence: no baseline, and the final divergence is one (non-negative).
      #expect(json["baseline"] == nil)
      #expect(json["divergence"] as? String == "sinkhorn")
      #expect(first["final_dot_product_energy"] == nil)
      #expect(try #require(first["final_divergence"] as? Double) >= -1e-9)
    }
  }

  /// `--cost power --power 1.5`: the noisy cloud is recalled, the report names the cost, and the
  /// final state is the library's retrieval with the same settings.
  @Test func retrievesWithAPowerCost() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write(in: folder)
    let run = try DamProcess.run([
      "retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npz"), "--beta", "20",
      "--geometry", "wasserstein", "--step", "0.05", "--epsilon", "0.1", "--cost", "power", "--power", "1.5",
      "--max-steps", "5", "--json", "--output", folder.path("final.npz"),
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let first = try #require((json["results"] as? [[String: Any]])?.first)
    #expect(first["pattern_index"] as? Int == 2)
    #expect((json["geometry"] as? String)?.contains("cost power(1.5)") == true, "\(json)")

    let memory = try NPZ.read(contentsOf: folder.path("memory.npz"))
    let points = try #require(memory["points"]).doubles()
    let patterns = try (0..<5).map { i in
      try PointCloud(points: Matrix(rows: 20, columns: 2, elements: Array(points[(i * 40)..<((i + 1) * 40)])))
    }
    let query = try PointCloud(
      points: Matrix(
        rows: 20, columns: 2,
        elements: try #require(try NPZ.read(contentsOf: folder.path("query.npz"))["points"]).doubles()))
    let divergence = SinkhornDivergence(
      options: try SinkhornOptions(epsilon: 0.1), cost: try PowerCost(power: 1.5))
    let engine = try RetrievalEngine(
      memory: Memory(divergence: divergence, patterns: patterns), separation: .softmax,
      geometry: SHKGeometry.wasserstein(step: 0.05), beta: 20, stopping: StoppingRule(maxSteps: 5))
    let expected = try engine.retrieve(query).state
    let output = try NPZ.read(contentsOf: folder.path("final.npz"))
    let difference = zip(try #require(output["points"]).doubles(), expected.points.elements).map {
      abs($0 - $1)
    }
    #expect(difference.max()! <= 1e-9, "\(difference.max()!)")
  }

  @Test(arguments: [
    ("cost-euclidean", "--cost", "Sinkhorn geometries"),
    ("cost-vectors", "--cost", "point-cloud memories only"),
    ("cost-memory-file", "--cost", "memory file"),
    ("missing-epsilon", "--epsilon", "required"),
    ("ragged-euclidean", "--geometry", "euclidean stacks"),
    ("bad-offsets", "--memory", "offsets"),
    ("bad-weights", "--memory", "sum to"),
    ("vector-geometry", "--geometry", "fixed-point is for vector memories"),
    ("vector-divergence", "--divergence", "point clouds take sinkhorn"),
  ])
  func badInputIsRefused(kind: String, option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write(in: folder, ragged: kind == "ragged-euclidean")
    var extra = ["--epsilon", "0.1"]
    var memory = folder.path("memory.npz")
    var query = folder.path("query.npz")
    switch kind {
    case "cost-euclidean": extra = ["--geometry", "euclidean", "--cost", "power", "--power", "1.5"]
    case "cost-vectors":
      try NPY.write(NumPyArray(shape: [2, 3], doubles: [1, 0, 0, 0, 1, 0]), to: folder.path("vectors.npy"))
      try NPY.write(NumPyArray(shape: [3], doubles: [0.9, 0.1, 0]), to: folder.path("vector.npy"))
      (memory, query) = (folder.path("vectors.npy"), folder.path("vector.npy"))
      extra = ["--cost", "power", "--power", "1.5"]
    case "cost-memory-file":
      let created = try DamProcess.run([
        "memory", "create", folder.path("file.npz"), "--patterns", folder.path("memory.npz"), "--epsilon",
        "0.1",
      ])
      #expect(created.status == 0, "stderr: \(created.stderr)")
      memory = folder.path("file.npz")
      extra = ["--cost", "power", "--power", "1.5"]
    case "missing-epsilon": extra = []
    case "ragged-euclidean": extra = ["--geometry", "euclidean"]
    case "bad-offsets", "bad-weights":
      var archive = try NPZ.read(contentsOf: folder.path("memory.npz"))
      if kind == "bad-offsets" {
        archive["points"] = try NumPyArray(shape: [100, 2], doubles: archive["points"]!.doubles())
        archive["offsets"] = try NumPyArray(shape: [3], integers: [0, 60, 50])
      } else {
        archive["weights"] = try NumPyArray(shape: [5, 20], doubles: [Double](repeating: 0.1, count: 100))
      }
      try NPZ.write(archive, to: folder.path("memory.npz"))
    case "vector-geometry": extra += ["--geometry", "fixed-point"]
    case "vector-divergence": extra += ["--divergence", "dot-product"]
    default: Issue.record("unknown case \(kind)")
    }
    let run = try DamProcess.run(
      [
        "retrieve", "--memory", memory, "--query", query, "--beta", "20",
        "--output", folder.path(kind == "cost-vectors" ? "final.npy" : "final.npz"),
      ] + extra)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
    #expect(!folder.exists("final.npz") && !folder.exists("final.npy"))
  }
  /// 200 clouds of 10 atoms around the points of a 20 x 10 lattice of spacing 4 and a noisy copy
  /// of cloud 23: most patterns are far from the query, and there are more of them than one
  /// pruning batch (64).
  static func writeLarge(in folder: TemporaryFolder) throws {
    var g = SeededGenerator(seed: 9)
    var clouds: [[Double]] = []
    for i in 0..<200 {
      let center = [Double(i % 20) * 4, Double(i / 20) * 4]
      clouds.append((0..<20).map { center[$0 % 2] + 0.5 * g.nextGaussian() })
    }
    var archive = NumPyArchive()
    archive["points"] = try NumPyArray(shape: [200, 10, 2], doubles: clouds.flatMap { $0 })
    try NPZ.write(archive, to: folder.path("memory.npz"))
    var query = NumPyArchive()
    query["points"] = try NumPyArray(shape: [10, 2], doubles: clouds[23].map { $0 + 0.3 * g.nextGaussian() })
    try NPZ.write(query, to: folder.path("query.npz"))
  }

  func retrieval(_ folder: TemporaryFolder, _ extra: [String]) throws -> [String: Any] {
    let run = try DamProcess.run(
      [
        "retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npz"), "--beta", "5",
        "--epsilon", "0.1", "--json", "--all-weights",
      ] + extra)
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    return try #require((json["results"] as? [[String: Any]])?.first)
  }

  /// `--pruning exact` with a sparse map skips far patterns (certified by the Sinkhorn lower
  /// bounds) and retrieves exactly what the unpruned engine does.
  @Test func exactPruningSkipsPatternsWithoutChangingTheResult() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeLarge(in: folder)
    let plain = try retrieval(folder, ["--separation", "sparsemax"])
    let pruned = try retrieval(folder, ["--separation", "sparsemax", "--pruning", "exact"])
    #expect(plain["pattern_index"] as? Int == 23)
    #expect(pruned["pattern_index"] as? Int == 23)
    #expect(pruned["weights"] as? [Double] == plain["weights"] as? [Double])
    #expect(pruned["energy"] as? [Double] == plain["energy"] as? [Double])
    let steps = try #require(plain["steps"] as? Int)
    #expect(plain["evaluations"] as? Int == 200 * (steps + 1))
    let evaluations = try #require(pruned["evaluations"] as? Int)
    #expect(evaluations < 200 * (steps + 1) / 2, "most of the 200 patterns are far: \(evaluations)")
    #expect(pruned["dropped_weight_bound"] as? Double == 0)
  }

  /// `--pruning MASS` with softmax drops at most MASS of the weight and reports the bound.
  @Test func softmaxPruningReportsTheDroppedWeight() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeLarge(in: folder)
    let plain = try retrieval(folder, [])
    let pruned = try retrieval(folder, ["--pruning", "1e-6"])
    #expect(pruned["pattern_index"] as? Int == plain["pattern_index"] as? Int)
    let bound = try #require(pruned["dropped_weight_bound"] as? Double)
    #expect(bound >= 0 && bound <= 1e-6)
    let steps = try #require(pruned["steps"] as? Int)
    let evaluations = try #require(pruned["evaluations"] as? Int)
    #expect(evaluations < 200 * (steps + 1))
    let a = try #require(plain["weights"] as? [Double])
    let b = try #require(pruned["weights"] as? [Double])
    let difference = zip(a, b).map { abs($0 - $1) }.reduce(0, +)
    #expect(difference <= 4e-6, "the weights differ by at most about twice the dropped mass: \(difference)")
  }
}
