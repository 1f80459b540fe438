import DAM
import Foundation
import NumPyFiles
import Testing

/// `dam divergence sinkhorn ... --gradient G.npz`: the archive read back against the library's
/// ``Sinkhorn/divergenceGradient(_:_:cost:divergence:)`` at the same settings, and the refusals of
/// a bad `--gradient` path before any work.
struct SinkhornGradientCommandTests {
  /// Clouds given as `(n, d)` with weights, and as vectors `(n)` (points on a line): the position
  /// gradients come back in the inputs' shapes, every array equal to the library's.
  @Test(arguments: [2, 1])
  func gradientArchiveMatchesTheLibrary(dimension: Int) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let (n, m) = (5, 4)
    var g = SeededGenerator(seed: 7)
    let xPoints = g.gaussians(n * dimension)
    let yPoints = g.gaussians(m * dimension).map { $0 + 0.5 }
    let xShape = dimension == 1 ? [n] : [n, dimension]
    let yShape = dimension == 1 ? [m] : [m, dimension]
    try NPY.write(NumPyArray(shape: xShape, doubles: xPoints), to: folder.path("x.npy"))
    try NPY.write(NumPyArray(shape: yShape, doubles: yPoints), to: folder.path("y.npy"))
    let xWeights = [0.1, 0.3, 0.2, 0.25, 0.15]
    try NPY.write(NumPyArray(shape: [n], doubles: xWeights), to: folder.path("a.npy"))
    let run = try DamProcess.run([
      "divergence", "sinkhorn", folder.path("x.npy"), folder.path("y.npy"), "--x-weights",
      folder.path("a.npy"),
      "--epsilon", "0.3", "--tolerance", "1e-12", "--gradient", folder.path("G.npz"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")

    let x = try PointCloud(points: Matrix(rows: n, columns: dimension, elements: xPoints), weights: xWeights)
    let y = try PointCloud(points: Matrix(rows: m, columns: dimension, elements: yPoints))
    let divergence = try Sinkhorn.divergence(x, y, options: SinkhornOptions(epsilon: 0.3, tolerance: 1e-12))
    let expected = try Sinkhorn.divergenceGradient(x, y, divergence: divergence)

    try expectArchive(
      folder.path("G.npz"),
      holds: [
        ("x", xShape, expected.state.points.elements), ("y", yShape, expected.pattern.points.elements),
        ("x_weights", [n], expected.state.weights), ("y_weights", [m], expected.pattern.weights),
        ("epsilon", [], [try #require(expected.epsilon)]),
      ])
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(abs(try #require(json["value"] as? Double) - expected.value) <= 1e-12)
  }

  /// A `--gradient` that is one of the inputs or a directory is refused before any work, naming the
  /// option, and no file changes.
  @Test(arguments: [
    ("x.npy", "same file as x.npy"), ("w.npy", "same file as --x-weights"), ("dir", "is a directory"),
  ])
  func badGradientPathIsRefused(target: String, problem: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try NPY.write(NumPyArray(shape: [3, 2], doubles: [0, 0, 1, 0, 0, 1]), to: folder.path("x.npy"))
    try NPY.write(NumPyArray(shape: [2, 2], doubles: [1, 1, 2, 2]), to: folder.path("y.npy"))
    try NPY.write(NumPyArray(shape: [3], doubles: [0.2, 0.3, 0.5]), to: folder.path("w.npy"))
    try FileManager.default.createDirectory(atPath: folder.path("dir"), withIntermediateDirectories: false)
    let before = try ["x.npy", "y.npy", "w.npy"].map {
      try Data(contentsOf: URL(fileURLWithPath: folder.path($0)))
    }
    let run = try DamProcess.run([
      "divergence", "sinkhorn", folder.path("x.npy"), folder.path("y.npy"), "--x-weights",
      folder.path("w.npy"),
      "--epsilon", "0.1", "--gradient", folder.path(target),
    ])
    run.expectRefusal(target, naming: ["--gradient", problem], in: folder)
    #expect(run.stdout.isEmpty, "stdout: \(run.stdout)")
    let after = try ["x.npy", "y.npy", "w.npy"].map {
      try Data(contentsOf: URL(fileURLWithPath: folder.path($0)))
    }
    #expect(before == after)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("dir")).isEmpty)
  }
}

/// Checks the `.npz` at `path` against `expected`: exactly these arrays, each of its shape and equal
/// entry by entry to `tolerance` relative to `max(1, |expected|)`.
func expectArchive(
  _ path: String, holds expected: [(name: String, shape: [Int], values: [Double])], tolerance: Double = 1e-12,
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let archive = try NPZ.read(contentsOf: path)
  #expect(archive.names.sorted() == expected.map(\.name).sorted(), sourceLocation: sourceLocation)
  for (name, shape, values) in expected {
    let array = try #require(archive[name], "\(name)", sourceLocation: sourceLocation)
    #expect(array.shape == shape, "\(name): \(array.shape)", sourceLocation: sourceLocation)
    let read = array.doubles()
    #expect(read.count == values.count, "\(name)", sourceLocation: sourceLocation)
    for (x, y) in zip(read, values) {
      #expect(
        abs(x - y) <= tolerance * max(1, abs(y)), "\(name): \(x) vs \(y)", sourceLocation: sourceLocation)
    }
  }
}
