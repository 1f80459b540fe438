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
