/// A separation map chosen at run time.
public struct AnySeparationMap: SeparationMap {
  /// The wrapped map.
  public let base: any SeparationMap

  /// Wraps a map.
  public init(_ base: any SeparationMap) { self.base = base }

  /// The wrapped map's name.
  public var name: String { base.name }
  /// The wrapped map's margin.
  public var margin: Double? { base.margin }
  /// The wrapped map's zero-weight rule.
  public var zeroWeightRule: ZeroWeightRule? { base.zeroWeightRule }

  /// Forwards to the wrapped map.
  public func separate(_ scores: [Double]) throws -> Separation { try base.separate(scores) }

  /// The wrapped map's separation of `-β d`.
  public func separate(divergences: [Double], beta: Double) throws -> Separation {
    try base.separate(divergences: divergences, beta: beta)
  }

  /// The wrapped map's bound.
  public func unevaluatedWeightBound(evaluatedLogMass: Double, otherLogMass: Double) -> Double? {
    base.unevaluatedWeightBound(evaluatedLogMass: evaluatedLogMass, otherLogMass: otherLogMass)
  }

  /// Forwards to the wrapped map.
  public func regularizer(_ weights: [Double]) throws -> Double { try base.regularizer(weights) }

  /// Forwards to the wrapped map.
  public func jacobianVectorProduct(scores: [Double], weights: [Double], direction: [Double]) throws
    -> [Double]
  {
    try base.jacobianVectorProduct(scores: scores, weights: weights, direction: direction)
  }

  /// Forwards to the wrapped map.
  public func vectorJacobianProduct(scores: [Double], weights: [Double], cotangent: [Double]) throws
    -> [Double]
  {
    try base.vectorJacobianProduct(scores: scores, weights: weights, cotangent: cotangent)
  }
}
