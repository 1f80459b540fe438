// A divergence the package does not have, written against DAM's public API only: the squared
// maximum mean discrepancy between weighted point clouds under a Gaussian kernel. Docs/extending.md
// walks through this file; the build compiles it and Examples/KernelMMD/Tests checks it.

import DAM

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The squared maximum mean discrepancy between weighted point clouds under the Gaussian kernel
/// `k(u, v) = exp(-‖u - v‖² / (2σ²))`:
///
///     MMD²(μ, ν) = Σⱼⱼ' wⱼ wⱼ' k(yⱼ, yⱼ') + Σₖₖ' aₖ aₖ' k(xₖ, xₖ') - 2 Σⱼₖ wⱼ aₖ k(yⱼ, xₖ)
///
/// for a query `μ = Σⱼ wⱼ δ_{yⱼ}` and a pattern `ν = Σₖ aₖ δ_{xₖ}`. It is zero exactly when the
/// measures agree (the Gaussian kernel is characteristic) and smooth in the atoms, so the
/// transport-only geometry of the package (``SHKGeometry/wasserstein(step:)``) can move a query
/// along its gradient.
///
/// Its first variation in `μ` is `φ(y) = 2 Σⱼ' wⱼ' k(y, yⱼ') - 2 Σₖ aₖ k(y, xₖ)`, with gradient
/// `∇φ(y) = -(2/σ²) [Σⱼ' wⱼ' k(y, yⱼ') (y - yⱼ') - Σₖ aₖ k(y, xₖ) (y - xₖ)]`; the derivative of
/// MMD² in the position of atom `j` is `wⱼ ∇φ(yⱼ)`, which is what ``MeasureVariation`` holds.
public struct GaussianKernelMMD: Divergence {
  /// The kernel bandwidth `σ > 0`, in the units of the points.
  public let bandwidth: Double

  /// A Gaussian-kernel MMD.
  ///
  /// - Throws: ``DAMError`` naming `bandwidth` unless it is a finite number above 0.
  public init(bandwidth: Double) throws(DAMError) {
    guard bandwidth.isFinite, bandwidth > 0 else {
      throw DAMError(.invalidArgument, argument: "bandwidth", "must be a finite number > 0, got \(bandwidth)")
    }
    self.bandwidth = bandwidth
  }

  /// Computed once per stored pattern: its self term `Σₖₖ' aₖ aₖ' k(xₖ, xₖ')`.
  public typealias PatternCache = Double

  /// Computed once per step, shared by all patterns: the query's self term and, per atom,
  /// `Σⱼ' wⱼ' k(yⱼ, yⱼ')` and its gradient part `Σⱼ' wⱼ' k(yⱼ, yⱼ') (yⱼ - yⱼ')`.
  public struct QueryCache: Sendable {
    var selfTerm: Double
    var selfPotential: [Double]
    var selfPull: [Double]
  }

  /// The value, and per query atom the cross sums the variation needs.
  public struct Evaluation: Sendable {
    var value: Double
    var crossPotential: [Double]
    var crossPull: [Double]
  }

  /// `k(u, v)` for rows `i` of `a` and `j` of `b`, and `u - v` written into `difference`.
  func kernel(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int, difference: inout [Double]) -> Double {
    var squared = 0.0
    for t in 0..<a.columns {
      difference[t] = a[i, t] - b[j, t]
      squared += difference[t] * difference[t]
    }
    return exp(-squared / (2 * bandwidth * bandwidth))
  }

  /// Per atom `yⱼ` of `x`: `Σₖ bₖ k(yⱼ, zₖ)` and `Σₖ bₖ k(yⱼ, zₖ) (yⱼ - zₖ)` over the atoms of `y`.
  func sums(_ x: PointCloud, _ y: PointCloud) -> (potential: [Double], pull: [Double]) {
    let d = x.dimension
    var potential = [Double](repeating: 0, count: x.count)
    var pull = [Double](repeating: 0, count: x.count * d)
    var difference = [Double](repeating: 0, count: d)
    for j in 0..<x.count {
      for k in 0..<y.count {
        let value = y.weights[k] * kernel(x.points, j, y.points, k, difference: &difference)
        potential[j] += value
        for t in 0..<d { pull[j * d + t] += value * difference[t] }
      }
    }
    return (potential, pull)
  }

  /// `Σⱼ wⱼ pⱼ`.
  func average(_ cloud: PointCloud, _ values: [Double]) -> Double {
    zip(cloud.weights, values).reduce(0) { $0 + $1.0 * $1.1 }
  }

  /// Once per stored pattern: its self term.
  public func prepare(_ pattern: PointCloud) throws -> Double {
    average(pattern, sums(pattern, pattern).potential)
  }

  /// Patterns of one memory live in one space.
  public func checkCompatible(_ pattern: PointCloud, with reference: PointCloud) throws {
    guard pattern.dimension == reference.dimension else {
      throw DAMError(
        .dimensionMismatch, argument: "pattern",
        "has points in dimension \(pattern.dimension), the memory \(reference.dimension)")
    }
  }

  /// A query lives in the patterns' space.
  public func checkQuery(_ state: PointCloud, against reference: PointCloud) throws {
    guard state.dimension == reference.dimension else {
      throw DAMError(
        .dimensionMismatch, argument: "query",
        "has points in dimension \(state.dimension), the memory \(reference.dimension)")
    }
  }

  /// Once per step: the query's self sums, shared by every pattern (no warm start to use).
  public func prepareQuery(_ state: PointCloud, previous: QueryCache?) throws -> QueryCache {
    let own = sums(state, state)
    return QueryCache(
      selfTerm: average(state, own.potential), selfPotential: own.potential, selfPull: own.pull)
  }

  /// Per pattern: the cross sums and `MMD²`.
  public func evaluate(
    _ state: PointCloud, query: QueryCache, pattern: PointCloud, cache: Double, previous: Evaluation?
  ) throws -> Evaluation {
    let cross = sums(state, pattern)
    // Round-off can leave a tiny negative number when the measures agree; MMD² is >= 0.
    let value = max(0, query.selfTerm + cache - 2 * average(state, cross.potential))
    return Evaluation(value: value, crossPotential: cross.potential, crossPull: cross.pull)
  }

  /// `MMD²`.
  public func value(of evaluation: Evaluation) -> Double { evaluation.value }

  /// No velocity and no potential on any atom.
  public func zeroVariation(at state: PointCloud) -> MeasureVariation {
    MeasureVariation(atoms: state.count, dimension: state.dimension)
  }

  /// Adds `weight × (∇φ, φ)` at every query atom (only for patterns with nonzero weight).
  public func accumulate(
    _ weight: Double, of evaluation: Evaluation, at state: PointCloud, query: QueryCache, pattern: PointCloud,
    cache: Double, into variation: inout MeasureVariation
  ) throws {
    let d = state.dimension
    let scale = -2 / (bandwidth * bandwidth)
    variation.totalWeight += weight
    for j in 0..<state.count {
      variation.potential[j] += weight * 2 * (query.selfPotential[j] - evaluation.crossPotential[j])
      for t in 0..<d {
        variation.velocity[j * d + t] +=
          weight * scale * (query.selfPull[j * d + t] - evaluation.crossPull[j * d + t])
      }
    }
  }
}
