import DAM
import NumPyFiles

/// Reading and writing grid histograms (images, volumes) in NumPy files.
package enum GridInputs {
  /// Parses a `--spacing` value: one positive number per axis, comma-separated.
  package static func spacing(_ text: String?, axes: Int, option: String = "--spacing") throws(CLIError)
    -> [Double]?
  {
    guard let text else { return nil }
    let parts = text.split(separator: ",").map { Double(String($0.filter { $0 != " " })) }
    guard parts.count == axes, parts.allSatisfy({ $0 != nil }) else {
      throw CLIError(option, "expected \(axes) comma-separated numbers (one per grid axis), got '\(text)'")
    }
    let values = parts.map { $0! }
    for v in values where !(v.isFinite && v > 0) {
      throw CLIError(option, "spacings must be finite numbers > 0, got \(v)")
    }
    return values
  }

  /// One histogram from a `.npy` array of 1 to 3 axes; masses proportional to the values.
  package static func histogram(_ path: String, spacing: String?, option: String) throws(CLIError)
    -> GridHistogram
  {
    let array = try attributing(option) { try InputFiles.npy(path) }
    guard (1...3).contains(array.shape.count) else {
      throw CLIError(
        option, "\(path): expected a 1-D, 2-D or 3-D array (a histogram on a grid), got shape \(array.shape)")
    }
    let h = try spacing.map { (text: String) throws(CLIError) -> [Double] in
      try Self.spacing(text, axes: array.shape.count)!
    }
    return try make(
      array.shape, array.doubles(), h, path: path, option: option, label: "",
      spacingOption: spacing == nil ? nil : "--spacing")
  }

  /// Histograms from a `.npy` array `(N, H[, W[, D]])` or a `.npz` with `histograms` of that
  /// shape and an optional `spacing` (one value per grid axis). `gridAxes` (when known) tells a
  /// single histogram `(H, W)` from a batch; returns the histograms and whether the file held a batch.
  package static func histograms(_ path: String, option: String, gridAxes: Int? = nil) throws(CLIError)
    -> (histograms: [GridHistogram], batch: Bool)
  {
    let array: NumPyArray
    var spacing: [Double]? = nil
    if path.lowercased().hasSuffix(".npz") {
      let archive = try attributing(option) { try InputFiles.npz(path) }
      guard let h = archive["histograms"] else {
        throw CLIError(
          option, "\(path): no 'histograms' array (found: \(archive.names.joined(separator: ", ")))")
      }
      array = h
      spacing = archive["spacing"]?.doubles()
    } else {
      array = try attributing(option) { try InputFiles.npy(path) }
    }
    let batch = gridAxes.map { array.shape.count == $0 + 1 } ?? true
    let axes = batch ? array.shape.count - 1 : array.shape.count
    // No axis of length 0: with one, the others (however long) would still be looped over.
    guard (1...3).contains(axes), !array.shape.contains(0) else {
      throw CLIError(
        option,
        "\(path): expected histograms (N, H[, W[, D]]) with 1 to 3 grid axes, every size >= 1, got shape \(array.shape)"
      )
    }
    if let spacing, spacing.count != axes {
      throw CLIError(option, "\(path): 'spacing' has \(spacing.count) values for \(axes) grid axes")
    }
    let grid = Array(array.shape.suffix(axes))
    let cells = grid.reduce(1, *)
    let values = array.doubles()
    let count = batch ? array.shape[0] : 1
    var result: [GridHistogram] = []
    for i in 0..<count {
      let slice = Array(values[(i * cells)..<((i + 1) * cells)])
      result.append(
        try make(grid, slice, spacing, path: path, option: option, label: batch ? "histogram \(i): " : ""))
    }
    return (result, batch)
  }

  /// A histogram of `values`; a fault of the spacing is attributed to `spacingOption` when the
  /// spacing came from that option rather than from the file.
  package static func make(
    _ shape: [Int], _ values: [Double], _ spacing: [Double]?, path: String, option: String, label: String,
    spacingOption: String? = nil
  )
    throws(CLIError) -> GridHistogram
  {
    do {
      return try GridHistogram(shape: shape, intensities: values, spacing: spacing)
    } catch  where error.argument.hasPrefix("spacing") && spacingOption != nil {
      throw CLIError(spacingOption!, "\(error.message) (grid of \(path))")
    } catch {
      let what = error.argument == "masses" ? "values" : error.argument
      throw CLIError(option, "\(path): \(label)\(what) \(error.message)")
    }
  }

  /// Writes histograms as `.npy`: `(shape)` for one, `(N, shape)` for a batch.
  package static func write(_ histograms: [GridHistogram], batch: Bool, to path: String, option: String)
    throws(CLIError)
  {
    try attributing(option) {
      let shape = (batch ? [histograms.count] : []) + histograms[0].shape
      try NPY.write(try NumPyArray(shape: shape, doubles: histograms.flatMap(\.masses)), to: path)
    }
  }
}
