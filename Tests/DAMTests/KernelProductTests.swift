import CDAMKernels
@_spi(Testing) import DAM
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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

  /// The log-domain soft-minimum, with the cost formed inside the kernel (points) or given, against
  /// a plain shifted log-sum-exp; zero weights (`-∞` log weights) and an all-zero row included.
  @Test(arguments: [(1, 1), (2, 7), (3, 9), (5, 33), (8, 130)])
  func softminMatchesPlainLogSumExp(dimension d: Int, columns m: Int) {
    var generator = SeededGenerator(seed: UInt64(17 * d + m))
    let n = 6
    let x = (0..<(n * d)).map { _ in Double.random(in: -1...1, using: &generator) }
    let y = (0..<(m * d)).map { _ in Double.random(in: -1...1, using: &generator) }
    var logWeights = (0..<m).map { _ in log(Double.random(in: 0.1...1, using: &generator) / Double(m)) }
    if m > 3 { logWeights[2] = -.infinity }
    let potential = (0..<m).map { _ in Double.random(in: -0.5...0.5, using: &generator) }
    let epsilon = 0.03
    var cost = [Double](repeating: 0, count: n * m)
    for j in 0..<n {
      for k in 0..<m {
        var sum = 0.0
        for t in 0..<d { sum += (x[j * d + t] - y[k * d + t]) * (x[j * d + t] - y[k * d + t]) }
        cost[j * m + k] = sum
      }
    }
    var expected = [Double](repeating: 0, count: n)
    for j in 0..<n {
      let exponents = (0..<m).map { logWeights[$0] + (potential[$0] - cost[j * m + $0]) / epsilon }
      let largest = exponents.max()!
      expected[j] = -epsilon * (largest + log(exponents.reduce(0) { $0 + exp($1 - largest) }))
    }
    // The points kernel takes y coordinate-major.
    var coordinates = [Double](repeating: 0, count: m * d)
    for k in 0..<m { for t in 0..<d { coordinates[t * m + k] = y[k * d + t] } }
    var fromPoints = [Double](repeating: .nan, count: n)
    var scratch = [Double](repeating: 0, count: m)
    dam_softmin_points(x, d, coordinates, n, m, logWeights, potential, epsilon, &fromPoints, &scratch)
    var fromCost = [Double](repeating: .nan, count: n)
    var overwritten = cost
    dam_softmin_cost(&overwritten, n, m, logWeights, potential, epsilon, &fromCost)
    for j in 0..<n {
      #expect(abs(fromPoints[j] - expected[j]) <= 1e-13 * max(1, abs(expected[j])), "row \(j)")
      #expect(abs(fromCost[j] - expected[j]) <= 1e-13 * max(1, abs(expected[j])), "row \(j)")
    }
    // Every weight zero: the soft-minimum is +∞.
    let none = [Double](repeating: -.infinity, count: m)
    var empty = [Double](repeating: 0, count: n)
    overwritten = cost
    dam_softmin_cost(&overwritten, n, m, none, potential, epsilon, &empty)
    #expect(empty.allSatisfy { $0 == .infinity })
  }

  @Test func reportsAKnownVectorExtension() {
    #expect(["avx512f", "avx2+fma", "baseline"].contains(_vectorExtension))
  }
}
