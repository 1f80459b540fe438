import DAM
import DAMExperiments
import Foundation
import NumPyFiles
import Testing

/// The work of `dam divergence`, `dam barycenter` and `dam separate`, run in-process on files
/// in a scratch folder: the numbers against closed forms, the plain output's lines, the
/// `--gradient` archives, and errors that name the option or input at fault.
struct CommandReportsTests {
  static func write(_ doubles: [Double], shape: [Int], to path: String) throws {
    try NPY.write(NumPyArray(shape: shape, doubles: doubles), to: path)
  }

  /// Two Diracs `x = (0, 1)`, `y = (2, -1)`: every transport plan is the product, so
  /// `OT_eps(x, y) = ‖x - y‖² = 8`, the self terms are 0 and `S_eps = 8` for every eps; the
  /// gradient in `x` is `2 (x - y)` and in `y` its opposite.
  @Test func sinkhornDivergenceOfTwoDiracs() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    try Self.write([0, 1], shape: [1, 2], to: folder.path("x.npy"))
    try Self.write([2, -1], shape: [1, 2], to: folder.path("y.npy"))
    let report = try SinkhornDivergenceReport.compute(
      x: folder.path("x.npy"), y: folder.path("y.npy"), xWeights: nil, yWeights: nil,
      options: SinkhornOptions(epsilon: 0.3), cost: SquaredEuclideanCost(), gradient: folder.path("g.npz"))
    #expect(abs(report.value - 8) < 1e-12 && abs(report.otXY - 8) < 1e-12)
    #expect(abs(report.otXX) < 1e-12 && abs(report.otYY) < 1e-12)
    #expect(report.epsilon == 0.3)
    let lines = report.text.split(separator: "\n")
    #expect(lines.count == 5 && lines[0] == "S_eps       \(report.value)")
    #expect(lines[4].hasPrefix("iterations  \(report.iterations) (Newton steps "))
    let archive = try NPZ.read(contentsOf: folder.path("g.npz"))
    #expect(archive["x"]?.shape == [1, 2] && archive["epsilon"]?.shape == [])
    let gx = try #require(archive["x"]).doubles()
    #expect(abs(gx[0] + 4) < 1e-9 && abs(gx[1] - 4) < 1e-9)
    #expect(
      try #require(archive["y"]).doubles().map { ($0 * 1e9).rounded() } == gx.map { (-$0 * 1e9).rounded() })
    // Clouds in different dimensions: the second input is named.
    try Self.write([1, 2, 3], shape: [1, 3], to: folder.path("z.npy"))
    #expect {
      try SinkhornDivergenceReport.compute(
        x: folder.path("x.npy"), y: folder.path("z.npy"), xWeights: nil, yWeights: nil,
        options: SinkhornOptions(epsilon: 0.3), cost: SquaredEuclideanCost(), gradient: nil)
    } throws: { "\($0)".hasPrefix(folder.path("z.npy") + ": atoms have dimension 3") }
  }

  /// Equal histograms are at divergence 0; the report carries the grid and the backend.
  @Test func gridDivergenceOfEqualHistogramsIsZero() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let masses = [0.1, 0.2, 0.3, 0.4]
    try Self.write(masses, shape: [2, 2], to: folder.path("a.npy"))
    try Self.write(masses, shape: [2, 2], to: folder.path("b.npy"))
    let report = try GridSinkhornDivergenceReport.compute(
      a: folder.path("a.npy"), b: folder.path("b.npy"), spacing: "0.5,2",
      options: GridSinkhornOptions(epsilon: 0.5, backend: .logDomain), gradient: folder.path("g.npz"))
    #expect(abs(report.value) < 1e-9)
    #expect(report.shape == [2, 2] && report.spacing == [0.5, 2] && report.backend == "log")
    #expect(
      report.text.split(separator: "\n").last
        == "iterations  \(report.iterations), marginal error \(report.marginalError), backend log")
    let archive = try NPZ.read(contentsOf: folder.path("g.npz"))
    #expect(archive["a"]?.shape == [2, 2] && archive["b"]?.shape == [2, 2])
  }

  /// `W₂²` of diagonal Gaussians is `‖m₁ - m₂‖² + Σ (√s₁ - √s₂)²`; its gradient in the first
  /// mean is `2 (m₁ - m₂)`.
  @Test func buresWassersteinOfDiagonalGaussians() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    func gaussian(_ mean: [Double], _ variance: [Double], _ name: String) throws {
      var archive = NumPyArchive()
      archive["mean"] = try NumPyArray(shape: [2], doubles: mean)
      archive["variance"] = try NumPyArray(shape: [2], doubles: variance)
      try NPZ.write(archive, to: folder.path(name))
    }
    try gaussian([0, 1], [1, 4], "a.npz")
    try gaussian([3, 1], [9, 1], "b.npz")
    let report = try BuresWassersteinReport.compute(
      a: folder.path("a.npz"), b: folder.path("b.npz"), gradient: folder.path("g.npz"))
    let expected = 9.0 + 4 + 1
    #expect(abs(report.value - expected) < 1e-12 && report.dimension == 2)
    let text = report.text(gradient: nil)
    #expect(text == "W2^2 \(report.value)\nW2   \(report.distance)")
    #expect(report.text(gradient: "g.npz").hasSuffix("\ngradients written to g.npz"))
    let meanGradient = try #require(NPZ.read(contentsOf: folder.path("g.npz"))["a_mean"]).doubles()
    #expect(abs(meanGradient[0] + 6) < 1e-12 && abs(meanGradient[1]) < 1e-12)
  }

  /// The centre of mass on a spaced grid, and `--weights` parsing.
  @Test func barycenterHelpers() throws {
    // Mass 1/2 at (0, 0) and 1/2 at (1, 2) on a 2 x 3 grid with spacing (2, 0.5): centre (1, 0.5).
    let histogram = try GridHistogram(shape: [2, 3], masses: [0.5, 0, 0, 0, 0, 0.5], spacing: [2, 0.5])
    #expect(BarycenterReport.centreOfMass(histogram) == [1, 0.5])
    #expect(try BarycenterReport.weights("0.25, 0.75") == [0.25, 0.75])
    #expect { try BarycenterReport.weights("0.5,x") } throws: {
      "\($0)" == "--weights: expected comma-separated numbers, got '0.5,x'"
    }
  }

  /// The barycenter of two copies of one histogram is close to it: its centre of mass is the
  /// histogram's to the blur of eps (symmetric about the centre here, so exact to round-off).
  @Test func barycenterOfCopiesKeepsTheCentre() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let side = 9
    var image = [Double](repeating: 0, count: side * side)
    image[4 * side + 4] = 1
    try Self.write(image + image, shape: [2, side, side], to: folder.path("h.npy"))
    let report = try BarycenterReport.compute(
      histograms: folder.path("h.npy"), weights: nil, spacing: nil,
      options: GridSinkhornOptions(epsilon: 1, backend: .separableKernel), debiased: false,
      output: folder.path("bar.npy"))
    #expect(report.weights == [0.5, 0.5] && report.shape == [side, side])
    #expect(abs(report.centreOfMass[0] - 4) < 1e-9 && abs(report.centreOfMass[1] - 4) < 1e-9)
    #expect(try NPY.read(contentsOf: folder.path("bar.npy")).shape == [side, side])
    let lines = report.text(output: nil).split(separator: "\n")
    #expect(lines.count == 4 && lines[0] == "barycenter of 2 histograms on [9, 9]")
  }

  /// Softmax of `β θ` with `θ = (0, log 2)`, `β = 1`: weights (1/3, 2/3), conjugate `log 3`.
  @Test func separationOfTwoScores() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    try Self.write([0, log(2)], shape: [2], to: folder.path("s.npy"))
    let softmax = try SeparationChoice.softmax.map(alpha: nil, k: nil, pairwise: nil, choiceLabel: "")
    let report = try SeparationReport.compute(
      .softmax, map: softmax, scores: folder.path("s.npy"), beta: 1, k: nil)
    #expect(abs(report.weights[0] - 1.0 / 3) < 1e-15 && abs(report.weights[1] - 2.0 / 3) < 1e-15)
    #expect(abs(report.conjugate - log(3)) < 1e-15 && report.support == [0, 1])
    #expect(report.text.hasSuffix("\nconjugate Omega*(beta theta) = \(report.conjugate)"))
    try Self.write([0, 4], shape: [2], to: folder.path("big.npy"))
    #expect {
      try SeparationReport.compute(
        .softmax, map: softmax, scores: folder.path("big.npy"), beta: 1e308, k: nil)
    } throws: { "\($0)".hasPrefix("--beta: beta x score overflows at index 1") }
    let subsets = try SeparationChoice.ksubsets.map(alpha: nil, k: 3, pairwise: nil, choiceLabel: "")
    #expect {
      try SeparationReport.compute(.ksubsets, map: subsets, scores: folder.path("s.npy"), beta: 1, k: 3)
    } throws: { "\($0)" == "--k: is 3, but \(folder.path("s.npy")) holds only 2 scores" }
  }

  /// Output paths: absent in an existing folder is fine; a folder, an input, a read-only file and
  /// a missing folder are refused, naming the option.
  @Test func outputPathChecks() throws {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    try OutputPath.check(folder.path("new.npy"), option: "--output")
    #expect { try OutputPath.check(folder.url.path, option: "--output") } throws: {
      "\($0)".hasSuffix(": is a directory")
    }
    try Self.write([1], shape: [1], to: folder.path("in.npy"))
    #expect {
      try OutputPath.check(
        folder.path("in.npy"), option: "--output", inputs: [("--query", folder.path("in.npy"))])
    } throws: { "\($0)".contains("is the same file as --query") }
    try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: folder.path("in.npy"))
    #expect { try OutputPath.check(folder.path("in.npy"), option: "--output") } throws: {
      "\($0)".contains("is read-only")
    }
    #expect { try OutputPath.check(folder.path("none/x.npy"), option: "--output") } throws: {
      "\($0)".hasPrefix("--output: \(folder.path("none/x.npy")): directory")
    }
    try OutputPath.checkFolder(folder.path("reports/a"), option: "--report")
    #expect { try OutputPath.checkFolder(folder.path("in.npy"), option: "--report") } throws: {
      "\($0)".hasSuffix("is a regular file, not a folder")
    }
  }

  /// `--beta` must be finite, positive and have a finite reciprocal.
  @Test func inverseTemperatureChecks() throws {
    try checkInverseTemperature(2)
    #expect { try checkInverseTemperature(0) } throws: {
      "\($0)" == "--beta: must be a finite number > 0, got 0.0"
    }
    #expect { try checkInverseTemperature(5e-324, option: "--b") } throws: {
      "\($0)".hasPrefix("--b: is 5e-324, so small")
    }
  }

  /// `dam compare`'s separation maps: parameters go to the maps that take them, and are refused
  /// without one; `--noise` must be finite, >= 0 and below 1e150.
  @Test func compareOptionChecks() throws {
    #expect(try CompareSettings.separationMaps([], alpha: nil, k: nil, pairwise: nil) == nil)
    let maps = try #require(
      try CompareSettings.separationMaps([.softmax, .entmax, .ksubsets], alpha: 2, k: 3, pairwise: nil))
    #expect(maps.map(\.name) == [Softmax().name, Sparsemax().name, try KSubsets(k: 3).name])
    #expect { try CompareSettings.separationMaps([.softmax], alpha: 2, k: nil, pairwise: nil) } throws: {
      "\($0)" == "--alpha: applies to entmax and normmax only"
    }
    #expect { try CompareSettings.separationMaps([.entmax], alpha: nil, k: 2, pairwise: nil) } throws: {
      "\($0)" == "--k: applies to ksubsets and sequential-ksubsets only"
    }
    #expect { try CompareSettings.separationMaps([], alpha: nil, k: nil, pairwise: 1) } throws: {
      "\($0)" == "--separation: give the maps that --alpha, --k or --pairwise parametrise"
    }
    try CompareSettings.checkNoise(nil)
    try CompareSettings.checkNoise(0)
    #expect { try CompareSettings.checkNoise(-1) } throws: {
      "\($0)" == "--noise: must be a finite number >= 0, got -1.0"
    }
    #expect { try CompareSettings.checkNoise(1e150) } throws: {
      "\($0)".hasPrefix("--noise: is 1e+150; it must be below 1e150")
    }
  }
}
