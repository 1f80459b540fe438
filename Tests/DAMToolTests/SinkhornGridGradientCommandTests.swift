import DAM
import Foundation
import NumPyFiles
import Testing

/// `dam divergence sinkhorn-grid ... --gradient G.npz`: the archive read back against the
/// library's ``GridSinkhorn/divergenceGradient(_:_:options:divergence:)`` and against
/// ``GridSinkhornDivergence``'s gradient at the same settings, and the refusal of a `--gradient`
/// that is an input before any work.
struct SinkhornGridGradientCommandTests {
  @Test func gradientArchiveMatchesTheLibrary() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var generator = SeededGenerator(seed: 3)
    let aValues = (0..<20).map { _ in 0.2 + Double.random(in: 0..<1, using: &generator) }
    let bValues = (0..<20).map { _ in 0.2 + Double.random(in: 0..<1, using: &generator) }
    try NPY.write(NumPyArray(shape: [4, 5], doubles: aValues), to: folder.path("a.npy"))
    try NPY.write(NumPyArray(shape: [4, 5], doubles: bValues), to: folder.path("b.npy"))
    let run = try DamProcess.run([
      "divergence", "sinkhorn-grid", folder.path("a.npy"), folder.path("b.npy"), "--epsilon", "2",
      "--tolerance", "1e-12", "--gradient", folder.path("G.npz"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")

    let a = try GridHistogram(shape: [4, 5], intensities: aValues)
    let b = try GridHistogram(shape: [4, 5], intensities: bValues)
    let options = try GridSinkhornOptions(epsilon: 2, tolerance: 1e-12)
    let divergence = try GridSinkhorn.divergence(a, b, options: options)
    let expected = try GridSinkhorn.divergenceGradient(a, b, options: options, divergence: divergence)
    // The divergence's own gradient (solved again through the engine's seam) agrees.
    let seam = try GridSinkhornDivergence(options: options).valueAndGradient(a, b)
    for (x, y) in zip(seam.state + seam.pattern, expected.state + expected.pattern) {
      #expect(abs(x - y) <= 1e-9 * max(1, abs(y)))
    }

    try expectArchive(
      folder.path("G.npz"),
      holds: [
        ("a", [4, 5], expected.state), ("b", [4, 5], expected.pattern),
        ("epsilon", [], [try #require(expected.epsilon)]),
      ])
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(abs(try #require(json["value"] as? Double) - expected.value) <= 1e-12)
  }

  @Test func gradientThatIsAnInputIsRefused() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [3], doubles: [1, 2, 3]), to: folder.path("a.npy"))
    try NPY.write(NumPyArray(shape: [3], doubles: [3, 2, 1]), to: folder.path("b.npy"))
    let before = try Data(contentsOf: URL(fileURLWithPath: folder.path("b.npy")))
    let run = try DamProcess.run([
      "divergence", "sinkhorn-grid", folder.path("a.npy"), folder.path("b.npy"), "--epsilon", "1",
      "--gradient", folder.path("b.npy"),
    ])
    run.expectRefusal("gradient = b.npy", naming: ["--gradient", "same file as b.npy"], in: folder)
    #expect(run.stdout.isEmpty)
    #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path("b.npy"))) == before)
  }
}
