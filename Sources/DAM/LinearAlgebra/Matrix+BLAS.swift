import CLinearAlgebra

// Products through CBLAS (OpenBLAS). Shapes are checked and reported as ``DAMError``s because
// they usually come from user data; the BLAS calls themselves cannot fail.

extension Matrix {
  /// The matrix product `self · other`, computed with `cblas_dgemm`.
  ///
  /// - Throws: ``DAMError`` (`dimensionMismatch`) if `columns != other.rows`.
  public func multiplied(by other: Matrix) throws(DAMError) -> Matrix {
    guard columns == other.rows else {
      throw DAMError.mismatch(
        "other", "has \(other.rows) rows, the left factor has \(columns) columns")
    }
    return _gemm(self, other, transposeLeft: false, transposeRight: false)
  }

  /// The product `selfᵀ · other`, without forming the transpose.
  public func transposeMultiplied(by other: Matrix) throws(DAMError) -> Matrix {
    guard rows == other.rows else {
      throw DAMError.mismatch("other", "has \(other.rows) rows, the left factor has \(rows) rows")
    }
    return _gemm(self, other, transposeLeft: true, transposeRight: false)
  }

  /// The matrix-vector product `self · vector`, computed with `cblas_dgemv`.
  public func multiplied(by vector: [Double]) throws(DAMError) -> [Double] {
    guard vector.count == columns else {
      throw DAMError.mismatch("vector", "has \(vector.count) values, the matrix has \(columns) columns")
    }
    return gemv(transpose: false, vector)
  }

  /// The product `selfᵀ · vector`, without forming the transpose.
  public func transposeMultiplied(by vector: [Double]) throws(DAMError) -> [Double] {
    guard vector.count == rows else {
      throw DAMError.mismatch("vector", "has \(vector.count) values, the matrix has \(rows) rows")
    }
    return gemv(transpose: true, vector)
  }

  func gemv(transpose: Bool, _ vector: [Double]) -> [Double] {
    let outputCount = transpose ? columns : rows
    var result = [Double](repeating: 0, count: outputCount)
    guard rows > 0, columns > 0 else { return result }
    elements.withUnsafeBufferPointer { a in
      vector.withUnsafeBufferPointer { x in
        result.withUnsafeMutableBufferPointer { y in
          cblas_dgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(rows), Int32(columns), 1,
            a.baseAddress, Int32(columns), x.baseAddress, 1, 0, y.baseAddress, 1)
        }
      }
    }
    return result
  }
}

/// `op(a) · op(b)` with `cblas_dgemm`; shapes already checked by the caller.
func _gemm(_ a: Matrix, _ b: Matrix, transposeLeft: Bool, transposeRight: Bool) -> Matrix {
  let m = transposeLeft ? a.columns : a.rows
  let k = transposeLeft ? a.rows : a.columns
  let n = transposeRight ? b.rows : b.columns
  var result = [Double](repeating: 0, count: m * n)
  if m > 0, n > 0, k > 0 {
    a.elements.withUnsafeBufferPointer { pa in
      b.elements.withUnsafeBufferPointer { pb in
        result.withUnsafeMutableBufferPointer { pc in
          cblas_dgemm(
            CblasRowMajor, transposeLeft ? CblasTrans : CblasNoTrans,
            transposeRight ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
            pa.baseAddress, Int32(a.columns), pb.baseAddress, Int32(b.columns), 0,
            pc.baseAddress, Int32(n))
        }
      }
    }
  }
  return Matrix(_rows: m, columns: n, elements: result)
}
