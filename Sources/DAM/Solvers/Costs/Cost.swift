/// A ground cost `c(x, y)` between points of `ℝᵈ`, the cost of moving a unit of mass from `x` to
/// `y` in the entropic optimal-transport problems of ``Sinkhorn`` and ``SinkhornDivergence``.
///
/// Conform a type, or wrap a closure in ``ClosureCost``, and every point-cloud solve takes it:
/// the transport, the debiased divergence, its potentials, the barycentric map and retrieval with
/// the Wasserstein and SHK geometries. A conformance gives the value and its gradient in `x` (what
/// the transport step of a retrieval moves atoms along); the block method and the largest-cost
/// bound have defaults built on the value.
///
/// The built-in costs: ``SquaredEuclideanCost`` (`‖x - y‖²`, the default and the fast path),
/// ``PowerCost`` (`‖x - y‖ᵖ`, `p ≥ 1`) and ``MahalanobisCost`` (`(x - y)ᵀ M (x - y)`).
///
/// Pruning bounds of ``SinkhornDivergence`` are proven for the squared Euclidean cost only; with
/// any other cost the divergence gives none and every pattern is evaluated.
public protocol Cost: Sendable, CustomStringConvertible {
  /// `c(x, y)` for two points of the same dimension. The buffers are valid during the call only.
  func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double

  /// Writes `∇ₓ c(x, y)` (as many entries as `x`) to `gradient`; where `c` is not differentiable
  /// (`‖x - y‖` at `x = y`), a subgradient.
  func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>)

  /// Writes the costs from the points `rows` of `x` to every point of `y`, row-major
  /// (`rows.count x y.rows`), to `out`. The default calls ``cost(_:_:)`` pair by pair; a cost with
  /// a faster block form (a matrix product) implements it.
  func costs(from x: Matrix, rows: Range<Int>, to y: Matrix, into out: UnsafeMutablePointer<Double>)

  /// An upper bound of `c(xⱼ, yₖ)` over the pairs of points of `x` and `y`, close to the largest
  /// value: the ε annealing starts there, and ε more than `1e6` times it is refused (the
  /// potentials would be round-off). The default computes the maximum over every pair.
  func largestCost(_ x: Matrix, _ y: Matrix) -> Double

  /// Throws ``DAMError`` when the cost does not apply to points of `dimension` coordinates (a
  /// matrix of another size, say). The default accepts every dimension.
  func validate(dimension: Int) throws(DAMError)
}

extension Cost {
  public func costs(from x: Matrix, rows: Range<Int>, to y: Matrix, into out: UnsafeMutablePointer<Double>) {
    let d = x.columns
    let m = y.rows
    x._elements.withUnsafeBufferPointer { px in
      y._elements.withUnsafeBufferPointer { py in
        for (row, j) in rows.enumerated() {
          let xj = UnsafeBufferPointer(rebasing: px[(j * d)..<((j + 1) * d)])
          for k in 0..<m {
            out[row * m + k] = cost(xj, UnsafeBufferPointer(rebasing: py[(k * d)..<((k + 1) * d)]))
          }
        }
      }
    }
  }

  public func largestCost(_ x: Matrix, _ y: Matrix) -> Double {
    let m = y.rows
    guard x.rows > 0, m > 0 else { return 0 }
    var largest = 0.0
    var line = [Double](repeating: 0, count: m)
    line.withUnsafeMutableBufferPointer { line in
      for j in 0..<x.rows {
        costs(from: x, rows: j..<(j + 1), to: y, into: line.baseAddress!)
        for k in 0..<m { largest = max(largest, line[k]) }
      }
    }
    return largest
  }

  public func validate(dimension: Int) throws(DAMError) {}
}

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

/// `c(x, y) = (x - y)ᵀ M (x - y)` for a symmetric positive definite `M`: the squared distance in
/// the metric `M` (for `M = L Lᵀ`, the squared Euclidean distance between `Lᵀx` and `Lᵀy`).
public struct MahalanobisCost: Cost, Hashable {
  /// The metric `M`, `d x d`.
  public let metric: Matrix

  /// The largest eigenvalue of ``metric``.
  private let largestEigenvalue: Double

  /// The squared distance in the metric `metric`.
  ///
  /// - Throws: ``DAMError`` naming `metric` unless it is square, finite, symmetric (to `1e-10` of
  ///   its largest entry) and positive definite (its smallest eigenvalue above `1e-12` of the
  ///   largest).
  public init(metric: Matrix) throws(DAMError) {
    let spectrum = try SymmetricEigendecomposition(metric, argument: "metric").eigenvalues
    guard let smallest = spectrum.first, let largest = spectrum.last, smallest > 1e-12 * largest else {
      throw DAMError.invalid(
        "metric",
        "must be positive definite, got eigenvalues from \(spectrum.first ?? 0) to \(spectrum.last ?? 0)")
    }
    self.metric = metric
    largestEigenvalue = largest
  }

  public func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    let d = x.count
    var sum = 0.0
    for s in 0..<d {
      var row = 0.0
      for t in 0..<d { row += metric[s, t] * (x[t] - y[t]) }
      sum += (x[s] - y[s]) * row
    }
    return max(0, sum)
  }

  /// `2 M (x - y)`.
  public func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>
  ) {
    let d = x.count
    for s in 0..<d {
      var row = 0.0
      for t in 0..<d { row += metric[s, t] * (x[t] - y[t]) }
      gradient[s] = 2 * row
    }
  }

  /// The largest eigenvalue of `M` times the squared diameter of the joint bounding box.
  public func largestCost(_ x: Matrix, _ y: Matrix) -> Double { largestEigenvalue * squaredReach(x, y) }

  public func validate(dimension: Int) throws(DAMError) {
    guard dimension == metric.rows else {
      throw DAMError.mismatch(
        "cost", "has a \(metric.rows) x \(metric.rows) metric for points of dimension \(dimension)")
    }
  }

  public var description: String { "mahalanobis(\(metric.rows)x\(metric.rows))" }
}

/// A cost given by closures: the value and its gradient in `x`.
///
///     let cost = ClosureCost(name: "l1") { x, y in
///       (0..<x.count).reduce(0) { $0 + abs(x[$1] - y[$1]) }
///     } gradient: { x, y, g in
///       for t in 0..<x.count { g[t] = x[t] > y[t] ? 1 : (x[t] < y[t] ? -1 : 0) }
///     }
public struct ClosureCost: Cost {
  private let value: @Sendable (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> Double
  private let derivative:
    @Sendable (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>)
      -> Void
  private let name: String

  /// A cost computing `c(x, y)` with `value` and `∇ₓ c(x, y)` with `gradient`; `name` describes it in
  /// messages.
  public init(
    name: String,
    value: @escaping @Sendable (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> Double,
    gradient:
      @escaping @Sendable (
        UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>
      ) -> Void
  ) {
    self.name = name
    self.value = value
    self.derivative = gradient
  }

  public func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    value(x, y)
  }

  public func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>
  ) {
    derivative(x, y, gradient)
  }

  public var description: String { name }
}

extension Cost where Self == SquaredEuclideanCost {
  /// `‖x - y‖²`.
  public static var squaredEuclidean: SquaredEuclideanCost { SquaredEuclideanCost() }
}

/// Per axis the farthest reach between two point sets, squared and summed: an upper bound of
/// `‖xⱼ - yₖ‖²` over the pairs (the squared diameter of the joint bounding box when the sets
/// overlap).
func squaredReach(_ x: Matrix, _ y: Matrix) -> Double {
  let (n, m, d) = (x.rows, y.rows, x.columns)
  var bound = 0.0
  for t in 0..<d {
    var xLow = Double.infinity
    var xHigh = -Double.infinity
    var yLow = Double.infinity
    var yHigh = -Double.infinity
    for j in 0..<n {
      xLow = min(xLow, x._elements[j * d + t])
      xHigh = max(xHigh, x._elements[j * d + t])
    }
    for k in 0..<m {
      yLow = min(yLow, y._elements[k * d + t])
      yHigh = max(yHigh, y._elements[k * d + t])
    }
    let reach = max(xHigh - yLow, yHigh - xLow, 0)
    bound += reach * reach
  }
  return bound
}
