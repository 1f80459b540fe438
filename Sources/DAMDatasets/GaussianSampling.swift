import DAM

/// Random rotations and perturbations of Gaussians at a prescribed Wasserstein distance: the
/// queries of the BW-DAM experiments.
public enum GaussianSampling {
  /// A random orthogonal `d x d` matrix: Gram-Schmidt (twice, for orthogonality to round-off) of
  /// `d` standard normal vectors, which are its columns.
  public static func randomRotation(dimension d: Int, using generator: inout SeededGenerator) -> Matrix {
    var columns: [[Double]] = []
    while columns.count < d {
      var v = generator.gaussians(d)
      for _ in 0..<2 {
        for c in columns {
          let dot = zip(v, c).reduce(0) { $0 + $1.0 * $1.1 }
          for k in 0..<d { v[k] -= dot * c[k] }
        }
      }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      guard norm > 1e-8 else { continue }  // (probability zero) a dependent draw: draw again
      columns.append(v.map { $0 / norm })
    }
    var rotation = Matrix(rows: d, columns: d)
    for (j, c) in columns.enumerated() { for i in 0..<d { rotation[i, j] = c[i] } }
    return rotation
  }

  /// The relative accuracy `|W₂² - r²| / r²` of ``perturbation(of:distance:using:)``.
  public static let perturbationTolerance = 1e-10

  /// A Gaussian at 2-Wasserstein distance `distance` from `gaussian`, in a random direction.
  ///
  /// The candidate at scale `t` is `N(m + t a u, (I + t b K) S (I + t b K))`, with `u` a random
  /// unit vector and `K` a random symmetric matrix of spectral norm 1 (standard normal entries,
  /// symmetrised); `a` and `b` share `W₂²` between the mean and the covariance, with `t b ≤ 1/2`
  /// at the target so the covariance stays positive definite. While `I + t b K` is positive
  /// definite the map `x ↦ m + t a u + (I + t b K)(x - m)` is optimal and `W₂²` grows with `t`;
  /// `t` is found by bisection until DAM's `BuresWasserstein.distanceSquared(_:_:)` equals
  /// `distance²` to ``perturbationTolerance`` relative.
  ///
  /// - Throws: `DAMError` (of DAM) naming `distance` if it is not finite and `> 0`, or if the
  ///   bisection cannot reach the tolerance (a distance below the round-off of `W₂²` at this
  ///   covariance).
  public static func perturbation(
    of gaussian: Gaussian, distance: Double, using generator: inout SeededGenerator
  ) throws(DAMError) -> Gaussian {
    try requirePositive(distance, "distance")
    let d = gaussian.dimension
    let target = distance * distance
    let u = generator.unitVector(dimension: d)
    var k = symmetrized(generator.gaussians(d * d), dimension: d)
    let spectral = try SymmetricEigendecomposition(k, argument: "distance").eigenvalues.reduce(0) {
      max($0, abs($1))
    }
    guard spectral > 0 else {
      throw DAMError(
        .invalidArgument, argument: "distance", "a degenerate random direction; try another seed")
    }
    for i in 0..<d { for j in 0..<d { k[i, j] /= spectral } }
    let s = gaussian.covarianceMatrix
    // c = tr(K S K) = ‖K S^½‖²_F > 0: W₂²(t) = t² (a² + b² c) while I + t b K is positive definite.
    let ks = try k.multiplied(by: s)
    var c = 0.0
    for i in 0..<d { for j in 0..<d { c += ks[i, j] * k[j, i] } }
    // Half of W₂² on each part at t = 1, capped so that b ≤ 1/2.
    let b = min((target / (2 * max(c, .leastNormalMagnitude))).squareRoot(), 0.5)
    let a = max(target - b * b * c, 0).squareRoot()
    func candidate(_ t: Double) throws(DAMError) -> Gaussian {
      var map = k
      for i in 0..<d { for j in 0..<d { map[i, j] *= t * b } }
      for i in 0..<d { map[i, i] += 1 }
      // Gaussian(mean:covariance:) symmetrises the product's round-off asymmetry.
      return try Gaussian(
        mean: zip(gaussian.mean, u).map { $0 + t * a * $1 },
        covariance: map.multiplied(by: s).multiplied(by: map))
    }
    // W₂²(1) = r² up to round-off; bisect on [0, 1.5] (t b ≤ 3/4 there, so I + t b K ≻ 0).
    var low = 0.0
    var high = 1.5
    var best = try candidate(1)
    var error = try BuresWasserstein.distanceSquared(gaussian, best) - target
    var iterations = 0
    while abs(error) > perturbationTolerance * target {
      iterations += 1
      guard iterations <= 200, high - low > 0 else {
        throw DAMError(
          .invalidArgument, argument: "distance",
          "\(distance) could not be reached to \(perturbationTolerance) relative (W₂² off by \(error))")
      }
      let t = (low + high) / 2
      best = try candidate(t)
      error = try BuresWasserstein.distanceSquared(gaussian, best) - target
      if error < 0 { low = t } else { high = t }
    }
    return best
  }

  /// `(A + Aᵀ)/2` of the `d x d` matrix with row-major `elements`.
  static func symmetrized(_ elements: [Double], dimension d: Int) -> Matrix {
    var result = Matrix(rows: d, columns: d)
    for i in 0..<d {
      for j in 0..<d {
        result[i, j] = i == j ? elements[i * d + i] : 0.5 * (elements[i * d + j] + elements[j * d + i])
      }
    }
    return result
  }
}
