extension Sinkhorn {
  /// The value and gradients of the debiased Sinkhorn divergence
  /// `S_ε(μ, ν) = OT_ε(μ, ν) - OT_ε(μ, μ)/2 - OT_ε(ν, ν)/2` between `μ = Σⱼ aⱼ δ_{xⱼ}` (`x`) and
  /// `ν = Σₖ bₖ δ_{yₖ}` (`y`) solved by ``divergence(_:_:cost:options:)``: with respect to the
  /// positions and weights of both clouds, and `ε`, from the potentials of the three problems (the
  /// envelope theorem; nothing is differentiated through the iterations).
  ///
  /// With `(f, g)` the cross potentials, `p` and `q` the symmetric potentials of `OT_ε(μ, μ)` and
  /// `OT_ε(ν, ν)`, `π` the cross coupling and `π_μ`, `π_ν` the self couplings:
  ///
  /// - Positions: `∂S/∂xⱼ = aⱼ (E_{π(·|xⱼ)}[∇ₓc(xⱼ, ·)] - E_{π_μ(·|xⱼ)}[∇ₓc(xⱼ, ·)])
  ///   = aⱼ (∇f(xⱼ) - ∇p(xⱼ))`, for `c = ‖x - y‖²` equal to `2 aⱼ (T_μ(xⱼ) - T(xⱼ))` with `T`, `T_μ`
  ///   the barycentric maps of `π` and `π_μ`; `∂S/∂yₖ = bₖ (∇g(yₖ) - ∇q(yₖ))` likewise, the cross
  ///   coupling read from `ν` to `μ`. The self term's ½ cancels the 2 of `xⱼ` appearing in both
  ///   arguments of `OT_ε(μ, μ)`, which needs a symmetric cost.
  /// - Weights: `∂S/∂a = f - p + s` and `∂S/∂b = g - q - s`, the derivatives of the dual objective
  ///   `⟨a, f⟩ + ⟨b, g⟩ - ε ⟨a ⊗ b, exp((f ⊕ g - C)/ε) - 1⟩` in unnormalised weights. The cross
  ///   potentials are defined only up to `(f + s, g - s)`, and so are these: only the component
  ///   tangent to the probability simplex (orthogonal to `(1, …, 1)`, the gradient minus its mean)
  ///   is meaningful. The constant `s` is fixed so that `⟨a, ∂S/∂a⟩ = ⟨b, ∂S/∂b⟩` (each `S/2` at
  ///   convergence), so the result does not depend on the split a solve ended on (a warm start
  ///   changes it).
  /// - Regularisation: `∂S/∂ε = KL(π | a ⊗ b) - KL(π_μ | a ⊗ a)/2 - KL(π_ν | b ⊗ b)/2`, since
  ///   `∂OT_ε/∂ε = KL(π | a ⊗ b)` at the optimum (the envelope theorem on
  ///   `min ⟨C, π⟩ + ε KL(π | a ⊗ b)`), each coupling built from its potential with its first
  ///   marginal exact.
  ///
  /// The gradients are exact for the potentials solved, so they are as accurate as the solves:
  /// use a tight tolerance. When ε is small against the gaps between groups of atoms the couplings
  /// split into nearly independent blocks (coupled by `exp(-gap/ε)`, below round-off): the relative
  /// level of the potentials between blocks is then not determined in floating point, and neither
  /// is the weight gradients' constant per block (Docs/reliability.md, "Weight gradients of
  /// nearly split couplings"). Position gradients and `∂S/∂ε` are not affected.
  ///
  /// - Parameters:
  ///   - x: the first cloud, as solved.
  ///   - y: the second cloud, as solved.
  ///   - cost: the cost the divergence was solved with; it must be symmetric.
  ///   - divergence: the solved divergence.
  /// - Throws: ``DAMError`` if the clouds do not fit the cost or the solved divergence, or (naming
  ///   `cost`) if a cost that is not one of the package's is not symmetric on the clouds' atoms.
  public static func divergenceGradient(
    _ x: PointCloud, _ y: PointCloud, cost: any Cost = SquaredEuclideanCost(),
    divergence: SinkhornDivergenceValue
  ) throws(DAMError) -> DivergenceGradient<PointCloudGradient, PointCloudGradient> {
    try checkDimensions(x, y, cost)
    let cross = divergence.crossTerm
    guard cross.f.count == x.count, cross.g.count == y.count,
      divergence.firstSelfTerm.potential.count == x.count,
      divergence.secondSelfTerm.potential.count == y.count
    else {
      throw DAMError.mismatch("divergence", "its potentials do not fit these clouds")
    }
    guard divergence.firstSelfTerm.epsilon == cross.epsilon,
      divergence.secondSelfTerm.epsilon == cross.epsilon
    else {
      throw DAMError.mismatch("divergence", "its three problems were solved at different epsilons")
    }
    try requireSymmetricCost(cost, x, y)
    return debiasedSinkhornGradient(
      cost, x, y, value: divergence.value, cross: cross, xSelf: divergence.firstSelfTerm,
      ySelf: divergence.secondSelfTerm, xSelfRows: nil)
  }
}

/// For the squared Euclidean cost the barycentric map `T(xⱼ)` of the coupling from `x` to `y`
/// given by the potential `g` on `y`, for any other cost the gradient `∇f(xⱼ)` of the first
/// potential (``mapFromPotential(_:_:epsilon:logB:g:)``, ``gradientFromPotential``); `matrix` is
/// `c(xⱼ, yₖ)`.
func transportRows(
  _ ground: any Cost, _ matrix: CostMatrix, _ x: PointCloud, _ y: PointCloud, epsilon: Double, g: [Double]
) -> Matrix {
  let logB = y.weights.map(_log)
  guard ground is SquaredEuclideanCost else {
    return gradientFromPotential(ground, matrix, x, y, epsilon: epsilon, logB: logB, g: g)
  }
  return mapFromPotential(matrix, y, epsilon: epsilon, logB: logB, g: g)
}

/// The gradients of `S_ε(x, y)` (``Sinkhorn/divergenceGradient(_:_:cost:divergence:)``) from the potentials of
/// the three problems; `xSelfRows`, when known, is ``transportRows`` of `x`'s self problem (the
/// query's cached map). The clouds and potentials must fit each other and the cost be symmetric.
func debiasedSinkhornGradient(
  _ ground: any Cost, _ x: PointCloud, _ y: PointCloud, value: Double, cross: EntropicTransport,
  xSelf: SelfTransport, ySelf: SelfTransport, xSelfRows: Matrix?
) -> DivergenceGradient<PointCloudGradient, PointCloudGradient> {
  let epsilon = cross.epsilon
  let (a, b) = (x.weights, y.weights)
  let xy = CostMatrix(x.points, y.points, cost: ground)
  let xx = CostMatrix(x.points, x.points, cost: ground)
  let yy = CostMatrix(y.points, y.points, cost: ground)
  let xCross = transportRows(ground, xy, x, y, epsilon: epsilon, g: cross.g)
  let yCross = transportRows(ground, xy.transposed(), y, x, epsilon: epsilon, g: cross.f)
  let xOwn = xSelfRows ?? transportRows(ground, xx, x, x, epsilon: epsilon, g: xSelf.potential)
  let yOwn = transportRows(ground, yy, y, y, epsilon: epsilon, g: ySelf.potential)

  // Maps: ∂S/∂xⱼ = 2 aⱼ (T_μ(xⱼ) - T(xⱼ)); potential gradients: aⱼ (∇f(xⱼ) - ∇p(xⱼ)).
  let sign = ground is SquaredEuclideanCost ? -2.0 : 1.0
  func positions(_ weights: [Double], _ crossRows: Matrix, _ ownRows: Matrix) -> Matrix {
    let d = crossRows.columns
    var elements = [Double](repeating: 0, count: crossRows.rows * d)
    for j in 0..<crossRows.rows {
      for t in 0..<d {
        elements[j * d + t] =
          sign * weights[j] * (crossRows._elements[j * d + t] - ownRows._elements[j * d + t])
      }
    }
    return Matrix(_rows: crossRows.rows, columns: d, elements: elements)
  }

  let (first, second) = debiasedWeightGradients(
    a: a, b: b, f: cross.f, g: cross.g, p: xSelf.potential, q: ySelf.potential)

  let logA = a.map(_log)
  let logB = b.map(_log)
  let crossEntropy = relativeEntropyFromPotential(xy, a: a, epsilon: epsilon, logB: logB, g: cross.g)
  let xEntropy = relativeEntropyFromPotential(xx, a: a, epsilon: epsilon, logB: logA, g: xSelf.potential)
  let yEntropy = relativeEntropyFromPotential(yy, a: b, epsilon: epsilon, logB: logB, g: ySelf.potential)
  return DivergenceGradient(
    value: value,
    state: PointCloudGradient(points: positions(a, xCross, xOwn), weights: first),
    pattern: PointCloudGradient(points: positions(b, yCross, yOwn), weights: second),
    epsilon: crossEntropy - 0.5 * xEntropy - 0.5 * yEntropy)
}

/// The weight gradients of the debiased divergence, `f - p + s` and `g - q - s`, from the cross
/// potentials `(f, g)` and the self potentials `p` (of `a`) and `q` (of `b`): the constant `s`
/// makes `⟨a, ∂S/∂a⟩ = ⟨b, ∂S/∂b⟩`, so the cross potentials' own constant `(f + s, g - s)`, which a
/// warm start moves, cancels. Shared by the point-cloud and the grid gradients.
func debiasedWeightGradients(
  a: [Double], b: [Double], f: [Double], g: [Double], p: [Double], q: [Double]
) -> (first: [Double], second: [Double]) {
  var first = zip(f, p).map { $0 - $1 }
  var second = zip(g, q).map { $0 - $1 }
  var (af, bg) = (0.0, 0.0)
  for j in a.indices { af += a[j] * first[j] }
  for k in b.indices { bg += b[k] * second[k] }
  let shift = (bg - af) / 2
  for j in first.indices { first[j] += shift }
  for k in second.indices { second[k] -= shift }
  return (first, second)
}

/// Throws naming `cost` unless `c(u, v) = c(v, u)` (to 1e-12 relative) for every pair of atoms
/// `u`, `v` of the clouds, within each and across: the self problems `OT_ε(μ, μ)` (one symmetric
/// potential) and the gradients (`∇_y c(x, y)` is read as `∇ₓc(y, x)`) need a symmetric cost.
/// The package's costs are symmetric by construction and not checked; a ``ClosureCost`` or a
/// conformance of the user's is, at one cost evaluation per pair.
func requireSymmetricCost(_ ground: any Cost, _ x: PointCloud, _ y: PointCloud) throws(DAMError) {
  try requireSymmetricCostAcross(ground, x, y)
  try requireSymmetricCost(ground, x, name: "x")
  try requireSymmetricCost(ground, y, name: "y")
}

/// ``requireSymmetricCost(_:_:_:)`` for the pairs of one atom of `x` and one of `y` only, for a
/// caller whose clouds' own pairs have been checked (a divergence's prepared pattern and query).
func requireSymmetricCostAcross(_ ground: any Cost, _ x: PointCloud, _ y: PointCloud) throws(DAMError) {
  guard !isSymmetricByConstruction(ground) else { return }
  try requireSymmetricPairs(ground, x, y, names: ("x", "y"), within: false)
}

/// ``requireSymmetricCost(_:_:_:)`` for the pairs of atoms of one cloud, the one a self problem
/// `OT_ε(x, x)` is solved on (`name`: how the caller calls it). The symmetric solver assumes
/// `c(u, v) = c(v, u)`; with an asymmetric cost it can meet its tolerance on a wrong value
/// (Docs/reliability.md, "Asymmetric costs in self problems").
func requireSymmetricCost(_ ground: any Cost, _ x: PointCloud, name: String) throws(DAMError) {
  guard !isSymmetricByConstruction(ground) else { return }
  try requireSymmetricPairs(ground, x, x, names: (name, name), within: true)
}

private func isSymmetricByConstruction(_ ground: any Cost) -> Bool {
  ground is SquaredEuclideanCost || ground is PowerCost || ground is MahalanobisCost
}

/// Compares `c(u, v)` with `c(v, u)` over the pairs of atoms of `first` and `second` (over `j < k`
/// only when `within`, the two being one cloud).
private func requireSymmetricPairs(
  _ ground: any Cost, _ first: PointCloud, _ second: PointCloud, names: (String, String), within: Bool
) throws(DAMError) {
  let d = first.dimension
  let found: (Int, Int, Double, Double)? = first.points._elements.withUnsafeBufferPointer { pu in
    second.points._elements.withUnsafeBufferPointer { pv in
      for j in 0..<first.count {
        let u = UnsafeBufferPointer(rebasing: pu[(j * d)..<((j + 1) * d)])
        for k in (within ? j + 1 : 0)..<second.count {
          let v = UnsafeBufferPointer(rebasing: pv[(k * d)..<((k + 1) * d)])
          let (forward, backward) = (ground.cost(u, v), ground.cost(v, u))
          if abs(forward - backward) > 1e-12 * max(abs(forward), abs(backward)) {
            return (j, k, forward, backward)
          }
        }
      }
      return nil
    }
  }
  if let (j, k, forward, backward) = found {
    throw DAMError.invalid(
      "cost",
      "\(ground) is not symmetric: c(u, v) = \(forward) but c(v, u) = \(backward) for atom \(j) of \(names.0) and atom \(k) of \(names.1); the Sinkhorn divergence's self terms OT_eps(x, x) and its gradients need c(x, y) = c(y, x) (the transport between two clouds alone does not)"
    )
  }
}
