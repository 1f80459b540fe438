import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// The Sinkhorn divergence and its gradients against GeomLoss (torch autograd) and OTT-JAX
/// (implicit differentiation), converted to this package's cost and ε
/// (Fixtures/sinkhorn-gradients/README.md, made by scripts/fixtures/make_sinkhorn_gradient_fixtures.py).
struct SinkhornGradientFixtureTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/sinkhorn-gradients")

  static let cases: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".npz") }.sorted()
  }()

  @Test func fixturesArePresent() {
    #expect(Self.cases.count >= 5, "fixtures in \(Self.folder.path)")
  }

  /// At marginal tolerance 1e-13: the value to 1e-10 relative, the position gradients and the
  /// weight gradients (their means removed, as stored) to 1e-10 of each peer, `∂S/∂ε` to 1e-10 of
  /// GeomLoss's Richardson-extrapolated difference quotient (the peers agree with each other to
  /// better than 1e-12: Fixtures/sinkhorn-gradients/README.md).
  @Test(arguments: cases)
  func agreesWithGeomLossAndOTT(name: String) throws {
    let archive = try NPZ.read(contentsOf: Self.folder.appendingPathComponent(name).path)
    func array(_ key: String) throws -> [Double] { try #require(archive[key], "\(key)").doubles() }
    func scalar(_ key: String) throws -> Double { try #require(try array(key).first) }
    func cloud(_ points: String, _ weights: String) throws -> PointCloud {
      let p = try #require(archive[points])
      return try PointCloud(
        points: Matrix(rows: p.shape[0], columns: p.shape[1], elements: p.doubles()), weights: array(weights))
    }
    let x = try cloud("x", "a")
    let y = try cloud("y", "b")
    let options = try SinkhornOptions(epsilon: scalar("eps"), tolerance: 1e-13, maxIterations: 100_000)
    let gradient = try SinkhornDivergence(options: options).valueAndGradient(x, y)
    func centred(_ v: [Double]) -> [Double] {
      let mean = v.reduce(0, +) / Double(v.count)
      return v.map { $0 - mean }
    }
    for peer in ["", "ott_"] {
      let value = try scalar(peer + "divergence")
      #expect(
        abs(gradient.value - value) <= 1e-10 * abs(value),
        "\(name) \(peer)value: \(gradient.value) vs \(value)")
      let parts: [(String, [Double])] = [
        ("grad_x", gradient.state.points.elements), ("grad_y", gradient.pattern.points.elements),
        ("grad_a", centred(gradient.state.weights)), ("grad_b", centred(gradient.pattern.weights)),
      ]
      for (key, ours) in parts {
        let reference = try array(peer + key)
        let error = TestData.maxDifference(ours, reference)
        #expect(error <= 1e-10, "\(name) \(peer)\(key): max difference \(error)")
      }
    }
    let epsilon = try scalar("grad_eps")
    #expect(abs(try #require(gradient.epsilon) - epsilon) <= 1e-10, "\(name) epsilon")
  }
}
