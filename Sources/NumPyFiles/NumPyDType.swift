/// The element types that `NumPyFiles` reads and writes.
///
/// Each case corresponds to one NumPy `descr` string in an `.npy` header. All multi-byte types are
/// little-endian, as NumPy writes them on every common platform:
///
/// | case      | NumPy dtype | descr  | bytes per element |
/// |-----------|-------------|--------|-------------------|
/// | `float64` | `float64`   | `<f8`  | 8                 |
/// | `float32` | `float32`   | `<f4`  | 4                 |
/// | `int64`   | `int64`     | `<i8`  | 8                 |
/// | `int32`   | `int32`     | `<i4`  | 4                 |
/// | `uint8`   | `uint8`     | `\|u1` | 1                 |
/// | `bool`    | `bool`      | `\|b1` | 1 (0 or 1)        |
///
/// When reading, `<u1` (and any byte-order mark on the one-byte types) is accepted as well.
/// The raw value is NumPy's name for the type (`"float64"`, ...).
public enum NumPyDType: String, Sendable, Hashable, CaseIterable {
  /// IEEE 754 double precision, `<f8`; stored as `[Double]`.
  case float64
  /// IEEE 754 single precision, `<f4`; stored as `[Float]`.
  case float32
  /// Signed 64-bit integer, `<i8`; stored as `[Int64]`.
  case int64
  /// Signed 32-bit integer, `<i4`; stored as `[Int32]`.
  case int32
  /// Unsigned 8-bit integer, `|u1`; stored as `[UInt8]`.
  case uint8
  /// Boolean, one byte per element (0 or 1), `|b1`; stored as `[Bool]`.
  case bool

  /// The `descr` string written for this type in an `.npy` header, e.g. `"<f8"`.
  public var descr: String {
    switch self {
    case .float64: "<f8"
    case .float32: "<f4"
    case .int64: "<i8"
    case .int32: "<i4"
    case .uint8: "|u1"
    case .bool: "|b1"
    }
  }

  /// The size of one element in bytes (NumPy's `itemsize`).
  public var itemSize: Int {
    switch self {
    case .float64, .int64: 8
    case .float32, .int32: 4
    case .uint8, .bool: 1
    }
  }
}
