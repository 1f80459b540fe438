/// Bounds-checked little-endian reads from a byte buffer, addressed from 0.
///
/// Callers check `has(_:_:)` before reading so they can throw a precise error; the accessors
/// themselves never trap: a read out of range yields 0 (or an empty slice).
struct _ByteReader: Sendable {
  let bytes: ArraySlice<UInt8>

  init(_ bytes: ArraySlice<UInt8>) {
    self.bytes = bytes
  }

  init(_ bytes: [UInt8]) {
    self.bytes = bytes[...]
  }

  var count: Int { bytes.count }

  /// Whether `length` bytes starting at `offset` lie within the buffer (overflow-safe).
  func has(_ offset: Int, _ length: Int) -> Bool {
    offset >= 0 && length >= 0 && offset <= count && length <= count - offset
  }

  func u8(_ offset: Int) -> UInt8 {
    guard has(offset, 1) else { return 0 }
    return bytes[bytes.startIndex + offset]
  }

  func u16(_ offset: Int) -> UInt16 {
    guard has(offset, 2) else { return 0 }
    let base = bytes.startIndex + offset
    return UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8
  }

  func u32(_ offset: Int) -> UInt32 {
    guard has(offset, 4) else { return 0 }
    var value: UInt32 = 0
    let base = bytes.startIndex + offset
    for index in (0..<4).reversed() { value = value << 8 | UInt32(bytes[base + index]) }
    return value
  }

  func u64(_ offset: Int) -> UInt64 {
    guard has(offset, 8) else { return 0 }
    var value: UInt64 = 0
    let base = bytes.startIndex + offset
    for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[base + index]) }
    return value
  }

  /// The `length` bytes at `offset`, or an empty slice if they are not all within the buffer.
  func slice(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
    guard has(offset, length) else { return [] }
    let base = bytes.startIndex + offset
    return bytes[base..<(base + length)]
  }

  /// Whether the bytes at `offset` equal `expected`.
  func matches(_ expected: [UInt8], at offset: Int) -> Bool {
    guard has(offset, expected.count) else { return false }
    return slice(offset, expected.count).elementsEqual(expected)
  }
}

/// Little-endian appends to a byte buffer.
extension [UInt8] {
  mutating func appendLE(_ value: UInt16) {
    append(UInt8(truncatingIfNeeded: value))
    append(UInt8(truncatingIfNeeded: value >> 8))
  }

  mutating func appendLE(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> shift)) }
  }

  mutating func appendLE(_ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> shift)) }
  }
}
