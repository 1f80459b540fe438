/// Random Gaussians "on a Wasserstein sphere", as the BW-DAM experiments use them: means uniformly
/// on the sphere of radius `R` in `ℝᵈ`, covariances `Q Λ Qᵀ` with `Q` a random rotation
/// (Gram-Schmidt of standard normal vectors, so Haar distributed) and the eigenvalues in `Λ`
/// independent and uniform in `[λmin, λmax]`.
public struct WassersteinSphereModel: Sendable, Hashable {
  /// The dimension `d`.
  public let dimension: Int
  /// The norm `R` of every mean.
  public let radius: Double
  /// The smallest eigenvalue a covariance can have.
  public let minimumEigenvalue: Double
  /// The largest eigenvalue a covariance can have.
  public let maximumEigenvalue: Double

  /// A model of Gaussians on a Wasserstein sphere.
  ///
  /// - Throws: ``DAMError`` naming `dimension`, `radius`, `minimumEigenvalue` or
  ///   `maximumEigenvalue` when it is out of range (`d ≥ 1`, `R ≥ 0`, `0 < λmin ≤ λmax < ∞`).
  public init(dimension: Int, radius: Double, minimumEigenvalue: Double, maximumEigenvalue: Double) throws(DAMError) {
    guard dimension >= 1 else { throw DAMError.invalid("dimension", "must be >= 1, got \(dimension)") }
    guard radius >= 0, radius.isFinite else { throw DAMError.invalid("radius", "must be finite and >= 0, got \(radius)") }
    try _requirePositive(minimumEigenvalue, "minimumEigenvalue")
    guard maximumEigenvalue >= minimumEigenvalue, maximumEigenvalue.isFinite else {
      throw DAMError.invalid(
        "maximumEigenvalue", "must be finite and >= minimumEigenvalue (\(minimumEigenvalue)), got \(maximumEigenvalue)")
    }
    self.dimension = dimension
    self.radius = radius
    self.minimumEigenvalue = minimumEigenvalue
    self.maximumEigenvalue = maximumEigenvalue
  }

  /// One Gaussian of the model, with a full covariance.
  ///
  /// - Throws: ``DAMError`` naming `covariance` if round-off makes `Q Λ Qᵀ` fail its positive
  ///   definiteness check (only for condition numbers `λmax / λmin` near `1 / ulp`).
  public func sample(using generator: inout SeededGenerator) throws(DAMError) -> Gaussian {
    let d = dimension
    let mean = generator.unitVector(dimension: d).map { radius * $0 }
    let eigenvalues = (0..<d).map { _ in
      minimumEigenvalue == maximumEigenvalue
        ? minimumEigenvalue : Double.random(in: minimumEigenvalue...maximumEigenvalue, using: &generator)
    }
    let q = GaussianSampling.randomRotation(dimension: d, using: &generator)
    // S = Q Λ Qᵀ, with Q's columns the eigenvectors.
    var scaled = q
    for i in 0..<d { for j in 0..<d { scaled._elements[i * d + j] *= eigenvalues[j] } }
    let covariance = _gemm(scaled, q, transposeLeft: false, transposeRight: true)._symmetrized()
    return try Gaussian(mean: mean, covariance: covariance)
  }

  /// `count` independent Gaussians of the model.
  ///
  /// - Throws: as ``sample(using:)``.
  public func sample(count: Int, using generator: inout SeededGenerator) throws(DAMError) -> [Gaussian] {
    var result: [Gaussian] = []
    result.reserveCapacity(count)
    for _ in 0..<count { result.append(try sample(using: &generator)) }
    return result
  }
}

/// Random rotations, perturbations at a prescribed Wasserstein distance, and the stacking of
/// Gaussians into vectors used by the Euclidean baseline (the Eu-DAM).
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
    var elements = [Double](repeating: 0, count: d * d)
    for (j, c) in columns.enumerated() { for i in 0..<d { elements[i * d + j] = c[i] } }
    return Matrix(_rows: d, columns: d, elements: elements)
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
  /// `t` is found by bisection until ``BuresWasserstein/distanceSquared(_:_:)`` equals
  /// `distance²` to ``perturbationTolerance`` relative.
  ///
  /// - Throws: ``DAMError`` naming `distance` if it is not finite and `> 0`, or if the bisection
  ///   cannot reach the tolerance (a distance below the round-off of `W₂²` at this covariance).
  public static func perturbation(
    of gaussian: Gaussian, distance: Double, using generator: inout SeededGenerator
  ) throws(DAMError) -> Gaussian {
    try _requirePositive(distance, "distance")
    let d = gaussian.dimension
    let target = distance * distance
    let u = generator.unitVector(dimension: d)
    var k = Matrix(_rows: d, columns: d, elements: generator.gaussians(d * d))._symmetrized()
    let spectral = try SymmetricEigendecomposition(k, argument: "distance").eigenvalues.reduce(0) { max($0, abs($1)) }
    guard spectral > 0 else { throw DAMError.invalid("distance", "a degenerate random direction; try another seed") }
    for i in 0..<(d * d) { k._elements[i] /= spectral }
    let s = gaussian.covarianceMatrix
    // c = tr(K S K) = ‖K S^½‖²_F > 0: W₂²(t) = t² (a² + b² c) while I + t b K is positive definite.
    let ks = _gemm(k, s, transposeLeft: false, transposeRight: false)
    var c = 0.0
    for i in 0..<d { for j in 0..<d { c += ks._elements[i * d + j] * k._elements[j * d + i] } }
    // Half of W₂² on each part at t = 1, capped so that b ≤ 1/2.
    let b = min((target / (2 * max(c, .leastNormalMagnitude))).squareRoot(), 0.5)
    let a = max(target - b * b * c, 0).squareRoot()
    func candidate(_ t: Double) throws(DAMError) -> Gaussian {
      var map = k
      for i in 0..<(d * d) { map._elements[i] *= t * b }
      for i in 0..<d { map._elements[i * d + i] += 1 }
      let covariance = _gemm(_gemm(map, s, transposeLeft: false, transposeRight: false), map, transposeLeft: false, transposeRight: false)
      return try Gaussian(
        mean: zip(gaussian.mean, u).map { $0 + t * a * $1 }, covariance: covariance._symmetrized())
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
        throw DAMError.invalid(
          "distance", "\(distance) could not be reached to \(perturbationTolerance) relative (W₂² off by \(error))")
      }
      let t = (low + high) / 2
      best = try candidate(t)
      error = try BuresWasserstein.distanceSquared(gaussian, best) - target
      if error < 0 { low = t } else { high = t }
    }
    return best
  }

  /// The Eu-DAM encoding of a Gaussian: `(m, vec S)`, the mean followed by the covariance's
  /// `d²` entries in row-major order (`d + d²` values; a diagonal covariance is written in full).
  public static func stacked(_ gaussian: Gaussian) -> [Double] {
    gaussian.mean + gaussian.covarianceMatrix.elements
  }

  /// The Gaussian encoded by a vector `(m, vec S)` of `d + d²` values (the inverse of
  /// ``stacked(_:)``); `S` is symmetrised, `(S + Sᵀ)/2`, whatever its asymmetry.
  ///
  /// - Throws: ``DAMError`` naming `vector` if its length is not `d + d²` for a `d ≥ 1`, a value
  ///   is not finite, or the covariance is not positive definite.
  public static func unstacked(_ vector: [Double]) throws(DAMError) -> Gaussian {
    // d² + d = n  ⇒  d = (√(1 + 4n) - 1) / 2.
    let n = vector.count
    let d = Int(((1 + 4 * Double(n)).squareRoot() - 1) / 2 + 0.5)
    guard d >= 1, d * d + d == n else {
      throw DAMError.mismatch("vector", "has \(n) values, not d + d² for any dimension d >= 1")
    }
    try _requireFinite(vector, "vector")
    let covariance = Matrix(_rows: d, columns: d, elements: Array(vector[d...]))._symmetrized()
    do throws(DAMError) {
      return try Gaussian(mean: Array(vector[..<d]), covariance: covariance)
    } catch {
      throw DAMError(error.kind, argument: "vector", "does not encode a Gaussian: \(error)")
    }
  }
}
