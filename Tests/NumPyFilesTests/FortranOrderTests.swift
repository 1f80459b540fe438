import Foundation
import NumPyFiles
import Testing

/// Fortran-order (`'fortran_order': True`) files and archive members written by NumPy
/// (scripts/fixtures/make_fortran_fixtures.py, Fixtures/fortran/): each array is saved from
/// Fortran memory (`_f`) and from C memory (`_c`), and every element is a function of its index,
/// `value(index)` = the digits `index + 1` (`(0, 2, 1)` gives 132), recomputed here.
@Suite("Fortran-order arrays")
struct FortranOrderTests {
  /// A fixture: its name, shape, dtype, and the element as the script computed it from
  /// `value(index)`.
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var shape: [Int]
    var dtype: NumPyDType
    var formula: @Sendable (Double) -> Double
    var testDescription: String { name }

    /// The element at C-order position `position`, as a double.
    func element(_ position: Int) -> Double { formula(Double(FortranOrderTests.indexValue(position, shape))) }
  }

  static let cases: [Case] = [
    Case(name: "float64_3x5", shape: [3, 5], dtype: .float64) { $0 / 8 },
    Case(name: "float64_2x3x4", shape: [2, 3, 4], dtype: .float64) { $0 + 0.25 },
    Case(name: "float32_4x3", shape: [4, 3], dtype: .float32) { Double(Float($0) / 4) },
    Case(name: "float32_3x2x5", shape: [3, 2, 5], dtype: .float32) { Double(Float($0) - 0.5) },
    Case(name: "int64_2x3x2x3", shape: [2, 3, 2, 3], dtype: .int64) { $0 * -3 },
    Case(name: "int32_3x1x4", shape: [3, 1, 4], dtype: .int32) { $0 },
    Case(name: "uint8_1x2x3x1x4", shape: [1, 2, 3, 1, 4], dtype: .uint8) {
      $0.truncatingRemainder(dividingBy: 251)
    },
    Case(name: "bool_3x4", shape: [3, 4], dtype: .bool) {
      $0.truncatingRemainder(dividingBy: 3) == 0 ? 1 : 0
    },
  ]

  /// `value(index)` of the C-order position `position` in `shape`.
  static func indexValue(_ position: Int, _ shape: [Int]) -> Int {
    var remainder = position
    var index = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() {
      index[axis] = remainder % shape[axis]
      remainder /= shape[axis]
    }
    return index.reduce(0) { 10 * $0 + $1 + 1 }
  }

  static func path(_ name: String) -> String { Support.fixturePath("fortran/" + name) }

  /// The elements as doubles, in storage order, with their bit patterns for exact comparison.
  static func bits(_ array: NumPyArray) -> [UInt64] {
    switch array.storage {
    case .float32(let values): values.map { UInt64($0.bitPattern) }
    default: array.doubles().map(\.bitPattern)
    }
  }

  /// The expected C-order elements of `testCase` in its dtype, bit for bit.
  static func expectedBits(_ testCase: Case) -> [UInt64] {
    let count = testCase.shape.reduce(1, *)
    return (0..<count).map { position in
      let value = testCase.element(position)
      return testCase.dtype == .float32 ? UInt64(Float(value).bitPattern) : value.bitPattern
    }
  }

  static func expectMatches(_ array: NumPyArray, _ testCase: Case, _ label: String) {
    #expect(array.shape == testCase.shape, "\(label)")
    #expect(array.dtype == testCase.dtype, "\(label)")
    #expect(bits(array) == expectedBits(testCase), "\(label)")
  }

  @Test("A Fortran-order .npy reads as the same array as its C-order twin", arguments: cases)
  func npyFile(testCase: Case) throws {
    let fortranBytes = try Support.fixtureBytes("fortran/\(testCase.name)_f.npy")
    #expect(String(decoding: fortranBytes.prefix(128), as: UTF8.self).contains("'fortran_order': True"))
    let cOrder = try NPY.read(contentsOf: Self.path("\(testCase.name)_c.npy"))
    Self.expectMatches(cOrder, testCase, "C order")
    // read(contentsOf:) takes the direct path for float64, decode the general one for every dtype.
    let read = try NPY.read(contentsOf: Self.path("\(testCase.name)_f.npy"))
    let decoded = try NPY.decode(fortranBytes)
    Self.expectMatches(read, testCase, "Fortran order, read")
    Self.expectMatches(decoded, testCase, "Fortran order, decoded")
    #expect(read == cOrder)
    #expect(decoded == cOrder)
  }

  @Test(
    "Fortran-order members of np.savez and np.savez_compressed archives",
    arguments: ["arrays.npz", "arrays_compressed.npz"])
  func npzMembers(archiveName: String) throws {
    let archive = try NPZ.read(contentsOf: Self.path(archiveName))
    #expect(archive.names.count == 2 * Self.cases.count)
    for testCase in Self.cases {
      let fortran = try #require(archive[testCase.name + "_f"], "\(testCase.name)")
      let cOrder = try #require(archive[testCase.name + "_c"], "\(testCase.name)")
      Self.expectMatches(fortran, testCase, "\(archiveName): \(testCase.name)_f")
      #expect(fortran == cOrder, "\(testCase.name)")
    }
  }

  @Test("Writing a Fortran-order array read back gives C-order bytes equal to NumPy's C-order file")
  func writesCOrder() throws {
    for testCase in Self.cases {
      let array = try NPY.read(contentsOf: Self.path("\(testCase.name)_f.npy"))
      #expect(
        NPY.encode(array) == (try Support.fixtureBytes("fortran/\(testCase.name)_c.npy")), "\(testCase.name)")
    }
  }

  /// A hand-made header: `fortran_order` True with a large 2-D float64 array, to exercise the
  /// transposition beyond the fixtures' sizes on both reading paths.
  @Test("A larger Fortran-order float64 array, direct read and general decoder")
  func largerArray() throws {
    let (rows, columns) = (300, 257)
    // Fortran order: element (i, j) at j * rows + i.
    var stored = [Double](repeating: 0, count: rows * columns)
    for i in 0..<rows {
      for j in 0..<columns { stored[j * rows + i] = Double(i * 1000 + j) }
    }
    let bytes = Support.npy(
      header: "{'descr': '<f8', 'fortran_order': True, 'shape': (\(rows), \(columns)), }",
      data: Support.float64Bytes(stored))
    let expected = try NumPyArray(
      shape: [rows, columns],
      doubles: (0..<rows * columns).map { Double(($0 / columns) * 1000 + $0 % columns) })
    #expect(try NPY.decode(bytes) == expected)
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let file = directory + "/large.npy"
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    #expect(try NPY.read(contentsOf: file) == expected)
  }

  @Test("Fortran order with at most one axis longer than 1, or no elements, is the C layout")
  func degenerateShapes() throws {
    for shape in [[4], [1, 4], [4, 1], [1, 4, 1], [0, 3], [3, 0, 2], []] {
      let count = shape.reduce(1, *)
      let values = (0..<count).map { Double($0) + 0.5 }
      let bytes = Support.npy(
        header:
          "{'descr': '<f8', 'fortran_order': True, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }",
        data: Support.float64Bytes(values))
      #expect(try NPY.decode(bytes) == (try NumPyArray(shape: shape, doubles: values)), "\(shape)")
    }
  }

  @Test("A Fortran-order file whose data does not match its shape is refused before allocating")
  func sizeChecked() throws {
    let huge = Support.npy(
      header: "{'descr': '<f8', 'fortran_order': True, 'shape': (4611686018427387904, 4), }",
      data: Support.float64Bytes([1, 2, 3]))
    let overflow = #expect(throws: NumPyError.self) { try NPY.decode(huge) }
    #expect(overflow?.message.contains("overflows a 64-bit integer") == true, "\(overflow?.message ?? "nil")")
    let short = Support.npy(
      header: "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 5), }",
      data: [UInt8](repeating: 0, count: 56))
    let truncated = #expect(throws: NumPyError.self) { try NPY.decode(short) }
    #expect(truncated?.message == "truncated: shape (3, 5) of float32 needs 60 bytes of data, found 56")
  }
}
