import CLinearAlgebra

/// The eigendecomposition `A = V diag(λ) Vᵀ` of a real symmetric matrix, computed with LAPACK's
/// divide-and-conquer `dsyevd`.
///
/// The input must be symmetric up to a relative tolerance (``defaultSymmetryTolerance``, default
/// `1e-10` of the largest absolute element); within it the matrix is symmetrised as `(A + Aᵀ)/2`
/// before factorisation, so that round-off asymmetry from earlier products is harmless.
public struct SymmetricEigendecomposition: Sendable {
  /// The eigenvalues in ascending order.
  public let eigenvalues: [Double]
  /// The orthonormal eigenvectors as the columns of a square matrix, in the order of ``eigenvalues``.
  public let eigenvectors: Matrix

  /// The default relative asymmetry accepted (and symmetrised away) by ``init(_:symmetryTolerance:argument:)``.
  public static let defaultSymmetryTolerance = 1e-10

  /// Factorises a symmetric matrix.
  ///
  /// - Parameters:
  ///   - matrix: a square, finite matrix, symmetric within `symmetryTolerance`.
  ///   - symmetryTolerance: the largest accepted `max|A - Aᵀ| / max|A|`.
  ///   - argument: the name used in errors.
  /// - Throws: ``DAMError`` if the matrix is not square, has a non-finite value, is not symmetric,
  ///   or LAPACK fails to converge.
  public init(
    _ matrix: Matrix, symmetryTolerance: Double = defaultSymmetryTolerance,
    argument: String = "matrix"
  ) throws(DAMError) {
    guard matrix.isSquare else {
      throw DAMError.mismatch(argument, "must be square, got \(matrix.rows) x \(matrix.columns)")
    }
    try _requireFinite(matrix.elements, argument)
    let n = matrix.rows
    let scale = matrix.maxAbs
    let asymmetry = matrix.asymmetry
    guard asymmetry <= symmetryTolerance * scale else {
      throw DAMError.invalid(
        argument,
        "is not symmetric: max |A[i,j] - A[j,i]| = \(asymmetry), more than \(symmetryTolerance) of max |A| = \(scale)"
      )
    }
    // Column-major work array holding the symmetrised lower triangle (the matrix is symmetric,
    // so row- and column-major storage coincide).
    var work = matrix._symmetrized().elements
    var values = [Double](repeating: 0, count: n)
    if n > 0 {
      let info = work.withUnsafeMutableBufferPointer { a in
        values.withUnsafeMutableBufferPointer { w in
          LAPACKE_dsyevd(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n),
            a.baseAddress, Int32(n), w.baseAddress)
        }
      }
      guard info == 0 else {
        throw DAMError(
          .numericalFailure, argument: argument,
          "symmetric eigendecomposition failed (LAPACK dsyevd info = \(info))")
      }
    }
    // Column j of the column-major result is eigenvector j; as a row-major matrix that is Vᵀ.
    eigenvalues = values
    eigenvectors = Matrix(_rows: n, columns: n, elements: work).transposed()
  }

  /// `V diag(f(λ)) Vᵀ`, symmetric to the last bit.
  public func reconstructed(applying f: (Double) -> Double) -> Matrix {
    let n = eigenvalues.count
    // Scale the columns of V by f(λ), multiply by Vᵀ, and symmetrise the round-off.
    var scaled = eigenvectors
    for j in 0..<n {
      let factor = f(eigenvalues[j])
      for i in 0..<n { scaled._elements[i * n + j] *= factor }
    }
    return _gemm(scaled, eigenvectors, transposeLeft: false, transposeRight: true)._symmetrized()
  }
}

/// How eigenvalues at round-off level are treated by the square roots of a symmetric positive
/// semidefinite matrix.
///
/// With `λmax` the largest eigenvalue and `n` the dimension, the floor is
/// `relative * λmax`, where `relative` defaults to `n * Double.ulpOfOne` (about `n * 2.2e-16`),
/// the size of the round-off in eigenvalues computed by a backward-stable solver. Then:
/// - an eigenvalue below `-floor` means the matrix is not positive semidefinite: an error;
/// - ``Matrix/symmetricSquareRoot(floor:argument:)`` takes `sqrt(max(λ, 0))`;
/// - ``Matrix/symmetricInverseSquareRoot(floor:argument:)`` takes `1 / sqrt(max(λ, floor))`, so a
///   numerically singular matrix gives a large but finite result. A matrix with condition number
///   `1e8` is far above the floor and is inverted exactly up to round-off.
public struct EigenvalueFloor: Sendable, Hashable {
  /// The floor relative to the largest eigenvalue; `nil` means `n * Double.ulpOfOne`.
  public var relative: Double?

  /// A floor of `relative * λmax`, or the default `n * ulpOfOne * λmax` when `relative` is `nil`.
  public init(relative: Double? = nil) { self.relative = relative }

  /// The default floor.
  public static let `default` = EigenvalueFloor()

  func value(for eigenvalues: [Double]) -> Double {
    value(largest: eigenvalues.last ?? 0, count: eigenvalues.count)
  }

  /// The floor for `count` eigenvalues whose largest is `largest` (the eigenvalues need not be at
  /// hand: a diagonal covariance's variances, unsorted).
  func value(largest: Double, count: Int) -> Double {
    let factor = relative ?? Double(max(count, 1)) * Double.ulpOfOne
    return factor * max(largest, 0)
  }
}

extension Matrix {
  /// The symmetric positive semidefinite square root `A^(1/2)`, through the eigendecomposition.
  ///
  /// See ``EigenvalueFloor`` for the treatment of round-off-level eigenvalues.
  /// - Throws: ``DAMError`` if the matrix is not square, symmetric and positive semidefinite.
  public func symmetricSquareRoot(floor: EigenvalueFloor = .default, argument: String = "matrix")
    throws(DAMError) -> Matrix
  {
    let eigen = try SymmetricEigendecomposition(self, argument: argument)
    _ = try checkSemidefinite(eigen, floor, argument)
    return eigen.reconstructed { $0 > 0 ? $0.squareRoot() : 0 }
  }

  /// The inverse square root `A^(-1/2)` of a symmetric positive definite matrix.
  ///
  /// Eigenvalues below the floor (see ``EigenvalueFloor``) are raised to it, so the result is
  /// always finite.
  /// - Throws: ``DAMError`` if the matrix is not square, symmetric and positive semidefinite, or
  ///   is zero.
  public func symmetricInverseSquareRoot(floor: EigenvalueFloor = .default, argument: String = "matrix")
    throws(DAMError) -> Matrix
  {
    let eigen = try SymmetricEigendecomposition(self, argument: argument)
    let tiny = try checkSemidefinite(eigen, floor, argument)
    guard tiny > 0 || rows == 0 else {
      throw DAMError(.notPositiveDefinite, argument: argument, "is zero; it has no inverse square root")
    }
    return eigen.reconstructed { 1 / Swift.max($0, tiny).squareRoot() }
  }
}

/// Checks positive semidefiniteness up to the floor and returns the floor value.
func checkSemidefinite(
  _ eigen: SymmetricEigendecomposition, _ floor: EigenvalueFloor, _ argument: String
) throws(DAMError) -> Double {
  let tiny = floor.value(for: eigen.eigenvalues)
  if let smallest = eigen.eigenvalues.first, smallest < -tiny {
    throw DAMError(
      .notPositiveDefinite, argument: argument,
      "is not positive semidefinite: smallest eigenvalue \(smallest), below -\(tiny)")
  }
  return tiny
}
