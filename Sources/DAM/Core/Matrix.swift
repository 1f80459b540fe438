/// A dense matrix of `Double`, stored row-major and contiguously.
///
/// Element `(i, j)` is `elements[i * columns + j]`. This is NumPy's default (C) order, so an
/// `(rows, columns)` float64 array maps onto a `Matrix` without copying its layout.
public struct Matrix: Sendable, Hashable {
  /// The number of rows.
  public let rows: Int
  /// The number of columns.
  public let columns: Int
  /// The elements in row-major order; `elements.count == rows * columns`.
  /// Change elements through the subscript, which keeps the shape.
  public var elements: [Double] { _elements }

  @usableFromInline
  var _elements: [Double]

  /// Creates a matrix from row-major elements, checking the shape and that every value is finite.
  ///
  /// - Throws: ``DAMError`` naming `elements` if the count is not `rows * columns` or a value is
  ///   NaN or infinite, or naming `rows`/`columns` if one is negative.
  public init(rows: Int, columns: Int, elements: [Double]) throws(DAMError) {
    guard rows >= 0 else { throw DAMError.invalid("rows", "must be >= 0, got \(rows)") }
    guard columns >= 0 else { throw DAMError.invalid("columns", "must be >= 0, got \(columns)") }
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    guard !overflow, count == elements.count else {
      throw DAMError.mismatch(
        "elements", "has \(elements.count) values, a \(rows) x \(columns) matrix needs \(rows &* columns)")
    }
    try _requireFinite(elements, "elements")
    self.rows = rows
    self.columns = columns
    self._elements = elements
  }

  /// Creates a matrix from an array of rows of equal length, checking that every value is finite.
  public init(rowArrays: [[Double]]) throws(DAMError) {
    let columns = rowArrays.first?.count ?? 0
    for (i, row) in rowArrays.enumerated() where row.count != columns {
      throw DAMError.mismatch("rows[\(i)]", "has \(row.count) values, rows[0] has \(columns)")
    }
    try self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
  }

  /// A matrix with every element equal to `value`.
  public init(rows: Int, columns: Int, repeating value: Double = 0) {
    self.init(_rows: rows, columns: columns, elements: Array(repeating: value, count: rows * columns))
  }

  /// A square diagonal matrix.
  public init(diagonal: [Double]) {
    let n = diagonal.count
    var elements = [Double](repeating: 0, count: n * n)
    for i in 0..<n { elements[i * n + i] = diagonal[i] }
    self.init(_rows: n, columns: n, elements: elements)
  }

  /// The `n x n` identity matrix.
  public static func identity(_ n: Int) -> Matrix {
    Matrix(diagonal: [Double](repeating: 1, count: n))
  }

  /// Unchecked initialiser for results computed by the library itself.
  @usableFromInline
  init(_rows rows: Int, columns: Int, elements: [Double]) {
    self.rows = rows
    self.columns = columns
    self._elements = elements
  }

  /// Whether the matrix is square.
  public var isSquare: Bool { rows == columns }

  /// Element `(row, column)`. Indices out of range are a programming error and trap, as for `Array`.
  @inlinable
  public subscript(row: Int, column: Int) -> Double {
    get { _elements[row * columns + column] }
    set { _elements[row * columns + column] = newValue }
  }

  /// A copy of row `i`.
  public func row(_ i: Int) -> [Double] {
    Array(elements[(i * columns)..<((i + 1) * columns)])
  }

  /// The rows as separate arrays.
  public var rowArrays: [[Double]] { (0..<rows).map(row) }

  /// The transpose.
  public func transposed() -> Matrix {
    var result = [Double](repeating: 0, count: elements.count)
    for i in 0..<rows {
      for j in 0..<columns { result[j * rows + i] = elements[i * columns + j] }
    }
    return Matrix(_rows: columns, columns: rows, elements: result)
  }

  /// The sum of the diagonal elements.
  public var trace: Double {
    var sum = 0.0
    for i in 0..<min(rows, columns) { sum += self[i, i] }
    return sum
  }

  /// The largest absolute value of an element (0 for an empty matrix).
  public var maxAbs: Double { elements.reduce(0) { max($0, abs($1)) } }

  /// `(A + Aᵀ)/2` for a square matrix: exactly symmetric, for removing round-off asymmetry.
  func _symmetrized() -> Matrix {
    var result = self
    let n = rows
    for i in 0..<n {
      for j in 0..<i {
        let mean = 0.5 * (_elements[i * n + j] + _elements[j * n + i])
        result._elements[i * n + j] = mean
        result._elements[j * n + i] = mean
      }
    }
    return result
  }

  /// The largest absolute difference `|A - Aᵀ|` over all pairs, for square matrices.
  public var asymmetry: Double {
    var worst = 0.0
    for i in 0..<rows {
      for j in (i + 1)..<max(i + 1, columns) {
        worst = max(worst, abs(self[i, j] - self[j, i]))
      }
    }
    return worst
  }
}

extension Matrix: CustomStringConvertible {
  /// The matrix row by row.
  public var description: String {
    "Matrix(\(rows) x \(columns)): " + rowArrays.map { "\($0)" }.joined(separator: ", ")
  }
}
