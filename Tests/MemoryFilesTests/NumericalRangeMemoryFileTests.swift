import DAM
import Foundation
import MemoryFiles
import Testing

/// Issue 19, class 2, for memory files: patterns so far apart that a divergence between two of
/// them (or a Sinkhorn cost) overflows are refused when a file is made, so no file exists from
/// which every retrieval would fail; reading checks the same (`MemoryFile(contents:)` goes through
/// the same initialiser). Histograms are refused by `GridHistogram` (the grid's diameter).
struct NumericalRangeMemoryFileTests {
  @Test(arguments: ["vectors", "clouds", "gaussians"])
  func patternsThatOverflowAreRefused(_ family: String) throws {
    let patterns: MemoryFile.Patterns
    switch family {
    case "vectors": patterns = .vectors([[1e200, 0], [0, 1e200]])
    case "clouds":
      patterns = .pointClouds([
        try PointCloud(points: Matrix(rows: 2, columns: 1, elements: [0, 1])),
        try PointCloud(points: Matrix(rows: 2, columns: 1, elements: [1e200, 1e200])),
      ])
    default:
      patterns = .gaussians([
        try Gaussian(mean: [0, 0], variances: [1, 1]), try Gaussian(mean: [0, 1e200], variances: [1, 1]),
      ])
    }
    let error = #expect(throws: MemoryFileError.self) {
      _ = try MemoryFile(patterns: patterns, epsilon: family == "clouds" ? 0.1 : nil)
    }
    #expect(error?.description.contains("overflows") == true, "\(String(describing: error))")
    #expect(error?.description.hasPrefix("patterns:") == true, "\(String(describing: error))")
  }

  /// Reading checks the same: a well-formed file written by NumPy with clouds 1e200 apart
  /// (scripts/fixtures/make_memory_file_fixtures.py) is refused, naming the file.
  @Test func readingAFileThatOverflowsFails() throws {
    let path = Fixtures.path("numpy_clouds_overflow.npz")
    let error = #expect(throws: MemoryFileError.self) { _ = try MemoryFile.read(contentsOf: path) }
    #expect(error?.description.hasPrefix(path) == true, "\(String(describing: error))")
    #expect(error?.description.contains("overflows") == true, "\(String(describing: error))")
  }

  /// Just inside the range: coordinates of 1e150 (squared diameter 1e300) are accepted.
  @Test func patternsWithinRangeAreAccepted() throws {
    let file = try MemoryFile(patterns: .vectors([[1e150, 0], [0, 1e150]]))
    #expect(file.count == 2)
  }

  /// A Gaussian with a positive semi-definite covariance is a valid pattern.
  @Test func semidefiniteGaussianIsStored() throws {
    let singular = try Gaussian(mean: [0, 0], covariance: Matrix(rowArrays: [[1, 1], [1, 1]]))
    let file = try MemoryFile(patterns: .gaussians([singular]))
    #expect(file.count == 1)
  }
}
