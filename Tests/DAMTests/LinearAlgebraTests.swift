import DAM
import DAMTestSupport
import Foundation
import Testing

struct LinearAlgebraTests {
  /// Independent reference: the triple loop.
  static func naiveProduct(_ a: Matrix, _ b: Matrix) -> [Double] {
    var c = [Double](repeating: 0, count: a.rows * b.columns)
    for i in 0..<a.rows {
      for j in 0..<b.columns {
        for k in 0..<a.columns { c[i * b.columns + j] += a[i, k] * b[k, j] }
      }
    }
    return c
  }

  @Test(arguments: [(1, 1, 1), (2, 3, 4), (7, 5, 3), (16, 16, 16)])
  func productsMatchTheTripleLoop(m: Int, k: Int, n: Int) throws {
    var generator = SeededGenerator(seed: 11)
    let a = try Matrix(rows: m, columns: k, elements: generator.gaussians(m * k))
    let b = try Matrix(rows: k, columns: n, elements: generator.gaussians(k * n))
    let reference = Self.naiveProduct(a, b)
    // Sums of k products of O(1) terms: round-off is a few k * ulp.
    #expect(TestData.maxDifference(try a.multiplied(by: b).elements, reference) < 1e-13)
    #expect(
      TestData.maxDifference(try a.transposed().transposeMultiplied(by: b).elements, reference) < 1e-13)
    let x = generator.gaussians(k)
    let column = try Matrix(rows: k, columns: 1, elements: x)
    #expect(TestData.maxDifference(try a.multiplied(by: x), Self.naiveProduct(a, column)) < 1e-13)
    let y = generator.gaussians(m)
    let row = try Matrix(rows: 1, columns: m, elements: y)
    #expect(TestData.maxDifference(try a.transposeMultiplied(by: y), Self.naiveProduct(row, a)) < 1e-13)
  }

  @Test func mismatchedProductsThrow() throws {
    let a = Matrix(rows: 2, columns: 3)
    let b = Matrix(rows: 2, columns: 3)
    #expect(throws: DAMError.self) { try a.multiplied(by: b) }
    #expect(throws: DAMError.self) { try a.multiplied(by: [1, 2]) }
    #expect(throws: DAMError.self) { try a.transposeMultiplied(by: [1, 2, 3]) }
  }

  @Test func twoByTwoEigendecompositionHasTheClosedForm() throws {
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with eigenvectors (1, -1)/√2 and (1, 1)/√2.
    let a = try Matrix(rows: 2, columns: 2, elements: [2, 1, 1, 2])
    let eigen = try SymmetricEigendecomposition(a)
    #expect(abs(eigen.eigenvalues[0] - 1) < 1e-15)
    #expect(abs(eigen.eigenvalues[1] - 3) < 1e-15)
    let s = 1 / 2.0.squareRoot()
    #expect(abs(abs(eigen.eigenvectors[0, 0]) - s) < 1e-15)
    #expect(abs(eigen.eigenvectors[0, 0] + eigen.eigenvectors[1, 0]) < 1e-15)
    #expect(abs(eigen.eigenvectors[0, 1] - eigen.eigenvectors[1, 1]) < 1e-15)
  }

  @Test func twoByTwoSquareRootHasTheClosedForm() throws {
    // For 2 x 2 SPD A: √A = (A + √det(A) I) / √(tr A + 2 √det(A)).
    let a = try Matrix(rows: 2, columns: 2, elements: [4, 1.5, 1.5, 2])
    let s = (4 * 2 - 1.5 * 1.5).squareRoot()
    let t = (4 + 2 + 2 * s).squareRoot()
    let expected = [(4 + s) / t, 1.5 / t, 1.5 / t, (2 + s) / t]
    #expect(TestData.maxDifference(try a.symmetricSquareRoot().elements, expected) < 1e-15)
  }

  @Test func diagonalRootsAreExact() throws {
    let d = [1e-6, 0.25, 4, 9, 1e6]
    let a = Matrix(diagonal: d)
    let root = try a.symmetricSquareRoot()
    let inverse = try a.symmetricInverseSquareRoot()
    for i in 0..<d.count {
      for j in 0..<d.count {
        let expectedRoot = i == j ? d[i].squareRoot() : 0
        let expectedInverse = i == j ? 1 / d[i].squareRoot() : 0
        #expect(abs(root[i, j] - expectedRoot) <= 2e-16 * max(1, expectedRoot))
        #expect(abs(inverse[i, j] - expectedInverse) <= 2e-16 * max(1, expectedInverse))
      }
    }
  }

  @Test(arguments: [2, 5, 16, 50])
  func squareRootSquaredIsTheMatrix(n: Int) throws {
    // Eigenvalues in [1, 10]: well conditioned, so √A·√A reproduces A to a few ulps of ‖A‖.
    var generator = SeededGenerator(seed: UInt64(n))
    let eigenvalues = (0..<n).map { _ in Double.random(in: 1...10, using: &generator) }
    let (a, _) = TestData.spd(eigenvalues: eigenvalues, seed: UInt64(100 + n))
    let root = try a.symmetricSquareRoot()
    let squared = try root.multiplied(by: root)
    let error = TestData.maxDifference(squared.elements, a.elements) / a.maxAbs
    #expect(error < 1e-12, "relative error \(error)")
    #expect(root.asymmetry == 0)
  }

  @Test(arguments: [4, 20])
  func inverseSquareRootAtConditionNumber1e8(n: Int) throws {
    // Eigenvalues spread log-uniformly over [1e-8, 1]: condition number 1e8.
    let eigenvalues = (0..<n).map { pow(10, -8 * Double($0) / Double(n - 1)) }
    let (a, basis) = TestData.spd(eigenvalues: eigenvalues, seed: 7)
    let inverseRoot = try a.symmetricInverseSquareRoot()
    // Reference: B diag(λ^(-1/2)) Bᵀ from the basis that built A. A itself carries round-off of
    // about n·ulp·‖A‖, which the inverse square root amplifies by up to κ = 1e8 relative to its
    // norm 1e4: a relative error near n·2.2e-16·1e8 ≈ 1e-7 is the floor of any method.
    var reference = [Double](repeating: 0, count: n * n)
    for k in 0..<n {
      let scale = 1 / eigenvalues[k].squareRoot()
      for i in 0..<n {
        for j in 0..<n { reference[i * n + j] += scale * basis[i, k] * basis[j, k] }
      }
    }
    let norm = 1e4
    let error = TestData.maxDifference(inverseRoot.elements, reference) / norm
    #expect(error < 1e-6, "relative error \(error)")
    // And X A X = I, the defining property, to the same accuracy.
    let product = try inverseRoot.multiplied(by: a).multiplied(by: inverseRoot)
    #expect(TestData.maxDifference(product.elements, Matrix.identity(n).elements) < 1e-6)
  }

  @Test func nonSymmetricAndIndefiniteMatricesAreRefused() throws {
    let skew = try Matrix(rows: 2, columns: 2, elements: [1, 2, 0, 1])
    #expect(throws: DAMError.self) { try SymmetricEigendecomposition(skew) }
    let indefinite = try Matrix(rows: 2, columns: 2, elements: [1, 2, 2, 1])
    let error = #expect(throws: DAMError.self) { try indefinite.symmetricSquareRoot() }
    #expect(error?.kind == .notPositiveDefinite)
    #expect(throws: DAMError.self) { try Matrix(rows: 2, columns: 3).symmetricSquareRoot() }
    #expect(throws: DAMError.self) { try Matrix(rows: 2, columns: 2).symmetricInverseSquareRoot() }
  }

  @Test func roundOffNegativeEigenvaluesAreFloored() throws {
    // A rank-one matrix v vᵀ: its zero eigenvalue comes out at round-off level, possibly negative.
    let v = [0.3, -1.2, 2.5, 0.7]
    let a = try Matrix(rows: 4, columns: 4, elements: v.flatMap { x in v.map { x * $0 } })
    let root = try a.symmetricSquareRoot()
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    // √(v vᵀ) = v vᵀ / ‖v‖.
    let expected = a.elements.map { $0 / norm }
    #expect(TestData.maxDifference(root.elements, expected) < 1e-7)
    let inverse = try a.symmetricInverseSquareRoot()
    let finite = inverse.elements.allSatisfy { $0.isFinite }
    #expect(finite)
  }

  @Test func logSumExpIsStable() {
    #expect(abs(logSumExp([0.0, 0, 0]) - log(3.0)) < 1e-15)
    #expect(abs(logSumExp([1000.0, 1000]) - (1000 + log(2.0))) < 1e-12)
    #expect(abs(logSumExp([-1000.0, -1000]) - (-1000 + log(2.0))) < 1e-12)
    #expect(logSumExp([-Double.infinity, 2]) == 2)
    #expect(logSumExp([-Double.infinity, -.infinity]) == -.infinity)
    #expect(logSumExp([Double]()) == -.infinity)
    #expect(logSumExp([1, Double.infinity]) == .infinity)
    #expect(logSumExp([1, Double.nan]).isNaN)
    // Against the naive formula where it does not overflow.
    let x = [0.5, -1.25, 3.0, 2.0]
    #expect(abs(logSumExp(x) - log(x.map { exp($0) }.reduce(0, +))) < 1e-15)
  }
}
