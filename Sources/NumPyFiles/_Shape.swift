/// Helpers for array shapes: element counts with overflow checks, and Python-style display.
enum _Shape {
  /// The number of elements of `shape` (1 for a 0-d shape), or `nil` if a dimension is negative
  /// or the product overflows `Int`. A shape containing a zero dimension has 0 elements even if
  /// the other dimensions are huge.
  static func elementCount(_ shape: [Int]) -> Int? {
    var product = 1
    var overflowed = false
    for dimension in shape {
      guard dimension >= 0 else { return nil }
      if dimension == 0 { return shape.allSatisfy { $0 >= 0 } ? 0 : nil }
      if !overflowed {
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        if overflow { overflowed = true } else { product = next }
      }
    }
    return overflowed ? nil : product
  }

  /// The number of bytes `shape` needs at `itemSize` bytes per element, or `nil` on overflow
  /// (or a negative dimension).
  static func byteCount(_ shape: [Int], itemSize: Int) -> Int? {
    guard let count = elementCount(shape) else { return nil }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
    return overflow ? nil : bytes
  }

  /// The shape as Python prints a tuple: `()`, `(5,)`, `(3, 4)`.
  static func describe(_ shape: [Int]) -> String {
    switch shape.count {
    case 0: "()"
    case 1: "(\(shape[0]),)"
    default: "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
  }
}
