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

  /// The bytes of the data arrays that `patterns` make in a memory file (float64 values, int64
  /// offsets) and of the data a memory built from the file prepares for them: a potential per
  /// atom or cell for `sinkhorn`, per full covariance its square root and packed Cholesky factor,
  /// per diagonal one its square roots; nothing for vectors. `nil` for a size that overflows `Int`.
  package static func bytes(_ patterns: MemoryFile.Patterns) -> (data: Int?, prepared: Int?) {
    var data: Int? = 0
    var prepared: Int? = 0
    func add(_ total: inout Int?, _ counts: [Int]) {
      guard let sum = total, let more = ResourceLimits.bytes(counts, elementSize: 8) else {
        total = nil
        return
      }
      let (next, overflow) = sum.addingReportingOverflow(more)
      total = overflow ? nil : next
    }
    switch patterns {
    case .vectors(let vectors):
      add(&data, [vectors.count, vectors.first?.count ?? 0])
    case .pointClouds(let clouds):
      add(&data, [clouds.count + 1])
      for cloud in clouds {
        add(&data, [cloud.count, cloud.dimension + 1])
        add(&prepared, [cloud.count])
      }
    case .gaussians(let gaussians):
      for gaussian in gaussians {
        let d = gaussian.dimension
        add(&data, [d])
        switch gaussian.covariance {
        case .full:
          add(&data, [d, d])
          add(&prepared, [d, d])
          add(&prepared, [d * (d + 1) / 2])
        case .diagonal:
          add(&data, [d])
          add(&prepared, [d])
        }
      }
    case .histograms(let histograms):
      add(&data, [histograms.first?.shape.count ?? 0])
      for histogram in histograms {
        add(&data, [histogram.cellCount])
        add(&prepared, [histogram.cellCount])
      }
    }
    return (data, prepared)
  }

  /// Throws, naming `option`, unless the memory file that `patterns` make fits
  /// ``ResourceLimits/current``, checked before it is built: the file is built whole in memory
  /// (one buffer of its arrays), and a memory built from it (by `dam retrieve`) prepares data
  /// for every pattern besides. For an append, `existing` is the file appended to and its size
  /// in bytes: the new file holds both, and its prepared data are estimated from the new
  /// patterns' ratio (the patterns of one file have one kind and dimension). A file that alone
  /// exceeds the limit is left to the reader, whose refusal names the file.
  package static func requireFileFits(
    _ patterns: MemoryFile.Patterns, existing: (path: String, bytes: Int)? = nil, option: String
  ) throws(CLIError) {
    let (data, prepared) = bytes(patterns)
    let count = patterns.count
    var noun =
      patterns.kind == .gaussians
      ? "Gaussians" : patterns.kind.rawValue.replacingOccurrences(of: "-", with: " ")
    if count == 1 { noun.removeLast() }
    let described = "\(count) \(noun)"
    var fileBytes = data
    var preparedBytes = prepared
    var what = "a memory file of \(described)"
    if let existing {
      guard existing.bytes <= ResourceLimits.current.maximumBytes else { return }
      what = "appending \(described) to \(existing.path) (\(existing.bytes) bytes): the new file"
      if let new = data {
        let (sum, overflow) = existing.bytes.addingReportingOverflow(new)
        fileBytes = overflow ? nil : sum
        if let sum = fileBytes, let prepared, new > 0 {
          let estimate = (Double(prepared) / Double(new) * Double(sum)).rounded(.up)
          preparedBytes = estimate < 0x1p62 ? Int(estimate) : nil
        }
      }
    }
    try requireMemory(
      option, bytes: fileBytes, "\(what), built whole in memory before it is written,",
      remedy: "store the patterns in several memory files")
    try requireMemory(
      option, bytes: preparedBytes,
      "the data a memory built from \(existing == nil ? "this file" : "the new file") prepares for its patterns (\(preparedData(patterns.kind)))",
      remedy: "store the patterns in several memory files")
  }

  /// What a memory prepares per pattern of `kind`, for messages.
  private static func preparedData(_ kind: MemoryFileKind) -> String {
    switch kind {
    case .vectors: "nothing"
    case .pointClouds: "a Sinkhorn potential per atom"
    case .gaussians: "the square root of each covariance, and the Cholesky factor of a full one"
    case .histograms: "a Sinkhorn potential per cell"
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
