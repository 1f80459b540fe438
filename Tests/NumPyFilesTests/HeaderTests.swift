import NumPyFiles
import Testing

/// Hand-made `.npy` files exercising the header parser and the size checks.
@Suite("NPY headers")
struct HeaderTests {
  static let twelve = Support.float64Bytes((0..<12).map(Double.init))

  static let tolerantHeaders: [String] = [
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
    "{'shape': (3, 4), 'fortran_order': False, 'descr': '<f8'}",
    "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (3,4)}",
    "{ 'descr' : '<f8' ,\t'fortran_order':False,'shape':( 3 , 4 , ) , }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }",
    "{'descr': u'<f8', 'fortran_order': False, 'shape': [3, 4]}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'extra': None}",
  ]

  @Test("Tolerant header parsing", arguments: tolerantHeaders)
  func tolerant(header: String) throws {
    let array = try NPY.decode(Support.npy(header: header, data: Self.twelve))
    #expect(array.shape == [3, 4])
    #expect(array.doubles() == (0..<12).map(Double.init))
  }

  @Test("Unpadded header without newline still parses")
  func unpadded() throws {
    let bytes = Support.npy(
      header: "{'descr': '<i4', 'fortran_order': False, 'shape': (1,)}", data: [1, 0, 0, 0], pad: false)
    #expect(try NPY.decode(bytes) == (try NumPyArray(shape: [1], storage: .int32([1]))))
  }

  @Test("Hand-made version 2.0 and 3.0 headers", arguments: [UInt8(2), UInt8(3)])
  func version2(version: UInt8) throws {
    let bytes = Support.npy(
      header: "{\"shape\": (2, 2), \"descr\": \"|u1\", \"fortran_order\": False,}", version: version,
      data: [1, 2, 3, 255])
    #expect(bytes[6] == version)
    #expect(try NPY.decode(bytes) == (try NumPyArray(shape: [2, 2], storage: .uint8([1, 2, 3, 255]))))
  }

  @Test("'<u1' is accepted for uint8, 0-d shapes and empty shapes")
  func variants() throws {
    #expect(
      try NPY.decode(Support.npy(header: "{'descr': '<u1', 'fortran_order': False, 'shape': ()}", data: [9]))
        == (try NumPyArray(shape: [], storage: .uint8([9]))))
    #expect(
      try NPY.decode(Support.npy(header: "{'descr': '|b1', 'fortran_order': True, 'shape': (0, 7)}"))
        == (try NumPyArray(shape: [0, 7], storage: .bool([]))))
  }

  static let badHeaders: [(String, String)] = [
    ("{'descr': '<f8', 'fortran_order': False}", "missing the 'shape' key"),
    ("{'descr': '<f8', 'shape': (3, 4)}", "missing the 'fortran_order' key"),
    ("{'fortran_order': False, 'shape': (3, 4)}", "missing the 'descr' key"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, -4)}", "negative dimension -4"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4.0)}", "only decimal integers"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)", "unexpected end of header"),
    ("{'descr': '<f8', 'fortran_order': 0, 'shape': (3, 4)}", "'fortran_order' is an integer"),
    ("{'descr': '<f8' 'fortran_order': False, 'shape': (3, 4)}", "expected ',' or '}'"),
    ("['descr', '<f8']", "expected a dict literal"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)} junk", "unexpected text after"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}", "does not fit"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': ('3',)}", "shape entries must be integers"),
    ("{'descr': 8, 'fortran_order': False, 'shape': (3,)}", "'descr' is an integer"),
    ("{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}", "malformed header"),
    ("{'descr': '>i8', 'fortran_order': False, 'shape': (3,)}", "convert with arr.astype('<i8')"),
    ("{'descr': '<u8', 'fortran_order': False, 'shape': (3,)}", "unsupported dtype '<u8'"),
    ("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (3,)}", "structured dtypes"),
    ("", "unexpected end of header"),
    (String(repeating: "(", count: 100), "nesting deeper than"),
  ]

  @Test("Malformed headers give clear errors", arguments: badHeaders)
  func malformed(header: String, message: String) {
    let error = #expect(throws: NumPyError.self) {
      try NPY.decode(Support.npy(header: header, data: Self.twelve))
    }
    #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "nil")")
  }

  @Test("Truncated data names the shape, dtype and byte counts")
  func truncatedData() {
    let bytes = Support.npy(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
      data: Array(Self.twelve.prefix(40)))
    let error = #expect(throws: NumPyError.self) { try NPY.decode(bytes) }
    #expect(error?.message == "truncated: shape (3, 4) of float64 needs 96 bytes of data, found 40")
  }

  @Test("Extra trailing data is an error")
  func trailingData() {
    let bytes = Support.npy(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
      data: Self.twelve + [UInt8](repeating: 0, count: 8))
    let error = #expect(throws: NumPyError.self) { try NPY.decode(bytes) }
    #expect(error?.message == "8 bytes of data beyond what shape (3, 4) of float64 needs")
  }

  static let hugeShapes: [String] = [
    "(4611686018427387904, 4611686018427387904)",  // (2**62, 2**62): the count overflows
    "(4611686018427387904,)",  // 2**62 elements of 8 bytes: the byte size overflows
    "(1099511627776,)",  // 2**40 elements: fits in Int, far beyond the bytes present
    "(9223372036854775807, 9223372036854775807, 9223372036854775807)",
    "(65536, 65536, 65536, 65536, 65536)",
  ]

  @Test("Huge declared shapes throw without allocating", arguments: hugeShapes)
  func hugeShape(shape: String) {
    let bytes = Support.npy(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }", data: Self.twelve)
    let error = #expect(throws: NumPyError.self) { try NPY.decode(bytes) }
    let message = error?.message ?? ""
    #expect(message.contains("too large") || message.hasPrefix("truncated"), "got: \(message)")
  }

  @Test("A zero dimension makes a huge shape empty")
  func zeroDimension() throws {
    let bytes = Support.npy(
      header:
        "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4611686018427387904), }")
    let array = try NPY.decode(bytes)
    #expect(array.count == 0)
    #expect(array.shape == [0, 1 << 62, 1 << 62])
  }

  static let badPreambles: [([UInt8], String)] = [
    ([], "empty file"),
    ([0x93, 0x4E, 0x55], "truncated"),
    (Array("PK\u{3}\u{4}rest".utf8), "looks like a ZIP"),
    (Array("hello, world".utf8), "not a NumPy file (bad magic)"),
    ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 4, 0, 0, 0], "unsupported NumPy file format version 4.0"),
    (
      [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF, 0x7B],
      "truncated: the header declares 65535 bytes"
    ),
    ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0xFF, 0xFF], "truncated"),
    (
      [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 3, 0, 0xFF, 0xFF, 0xFF, 0xFF],
      "truncated: the header declares 4294967295 bytes"
    ),
  ]

  @Test("Bad preambles", arguments: badPreambles)
  func badPreamble(bytes: [UInt8], message: String) {
    let error = #expect(throws: NumPyError.self) { try NPY.decode(bytes) }
    #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "nil")")
  }

  @Test("A version 3.0 header must be valid UTF-8")
  func invalidUTF8() {
    var bytes = Support.npy(
      header: "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), 'x': 'Z'}", version: 3)
    if let index = bytes.firstIndex(of: UInt8(ascii: "Z")) { bytes[index] = 0xFF }
    let error = #expect(throws: NumPyError.self) { try NPY.decode(bytes) }
    #expect(error?.message.contains("UTF-8") == true)
  }
}
