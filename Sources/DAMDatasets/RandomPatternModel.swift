import DAM
import Foundation

/// The random pattern model of the Sinkhorn-SHK paper (its Appendix F, "SampAlgo"): weighted
/// point clouds with random weights and random shapes inside a ball, translated to Rademacher
/// means, so that patterns are separated with high probability when the dimension grows.
///
/// For each pattern:
/// 1. a mean `m = R ξ / √d` with `ξ` a vector of independent Rademacher signs (so `‖m‖ = R`);
/// 2. weights drawn uniformly in `[minimumWeight, maximumWeight]`, then normalised;
/// 3. `atoms` shape points drawn uniformly in the ball of radius `shapeRadius` about the origin;
/// 4. mean correction: the weighted mean of the shape is subtracted, and `m` added, so that the
///    cloud's weighted mean is exactly `m`.
///
/// (The paper's constants were lost in extraction; the parameters are explicit here.)
public struct RandomPatternModel: Sendable, Hashable {
  /// The dimension `d`.
  public let dimension: Int
  /// Atoms per pattern.
  public let atoms: Int
  /// The norm `R` of every mean.
  public let meanNorm: Double
  /// The radius of the ball the shape points are drawn in.
  public let shapeRadius: Double
  /// The range of the unnormalised weights.
  public let minimumWeight: Double
  /// The range of the unnormalised weights.
  public let maximumWeight: Double

  /// A random pattern model.
  ///
  /// - Throws: `DAMError` (of DAM) naming the first parameter out of range.
  public init(
    dimension: Int, atoms: Int, meanNorm: Double, shapeRadius: Double, minimumWeight: Double = 0.5,
    maximumWeight: Double = 1.5
  ) throws(DAMError) {
    guard dimension >= 1 else {
      throw DAMError(.invalidArgument, argument: "dimension", "must be >= 1, got \(dimension)")
    }
    guard atoms >= 1 else {
      throw DAMError(.invalidArgument, argument: "atoms", "must be >= 1, got \(atoms)")
    }
    try requirePositive(meanNorm, "meanNorm")
    try requirePositive(shapeRadius, "shapeRadius")
    try requirePositive(minimumWeight, "minimumWeight")
    guard maximumWeight >= minimumWeight, maximumWeight.isFinite else {
      throw DAMError(
        .invalidArgument, argument: "maximumWeight",
        "must be finite and >= minimumWeight (\(minimumWeight)), got \(maximumWeight)")
    }
    self.dimension = dimension
    self.atoms = atoms
    self.meanNorm = meanNorm
    self.shapeRadius = shapeRadius
    self.minimumWeight = minimumWeight
    self.maximumWeight = maximumWeight
  }

  /// One pattern.
  ///
  /// - Throws: `DAMError` (of DAM) if the parameters are so large that coordinates overflow.
  public func sample(using generator: inout SeededGenerator) throws(DAMError) -> PointCloud {
    let d = dimension
    let scale = meanNorm / Double(d).squareRoot()
    let mean = (0..<d).map { _ in Bool.random(using: &generator) ? scale : -scale }
    var weights = (0..<atoms).map { _ in Double.random(in: minimumWeight...maximumWeight, using: &generator) }
    let total = weights.reduce(0, +)
    weights = weights.map { $0 / total }
    var points = [Double](repeating: 0, count: atoms * d)
    for j in 0..<atoms {
      // Uniform in the ball: a Gaussian direction and a radius r U^(1/d).
      let direction = generator.unitVector(dimension: d)
      let radius = shapeRadius * pow(Double.random(in: 0...1, using: &generator), 1 / Double(d))
      for k in 0..<d { points[j * d + k] = radius * direction[k] }
    }
    var shapeMean = [Double](repeating: 0, count: d)
    for j in 0..<atoms {
      for k in 0..<d { shapeMean[k] += weights[j] * points[j * d + k] }
    }
    for j in 0..<atoms {
      for k in 0..<d { points[j * d + k] += mean[k] - shapeMean[k] }
    }
    // Sizes and weights are valid by construction; only an overflow of huge parameters can fail.
    return try PointCloud(points: Matrix(rows: atoms, columns: d, elements: points), weights: weights)
  }

  /// `count` patterns.
  public func sample(count: Int, using generator: inout SeededGenerator) throws(DAMError) -> [PointCloud] {
    var patterns: [PointCloud] = []
    for _ in 0..<count { patterns.append(try sample(using: &generator)) }
    return patterns
  }
}
