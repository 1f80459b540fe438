/// The patterns of a vector memory packed into one row-major `N × D` matrix, with their squared
/// norms: the memory-wide cache of the vector divergences, so that a block's scores are one matrix
/// product.
public struct _PackedVectors: Sendable {
  /// `N`.
  let rows: Int
  /// `D`.
  let columns: Int
  /// The patterns, row after row.
  let elements: [Double]
  /// `‖Xᵢ‖²`.
  let squaredNorms: [Double]

  init(_ patterns: [[Double]]) {
    var elements: [Double] = []
    elements.reserveCapacity(patterns.count * (patterns.first?.count ?? 0))
    for pattern in patterns { elements += pattern }
    self.init(elements: elements, rows: patterns.count, columns: patterns.first?.count ?? 0)
  }

  /// The rows of a row-major `rows × columns` matrix, which is kept as it is (no copy).
  init(elements: [Double], rows: Int, columns: Int) {
    self.rows = rows
    self.columns = columns
    self.elements = elements
    // Blocks of rows on every core: a large memory is read once here, at memory bandwidth.
    let blocks = parallelBlockCount(rows: rows, work: elements.count)
    let norms = Slots<[Double]>(count: blocks, initial: [])
    elements.withUnsafeBufferPointer { x in
      let x = SendablePointer(x)
      forEachChunk(blocks, workers: blocks) { block in
        norms[block] = blockRange(block, of: blocks, count: rows).map { i in
          let row = UnsafeBufferPointer(rebasing: x.base[(i * columns)..<((i + 1) * columns)])
          return _dot(row, row)
        }
      }
    }
    squaredNorms = norms.values.flatMap { $0 }
  }
}
