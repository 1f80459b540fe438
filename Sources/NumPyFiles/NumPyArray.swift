/// An n-dimensional array as stored in an `.npy` file: a shape and a flat buffer of elements.
///
/// Layout conventions, the same as NumPy's defaults:
/// - Elements are in **C order** (row-major): the last index varies fastest. The element at index
///   `(i, j)` of a `(rows, cols)` array is at flat position `i * cols + j`.
/// - A 0-d array (`shape == []`, NumPy's `()`) holds exactly one element.
/// - A shape with a zero dimension, such as `(2, 0, 4)`, holds no elements.
/// - On disk every multi-byte element is little-endian; in memory they are native Swift values.
///
/// ```swift
/// let a = try NumPyArray(shape: [2, 3], doubles: [1, 2, 3, 4, 5, 6])
/// a.dtype      // .float64
/// a.count      // 6
/// ```
///
/// Equality compares shapes and elements with `==`, so arrays containing NaN are never equal.
public struct NumPyArray: Sendable, Equatable {
  /// The elements of an array, in C order, in one of the supported element types.
  public enum Storage: Sendable, Equatable {
    /// `float64` elements (`<f8`).
    case float64([Double])
    /// `float32` elements (`<f4`).
    case float32([Float])
    /// `int64` elements (`<i8`).
    case int64([Int64])
    /// `int32` elements (`<i4`).
    case int32([Int32])
    /// `uint8` elements (`|u1`).
    case uint8([UInt8])
    /// `bool` elements (`|b1`).
    case bool([Bool])

    /// The number of stored elements.
    var elementCount: Int {
      switch self {
      case .float64(let values): values.count
      case .float32(let values): values.count
      case .int64(let values): values.count
      case .int32(let values): values.count
      case .uint8(let values): values.count
      case .bool(let values): values.count
      }
    }
  }

  /// The size of each dimension, outermost first (NumPy's `arr.shape`); `[]` for a 0-d array.
  public private(set) var shape: [Int]

  /// The elements in C order.
  public private(set) var storage: Storage

  /// The element type, following from `storage`.
  public var dtype: NumPyDType {
    switch storage {
    case .float64: .float64
    case .float32: .float32
    case .int64: .int64
    case .int32: .int32
    case .uint8: .uint8
    case .bool: .bool
    }
  }

  /// The number of elements: the product of `shape` (1 for a 0-d array, 0 if any dimension is 0).
  public var count: Int { storage.elementCount }

  /// Creates an array from a shape and its elements in C order.
  ///
  /// - Throws: `NumPyError` if a dimension is negative, the product of `shape` overflows `Int`,
  ///   or the number of elements in `storage` differs from the product of `shape`.
  public init(shape: [Int], storage: Storage) throws(NumPyError) {
    if let negative = shape.first(where: { $0 < 0 }) {
      throw NumPyError(
        "invalid shape \(_Shape.describe(shape)): dimension \(negative) is negative")
    }
    guard let expected = _Shape.elementCount(shape) else {
      throw NumPyError("invalid shape \(_Shape.describe(shape)): the element count overflows Int")
    }
    guard expected == storage.elementCount else {
      throw NumPyError(
        "shape \(_Shape.describe(shape)) has \(expected) elements but \(storage.elementCount) were given"
      )
    }
    self.shape = shape
    self.storage = storage
  }

  /// Creates a `float64` array from a shape and its elements in C order.
  ///
  /// - Throws: `NumPyError` under the same conditions as ``init(shape:storage:)``.
  public init(shape: [Int], doubles: [Double]) throws(NumPyError) {
    try self.init(shape: shape, storage: .float64(doubles))
  }

  /// Creates an `int64` array from a shape and its elements in C order.
  ///
  /// - Throws: `NumPyError` under the same conditions as ``init(shape:storage:)``.
  public init(shape: [Int], integers: [Int]) throws(NumPyError) {
    try self.init(shape: shape, storage: .int64(integers.map { Int64($0) }))
  }

  /// The elements in C order, converted to `Double` whatever the dtype.
  ///
  /// `bool` becomes 0 or 1. Integers of magnitude above 2^53 are rounded to the nearest `Double`.
  public func doubles() -> [Double] {
    switch storage {
    case .float64(let values): values
    case .float32(let values): values.map { Double($0) }
    case .int64(let values): values.map { Double($0) }
    case .int32(let values): values.map { Double($0) }
    case .uint8(let values): values.map { Double($0) }
    case .bool(let values): values.map { $0 ? 1 : 0 }
    }
  }

  /// The elements in C order as exact `Int` values.
  ///
  /// Integer and `bool` (0 or 1) arrays always convert. A floating-point element converts only
  /// if it is a whole number within `Int`'s range.
  ///
  /// - Throws: `NumPyError` naming the flat (C-order) index and the value of the first element
  ///   that is not integral, not finite, or out of range.
  public func integers() throws(NumPyError) -> [Int] {
    switch storage {
    case .float64(let values):
      return try Self.exactIntegers(values)
    case .float32(let values):
      return try Self.exactIntegers(values)
    case .int64(let values):
      var result: [Int] = []
      result.reserveCapacity(values.count)
      for (index, value) in values.enumerated() {
        guard let exact = Int(exactly: value) else {
          throw NumPyError("element at flat index \(index) is \(value), outside the range of Int")
        }
        result.append(exact)
      }
      return result
    case .int32(let values): return values.map { Int($0) }
    case .uint8(let values): return values.map { Int($0) }
    case .bool(let values): return values.map { $0 ? 1 : 0 }
    }
  }

  private static func exactIntegers<F: BinaryFloatingPoint>(_ values: [F]) throws(NumPyError) -> [Int] {
    var result: [Int] = []
    result.reserveCapacity(values.count)
    for (index, value) in values.enumerated() {
      if let exact = Int(exactly: value) {
        result.append(exact)
      } else if !value.isFinite || value.rounded(.towardZero) != value {
        throw NumPyError("element at flat index \(index) is \(value), which is not an integer")
      } else {
        throw NumPyError("element at flat index \(index) is \(value), outside the range of Int")
      }
    }
    return result
  }
}
