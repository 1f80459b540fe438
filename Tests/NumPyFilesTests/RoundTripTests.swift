import NumPyFiles
import Testing

@Suite("Round trips through encode and decode")
struct RoundTripTests {
  static let shapes: [[Int]] = [[], [0], [5], [2, 3], [2, 0, 4], [2, 3, 4]]

  @Test("NPY round trip", arguments: NumPyDType.allCases, shapes)
  func npyRoundTrip(dtype: NumPyDType, shape: [Int]) throws {
    let array = try Support.sampleArray(dtype, shape: shape)
    let bytes = NPY.encode(array)
    #expect(bytes.count % 64 == array.count * dtype.itemSize % 64)
    let headerEnd = bytes.count - array.count * dtype.itemSize
    #expect(headerEnd % 64 == 0, "data must start at a multiple of 64 bytes")
    #expect(bytes[headerEnd - 1] == 0x0A, "header must end with a newline")
    #expect(bytes[6] == 1 && bytes[7] == 0, "version 1.0")
    let decoded = try NPY.decode(bytes)
    #expect(decoded == array)
    #expect(decoded.shape == shape)
    #expect(decoded.dtype == dtype)
  }

  @Test("NPZ round trip", arguments: [false, true])
  func npzRoundTrip(compressed: Bool) throws {
    var archive = NumPyArchive()
    for (index, dtype) in NumPyDType.allCases.enumerated() {
      for (shapeIndex, shape) in Self.shapes.enumerated() {
        archive["\(dtype.rawValue)_\(shapeIndex)_\(index)"] = try Support.sampleArray(dtype, shape: shape)
      }
    }
    archive["ünïcødé name"] = try NumPyArray(shape: [1], doubles: [1])
    let bytes = try NPZ.encode(archive, compressed: compressed)
    let decoded = try NPZ.decode(bytes)
    #expect(decoded == archive)
    #expect(decoded.names == archive.names)
  }

  @Test("Empty archive round trip", arguments: [false, true])
  func emptyArchive(compressed: Bool) throws {
    let bytes = try NPZ.encode(NumPyArchive(), compressed: compressed)
    #expect(bytes.count == 22)
    #expect(try NPZ.decode(bytes) == NumPyArchive())
  }

  @Test("Compression shrinks redundant data")
  func compressionShrinks() throws {
    let archive = NumPyArchive([
      .init(
        name: "zeros", array: try NumPyArray(shape: [10_000], doubles: .init(repeating: 0, count: 10_000)))
    ])
    let stored = try NPZ.encode(archive)
    let deflated = try NPZ.encode(archive, compressed: true)
    #expect(deflated.count * 20 < stored.count)
    #expect(try NPZ.decode(deflated) == archive)
  }

  @Test("Special floating-point values keep their bits")
  func specialValues() throws {
    let values: [Double] = [
      .nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
    ]
    let decoded = try NPY.decode(NPY.encode(try NumPyArray(shape: [6], doubles: values)))
    #expect(decoded.doubles().map(\.bitPattern) == values.map(\.bitPattern))
    let floats: [Float] = [.nan, -.infinity, -0.0, .leastNonzeroMagnitude]
    let decodedFloats = try NPY.decode(NPY.encode(try NumPyArray(shape: [4], storage: .float32(floats))))
    guard case .float32(let got) = decodedFloats.storage else {
      Issue.record("expected float32 storage")
      return
    }
    #expect(got.map(\.bitPattern) == floats.map(\.bitPattern))
  }

  @Test("A header longer than 65535 bytes uses format version 2.0")
  func version2Encoding() throws {
    let shape = [Int](repeating: 1, count: 30_000)
    let array = try NumPyArray(shape: shape, doubles: [2.5])
    let bytes = NPY.encode(array)
    #expect(bytes[6] == 2 && bytes[7] == 0)
    #expect((bytes.count - 8) % 64 == 0)
    #expect(try NPY.decode(bytes) == array)
  }

  @Test("ZIP64 end records are written for 65535 or more entries")
  func manyEntries() throws {
    let one = try NumPyArray(shape: [], storage: .uint8([7]))
    let archive = NumPyArchive((0..<65_536).map { NumPyArchive.Entry(name: "a\($0)", array: one) })
    let bytes = try NPZ.encode(archive)
    // ZIP64 end-of-central-directory record signature "PK\u{6}\u{6}" is present.
    let tail = Array(bytes.suffix(22 + 20 + 56))
    #expect(Array(tail[0..<4]) == [0x50, 0x4B, 0x06, 0x06])
    #expect(
      Array(bytes.suffix(22)[(bytes.count - 22 + 8)..<(bytes.count - 22 + 12)]) == [0xFF, 0xFF, 0xFF, 0xFF])
    let decoded = try NPZ.decode(bytes)
    #expect(decoded.entries.count == 65_536)
    #expect(decoded.names.last == "a65535")
    #expect(decoded["a12345"] == one)

    let small = try NPZ.encode(NumPyArchive(Array(archive.entries.prefix(65_534))))
    #expect(!small.suffix(22 + 20 + 56).starts(with: [0x50, 0x4B, 0x06, 0x06]))
    #expect(try NPZ.decode(small).entries.count == 65_534)
  }
}
