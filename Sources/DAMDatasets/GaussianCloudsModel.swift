import DAM
import Foundation

/// The stored patterns of the Sinkhorn-SHK paper's Gaussian-cloud experiments: point clouds of
/// `atoms` uniformly weighted samples from 2-D Gaussians (`dam experiment shk-gaussian-clouds`,
/// and the `gaussian-clouds` workload of `dam compare`).
///
/// - ``Layout/distinctMeans`` (Experiment 1): means evenly spaced on the circle of radius 3,
///   covariance `0.5 I`; the clouds differ by where they are.
/// - ``Layout/equalMeans`` (Experiment 2): every mean at the origin, covariance `R diag(l₁, l₂) Rᵀ`
///   with `R` a rotation by a uniform angle and `l₁, l₂` uniform in `[0.15, 1.75]`; the clouds
///   differ by their shape only, which a Euclidean memory on the atoms cannot see.
public struct GaussianCloudsModel: Sendable, Hashable {
  /// Where the Gaussians behind the clouds lie.
  public enum Layout: Sendable, Hashable {
    /// Experiment 1: distinct means on a circle, one isotropic covariance.
    case distinctMeans
    /// Experiment 2: equal means, random anisotropic covariances.
    case equalMeans
  }

  /// The layout of the Gaussians.
  public let layout: Layout
  /// The number of clouds.
  public let count: Int
  /// The atoms of each cloud.
  public let atoms: Int

  /// A model of `count` clouds of `atoms` atoms.
  ///
  /// - Throws: `DAMError` (of DAM) naming `count` or `atoms` when below 1.
  public init(layout: Layout, count: Int = 5, atoms: Int = 40) throws(DAMError) {
    guard count >= 1 else {
      throw DAMError(.invalidArgument, argument: "count", "must be >= 1, got \(count)")
    }
    guard atoms >= 1 else {
      throw DAMError(.invalidArgument, argument: "atoms", "must be >= 1, got \(atoms)")
    }
    self.layout = layout
    self.count = count
    self.atoms = atoms
  }

  /// The clouds of one trial. Cloud `i` draws its covariance (``Layout/equalMeans``) and then its
  /// atoms, `x = m + L z` with `L` the Cholesky factor of the covariance and `z` standard normal.
  public func sample(using generator: inout SeededGenerator) throws(DAMError) -> [PointCloud] {
    var clouds: [PointCloud] = []
    for i in 0..<count {
      let mean: [Double]
      let covariance: [Double]  // 2 x 2 row-major
      switch layout {
      case .distinctMeans:
        let angle = 2 * Double.pi * Double(i) / Double(count)
        mean = [3 * cos(angle), 3 * sin(angle)]
        covariance = [0.5, 0, 0, 0.5]
      case .equalMeans:
        mean = [0, 0]
        let theta = Double.random(in: 0..<(2 * Double.pi), using: &generator)
        let l1 = Double.random(in: 0.15...1.75, using: &generator)
        let l2 = Double.random(in: 0.15...1.75, using: &generator)
        let (c, s) = (cos(theta), sin(theta))
        covariance = [c * c * l1 + s * s * l2, c * s * (l1 - l2), c * s * (l1 - l2), s * s * l1 + c * c * l2]
      }
      // Cholesky factor of the 2 x 2 covariance.
      let a = covariance[0].squareRoot()
      let b = covariance[2] / a
      let d = (covariance[3] - b * b).squareRoot()
      var points: [Double] = []
      for _ in 0..<atoms {
        let z1 = generator.nextGaussian()
        let z2 = generator.nextGaussian()
        points += [mean[0] + a * z1, mean[1] + b * z1 + d * z2]
      }
      clouds.append(try PointCloud(points: Matrix(rows: atoms, columns: 2, elements: points)))
    }
    return clouds
  }
}
