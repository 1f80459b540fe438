/// `c(x, y) = ‖x - y‖²`, not halved: the cost of the package's Sinkhorn divergence by default,
/// of its pruning bounds and of the fast paths (explicit differences in the C kernels up to eight
/// dimensions, a BLAS product above).
public struct SquaredEuclideanCost: Cost, Hashable {
  /// The squared Euclidean cost.
  public init() {}

  public func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    var sum = 0.0
    for t in 0..<x.count { sum += (x[t] - y[t]) * (x[t] - y[t]) }
    return sum
  }

  /// `2 (x - y)`.
  public func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>
  ) {
    for t in 0..<x.count { gradient[t] = 2 * (x[t] - y[t]) }
  }

  public func costs(from x: Matrix, rows: Range<Int>, to y: Matrix, into out: UnsafeMutablePointer<Double>) {
    CostMatrix(x, y).fill(rows: rows, into: out)
  }

  /// The squared diameter of the two clouds' joint bounding box, per axis the farthest reach
  /// between them.
  public func largestCost(_ x: Matrix, _ y: Matrix) -> Double { squaredReach(x, y) }

  public var description: String { "squared-euclidean" }
}

extension Cost where Self == SquaredEuclideanCost {
  /// `‖x - y‖²`.
  public static var squaredEuclidean: SquaredEuclideanCost { SquaredEuclideanCost() }
}
