import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// Agreement with independent float64 references (an own NumPy/SciPy log-domain solver run to
/// marginal error 1e-14, cross-checked against POT; see Fixtures/sinkhorn/README.md).
struct SinkhornFixtureTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/sinkhorn")

  static let cases: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".npz") }.sorted()
  }()

  struct Fixture {
    let archive: NumPyArchive
    func array(_ key: String) throws -> [Double] { try #require(archive[key]).doubles() }
    func scalar(_ key: String) throws -> Double { try #require(try array(key).first) }
    func cloud(_ points: String, _ weights: String) throws -> PointCloud {
      let p = try #require(archive[points])
      let rows = p.shape[0]
      let columns = p.shape.count > 1 ? p.shape[1] : 1
      return try PointCloud(
        points: Matrix(rows: rows, columns: columns, elements: p.doubles()), weights: array(weights))
    }
  }

  @Test func fixturesArePresent() {
    #expect(Self.cases.count >= 5, "fixtures in \(Self.folder.path)")
  }

  /// Values to 1e-9 relative at tolerance 1e-12; potentials, self potentials and barycentric maps
  /// to 1e-7 of the problem's scale (the squared diameter, resp. the diameter): the rounding floor
  /// at ε = 1e-3 diameter² is about 1e-13 × 1e3 relative in the exponents.
  @Test(arguments: cases, [SinkhornBackend.kernel, .logDomain])
  func agreesWithTheReference(name: String, backend: SinkhornBackend) throws {
    let fixture = Fixture(archive: try NPZ.read(contentsOf: Self.folder.appendingPathComponent(name).path))
    let x = try fixture.cloud("x", "a")
    let y = try fixture.cloud("y", "b")
    let epsilon = try fixture.scalar("eps")
    let scale = try fixture.scalar("diameter2")
    let options = try SinkhornOptions(
      epsilon: epsilon, tolerance: 1e-12, maxIterations: 100_000, backend: backend)
    let result = try Sinkhorn.divergence(x, y, options: options)
    func close(_ value: Double, _ reference: Double, _ what: String) {
      let allowed = 1e-9 * max(abs(reference), 1e-12 * scale)
      #expect(abs(value - reference) <= allowed, "\(name) \(what): \(value) vs \(reference)")
    }
    close(result.crossTerm.value, try fixture.scalar("ot_xy"), "OT(x, y)")
    close(result.firstSelfTerm.value, try fixture.scalar("ot_xx"), "OT(x, x)")
    close(result.secondSelfTerm.value, try fixture.scalar("ot_yy"), "OT(y, y)")
    let divergence = try fixture.scalar("divergence")
    let terms = max(
      abs(try fixture.scalar("ot_xy")), abs(try fixture.scalar("ot_xx")), abs(try fixture.scalar("ot_yy")))
    #expect(
      abs(result.value - divergence) <= 1e-9 * max(terms, 1e-12 * scale),
      "\(name) S: \(result.value) vs \(divergence)")

    // Potentials in the reference gauge ⟨a, f⟩ = ⟨b, g⟩.
    let f = result.crossTerm.f
    let g = result.crossTerm.g
    let af = zip(x.weights, f).reduce(0) { $0 + $1.0 * $1.1 }
    let bg = zip(y.weights, g).reduce(0) { $0 + $1.0 * $1.1 }
    let shift = (bg - af) / 2
    #expect(TestData.maxDifference(f.map { $0 + shift }, try fixture.array("f")) <= 1e-7 * scale, "\(name) f")
    #expect(TestData.maxDifference(g.map { $0 - shift }, try fixture.array("g")) <= 1e-7 * scale, "\(name) g")
    #expect(
      TestData.maxDifference(result.firstSelfTerm.potential, try fixture.array("p_x")) <= 1e-7 * scale,
      "\(name) p_x")
    #expect(
      TestData.maxDifference(result.secondSelfTerm.potential, try fixture.array("p_y")) <= 1e-7 * scale,
      "\(name) p_y")
    let map = try Sinkhorn.barycentricMap(from: x, to: y, transport: result.crossTerm)
    #expect(
      TestData.maxDifference(map.elements, try fixture.array("bary")) <= 1e-7 * scale.squareRoot(),
      "\(name) map")
    let finite = (f + g + map.elements).allSatisfy { $0.isFinite }
    #expect(finite)
  }
}
