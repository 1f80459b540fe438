import DAM

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
  /// - Throws: `DAMError` (of DAM) naming `dimension`, `radius`, `minimumEigenvalue` or
  ///   `maximumEigenvalue` when it is out of range (`d ≥ 1`, `R ≥ 0`, `0 < λmin ≤ λmax < ∞`).
  public init(dimension: Int, radius: Double, minimumEigenvalue: Double, maximumEigenvalue: Double)
    throws(DAMError)
  {
    guard dimension >= 1 else {
      throw DAMError(.invalidArgument, argument: "dimension", "must be >= 1, got \(dimension)")
    }
    guard radius >= 0, radius.isFinite else {
      throw DAMError(.invalidArgument, argument: "radius", "must be finite and >= 0, got \(radius)")
    }
    try requirePositive(minimumEigenvalue, "minimumEigenvalue")
    guard maximumEigenvalue >= minimumEigenvalue, maximumEigenvalue.isFinite else {
      throw DAMError(
        .invalidArgument, argument: "maximumEigenvalue",
        "must be finite and >= minimumEigenvalue (\(minimumEigenvalue)), got \(maximumEigenvalue)")
    }
    self.dimension = dimension
    self.radius = radius
    self.minimumEigenvalue = minimumEigenvalue
    self.maximumEigenvalue = maximumEigenvalue
  }

  /// One Gaussian of the model, with a full covariance.
  ///
  /// - Throws: `DAMError` (of DAM) naming `covariance` if round-off makes `Q Λ Qᵀ` fail its
  ///   positive definiteness check (only for condition numbers `λmax / λmin` near `1 / ulp`).
  public func sample(using generator: inout SeededGenerator) throws(DAMError) -> Gaussian {
    let d = dimension
    let mean = generator.unitVector(dimension: d).map { radius * $0 }
    let eigenvalues = (0..<d).map { _ in
      minimumEigenvalue == maximumEigenvalue
        ? minimumEigenvalue : Double.random(in: minimumEigenvalue...maximumEigenvalue, using: &generator)
    }
    let q = GaussianSampling.randomRotation(dimension: d, using: &generator)
    // S = Q Λ Qᵀ, with Q's columns the eigenvectors. Gaussian(mean:covariance:) symmetrises the
    // product's round-off asymmetry.
    var scaled = q
    for i in 0..<d { for j in 0..<d { scaled[i, j] *= eigenvalues[j] } }
    return try Gaussian(mean: mean, covariance: scaled.multiplied(by: q.transposed()))
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
