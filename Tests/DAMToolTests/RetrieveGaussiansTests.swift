import DAM
import DAMDatasets
import Foundation
import NumPyFiles
import Testing

/// `dam retrieve` with Gaussian memories: the BW-DAM and the Eu-DAM baseline.
struct RetrieveGaussiansTests {
  /// Five Gaussians in R³ on a Wasserstein sphere (R = 2, eigenvalues in [0.5, 2]), and pattern 2
  /// perturbed to W₂ = 0.3: far closer to it than to any other pattern (W₂² ≥ 2 between patterns
  /// here), so retrieval must return pattern 2.
  static func write(in folder: TemporaryFolder, queryDimension: Int = 3, indefinite: Bool = false) throws {
    var g = SeededGenerator(seed: 11)
    let model = try WassersteinSphereModel(
      dimension: 3, radius: 2, minimumEigenvalue: 0.5, maximumEigenvalue: 2)
    let patterns = try model.sample(count: 5, using: &g)
    var memory = NumPyArchive()
    memory["means"] = try NumPyArray(shape: [5, 3], doubles: patterns.flatMap(\.mean))
    var covariances = patterns.flatMap(\.covarianceMatrix.elements)
    if indefinite { covariances[9 * 3] = -1 }  // pattern 3's S[0, 0] < 0
    memory["covariances"] = try NumPyArray(shape: [5, 3, 3], doubles: covariances)
    try NPZ.write(memory, to: folder.path("memory.npz"))
    let perturbed = try GaussianSampling.perturbation(of: patterns[2], distance: 0.3, using: &g)
    var query = NumPyArchive()
    if queryDimension == 3 {
      query["mean"] = try NumPyArray(shape: [3], doubles: perturbed.mean)
      query["covariance"] = try NumPyArray(shape: [3, 3], doubles: perturbed.covarianceMatrix.elements)
    } else {
      query["mean"] = try NumPyArray(shape: [2], doubles: [0, 0])
      query["variance"] = try NumPyArray(shape: [2], doubles: [1, 1])
    }
    try NPZ.write(query, to: folder.path("query.npz"))
  }

  @Test(arguments: ["bures-wasserstein", "euclidean", nil])
  func retrievesAPerturbedGaussian(geometry: String?) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write(in: folder)
    var arguments = [
      "retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npz"), "--beta", "5",
      "--json", "--output", folder.path("final.npz"),
    ]
    if let geometry { arguments += ["--geometry", geometry] }
    let run = try DamProcess.run(arguments)
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(json["dimension"] as? Int == 3)
    let first = try #require((json["results"] as? [[String: Any]])?.first)
    #expect(first["pattern_index"] as? Int == 2)
    // Eu-DAM is labelled as the baseline it is; both report a divergence (squared Euclidean on the
    // stacked (m, vec S), or squared W2), which is non-negative.
    #expect(json["baseline"] as? String == (geometry == "euclidean" ? "stacked-euclidean" : nil))
    #expect(
      json["divergence"] as? String == (geometry == "euclidean" ? "squared-euclidean" : "bures-wasserstein"))
    #expect(try #require(first["final_divergence"] as? Double) >= 0)
    let output = try NPZ.read(contentsOf: folder.path("final.npz"))
    #expect(output["means"]?.shape == [1, 3])
    #expect(output["covariances"]?.shape == [1, 3, 3])
    // The final state is a valid Gaussian.
    _ = try Gaussian(
      mean: try #require(output["means"]).doubles(),
      covariance: Matrix(rows: 3, columns: 3, elements: try #require(output["covariances"]).doubles()))
  }

  @Test(arguments: [
    ("indefinite", "--memory", "positive definite"),
    ("dimension", "--query", "dimension 2"),
    ("geometry", "--geometry", "shk is not for Gaussians"),
  ])
  func badInputIsRefused(kind: String, option: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.write(in: folder, queryDimension: kind == "dimension" ? 2 : 3, indefinite: kind == "indefinite")
    var arguments = [
      "retrieve", "--memory", folder.path("memory.npz"), "--query", folder.path("query.npz"), "--beta", "5",
      "--output", folder.path("final.npz"),
    ]
    if kind == "geometry" { arguments += ["--geometry", "shk"] }
    let run = try DamProcess.run(arguments)
    #expect(run.status != 0)
    #expect(run.stderr.contains(option), "stderr: \(run.stderr)")
    #expect(run.stderr.contains(problem), "stderr: \(run.stderr)")
    #expect(!folder.exists("final.npz"))
  }
}
