import DAM
import Foundation
import MemoryFiles
import NumPyFiles

/// Reading patterns of any kind for `dam memory` and memory files for `dam retrieve`.
package enum MemoryInputs {
  /// Whether `path` is a memory file (an `.npz` with a `manifest` member). Unreadable files are
  /// not; the reader that follows reports their problem.
  package static func isMemoryFile(_ path: String) -> Bool {
    guard path.lowercased().hasSuffix(".npz"), let archive = try? InputFiles.npz(path) else {
      return false
    }
    return archive["manifest"] != nil
  }

  /// Reads and verifies a memory file, attributing any problem to `option`.
  package static func memoryFile(_ path: String, option: String) throws(CLIError) -> MemoryFile {
    do throws(MemoryFileError) {
      return try MemoryFile.read(contentsOf: path)
    } catch {
      throw CLIError(option, error.message)
    }
  }

  /// Patterns from a `.npy` of vectors (N, D), or a `.npz` of point clouds, Gaussians, histograms
  /// (`histograms` (N, H[, W[, D]]) with optional `spacing`) or a memory file.
  package static func patterns(_ path: String, option: String) throws(CLIError) -> MemoryFile.Patterns {
    guard path.lowercased().hasSuffix(".npz") else {
      return .vectors(try Inputs.vectors(path, option: option))
    }
    if isMemoryFile(path) { return try memoryFile(path, option: option).patterns }
    if GaussianInputs.holdsGaussians(path) {
      return .gaussians(try GaussianInputs.gaussians(path, option: option).gaussians)
    }
    let archive = try attributing(option) { try InputFiles.npz(path) }
    if let histograms = archive["histograms"] {
      return .histograms(try self.histograms(histograms, archive, path, option))
    }
    return .pointClouds(try Inputs.clouds(path, option: option).clouds)
  }

  private static func histograms(
    _ array: NumPyArray, _ archive: NumPyArchive, _ path: String, _ option: String
  )
    throws(CLIError) -> [GridHistogram]
  {
    guard (2...4).contains(array.shape.count), array.shape.allSatisfy({ $0 > 0 }) else {
      throw CLIError(
        option, "\(path): 'histograms' must have shape (N, H[, W[, D]]) with sizes >= 1, got \(array.shape)")
    }
    let shape = Array(array.shape.dropFirst())
    let spacing = archive["spacing"]?.doubles()
    if let spacing, spacing.count != shape.count {
      throw CLIError(option, "\(path): 'spacing' has \(spacing.count) values for \(shape.count) grid axes")
    }
    let cells = shape.reduce(1, *)
    let values = array.doubles()
    var result: [GridHistogram] = []
    for i in 0..<array.shape[0] {
      do {
        result.append(
          try GridHistogram(
            shape: shape, masses: Array(values[(i * cells)..<((i + 1) * cells)]), spacing: spacing))
      } catch {
        throw CLIError(option, "\(path): histogram \(i): \(error)")
      }
    }
    return result
  }
}
