import DAM
import NumPyFiles

/// Stored vectors as the commands get them: rows (a memory file's) or the elements of one
/// row-major `(N, D)` matrix (a `.npy`'s, which becomes the memory's packed matrix without a copy).
package enum VectorPatterns {
  case rows([[Double]])
  case matrix([Double], columns: Int)

  /// `N`.
  package var count: Int {
    switch self {
    case .rows(let rows): rows.count
    case .matrix(let elements, let columns): elements.count / columns
    }
  }

  /// `D`.
  package var dimension: Int {
    switch self {
    case .rows(let rows): rows.first?.count ?? 0
    case .matrix(_, let columns): columns
    }
  }

  /// The patterns one by one.
  package var rows: [[Double]] {
    switch self {
    case .rows(let rows): rows
    case .matrix(let elements, let columns):
      stride(from: 0, to: elements.count, by: columns).map { Array(elements[$0..<($0 + columns)]) }
    }
  }

  /// A memory of these patterns.
  package func memory<D: Divergence>(_ divergence: D) throws -> Memory<D>
  where D.Pattern == [Double], D.PatternCache == Void, D.MemoryCache == _PackedVectors {
    switch self {
    case .rows(let rows): try Memory(divergence: divergence, patterns: rows)
    case .matrix(let elements, let columns):
      try Memory(divergence: divergence, matrix: elements, columns: columns)
    }
  }
}

/// Reading user files into the library's types, with errors that name the option.
package enum Inputs {
  /// A 2-D array `(N, D)` of vectors, read from a `.npy` file.
  package static func vectors(_ path: String, option: String) throws(CLIError) -> [[Double]] {
    try matrix(path, option: option).rows
  }

  /// A 2-D array `(N, D)` of vectors, read from a `.npy` file, as one row-major matrix.
  package static func matrix(_ path: String, option: String) throws(CLIError) -> VectorPatterns {
    let array = try attributing(option) { try InputFiles.npy(path) }
    guard array.shape.count == 2 else {
      throw CLIError(option, "\(path): expected a 2-D array (patterns, dimension), got shape \(array.shape)")
    }
    guard array.shape[0] > 0 else {
      throw CLIError(option, "\(path): holds no patterns (shape \(array.shape))")
    }
    guard array.shape[1] > 0 else { throw CLIError(option, "\(path): patterns have dimension 0") }
    return .matrix(
      try finiteValues(array, path: path, option: option, columns: array.shape[1]), columns: array.shape[1])
  }

  /// One vector `(D)` or a batch `(B, D)`; returns the rows and whether the input was a batch.
  package static func queries(_ path: String, option: String) throws(CLIError) -> (
    rows: [[Double]], batch: Bool
  ) {
    let array = try attributing(option) { try InputFiles.npy(path) }
    switch array.shape.count {
    case 1:
      guard array.shape[0] > 0 else { throw CLIError(option, "\(path): is empty") }
      return (try rows(array, path: path, option: option, columns: array.shape[0]), false)
    case 2:
      guard array.shape[0] > 0, array.shape[1] > 0 else {
        throw CLIError(option, "\(path): is empty (shape \(array.shape))")
      }
      return (try rows(array, path: path, option: option), true)
    default:
      throw CLIError(option, "\(path): expected a vector (D) or a batch (B, D), got shape \(array.shape)")
    }
  }

  /// Point clouds from a `.npz` archive: `points` (N, n, d) with optional `weights` (N, n), or
  /// ragged `points` (total, d) with optional `weights` (total) and `offsets` (N + 1); a single
  /// cloud is `points` (n, d) with optional `weights` (n). Returns the clouds and whether the
  /// file held a batch (3-D or ragged) rather than one cloud.
  package static func clouds(_ path: String, option: String) throws(CLIError) -> (
    clouds: [PointCloud], batch: Bool
  ) {
    let archive = try attributing(option) { try InputFiles.npz(path) }
    guard let points = archive["points"] else {
      throw CLIError(option, "\(path): no 'points' array (found: \(archive.names.joined(separator: ", ")))")
    }
    // An axis of length 0 holds no atom whatever the other axes say: refused before the other
    // axes are used (a (2^40, 0, 2) array takes 0 bytes but would make 2^40 clouds).
    guard !points.shape.isEmpty, !points.shape.contains(0) else {
      throw CLIError(option, "\(path): holds an empty cloud (shape \(points.shape))")
    }
    let values = points.doubles()
    for (index, value) in values.enumerated() where !value.isFinite {
      throw CLIError(option, "\(path): 'points' has a non-finite value (\(value)) at flat index \(index)")
    }
    let weights = archive["weights"]?.doubles()
    var ranges: [(start: Int, count: Int)] = []
    let d: Int
    let batch: Bool
    if let offsetsArray = archive["offsets"] {
      guard points.shape.count == 2 else {
        throw CLIError(
          option, "\(path): with 'offsets', 'points' must be (total, d), got shape \(points.shape)")
      }
      let offsets = try attributing(option) { try offsetsArray.integers() }
      let total = points.shape[0]
      guard offsets.count >= 2, offsets.first == 0, offsets.last == total,
        zip(offsets, offsets.dropFirst()).allSatisfy({ $0 < $1 })
      else {
        throw CLIError(
          option,
          "\(path): 'offsets' must start at 0, increase strictly and end at the number of points (\(total))")
      }
      d = points.shape[1]
      ranges = zip(offsets, offsets.dropFirst()).map { ($0, $1 - $0) }
      batch = true
    } else if points.shape.count == 3 {
      d = points.shape[2]
      ranges = (0..<points.shape[0]).map { ($0 * points.shape[1], points.shape[1]) }
      batch = true
    } else if points.shape.count == 2 {
      d = points.shape[1]
      ranges = [(0, points.shape[0])]
      batch = false
    } else {
      throw CLIError(
        option,
        "\(path): 'points' must be (n, d), (N, n, d), or (total, d) with 'offsets'; got \(points.shape)")
    }
    guard d > 0, !ranges.isEmpty, ranges.allSatisfy({ $0.count > 0 }) else {
      throw CLIError(option, "\(path): holds an empty cloud (shape \(points.shape))")
    }
    let totalPoints = ranges.reduce(0) { $0 + $1.count }
    if let weights, weights.count != totalPoints {
      throw CLIError(option, "\(path): 'weights' has \(weights.count) values for \(totalPoints) points")
    }
    var clouds: [PointCloud] = []
    for (i, range) in ranges.enumerated() {
      let cloudPoints = Array(values[(range.start * d)..<((range.start + range.count) * d)])
      let cloudWeights = weights.map { Array($0[range.start..<(range.start + range.count)]) }
      do {
        clouds.append(
          try PointCloud(
            points: Matrix(rows: range.count, columns: d, elements: cloudPoints), weights: cloudWeights))
      } catch {
        throw CLIError(option, "\(path): cloud \(i): \(error)")
      }
    }
    return (clouds, batch)
  }

  /// Writes clouds as `.npz`: `points` (n, d) and `weights` (n) for one cloud; `points` (B, n, d)
  /// and `weights` (B, n) for a batch of equal sizes; ragged `points`, `weights`, `offsets` otherwise.
  package static func writeClouds(_ clouds: [PointCloud], batch: Bool, to path: String, option: String)
    throws(CLIError)
  {
    try attributing(option) {
      let d = clouds[0].dimension
      let points = clouds.flatMap(\.points.elements)
      let weights = clouds.flatMap(\.weights)
      var archive = NumPyArchive()
      if !batch, clouds.count == 1 {
        archive["points"] = try NumPyArray(shape: [clouds[0].count, d], doubles: points)
        archive["weights"] = try NumPyArray(shape: [clouds[0].count], doubles: weights)
      } else if Set(clouds.map(\.count)).count == 1 {
        archive["points"] = try NumPyArray(shape: [clouds.count, clouds[0].count, d], doubles: points)
        archive["weights"] = try NumPyArray(shape: [clouds.count, clouds[0].count], doubles: weights)
      } else {
        var offsets = [0]
        for cloud in clouds { offsets.append(offsets.last! + cloud.count) }
        archive["points"] = try NumPyArray(shape: [offsets.last!, d], doubles: points)
        archive["weights"] = try NumPyArray(shape: [offsets.last!], doubles: weights)
        archive["offsets"] = try NumPyArray(shape: [offsets.count], integers: offsets)
      }
      try NPZ.write(archive, to: path)
    }
  }

  /// A point cloud from a `.npy` array `(n, d)` (or `(n)` for points on a line) and optional weights.
  package static func cloud(_ path: String, weights: String?, option: String, weightsOption: String)
    throws(CLIError)
    -> PointCloud
  {
    let array = try attributing(option) { try InputFiles.npy(path) }
    guard array.shape.count == 1 || array.shape.count == 2 else {
      throw CLIError(option, "\(path): expected points (n, d) or (n), got shape \(array.shape)")
    }
    let n = array.shape[0]
    let d = array.shape.count == 2 ? array.shape[1] : 1
    guard n > 0, d > 0 else { throw CLIError(option, "\(path): holds no points (shape \(array.shape))") }
    let values = try rows(array, path: path, option: option, columns: d).flatMap { $0 }
    var weightValues: [Double]? = nil
    if let weights {
      let w = try attributing(weightsOption) { try InputFiles.npy(weights) }
      guard w.shape == [n] else {
        throw CLIError(
          weightsOption, "\(weights): expected shape [\(n)] (one weight per point of \(path)), got \(w.shape)"
        )
      }
      weightValues = w.doubles()
    }
    return try attributing(weightsOption) {
      do {
        return try PointCloud(points: Matrix(rows: n, columns: d, elements: values), weights: weightValues)
      } catch let error as DAMError {
        throw CLIError(error.argument == "weights" ? weightsOption : option, error.message)
      }
    }
  }

  private static func rows(_ array: NumPyArray, path: String, option: String, columns: Int? = nil)
    throws(CLIError) -> [[Double]]
  {
    let width = columns ?? array.shape[1]
    return VectorPatterns.matrix(
      try finiteValues(array, path: path, option: option, columns: width), columns: width
    )
    .rows
  }

  /// The array's elements as doubles, after checking that every one is finite.
  private static func finiteValues(_ array: NumPyArray, path: String, option: String, columns width: Int)
    throws(CLIError) -> [Double]
  {
    let values = array.doubles()
    if values.withUnsafeBufferPointer(_allFinite) { return values }
    for (index, value) in values.enumerated() where !value.isFinite {
      let position =
        width == values.count ? "index \(index)" : "row \(index / width), column \(index % width)"
      throw CLIError(option, "\(path): non-finite value (\(value)) at \(position)")
    }
    return values
  }
}
