/// `c(x, y) = ‖x - y‖ᵖ` for a power `p ≥ 1` of the Euclidean distance (POT's
/// `ot.dist(x, y, 'euclidean') ** p`; `p = 2` is ``SquaredEuclideanCost``, `p = 1` the distance
/// itself, whose Sinkhorn divergence metrises the weak topology like an energy distance at large ε).
public struct PowerCost: Cost, Hashable {
  /// The power `p`.
  public let power: Double

  /// `‖x - y‖ᵖ`.
  ///
  /// - Throws: ``DAMError`` naming `power` unless it is a finite number `≥ 1` (below 1 the cost is
  ///   not convex in `x - y` and the transport step has no gradient at coincident points).
  public init(power: Double) throws(DAMError) {
    guard power.isFinite, power >= 1 else {
      throw DAMError.invalid("power", "must be a finite number >= 1, got \(power)")
    }
    self.power = power
  }

  public func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    CostMatrix.raise(SquaredEuclideanCost().cost(x, y), power: power)
  }

  /// `p ‖x - y‖ᵖ⁻² (x - y)`, and 0 at `x = y`.
  public func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>
  ) {
    let squared = SquaredEuclideanCost().cost(x, y)
    let scale = squared > 0 ? power * _pow(squared, power / 2 - 1) : 0
    for t in 0..<x.count { gradient[t] = scale * (x[t] - y[t]) }
  }

  /// The squared distances of a block (the fast path of the squared Euclidean cost), each raised
  /// to `p/2`.
  public func costs(from x: Matrix, rows: Range<Int>, to y: Matrix, into out: UnsafeMutablePointer<Double>) {
    CostMatrix(x, y, cost: self).fill(rows: rows, into: out)
  }

  /// The diameter of the joint bounding box to the power `p`.
  public func largestCost(_ x: Matrix, _ y: Matrix) -> Double {
    CostMatrix.raise(squaredReach(x, y), power: power)
  }

  public var description: String { "power(\(power))" }
}
