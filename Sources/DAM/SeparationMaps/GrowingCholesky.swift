/// The Cholesky factor `G = L Lᵀ` of a symmetric positive definite matrix that grows by one row
/// and column at a time (O(m²)) and loses any one of them (O(m²) Givens rotations).
struct GrowingCholesky {
  /// `rows[i]` holds `L[i][0...i]`.
  private var rows: [[Double]] = []

  /// The order of the matrix.
  var size: Int { rows.count }

  /// Appends a row and column (`column` = the new off-diagonal entries, `diagonal` the new
  /// diagonal entry) if the matrix stays clearly positive definite (the new pivot above 1e-9 of
  /// `diagonal`, far below the smallest pivot of a Gram matrix of distinct 0/1 structures and far
  /// above round-off); returns whether it did.
  mutating func append(column: [Double], diagonal: Double) -> Bool {
    let l = forwardSolve(column)
    var pivot = diagonal
    for x in l { pivot -= x * x }
    guard pivot > 1e-9 * diagonal else { return false }
    rows.append(l + [pivot.squareRoot()])
    return true
  }

  /// Removes row and column `j`: the rows below lose their entry in column `j` after Givens
  /// rotations of adjacent columns restore the triangular shape.
  mutating func remove(at j: Int) {
    rows.remove(at: j)
    for c in j..<rows.count {
      let a = rows[c][c]
      let b = rows[c][c + 1]
      let r = (a * a + b * b).squareRoot()
      let (cosine, sine) = r == 0 ? (1.0, 0.0) : (a / r, b / r)
      for i in c..<rows.count {
        let x = rows[i][c]
        let y = rows[i][c + 1]
        rows[i][c] = cosine * x + sine * y
        rows[i][c + 1] = -sine * x + cosine * y
      }
      rows[c].removeLast()
    }
  }

  /// `G⁻¹ b`.
  func solve(_ b: [Double]) -> [Double] {
    var x = forwardSolve(b)
    for i in stride(from: rows.count - 1, through: 0, by: -1) {
      for p in (i + 1)..<max(i + 1, rows.count) { x[i] -= rows[p][i] * x[p] }
      x[i] /= rows[i][i]
    }
    return x
  }

  /// `L⁻¹ b`.
  private func forwardSolve(_ b: [Double]) -> [Double] {
    var y = b
    for i in 0..<rows.count {
      for p in 0..<i { y[i] -= rows[i][p] * y[p] }
      y[i] /= rows[i][i]
    }
    return y
  }
}
