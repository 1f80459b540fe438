/// The meaning of an `.npy` header: element type and shape, and how to write one.
///
/// File layout (NumPy format versions 1.0, 2.0, 3.0):
///
///     "\x93NUMPY" major minor  header-length  header-text  data
///     6 bytes     1     1      2 (v1) or 4 (v2, v3), little-endian
///
/// The header text is a Python dict literal with the keys `descr`, `fortran_order` and `shape`,
/// padded with spaces and ended by `'\n'` so that the data starts at a multiple of 64 bytes.
/// Version 1.0 and 2.0 headers are Latin-1, version 3.0 headers UTF-8.
struct _NPYHeader: Sendable, Equatable {
  var dtype: NumPyDType
  var shape: [Int]
  /// Whether the data is stored in Fortran order (first index fastest), as `'fortran_order':
  /// True` says; readers rearrange it into C order (``_FortranOrder``).
  var fortranOrder: Bool = false

  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
  static let alignment = 64
  /// NumPy leaves room for the first dimension to grow to this many digits (`GROWTH_AXIS_MAX_DIGITS`).
  static let growthAxisMaxDigits = 21

  /// Interprets the header text (the bytes between the length field and the data).
  static func parse(_ text: [UInt8], version: UInt8) throws(NumPyError) -> _NPYHeader {
    if version >= 3, String(validating: text, as: UTF8.self) == nil {
      throw NumPyError("malformed header: a version 3.0 header must be UTF-8")
    }
    guard case .dict(let items) = try _HeaderParser.parse(text) else {
      throw NumPyError("malformed header: expected a dict literal, found \(_HeaderParser.excerpt(text))")
    }
    var descrValue: _PyValue?
    var fortranValue: _PyValue?
    var shapeValue: _PyValue?
    for (key, value) in items {
      switch key {
      case "descr": descrValue = value
      case "fortran_order": fortranValue = value
      case "shape": shapeValue = value
      default: continue  // NumPy rejects unknown keys; they are harmless here, so ignore them.
      }
    }
    guard let descrValue else { throw NumPyError("malformed header: missing the 'descr' key") }
    guard let shapeValue else { throw NumPyError("malformed header: missing the 'shape' key") }
    guard let fortranValue else {
      throw NumPyError("malformed header: missing the 'fortran_order' key")
    }

    let dtype: NumPyDType
    switch descrValue {
    case .string(let descr): dtype = try Self.dtype(descr: descr)
    case .list:
      throw NumPyError(
        "structured dtypes (a 'descr' list of named fields) are not supported; save each field as its own array"
      )
    default:
      throw NumPyError("malformed header: 'descr' is \(descrValue.kindName), expected a string")
    }

    let dimensions: [_PyValue]
    switch shapeValue {
    case .tuple(let values), .list(let values): dimensions = values
    default:
      throw NumPyError("malformed header: 'shape' is \(shapeValue.kindName), expected a tuple")
    }
    var shape: [Int] = []
    shape.reserveCapacity(dimensions.count)
    for item in dimensions {
      guard case .integer(let dimension) = item else {
        throw NumPyError("malformed header: shape entries must be integers, found \(item.kindName)")
      }
      guard dimension >= 0 else {
        throw NumPyError("malformed header: negative dimension \(dimension) in 'shape'")
      }
      shape.append(dimension)
    }

    guard case .bool(let fortranOrder) = fortranValue else {
      throw NumPyError(
        "malformed header: 'fortran_order' is \(fortranValue.kindName), expected True or False")
    }
    return _NPYHeader(dtype: dtype, shape: shape, fortranOrder: fortranOrder)
  }

  /// Maps a `descr` string to a supported dtype, or throws a message saying why it is not one.
  static func dtype(descr: String) throws(NumPyError) -> NumPyDType {
    switch descr {
    case "<f8": return .float64
    case "<f4": return .float32
    case "<i8": return .int64
    case "<i4": return .int32
    case "|u1", "<u1", ">u1", "=u1", "u1": return .uint8
    case "|b1", "<b1", ">b1", "=b1", "b1", "?": return .bool
    default: break
    }
    let orderMarks: Set<Character> = ["<", ">", "|", "="]
    let body = descr.first.map(orderMarks.contains) == true ? String(descr.dropFirst()) : descr
    if body.hasPrefix("O") {
      throw NumPyError("object arrays (dtype '\(descr)') are not supported")
    }
    if descr.first == ">", (try? Self.dtype(descr: "<" + body)) != nil {
      throw NumPyError(
        "big-endian dtype '\(descr)' is not supported; convert with arr.astype('<\(body)')")
    }
    let shown = descr.count > 40 ? String(descr.prefix(40)) + "..." : descr
    throw NumPyError(
      "unsupported dtype '\(shown)' (supported: <f8, <f4, <i8, <i4, |u1, |b1)")
  }

  /// The complete preamble and header for `dtype` and `shape`, exactly as `np.save` writes it:
  /// keys sorted, spare spaces after the dict for the first dimension to grow, then space
  /// padding and `'\n'` so the data starts at a multiple of 64 bytes. Version 1.0 unless the
  /// header needs more than 65535 bytes, then 2.0.
  static func encode(dtype: NumPyDType, shape: [Int]) -> [UInt8] {
    var text = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': \(_Shape.describe(shape)), }"
    if let first = shape.first {
      text += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).count))
    }
    let body = Array(text.utf8)
    let lengthWithNewline = body.count + 1
    var prefixLength = 10
    var padding = alignment - (prefixLength + lengthWithNewline) % alignment
    var major: UInt8 = 1
    if lengthWithNewline + padding > Int(UInt16.max) {
      major = 2
      prefixLength = 12
      padding = alignment - (prefixLength + lengthWithNewline) % alignment
    }
    let headerLength = lengthWithNewline + padding
    var out: [UInt8] = []
    out.reserveCapacity(prefixLength + headerLength)
    out.append(contentsOf: magic)
    out.append(major)
    out.append(0)
    if major == 1 {
      out.appendLE(UInt16(headerLength))
    } else {
      out.appendLE(UInt32(truncatingIfNeeded: headerLength))
    }
    out.append(contentsOf: body)
    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
    out.append(UInt8(ascii: "\n"))
    return out
  }
}
