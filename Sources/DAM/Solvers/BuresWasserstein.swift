/// Closed forms of optimal transport between Gaussians with the quadratic cost `‖x - y‖²`.
///
/// - The squared 2-Wasserstein (Bures-Wasserstein) distance
///   `W₂²(N(m₁, S₁), N(m₂, S₂)) = ‖m₁ - m₂‖² + tr(S₁ + S₂ - 2 (S₂^½ S₁ S₂^½)^½)`
///   (the trace term is symmetric in `S₁, S₂`).
/// - The optimal map from `N(m, W)` to `N(μ, S)`: `T(x) = μ + A (x - m)` with
///   `A = S^½ (S^½ W S^½)^(-½) S^½`, symmetric positive definite, and `A W A = S`.
///
/// Full covariances are handled through one symmetric eigendecomposition of `S^½ W S^½` (O(d³));
/// when both covariances are diagonal every matrix is diagonal and the cost is O(d), with
/// `A = diag(√(sₖ / wₖ))` and trace term `Σₖ (√wₖ - √sₖ)²` (no cancellation). A diagonal
/// covariance meeting a full one is promoted to full.
///
/// Eigenvalues of `S^½ W S^½` at round-off level are treated as in ``EigenvalueFloor`` (the
/// default floor): square roots of negative round-off are 0, inverse square roots are taken at the
/// floor, so results stay finite for covariances with condition numbers up to about 1e10; the
/// trace term, a difference, is clamped at 0.
public enum BuresWasserstein {
  /// The squared 2-Wasserstein distance `W₂²(a, b)` between two Gaussians (see the type's
  /// documentation for the formula).
  ///
  /// - Throws: ``DAMError`` naming `b` if the dimensions differ, the distance overflows (means or
  ///   variances near the square root of the largest double), or a numerical failure of the
  ///   eigendecomposition.
  public static func distanceSquared(_ a: Gaussian, _ b: Gaussian) throws(DAMError) -> Double {
    try requireSameDimension(a, b, "b")
    let value = try evaluate(state: a, pattern: b, root: squareRoot(b.covariance, "b")).value
    guard value.isFinite else {
      throw DAMError(
        .numericalFailure, argument: "b",
        "W2^2 to a overflows (\(value)): the means are too far apart (or the variances too large) for doubles; rescale the coordinates"
      )
    }
    return value
  }

  /// The optimal (Brenier) map `T(x) = linear · x + offset` pushing `source` onto `target`:
  /// `linear = A = S^½ (S^½ W S^½)^(-½) S^½` and `offset = μ - A m`, for `source = N(m, W)` and
  /// `target = N(μ, S)`. `A` is returned as a full matrix even when both covariances are diagonal.
  ///
  /// - Throws: ``DAMError`` naming `target` if the dimensions differ, or a numerical failure of the
  ///   eigendecomposition.
  public static func map(from source: Gaussian, to target: Gaussian) throws(DAMError)
    -> (linear: Matrix, offset: [Double])
  {
    try requireSameDimension(source, target, "target")
    let result = try evaluate(state: source, pattern: target, root: squareRoot(target.covariance, "target"))
    let linear = fullMatrix(result.map)
    let moved = linear.gemv(transpose: false, source.mean)
    return (linear, zip(target.mean, moved).map { $0 - $1 })
  }

  /// `S^½`: elementwise square roots of a diagonal, the eigendecomposition square root of a full
  /// matrix.
  static func squareRoot(_ covariance: Gaussian.Covariance, _ argument: String) throws(DAMError)
    -> Gaussian.Covariance
  {
    switch covariance {
    case .diagonal(let variances): return .diagonal(variances.map { $0.squareRoot() })
    case .full(let matrix): return .full(try matrix.symmetricSquareRoot(argument: argument))
    }
  }

  /// `W₂²(state, pattern)` and the map matrix `A` from `state` to `pattern`, given `root = S^½`
  /// of the pattern's covariance. Dimensions are assumed equal.
  static func evaluate(state: Gaussian, pattern: Gaussian, root: Gaussian.Covariance) throws(DAMError)
    -> (value: Double, map: Gaussian.Covariance)
  {
    var meanPart = 0.0
    for (a, b) in zip(state.mean, pattern.mean) { meanPart += (a - b) * (a - b) }
    if case .diagonal(let w) = state.covariance, case .diagonal(let s) = pattern.covariance {
      var bures = 0.0
      var map = [Double](repeating: 0, count: w.count)
      for k in 0..<w.count {
        let rw = w[k].squareRoot()
        let rs = s[k].squareRoot()
        bures += (rw - rs) * (rw - rs)
        map[k] = rs / rw
      }
      return (meanPart + bures, .diagonal(map))
    }
    let r = fullMatrix(root)
    let w = fullMatrix(state.covariance)
    // M = S^½ W S^½, symmetric positive definite.
    let middle = _gemm(
      _gemm(r, w, transposeLeft: false, transposeRight: false), r, transposeLeft: false, transposeRight: false
    )
    let eigen = try SymmetricEigendecomposition(middle._symmetrized(), argument: "state")
    let tiny = EigenvalueFloor.default.value(for: eigen.eigenvalues)
    var rootTrace = 0.0
    for v in eigen.eigenvalues where v > 0 { rootTrace += v.squareRoot() }
    let bures = max(0, trace(state.covariance) + trace(pattern.covariance) - 2 * rootTrace)
    let inverseRoot = eigen.reconstructed { 1 / Swift.max($0, tiny).squareRoot() }
    let map = _gemm(
      _gemm(r, inverseRoot, transposeLeft: false, transposeRight: false), r, transposeLeft: false,
      transposeRight: false)
    return (meanPart + bures, .full(map._symmetrized()))
  }

  /// The trace of a covariance.
  static func trace(_ covariance: Gaussian.Covariance) -> Double {
    switch covariance {
    case .diagonal(let values): values.reduce(0, +)
    case .full(let matrix): matrix.trace
    }
  }

  /// A covariance-like symmetric matrix as a full matrix.
  static func fullMatrix(_ covariance: Gaussian.Covariance) -> Matrix {
    switch covariance {
    case .diagonal(let values): Matrix(diagonal: values)
    case .full(let matrix): matrix
    }
  }

  static func requireSameDimension(_ a: Gaussian, _ b: Gaussian, _ argument: String) throws(DAMError) {
    guard a.dimension == b.dimension else {
      throw DAMError.mismatch(argument, "has dimension \(b.dimension), the other Gaussian has \(a.dimension)")
    }
  }
}
