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
    query["points"] = try NumPyArray(shape: [sizes[2], 2], doubles: clouds[2].map { $0 + 0.3 * g.nextGaussian() })
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
  }

  @Test(arguments: [
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
    switch kind {
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
      ["retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npz"), "--beta", "20",
       "--output", folder.path("final.npz")] + extra)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
    #expect(!folder.exists("final.npz"))
  }
}
