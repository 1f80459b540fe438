/// The Bures-Wasserstein geometry on Gaussians: a step along the averaged optimal maps.
///
/// From the state `N(m, W)` and the aggregated variation `(Σλμ, ΣλA, Σλ)` (a
/// ``GaussianVariation``), with `Ã = ΣλA / Σλ` and `μ̄ = Σλμ / Σλ`, a step of size `τ` is
///
///     A  = (1 - 2τ) I + 2τ Ã
///     m' = m + 2τ (μ̄ - m)
///     W' = A W A
///
/// which is the pushforward of the state by the affine map `x ↦ x - τ g(x)`, `g` the Wasserstein
/// gradient `x ↦ 2 (x - Σλ T(x) / Σλ)` of the weighted divergence, normalised by `Σλ`. The
/// default `τ = 1/2` is the full (fixed-point) step `m' = μ̄`, `W' = Ã W Ã`: the barycentric
/// update of Bures-Wasserstein barycenter algorithms.
///
/// Dividing by the total separation weight `Σλ` makes step sizes mean the same on every polytope,
/// whether the weights sum to 1 (softmax, sparse maps) or to k (k-subsets), as in ``SHKGeometry``.
///
/// For `τ ≤ 1/2`, `A` is a convex combination of `I` and the positive definite `Ã`, so `W'` is
/// positive definite; larger steps can make `A` singular. `W'` is symmetrised, and a step whose
/// `W'` is not positive definite (a Cholesky factorisation fails) is refused with a ``DAMError``.
/// Diagonal states moved by diagonal maps stay diagonal (O(d) per step); otherwise the state is
/// promoted to a full covariance.
public struct BuresWassersteinGeometry: Geometry {
  /// The step size `τ > 0`.
  public let step: Double

  /// A Bures-Wasserstein geometry.
  ///
  /// - Throws: ``DAMError`` naming `step` if it is not a finite number above 0.
  public init(step: Double = 0.5) throws(DAMError) {
    try _requirePositive(step, "step")
    self.step = step
  }

  /// One step (see the type's documentation).
  ///
  /// - Throws: ``DAMError`` naming `variation` if its total weight is not positive or its
  ///   dimension differs from the state's, or naming `step` if the new covariance is not positive
  ///   definite or not finite.
  public func step(from state: Gaussian, along variation: GaussianVariation) throws(DAMError) -> Gaussian {
    let d = state.dimension
    guard variation.dimension == d else {
      throw DAMError.mismatch("variation", "has dimension \(variation.dimension), the state has \(d)")
    }
    guard variation.totalWeight > 0, variation.totalWeight.isFinite else {
      throw DAMError.invalid(
        "variation", "has total separation weight \(variation.totalWeight); a step needs a positive one")
    }
    let scale = 1 / variation.totalWeight
    let t = 2 * step
    var mean = state.mean
    for k in 0..<d { mean[k] += t * (scale * variation.weightedMeans[k] - mean[k]) }
    do throws(DAMError) {
      switch (state.covariance, variation.weightedMaps) {
      case (.diagonal(let w), .diagonal(let sum)):
        var next = w
        for k in 0..<d {
          let a = (1 - t) + t * scale * sum[k]
          next[k] = a * a * w[k]
        }
        return try Gaussian(mean: mean, variances: next)
      default:
        var a = BuresWasserstein.fullMatrix(variation.weightedMaps)
        for k in 0..<(d * d) { a._elements[k] *= t * scale }
        for k in 0..<d { a._elements[k * d + k] += 1 - t }
        let w = BuresWasserstein.fullMatrix(state.covariance)
        let next = _gemm(
          _gemm(a, w, transposeLeft: false, transposeRight: false), a, transposeLeft: false,
          transposeRight: true)
        let symmetric = next._symmetrized()
        // A state must stay positive definite (the next step inverts it); `Gaussian` itself also
        // takes semi-definite covariances.
        guard packedTriangularFactor(symmetric.elements, d, reversed: false) != nil else {
          throw DAMError(.notPositiveDefinite, argument: "covariance", "is not positive definite")
        }
        return try Gaussian(mean: mean, covariance: symmetric)
      }
    } catch {
      throw DAMError(
        error.kind == .nonFinite ? .nonFinite : .notPositiveDefinite, argument: "step",
        "the new state is not a valid Gaussian (\(error)); reduce the step")
    }
  }

  /// The mean's move `‖m' - m‖` or the covariance change `‖W' - W‖_F` (Frobenius), whichever is
  /// larger.
  public func change(from old: Gaussian, to new: Gaussian) -> StateChange {
    var squared = 0.0
    for (a, b) in zip(old.mean, new.mean) { squared += (a - b) * (a - b) }
    var covariance = 0.0
    switch (old.covariance, new.covariance) {
    case (.diagonal(let a), .diagonal(let b)):
      for (x, y) in zip(a, b) { covariance += (x - y) * (x - y) }
    default:
      let a = BuresWasserstein.fullMatrix(old.covariance)
      let b = BuresWasserstein.fullMatrix(new.covariance)
      for (x, y) in zip(a.elements, b.elements) { covariance += (x - y) * (x - y) }
    }
    return StateChange(position: max(squared.squareRoot(), covariance.squareRoot()))
  }
}
