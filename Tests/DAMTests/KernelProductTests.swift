import CDAMKernels
@_spi(Testing) import DAM
import Testing

/// The C matrix-vector kernels behind the Sinkhorn kernel backend, against plain sums.
struct KernelProductTests {
  /// A row-major `rows x ld` matrix of positive entries (as a Gibbs kernel has) and a vector.
  static func problem(rows: Int, ld: Int, seed: UInt64) -> (matrix: [Double], x: [Double], y: [Double]) {
    var generator = SeededGenerator(seed: seed)
    let matrix = (0..<(rows * ld)).map { _ in Double.random(in: 1e-3...1, using: &generator) }
    let x = (0..<ld).map { _ in Double.random(in: 0.5...2, using: &generator) }
    let y = (0..<rows).map { _ in Double.random(in: 0.5...2, using: &generator) }
    return (matrix, x, y)
  }

  /// Sizes around the kernels' blocks: 4 rows, 8 lanes, 1024-column chunks; ld > columns
  /// exercises sub-matrices.
  @Test(arguments: [(1, 1, 1), (3, 7, 9), (4, 8, 8), (13, 29, 31), (37, 1030, 1033), (5, 2051, 2051)])
  func productsMatchPlainSums(rows: Int, columns: Int, ld: Int) {
    let (k, x, y) = Self.problem(rows: rows, ld: ld, seed: UInt64(rows * 7919 + columns))
    var out = [Double](repeating: .nan, count: rows)
    dam_gemv_rows(k, ld, rows, columns, x, &out)
    for j in 0..<rows {
      var sum = 0.0
      for t in 0..<columns { sum += k[j * ld + t] * x[t] }
      #expect(abs(out[j] - sum) <= 1e-14 * sum, "row \(j)")
    }
    var transposed = [Double](repeating: .nan, count: columns)
    dam_gemv_columns(k, ld, rows, columns, y, &transposed)
    for t in 0..<columns {
      var sum = 0.0
      for j in 0..<rows { sum += y[j] * k[j * ld + t] }
      // Accumulated over j in increasing order, like the loop above: equal up to the grouping
      // of four rows.
      #expect(abs(transposed[t] - sum) <= 1e-14 * sum, "column \(t)")
    }
  }

  /// A block of rows computed on its own (as a worker does) equals the same rows of the whole
  /// product, bit for bit: splitting the work cannot change the result.
  @Test func blocksAgreeWithTheWholeProduct() {
    let (k, x, y) = Self.problem(rows: 301, ld: 517, seed: 5)
    var whole = [Double](repeating: 0, count: 301)
    dam_gemv_rows(k, 517, 301, 517, x, &whole)
    var wholeT = [Double](repeating: 0, count: 517)
    dam_gemv_columns(k, 517, 301, 517, y, &wholeT)
    for split in [1, 77, 150, 300] {
      var parts = [Double](repeating: 0, count: 301)
      k.withUnsafeBufferPointer { k in
        parts.withUnsafeMutableBufferPointer { p in
          dam_gemv_rows(k.baseAddress!, 517, split, 517, x, p.baseAddress!)
          dam_gemv_rows(k.baseAddress! + split * 517, 517, 301 - split, 517, x, p.baseAddress! + split)
        }
      }
      #expect(parts == whole)
      var partsT = [Double](repeating: 0, count: 517)
      let columnSplit = split + 100
      k.withUnsafeBufferPointer { k in
        partsT.withUnsafeMutableBufferPointer { p in
          dam_gemv_columns(k.baseAddress!, 517, 301, columnSplit, y, p.baseAddress!)
          dam_gemv_columns(
            k.baseAddress! + columnSplit, 517, 301, 517 - columnSplit, y, p.baseAddress! + columnSplit)
        }
      }
      #expect(partsT == wholeT)
    }
  }

  @Test func reportsAKnownVectorExtension() {
    #expect(["avx512f", "avx2+fma", "baseline"].contains(_vectorExtension))
  }
}
