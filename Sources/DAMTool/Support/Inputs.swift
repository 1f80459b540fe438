import DAM
import NumPyFiles

/// Reading user files into the library's types, with errors that name the option.
enum Inputs {
  /// A 2-D array `(N, D)` of vectors, read from a `.npy` file.
  static func vectors(_ path: String, option: String) throws(CLIError) -> [[Double]] {
    let array = try attributing(option) { try NPY.read(contentsOf: path) }
    guard array.shape.count == 2 else {
      throw CLIError(option, "\(path): expected a 2-D array (patterns, dimension), got shape \(array.shape)")
    }
    guard array.shape[0] > 0 else { throw CLIError(option, "\(path): holds no patterns (shape \(array.shape))") }
    guard array.shape[1] > 0 else { throw CLIError(option, "\(path): patterns have dimension 0") }
    return try rows(array, path: path, option: option)
  }

  /// One vector `(D)` or a batch `(B, D)`; returns the rows and whether the input was a batch.
  static func queries(_ path: String, option: String) throws(CLIError) -> (rows: [[Double]], batch: Bool) {
    let array = try attributing(option) { try NPY.read(contentsOf: path) }
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

  /// A point cloud from a `.npy` array `(n, d)` (or `(n)` for points on a line) and optional weights.
  static func cloud(_ path: String, weights: String?, option: String, weightsOption: String) throws(CLIError)
    -> PointCloud
  {
    let array = try attributing(option) { try NPY.read(contentsOf: path) }
    guard array.shape.count == 1 || array.shape.count == 2 else {
      throw CLIError(option, "\(path): expected points (n, d) or (n), got shape \(array.shape)")
    }
    let n = array.shape[0]
    let d = array.shape.count == 2 ? array.shape[1] : 1
    guard n > 0, d > 0 else { throw CLIError(option, "\(path): holds no points (shape \(array.shape))") }
    let values = try rows(array, path: path, option: option, columns: d).flatMap { $0 }
    var weightValues: [Double]? = nil
    if let weights {
      let w = try attributing(weightsOption) { try NPY.read(contentsOf: weights) }
      guard w.shape == [n] else {
        throw CLIError(weightsOption, "\(weights): expected shape [\(n)] (one weight per point of \(path)), got \(w.shape)")
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
    let values = array.doubles()
    let width = columns ?? array.shape[1]
    for (index, value) in values.enumerated() where !value.isFinite {
      let position = width == values.count ? "index \(index)" : "row \(index / width), column \(index % width)"
      throw CLIError(option, "\(path): non-finite value (\(value)) at \(position)")
    }
    return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<($0 + width)]) }
  }
}
