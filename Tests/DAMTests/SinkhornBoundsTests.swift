import DAM
import DAMDatasets
import Foundation
import Testing

/// The certified lower bounds of ``SinkhornBounds``: below the divergence on random clouds, and
/// tight where the closed forms say so.
struct SinkhornBoundsTests {
  /// The certified lower bound holds on random clouds (including identical ones, where it is
  /// negative) and is tight for two Diracs.
  @Test func lowerBoundHolds() throws {
    let model = try RandomPatternModel(dimension: 3, atoms: 15, meanNorm: 1, shapeRadius: 1)
    var g = SeededGenerator(seed: 2)
    for epsilon in [0.01, 0.1, 1] {
      let options = try SinkhornOptions(epsilon: epsilon, tolerance: 1e-11, maxIterations: 50_000)
      let clouds = try model.sample(count: 6, using: &g)
      for x in clouds {
        for y in clouds {
          let s = try Sinkhorn.divergence(x, y, options: options).value
          let bound = try SinkhornBounds.lowerBound(x, y, epsilon: epsilon)
          #expect(s >= bound - 1e-10, "S = \(s) < bound \(bound) at eps \(epsilon)")
        }
      }
    }
    let a = try PointCloud(points: Matrix(rowArrays: [[0.0, 1]]))
    let b = try PointCloud(points: Matrix(rowArrays: [[2.0, -1]]))
    #expect(try SinkhornBounds.lowerBound(a, b, epsilon: 0.3) == 8)
    #expect(try Sinkhorn.divergence(a, b, options: SinkhornOptions(epsilon: 0.3)).value == 8)
  }

  /// The Gelbrich term: a planar cloud and its image under `x ↦ c + A (x - m)` with `A` symmetric
  /// positive definite (an optimal map, the gradient of a convex function) have `W₂²` equal to the
  /// mean gap plus `Σ wⱼ ‖(I - A)(xⱼ - m)‖²`, summed here atom by atom; the bound's centred
  /// part is the squared Bures distance of the covariances, equal to it. The spread term alone
  /// (the bound before) sees only the change of total variance: here less than half of it.
  @Test func gelbrichTermIsTightForAffineImages() throws {
    var g = SeededGenerator(seed: 17)
    let n = 40
    let points = (0..<n).flatMap { _ in [0.3 * g.nextGaussian(), 0.1 * g.nextGaussian()] }
    let x = try PointCloud(
      points: Matrix(rows: n, columns: 2, elements: points),
      masses: (0..<n).map { _ in Double.random(in: 0.5...1.5, using: &g) })
    // A: eigenvalues 0.4 and 2.2 along axes at 35 degrees.
    let angle = 35.0 * Double.pi / 180
    let (cosine, sine) = (cos(angle), sin(angle))
    let a11 = 0.4 * cosine * cosine + 2.2 * sine * sine
    let a12 = (0.4 - 2.2) * cosine * sine
    let a22 = 0.4 * sine * sine + 2.2 * cosine * cosine
    let shift = [0.7, -0.2]
    var imagePoints: [Double] = []
    var centred = 0.0
    for j in 0..<n {
      let u = x.points[j, 0] - x.mean[0]
      let v = x.points[j, 1] - x.mean[1]
      let (p, q) = (a11 * u + a12 * v, a12 * u + a22 * v)
      imagePoints += [x.mean[0] + shift[0] + p, x.mean[1] + shift[1] + q]
      centred += x.weights[j] * ((u - p) * (u - p) + (v - q) * (v - q))
    }
    let y = try PointCloud(points: Matrix(rows: n, columns: 2, elements: imagePoints), weights: x.weights)
    let w2 = shift[0] * shift[0] + shift[1] * shift[1] + centred
    let epsilon = 1e-3
    let entropyTerm = 0.5 * epsilon * 2 * SinkhornBounds.entropy(x.weights)
    let bound = try SinkhornBounds.lowerBound(x, y, epsilon: epsilon)
    #expect(abs(bound + entropyTerm - w2) <= 1e-6 * w2, "bound \(bound + entropyTerm), W2² \(w2)")
    // The spread term alone.
    var (varianceX, varianceY) = (0.0, 0.0)
    for j in 0..<n {
      let (u, v) = (x.points[j, 0] - x.mean[0], x.points[j, 1] - x.mean[1])
      let (p, q) = (y.points[j, 0] - y.mean[0], y.points[j, 1] - y.mean[1])
      varianceX += x.weights[j] * (u * u + v * v)
      varianceY += x.weights[j] * (p * p + q * q)
    }
    let spreadGap =
      (varianceX.squareRoot() - varianceY.squareRoot()) * (varianceX.squareRoot() - varianceY.squareRoot())
    #expect(spreadGap < 0.5 * centred, "spread term \(spreadGap), centred W2² \(centred)")
    let s = try Sinkhorn.divergence(
      x, y, options: SinkhornOptions(epsilon: epsilon, tolerance: 1e-11, maxIterations: 100_000)
    ).value
    #expect(s >= bound - 1e-10)
  }

  /// The spread term: a ring and the ring scaled by 3 about the same mean have W2² = (s - 3s)²
  /// (the radial map is optimal), which the mean gap alone (0) misses. At small ε the divergence
  /// comes within (ε/2)(H(a) + H(b)) + o(1) of the bound from above: 32 atoms, s = 1,
  /// W2² = 4, bound 4 - 0.001 log 32.
  @Test func spreadTermIsTightForScaledCopies() throws {
    let angles = (0..<32).map { 2 * Double.pi * Double($0) / 32 }
    let ring = try PointCloud(points: Matrix(rowArrays: angles.map { [1 + cos($0), -2 + sin($0)] }))
    let wide = try PointCloud(points: Matrix(rowArrays: angles.map { [1 + 3 * cos($0), -2 + 3 * sin($0)] }))
    let epsilon = 0.001
    let bound = try SinkhornBounds.lowerBound(ring, wide, epsilon: epsilon)
    #expect(abs(bound - (4 - epsilon * log(32))) <= 1e-12)
    let s = try Sinkhorn.divergence(
      ring, wide, options: SinkhornOptions(epsilon: epsilon, tolerance: 1e-11, maxIterations: 100_000)
    ).value
    #expect(s >= bound - 1e-10)
    #expect(s - bound <= 0.02, "S = \(s), bound \(bound)")
  }
}
