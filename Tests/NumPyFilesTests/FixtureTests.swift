import NumPyFiles
import Testing

/// Files written by NumPy itself (see Fixtures/make_fixtures.py), decoded with exact values.
@Suite("Files written by NumPy")
struct FixtureTests {
  static let float64 = try! NumPyArray(
    shape: [2, 3], doubles: [0.5, -1.25, 3.0, 1e300, -0.0, .leastNonzeroMagnitude])
  static let float32 = try! NumPyArray(
    shape: [4], storage: .float32([1.5, -2.25, 0.1, .greatestFiniteMagnitude]))
  static let int32 = try! NumPyArray(shape: [2, 2], storage: .int32([.min, .max, 0, -1]))
  static let int64 = try! NumPyArray(shape: [3], storage: .int64([.min, .max, 42]))
  static let uint8 = try! NumPyArray(shape: [5], storage: .uint8([0, 1, 127, 128, 255]))
  static let bool = try! NumPyArray(shape: [2, 2], storage: .bool([true, false, false, true]))
  static let scalar = try! NumPyArray(shape: [], doubles: [3.5])
  static let empty = try! NumPyArray(shape: [0], doubles: [])
  static let empty3 = try! NumPyArray(shape: [2, 0, 4], storage: .int32([]))
  static let cube = try! NumPyArray(shape: [2, 3, 4], integers: Array(0..<24))

  static let supported: [(String, NumPyArray)] = [
    ("float64_2x3.npy", float64), ("float32_4.npy", float32), ("int32_2x2.npy", int32),
    ("int64_3.npy", int64), ("uint8_5.npy", uint8), ("bool_2x2.npy", bool),
    ("scalar_0d.npy", scalar), ("empty_0.npy", empty), ("empty_2x0x4.npy", empty3),
    ("int64_2x3x4.npy", cube),
  ]

  @Test("np.save files decode exactly", arguments: supported)
  func decodesNumPyFile(name: String, expected: NumPyArray) throws {
    let array = try NPY.read(contentsOf: Support.fixturePath(name))
    #expect(array == expected)
    #expect(array.shape == expected.shape)
    #expect(array.doubles().map(\.bitPattern) == expected.doubles().map(\.bitPattern))
  }

  @Test("encode reproduces np.save byte for byte", arguments: supported)
  func encodesLikeNumPy(name: String, expected: NumPyArray) throws {
    #expect(NPY.encode(expected) == (try Support.fixtureBytes(name)))
  }

  @Test("Format versions 2.0 and 3.0 written by NumPy", arguments: ["version2.npy", "version3.npy"])
  func otherVersions(name: String) throws {
    let bytes = try Support.fixtureBytes(name)
    #expect(bytes[6] == (name == "version2.npy" ? 2 : 3))
    #expect(try NPY.decode(bytes) == Self.cube)
  }

  @Test("A 1-D array made Fortran-contiguous (saved as C order by NumPy) is accepted")
  func fortranOneDimensional() throws {
    #expect(
      try NPY.read(contentsOf: Support.fixturePath("fortran_1d.npy"))
        == (try NumPyArray(shape: [3], doubles: [0, 1, 2])))
  }

  @Test("A 2-D Fortran-order file reads in C order (more in FortranOrderTests)")
  func fortranTwoDimensional() throws {
    let bytes = try Support.fixtureBytes("fortran_2x3.npy")
    #expect(String(decoding: bytes.prefix(64), as: UTF8.self).contains("'fortran_order': True"))
    let expected = try NumPyArray(shape: [2, 3], doubles: [0, 1, 2, 3, 4, 5])
    #expect(try NPY.read(contentsOf: Support.fixturePath("fortran_2x3.npy")) == expected)
    #expect(try NPY.decode(bytes) == expected)
  }

  static let unsupported: [(String, String)] = [
    (
      "bigendian.npy",
      "bigendian.npy: big-endian dtype '>f8' is not supported; convert with arr.astype('<f8')"
    ),
    ("object.npy", "object.npy: object arrays (dtype '|O') are not supported"),
    ("complex.npy", "complex.npy: unsupported dtype '<c16'"),
    ("structured.npy", "structured.npy: structured dtypes"),
    ("unicode.npy", "unicode.npy: unsupported dtype '<U2'"),
  ]

  @Test("Unsupported NumPy files fail with a clear message naming the file", arguments: unsupported)
  func unsupportedFile(name: String, message: String) throws {
    let error = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: Support.fixturePath(name)) }
    #expect(error?.message.hasPrefix(Support.fixturePath(name) + ": ") == true)
    #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "nil")")
  }

  @Test(
    "np.savez and np.savez_compressed archives",
    arguments: ["savez.npz", "savez_compressed.npz", "zip64_forced.npz", "streamed.npz"])
  func savez(name: String) throws {
    let archive = try NPZ.read(contentsOf: Support.fixturePath(name))
    if name.hasPrefix("savez") {
      #expect(archive.names == ["weights", "labels", "mask", "scalar", "pixels"])
      #expect(archive["weights"] == Self.float64)
      #expect(archive["labels"] == Self.int64)
      #expect(archive["mask"] == Self.bool)
      #expect(archive["scalar"] == (try NumPyArray(shape: [], storage: .int32([7]))))
      #expect(archive["pixels"] == Self.uint8)
    } else {
      #expect(archive.names == ["weights", "labels"])
      #expect(archive["weights"] == Self.float64)
      #expect(archive["labels"] == Self.int64)
    }
    #expect(archive["missing"] == nil)
  }

  @Test("An unsupported member names both the archive and the member")
  func badMember() throws {
    let path = Support.fixturePath("bad_member.npz")
    let error = #expect(throws: NumPyError.self) { try NPZ.read(contentsOf: path) }
    #expect(
      error?.message
        == "\(path): member 'bad.npy': big-endian dtype '>i4' is not supported; convert with arr.astype('<i4')"
    )
  }

  @Test("A member that is not a .npy file is an error naming it")
  func nonNpyMember() throws {
    let error = #expect(throws: NumPyError.self) {
      try NPZ.decode(Support.fixtureBytes("non_npy_member.npz"))
    }
    #expect(error?.message.contains("'notes.txt'") == true)
    #expect(error?.message.contains("not a .npy file") == true)
  }

  @Test("Reading an .npy as an .npz, and the reverse, says so")
  func wrongFormat() throws {
    let npyAsNpz = #expect(throws: NumPyError.self) { try NPZ.decode(Support.fixtureBytes("int64_3.npy")) }
    #expect(npyAsNpz?.message.contains("this is a .npy file, use NPY") == true)
    let npzAsNpy = #expect(throws: NumPyError.self) { try NPY.decode(Support.fixtureBytes("savez.npz")) }
    #expect(npzAsNpy?.message.contains("not a NumPy file (bad magic)") == true)
  }
}
