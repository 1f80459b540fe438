/// The gradients of `W₂²(N(m, W), N(μ, S)) = ‖m - μ‖² + tr(W + S - 2 (S^½ W S^½)^½)` in the
/// covariances, on the space of symmetric matrices (the trace inner product).
///
/// `d/dt tr(S^½ (W + tH) S^½)^½ = ½ tr(M^(-½) S^½ H S^½) = ½ tr(A H)` with `M = S^½ W S^½` and
/// `A = S^½ M^(-½) S^½` the optimal map from the state to the pattern, so `∇_W = I - A`; the trace
/// term is symmetric in `W, S`, so `∇_S = I - A⁻¹` with `A⁻¹ = S^(-½) M^½ S^(-½)` the optimal map
/// back. Both are symmetric already: no symmetrisation of a non-symmetric derivative is involved
/// (the derivative in an off-diagonal entry `W[i,j] = W[j,i]`, moved together, is `2 ∇_W[i,j]`).
///
/// Numerics: where a covariance is full, both maps come from one eigendecomposition of `M` and one
/// of the pattern's covariance (`S^(-½)`). A covariance whose smallest eigenvalue is at most the
/// round-off floor of ``EigenvalueFloor`` (`d · ulp · λmax`) is singular to double precision: the
/// gradient does not exist there (the map from it is unbounded), and these functions throw
/// instead of returning a huge or floored value; so they do when `M` itself is at its floor (two
/// covariances each invertible but too ill-conditioned together). Above the floor the maps carry a
/// relative error of at most about `κ · ulp` for the condition number `κ` of `M` (measured in
/// Docs/reliability.md, "Numerical faults"). When both covariances are
/// diagonal every matrix is diagonal, the maps are `√(sₖ / wₖ)` and `√(wₖ / sₖ)` entry by entry
/// (exact to rounding for any positive variances), and no floor applies.
extension BuresWasserstein {
  /// `W₂²(a, b)` with its gradients in both Gaussians, from scratch: `state` holds the gradient in
  /// `a = N(m₁, S₁)`, `pattern` the one in `b = N(m₂, S₂)`, as for
  /// ``BuresWassersteinDivergence/gradient(_:at:query:pattern:cache:)`` with `a` the state:
  /// `∇_{m₁} = 2 (m₁ - m₂) = -∇_{m₂}`, `∇_{S₁} = I - T` and `∇_{S₂} = I - T⁻¹` with
  /// `T = S₂^½ (S₂^½ S₁ S₂^½)^(-½) S₂^½` the optimal map from `a` to `b`
  /// (``map(from:to:)``); full symmetric matrices, diagonal when both covariances are.
  ///
  /// - Throws: ``DAMError`` naming `b` if the dimensions differ; of kind `notPositiveDefinite`
  ///   naming `a` or `b` if that covariance is singular (smallest eigenvalue at most `d · ulp` of
  ///   the largest), where `W₂²` is not differentiable, or naming `a` if the two are too
  ///   ill-conditioned together; a numerical failure if the value or a gradient overflows.
  public static func gradient(_ a: Gaussian, _ b: Gaussian) throws(DAMError)
    -> DivergenceGradient<GaussianGradient, GaussianGradient>
  {
    try requireSameDimension(a, b, "b")
    do throws(DAMError) {
      let root = try squareRoot(b.covariance, "pattern")
      let result = try evaluate(state: a, pattern: b, root: root)
      guard result.value.isFinite else {
        throw DAMError(
          .numericalFailure, argument: "pattern",
          "W2^2 to a overflows (\(result.value)): the means are too far apart (or the variances too large) for doubles; rescale the coordinates"
        )
      }
      let spectrum: (smallest: Double, largest: Double)
      switch a.covariance {
      case .diagonal(let w): spectrum = (w.min() ?? 0, w.max() ?? 0)
      case .full(let matrix):
        let eigenvalues = try SymmetricEigendecomposition(matrix, argument: "state").eigenvalues
        spectrum = (eigenvalues.first ?? 0, eigenvalues.last ?? 0)
      }
      let covariances = try covarianceGradients(
        state: a, stateSpectrum: spectrum, pattern: b, root: root, map: result.map)
      let mean = zip(a.mean, b.mean).map { 2 * ($0 - $1) }
      return DivergenceGradient(
        value: result.value, state: GaussianGradient(mean: mean, covariance: covariances.state),
        pattern: GaussianGradient(mean: mean.map { -$0 }, covariance: covariances.pattern))
    } catch {
      throw error.renamingArgument { $0 == "pattern" ? "b" : "a" }
    }
  }

  /// `(∇_W, ∇_S)` of `W₂²` between a state `N(m, W)` and a pattern `N(μ, S)` of the same dimension,
  /// as full symmetric matrices (diagonal when both covariances are).
  ///
  /// - Parameters:
  ///   - root: `S^½`, as the pattern's cache holds it.
  ///   - stateSpectrum: the smallest and largest eigenvalue of `W`.
  ///   - map: the optimal map `A` from the state to the pattern if an evaluation holds it.
  /// - Throws: ``DAMError`` of kind `notPositiveDefinite` naming `state` or `pattern` when that
  ///   covariance is singular (or `state` when the two are singular together, see the extension's
  ///   documentation); a numerical failure of an eigendecomposition, or of a non-finite gradient.
  static func covarianceGradients(
    state: Gaussian, stateSpectrum: (smallest: Double, largest: Double), pattern: Gaussian,
    root: Gaussian.Covariance, map: Gaussian.Covariance?
  ) throws(DAMError) -> (state: Matrix, pattern: Matrix) {
    let d = state.dimension
    if case .diagonal(let w) = state.covariance, case .diagonal(let s) = pattern.covariance {
      var toPattern = [Double](repeating: 0, count: d)
      var toState = [Double](repeating: 0, count: d)
      for k in 0..<d {
        let rw = w[k].squareRoot()
        let rs = s[k].squareRoot()
        toPattern[k] = 1 - rs / rw
        toState[k] = 1 - rw / rs
      }
      return (
        try finiteGradient(Matrix(diagonal: toPattern), "state"),
        try finiteGradient(Matrix(diagonal: toState), "pattern")
      )
    }
    try requireNonsingular(stateSpectrum.smallest, stateSpectrum.largest, d, "state")
    // S^(-½), from S's own eigendecomposition (its eigenvalues decide whether S is singular).
    let inverseRoot: Matrix
    switch pattern.covariance {
    case .diagonal(let s):
      try requireNonsingular(s.min() ?? 0, s.max() ?? 0, d, "pattern")
      inverseRoot = Matrix(diagonal: s.map { 1 / $0.squareRoot() })
    case .full(let matrix):
      let eigen = try SymmetricEigendecomposition(matrix, argument: "pattern")
      try requireNonsingular(eigen.eigenvalues.first ?? 0, eigen.eigenvalues.last ?? 0, d, "pattern")
      inverseRoot = eigen.reconstructed { 1 / $0.squareRoot() }
    }
    let r = fullMatrix(root)
    let w = fullMatrix(state.covariance)
    // M = S^½ W S^½, as BuresWasserstein.evaluate forms it.
    let middle = _gemm(
      _gemm(r, w, transposeLeft: false, transposeRight: false), r, transposeLeft: false, transposeRight: false
    )
    let eigen = try SymmetricEigendecomposition(middle._symmetrized(), argument: "state")
    let smallest = eigen.eigenvalues.first ?? 0
    let largest = eigen.eigenvalues.last ?? 0
    let floor = EigenvalueFloor.default.value(for: eigen.eigenvalues)
    guard smallest > floor else {
      throw DAMError(
        .notPositiveDefinite, argument: "state",
        "covariance and the other Gaussian's are too ill-conditioned together: S^1/2 W S^1/2 (W this covariance, S the other) has smallest eigenvalue \(smallest), at most the round-off floor \(floor) (\(d) ulp of its largest, \(largest)): it is singular to double precision, and the optimal maps that W2^2's gradients are made of cannot be computed"
      )
    }
    let toPattern =
      map.map(fullMatrix)
      ?? _gemm(
        _gemm(r, eigen.reconstructed { 1 / $0.squareRoot() }, transposeLeft: false, transposeRight: false), r,
        transposeLeft: false, transposeRight: false
      )._symmetrized()
    let toState = _gemm(
      _gemm(
        inverseRoot, eigen.reconstructed { $0.squareRoot() }, transposeLeft: false, transposeRight: false),
      inverseRoot, transposeLeft: false, transposeRight: false
    )._symmetrized()
    let identity = Matrix.identity(d)
    return (
      try finiteGradient(identity.adding(-1, times: toPattern), "state"),
      try finiteGradient(identity.adding(-1, times: toState), "pattern")
    )
  }

  /// Throws unless `smallest` (the smallest eigenvalue of a covariance whose largest is `largest`)
  /// is above the round-off floor `d · ulp · largest` of ``EigenvalueFloor``.
  static func requireNonsingular(_ smallest: Double, _ largest: Double, _ d: Int, _ side: String)
    throws(DAMError)
  {
    let floor = EigenvalueFloor.default.value(largest: largest, count: d)
    guard smallest > floor else {
      throw DAMError(
        .notPositiveDefinite, argument: side,
        "covariance is singular: its smallest eigenvalue \(smallest) is at most the round-off floor \(floor) (\(d) ulp of its largest, \(largest)), and W2^2 is not differentiable at a singular covariance (the optimal map from it is unbounded)"
      )
    }
  }

  /// The gradient, or a numerical failure naming `side` if an entry overflowed.
  private static func finiteGradient(_ gradient: Matrix, _ side: String) throws(DAMError) -> Matrix {
    guard gradient.elements.allSatisfy(\.isFinite) else {
      throw DAMError(
        .numericalFailure, argument: side,
        "the covariance gradient of W2^2 overflows: the variances are too far apart for doubles; rescale the coordinates"
      )
    }
    return gradient
  }
}

extension Matrix {
  /// `self + weight × other`, entry by entry.
  fileprivate func adding(_ weight: Double, times other: Matrix) -> Matrix {
    var sum = self
    sum.add(weight, times: other)
    return sum
  }
}
