import DAM

/// Helpers shared by the test targets.
public enum TestData {
  /// `count` random unit vectors in `ℝᵈ`, as rows.
  public static func unitVectors(count: Int, dimension: Int, seed: UInt64) -> [[Double]] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in generator.unitVector(dimension: dimension) }
  }

  /// A random symmetric positive definite matrix with the given eigenvalues and a random
  /// orthonormal basis (Gram-Schmidt on Gaussian vectors).
  public static func spd(eigenvalues: [Double], seed: UInt64) -> (matrix: Matrix, basis: Matrix) {
    let n = eigenvalues.count
    var generator = SeededGenerator(seed: seed)
    var basis: [[Double]] = []
    while basis.count < n {
      var v = generator.gaussians(n)
      for _ in 0..<2 {  // re-orthogonalise once for accuracy
        for b in basis {
          let dot = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }
          for k in 0..<n { v[k] -= dot * b[k] }
        }
      }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      if norm > 1e-6 { basis.append(v.map { $0 / norm }) }
    }
    // A = Σ λₖ bₖ bₖᵀ
    var elements = [Double](repeating: 0, count: n * n)
    for k in 0..<n {
      for i in 0..<n {
        for j in 0..<n { elements[i * n + j] += eigenvalues[k] * basis[k][i] * basis[k][j] }
      }
    }
    for i in 0..<n {
      for j in 0..<i {
        let mean = 0.5 * (elements[i * n + j] + elements[j * n + i])
        elements[i * n + j] = mean
        elements[j * n + i] = mean
      }
    }
    let columns = try! Matrix(rowArrays: basis).transposed()
    return (try! Matrix(rows: n, columns: n, elements: elements), columns)
  }

  /// The largest absolute difference between two arrays of equal length.
  public static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "arrays differ in length")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }
}
