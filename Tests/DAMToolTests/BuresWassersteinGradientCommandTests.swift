import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// `dam divergence bures-wasserstein a.npz b.npz --gradient G.npz`: the archive holds the
/// library's gradients (``BuresWasserstein/gradient(_:_:)``), and bad outputs or singular
/// covariances are refused before anything is written.
struct BuresWassersteinGradientCommandTests {
  /// A full `a` and, as `b`, a full or a diagonal Gaussian, written to `a.npz` and `b.npz`.
  static func writeInputs(_ folder: TemporaryFolder, diagonal: Bool) throws -> (Gaussian, Gaussian) {
    let a = try Gaussian(
      mean: [1, 0, -1], covariance: Matrix(rowArrays: [[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 0.5]]))
    let b =
      diagonal
      ? try Gaussian(mean: [0, 2, 0.5], variances: [1, 3, 0.25])
      : try Gaussian(
        mean: [0, 2, 0.5], covariance: Matrix(rowArrays: [[1, -0.3, 0.1], [-0.3, 3, 0], [0.1, 0, 0.25]]))
    for (name, gaussian) in [("a.npz", a), ("b.npz", b)] {
      var archive = NumPyArchive()
      archive["mean"] = try NumPyArray(shape: [3], doubles: gaussian.mean)
      switch gaussian.covariance {
      case .full(let matrix): archive["covariance"] = try NumPyArray(shape: [3, 3], doubles: matrix.elements)
      case .diagonal(let variances): archive["variance"] = try NumPyArray(shape: [3], doubles: variances)
      }
      try NPZ.write(archive, to: folder.path(name))
    }
    return (a, b)
  }

  /// The four arrays, their shapes, and their values against the library's gradient (the same
  /// computation: equal to the bit after the round trip through float64 files), with the value
  /// printed as without `--gradient`.
  @Test(arguments: [false, true])
  func writesTheLibrarysGradients(diagonal: Bool) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let (a, b) = try Self.writeInputs(folder, diagonal: diagonal)
    let run = try DamProcess.run([
      "divergence", "bures-wasserstein", folder.path("a.npz"), folder.path("b.npz"), "--gradient",
      folder.path("G.npz"), "--json",
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let expected = try BuresWasserstein.gradient(a, b)
    #expect(json["value"] as? Double == expected.value)
    let archive = try NPZ.read(contentsOf: folder.path("G.npz"))
    #expect(archive.names.sorted() == ["a_covariance", "a_mean", "b_covariance", "b_mean"])
    let arrays = [
      ("a_mean", [3], expected.state.mean), ("a_covariance", [3, 3], expected.state.covariance.elements),
      ("b_mean", [3], expected.pattern.mean), ("b_covariance", [3, 3], expected.pattern.covariance.elements),
    ]
    for (name, shape, values) in arrays {
      let array = try #require(archive[name])
      #expect(array.shape == shape, "\(name)")
      #expect(array.doubles() == values, "\(name)")
    }
    // Not a copy of the library's mistakes: the mean gradients are ±2 (m₁ - m₂), and the
    // covariance gradients are the identity minus the optimal maps there and back.
    #expect(archive["a_mean"]?.doubles() == [2, -4, -3])
    #expect(archive["b_mean"]?.doubles() == [-2, 4, 3])
    let there = try BuresWasserstein.map(from: a, to: b).linear.elements
    let identity = Matrix.identity(3).elements
    let aCovariance = try #require(archive["a_covariance"]).doubles()
    #expect(
      zip(identity, there).map { $0 - $1 }.enumerated().allSatisfy {
        abs($0.element - aCovariance[$0.offset]) < 1e-12
      })
  }

  /// The text report says where the gradients went.
  @Test func textReportNamesTheFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try Self.writeInputs(folder, diagonal: false)
    let run = try DamProcess.run([
      "divergence", "bures-wasserstein", folder.path("a.npz"), folder.path("b.npz"), "--gradient",
      folder.path("G.npz"),
    ])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    #expect(run.stdout.contains("W2^2 "))
    #expect(run.stdout.contains("gradients written to \(folder.path("G.npz"))"))
  }

  /// Refused before any work, exit 1 naming the option or the input at fault, every file of the
  /// folder unchanged: the output is an input (by name or through a hard link), a directory, or a
  /// read-only file; or a covariance is singular (no gradient exists there).
  @Test func refusals() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    _ = try Self.writeInputs(folder, diagonal: false)
    try FileManager.default.linkItem(atPath: folder.path("b.npz"), toPath: folder.path("bhard.npz"))
    try FileManager.default.createDirectory(
      atPath: folder.path("dir.npz"), withIntermediateDirectories: false)
    try FileManager.default.copyItem(atPath: folder.path("a.npz"), toPath: folder.path("ro.npz"))
    try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: folder.path("ro.npz"))
    var singular = NumPyArchive()
    singular["mean"] = try NumPyArray(shape: [3], doubles: [0, 0, 0])
    singular["covariance"] = try NumPyArray(shape: [3, 3], doubles: [1, 1, 0, 1, 1, 0, 0, 0, 2])
    try NPZ.write(singular, to: folder.path("s.npz"))
    let rows: [(name: String, first: String, second: String, output: String, expected: [String])] = [
      ("output is the first input", "a.npz", "b.npz", "a.npz", ["--gradient", "the first Gaussian"]),
      (
        "output is a hard link to the second input", "a.npz", "b.npz", "bhard.npz",
        ["--gradient", "the second Gaussian"]
      ),
      ("output is a directory", "a.npz", "b.npz", "dir.npz", ["--gradient", "is a directory"]),
      ("output is read-only", "a.npz", "b.npz", "ro.npz", ["--gradient", "read-only"]),
      (
        "the second covariance is singular", "a.npz", "s.npz", "G.npz",
        ["$/s.npz", "singular", "not differentiable"]
      ),
      (
        "the first covariance is singular", "s.npz", "b.npz", "G.npz",
        ["$/s.npz", "singular", "not differentiable"]
      ),
    ]
    for row in rows {
      let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
      let before = names.map { FileState(folder.path($0)) }
      let run = try DamProcess.run([
        "divergence", "bures-wasserstein", folder.path(row.first), folder.path(row.second), "--gradient",
        folder.path(row.output),
      ])
      run.expectRefusal(row.name, naming: row.expected, in: folder)
      #expect(run.stdout.isEmpty, "\(row.name): \(run.stdout)")
      #expect(names.map { FileState(folder.path($0)) } == before, "\(row.name)")
      #expect(!folder.exists("G.npz"), "\(row.name)")
    }
  }
}
