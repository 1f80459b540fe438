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
///
/// The debiased divergence needs a symmetric cost, `c(x, y) = c(y, x)`: its self problems are
/// solved with one symmetric potential, and its gradients read `∇_y c(x, y)` as `∇ₓc(y, x)`. The
/// built-in costs are symmetric; ``Sinkhorn/selfTransport(_:cost:options:warmStart:)``,
/// ``Sinkhorn/divergence(_:_:cost:options:)``, ``SinkhornDivergence`` and the gradients check any
/// other cost on the atoms and refuse an asymmetric one, naming `cost`. The transport between two
/// clouds (``Sinkhorn/transport(from:to:cost:options:warmStart:)``) takes any cost.
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
