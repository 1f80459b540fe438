import DAM
import Foundation
import NumPyFiles
import Testing

/// `dam divergence sinkhorn-grid`, `dam barycenter` and `dam retrieve` with grid memories.
struct GridCommandTests {
  /// Two Diracs on a 10 x 12 grid: S_ε = OT_ε = ‖z - z'‖² for every ε (here 3² + 7² = 58).
  @Test(arguments: ["0.5", "500"])
  func sinkhornGridTwoDiracs(epsilon: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var a = [Double](repeating: 0, count: 120)
    var b = a
    a[1 * 12 + 2] = 1
    b[4 * 12 + 9] = 3  // masses are normalised
    try NPY.write(NumPyArray(shape: [10, 12], doubles: a), to: folder.path("a.npy"))
    try NPY.write(NumPyArray(shape: [10, 12], doubles: b), to: folder.path("b.npy"))
    let run = try DamProcess.run([
      "divergence", "sinkhorn-grid", folder.path("a.npy"), folder.path("b.npy"), "--epsilon", epsilon,
      "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let value = try #require(json["value"] as? Double)
    #expect(abs(value - 58) < 1e-10 * 58)
    // D² = 202 on this 10 x 12 grid: eps / D² = 0.0025 and 2.5, both above 0.001.
    #expect(json["backend"] as? String == "separable")
  }

  /// `--backend fft` of sinkhorn-grid and barycenter: solved by FFT with the package's FFTW
  /// trait; without it refused before any work, naming `--backend`, the trait and the other
  /// choices (scripts/test.sh runs this in both configurations).
  @Test func fftBackendFollowsTheTrait() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var a = [Double](repeating: 0, count: 120)
    var b = a
    a[1 * 12 + 2] = 1
    b[4 * 12 + 9] = 1
    try NPY.write(NumPyArray(shape: [10, 12], doubles: a), to: folder.path("a.npy"))
    try NPY.write(NumPyArray(shape: [10, 12], doubles: b), to: folder.path("b.npy"))
    try NPY.write(NumPyArray(shape: [2, 10, 12], doubles: a + b), to: folder.path("h.npy"))
    let divergence = try DamProcess.run([
      "divergence", "sinkhorn-grid", folder.path("a.npy"), folder.path("b.npy"), "--epsilon", "500",
      "--backend", "fft", "--json",
    ])
    let barycenter = try DamProcess.run([
      "barycenter", folder.path("h.npy"), "--epsilon", "500", "--backend", "fft", "--json",
    ])
    if GridKernelBackend.isFFTAvailable {
      #expect(divergence.status == 0, "stderr: \(divergence.stderr)")
      let json = try #require(
        try JSONSerialization.jsonObject(with: Data(divergence.stdout.utf8)) as? [String: Any])
      #expect(json["backend"] as? String == "fft")
      #expect(abs((json["value"] as? Double ?? 0) - 58) < 1e-8 * 58)
      #expect(barycenter.status == 0, "stderr: \(barycenter.stderr)")
    } else {
      for run in [divergence, barycenter] {
        #expect(run.status != 0)
        for part in ["--backend", "fft is not available", "FFTW trait", "automatic, separable or log"] {
          #expect(run.stderr.contains(part), "stderr: \(run.stderr)")
        }
      }
    }
  }

  /// Spacing scales the cost: spacing 0.5 on both axes quarters it.
  @Test func sinkhornGridSpacing() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var a = [Double](repeating: 0, count: 120)
    var b = a
    a[1 * 12 + 2] = 1
    b[4 * 12 + 9] = 1
    try NPY.write(NumPyArray(shape: [10, 12], doubles: a), to: folder.path("a.npy"))
    try NPY.write(NumPyArray(shape: [10, 12], doubles: b), to: folder.path("b.npy"))
    let run = try DamProcess.run([
      "divergence", "sinkhorn-grid", folder.path("a.npy"), folder.path("b.npy"), "--epsilon", "0.1",
      "--spacing", "0.5,0.5", "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(abs((json["value"] as? Double ?? 0) - 14.5) < 1e-10 * 14.5)
  }

  @Test(arguments: [
    ("negative", "neg.npy: values", "negative"),
    ("shape", "other.npy: has grid shape", "grid shape"),
    ("epsilon", "--epsilon", "> 0"),
    ("spacing", "--spacing", "comma-separated"),
    ("zeros", "zero.npy: values", "zero"),
  ])
  func sinkhornGridRefusesBadInput(kind: String, option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [2, 3], doubles: [1, 0, 2, 0, 1, 1]), to: folder.path("a.npy"))
    try NPY.write(NumPyArray(shape: [2, 3], doubles: [0, 1, 1, 1, 0, 1]), to: folder.path("b.npy"))
    try NPY.write(NumPyArray(shape: [2, 3], doubles: [1, -1, 2, 0, 1, 1]), to: folder.path("neg.npy"))
    try NPY.write(NumPyArray(shape: [3, 2], doubles: [1, 1, 1, 1, 1, 1]), to: folder.path("other.npy"))
    try NPY.write(NumPyArray(shape: [2, 3], doubles: [0, 0, 0, 0, 0, 0]), to: folder.path("zero.npy"))
    var arguments = [
      "divergence", "sinkhorn-grid", folder.path("a.npy"), folder.path("b.npy"), "--epsilon", "1",
    ]
    switch kind {
    case "negative": arguments[2] = folder.path("neg.npy")
    case "shape": arguments[3] = folder.path("other.npy")
    case "epsilon": arguments[5] = "0"
    case "spacing": arguments += ["--spacing", "1"]
    case "zeros": arguments[3] = folder.path("zero.npy")
    default: Issue.record("unknown case \(kind)")
    }
    let run = try DamProcess.run(arguments)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
  }

  /// The barycenter of the first POT fixture case (see DAMTests/Fixtures/grids), through files;
  /// the file written has the grid's shape and matches POT to 1e-8 of the peak.
  @Test func barycenterMatchesPOTFixture() throws {
    struct Fixture: Decodable {
      struct Case: Decodable {
        var shape: [Int]
        var spacing: [Double]
        var epsilon: Double
        var weights: [Double]
        var histograms: [[Double]]
        var plain: [Double]
      }
      var cases: [Case]
    }
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../DAMTests/Fixtures/grids/barycenters.json")
    let c = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases[0]
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(
      NumPyArray(shape: [c.histograms.count] + c.shape, doubles: c.histograms.flatMap { $0 }),
      to: folder.path("h.npy"))
    let run = try DamProcess.run([
      "barycenter", folder.path("h.npy"), "--epsilon", "\(c.epsilon)",
      "--weights", c.weights.map { "\($0)" }.joined(separator: ","),
      "--spacing", c.spacing.map { "\($0)" }.joined(separator: ","), "--tolerance", "1e-13",
      "--max-iterations", "100000", "--output", folder.path("bar.npy"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let bar = try NPY.read(contentsOf: folder.path("bar.npy"))
    #expect(bar.shape == c.shape)
    let gap = zip(bar.doubles(), c.plain).map { abs($0 - $1) }.max()!
    #expect(gap < 1e-8 * c.plain.max()!)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(json["iterations"] is Int)
  }

  @Test func barycenterRefusesBadWeightsAndWritesNothing() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(
      NumPyArray(shape: [2, 3, 3], doubles: (0..<18).map { Double($0 % 5) + 1 }), to: folder.path("h.npy"))
    let run = try DamProcess.run([
      "barycenter", folder.path("h.npy"), "--epsilon", "1", "--weights", "0.5,0.7", "--output",
      folder.path("bar.npy"),
    ])
    #expect(run.status != 0)
    #expect(run.stderr.contains("--weights"), "stderr: \(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.path("bar.npy")))
  }

  /// A grid memory of three shapes; a noisy copy of shape 1 is recalled by both geometries.
  @Test(arguments: ["hellinger", "barycentric"])
  func retrieveFromAGridMemory(geometry: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var patterns: [Double] = []
    let centres = [(3.0, 3.0), (9.0, 8.0), (3.0, 9.0)]
    for (ci, cj) in centres {
      for i in 0..<12 {
        for j in 0..<12 {
          let di = Double(i) - ci
          let dj = Double(j) - cj
          let r2: Double = di * di + dj * dj
          patterns.append(exp(-r2 / 4) + 1e-4)
        }
      }
    }
    var archive = NumPyArchive()
    archive["histograms"] = try NumPyArray(shape: [3, 12, 12], doubles: patterns)
    try NPZ.write(archive, to: folder.path("memory.npz"))
    var query = Array(patterns[144..<288])
    for cell in stride(from: 0, to: 144, by: 5) { query[cell] += 0.05 }
    try NPY.write(NumPyArray(shape: [12, 12], doubles: query), to: folder.path("query.npy"))
    let run = try DamProcess.run([
      "retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npy"), "--beta", "1",
      "--epsilon", "1", "--geometry", geometry, "--max-steps", "5", "--output", folder.path("out.npy"),
      "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.first?["pattern_index"] as? Int == 1)
    #expect(try NPY.read(contentsOf: folder.path("out.npy")).shape == [12, 12])
  }

  /// A memory file of histograms retrieves exactly like the plain .npz at the recorded epsilon;
  /// another --epsilon is refused and nothing is written.
  @Test func retrieveFromAHistogramMemoryFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var patterns: [Double] = []
    for (ci, cj) in [(2.0, 2.0), (6.0, 5.0), (2.0, 6.0)] {
      var h: [Double] = []
      for i in 0..<8 {
        for j in 0..<8 {
          let r2 = (Double(i) - ci) * (Double(i) - ci) + (Double(j) - cj) * (Double(j) - cj)
          h.append(exp(-r2 / 3) + 1e-4)
        }
      }
      let total = h.reduce(0, +)
      patterns += h.map { $0 / total }
    }
    var archive = NumPyArchive()
    archive["histograms"] = try NumPyArray(shape: [3, 8, 8], doubles: patterns)
    try NPZ.write(archive, to: folder.path("plain.npz"))
    var query = Array(patterns[64..<128])
    for cell in stride(from: 0, to: 64, by: 5) { query[cell] += 0.01 }
    try NPY.write(NumPyArray(shape: [8, 8], doubles: query), to: folder.path("query.npy"))
    let create = try DamProcess.run([
      "memory", "create", folder.path("m.npz"), "--patterns", folder.path("plain.npz"), "--epsilon", "1",
    ])
    #expect(create.status == 0, "stderr: \(create.stderr)")
    #expect(create.stdout.contains("grid spacing [1.0, 1.0]"), "\(create.stdout)")
    func retrieve(_ memory: String, _ extra: [String]) throws -> DamProcess.Output {
      try DamProcess.run(
        [
          "retrieve", "--memory", folder.path(memory), "--query", folder.path("query.npy"), "--beta", "2",
          "--max-steps", "4", "--json", "--all-weights",
        ] + extra)
    }
    let fromFile = try retrieve("m.npz", ["--output", folder.path("a.npy")])
    let fromNPZ = try retrieve("plain.npz", ["--epsilon", "1", "--output", folder.path("b.npy")])
    #expect(fromFile.status == 0, "stderr: \(fromFile.stderr)")
    #expect(fromNPZ.status == 0, "stderr: \(fromNPZ.stderr)")
    let a = try #require(try JSONSerialization.jsonObject(with: Data(fromFile.stdout.utf8)) as? [String: Any])
    let b = try #require(try JSONSerialization.jsonObject(with: Data(fromNPZ.stdout.utf8)) as? [String: Any])
    let ra = try #require((a["results"] as? [[String: Any]])?.first)
    let rb = try #require((b["results"] as? [[String: Any]])?.first)
    #expect(ra["pattern_index"] as? Int == 1)
    #expect(ra["weights"] as? [Double] == rb["weights"] as? [Double])
    #expect(
      try NPY.read(contentsOf: folder.path("a.npy")).doubles()
        == NPY.read(contentsOf: folder.path("b.npy")).doubles())
    let other = try retrieve("m.npz", ["--epsilon", "2", "--output", folder.path("c.npy")])
    #expect(other.status == 1)
    #expect(
      other.stderr.contains("--epsilon: \(folder.path("m.npz")) was prepared for epsilon 1.0, not 2.0"),
      "\(other.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.path("c.npy")))
  }
}
