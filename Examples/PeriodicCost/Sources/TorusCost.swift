import DAM

/// The squared distance on a flat torus: each coordinate `t` lives on a circle of circumference
/// `periods[t]`, and `c(x, y) = Σₜ δₜ²` with `δₜ` the shorter way round from `xₜ` to `yₜ`,
/// `δₜ = (xₜ - yₜ) - periods[t] · round((xₜ - yₜ) / periods[t])`.
///
/// Phases, angles, times of day and positions in a periodic box are points of a torus: two
/// points just either side of the seam are close, which `‖x - y‖²` does not see. The cost is a
/// ``Cost`` defined outside the package against its public API only; its Sinkhorn divergence,
/// potentials, barycentric map and retrieval come from the package.
public struct TorusCost: Cost {
  /// The circumference of each coordinate's circle.
  public let periods: [Double]

  /// A torus with the given circumferences, one per coordinate.
  ///
  /// - Throws: ``DAMError`` naming `periods` when one is not a finite number > 0.
  public init(periods: [Double]) throws(DAMError) {
    for (t, period) in periods.enumerated() where !(period.isFinite && period > 0) {
      throw DAMError(
        .invalidArgument, argument: "periods", "period \(t) must be a finite number > 0, got \(period)")
    }
    self.periods = periods
  }

  /// The shorter signed way from `y` to `x` along coordinate `t`, in `[-L/2, L/2]`.
  @inline(__always)
  func wrapped(_ difference: Double, _ t: Int) -> Double {
    difference - periods[t] * (difference / periods[t]).rounded()
  }

  public func cost(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    var sum = 0.0
    for t in 0..<x.count {
      let delta = wrapped(x[t] - y[t], t)
      sum += delta * delta
    }
    return sum
  }

  /// `2 δ`: the gradient away from the seam half a period from `y`, where `c` has a kink (there
  /// either side's gradient is a subgradient; this returns the one `round` picks).
  public func gradient(
    _ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>,
    into gradient: UnsafeMutableBufferPointer<Double>
  ) {
    for t in 0..<x.count { gradient[t] = 2 * wrapped(x[t] - y[t], t) }
  }

  /// No two points are farther apart than half the diagonal of the torus.
  public func largestCost(_ x: Matrix, _ y: Matrix) -> Double {
    periods.reduce(0) { $0 + $1 * $1 / 4 }
  }

  /// One period per coordinate.
  public func validate(dimension: Int) throws(DAMError) {
    guard dimension == periods.count else {
      throw DAMError(
        .dimensionMismatch, argument: "cost",
        "has \(periods.count) periods for points of dimension \(dimension)")
    }
  }

  public var description: String { "torus(\(periods.map { "\($0)" }.joined(separator: ", ")))" }
}
