import NumPyFiles
import Testing

/// ZIP-level behaviour of `.npz` decoding and encoding, on archives altered by hand.
@Suite("NPZ archives")
struct NPZTests {
  static func sampleArchive() throws -> NumPyArchive {
    NumPyArchive([
      .init(name: "a", array: try NumPyArray(shape: [2, 2], doubles: [1, 2, 3, 4])),
      .init(name: "b", array: try NumPyArray(shape: [3], integers: [7, 8, 9])),
    ])
  }

  /// Offsets into an archive written by NPZ.encode (no comment, no ZIP64).
  struct Layout {
    var bytes: [UInt8]
    func u16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
    func u32(_ offset: Int) -> Int { u16(offset) | u16(offset + 2) << 16 }
    var directoryOffset: Int { u32(bytes.count - 6) }
    /// Offset of the central directory header of member `index`.
    func central(_ index: Int) -> Int {
      var position = directoryOffset
      for _ in 0..<index { position += 46 + u16(position + 28) + u16(position + 30) + u16(position + 32) }
      return position
    }
    func local(_ index: Int) -> Int { u32(central(index) + 42) }
    func dataStart(_ index: Int) -> Int {
      local(index) + 30 + u16(local(index) + 26) + u16(local(index) + 28)
    }
    mutating func set16(_ offset: Int, _ value: Int) {
      bytes[offset] = UInt8(value & 0xFF)
      bytes[offset + 1] = UInt8((value >> 8) & 0xFF)
    }
    mutating func set32(_ offset: Int, _ value: Int) {
      set16(offset, value & 0xFFFF)
      set16(offset + 2, (value >> 16) & 0xFFFF)
    }
  }

  static func layout(compressed: Bool) throws -> Layout {
    Layout(bytes: try NPZ.encode(sampleArchive(), compressed: compressed))
  }

  static func expectError(
    _ bytes: [UInt8], _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let error = #expect(throws: NumPyError.self, sourceLocation: sourceLocation) { try NPZ.decode(bytes) }
    for fragment in fragments {
      #expect(
        error?.message.contains(fragment) == true, "expected '\(fragment)' in: \(error?.message ?? "nil")",
        sourceLocation: sourceLocation)
    }
  }

  @Test("A corrupted data byte is reported as a CRC-32 mismatch naming the member")
  func corruptedData() throws {
    var zip = try Self.layout(compressed: false)
    zip.bytes[zip.dataStart(1) + 140] ^= 0x01
    Self.expectError(zip.bytes, "member 'b.npy'", "CRC-32 mismatch")
  }

  @Test("A corrupted CRC field is reported", arguments: [false, true])
  func corruptedCRC(compressed: Bool) throws {
    var zip = try Self.layout(compressed: compressed)
    zip.bytes[zip.central(0) + 16] ^= 0x80
    Self.expectError(zip.bytes, "member 'a.npy'", "CRC-32 mismatch")
  }

  @Test("Corrupt deflate data is an error naming the member")
  func corruptDeflate() throws {
    var zip = try Self.layout(compressed: true)
    for offset in 0..<8 { zip.bytes[zip.dataStart(0) + offset] = 0xFF }
    Self.expectError(zip.bytes, "member 'a.npy'")
  }

  @Test("A member inflating beyond its declared size is an error")
  func inflatesBeyond() throws {
    var zip = try Self.layout(compressed: true)
    zip.set32(zip.central(0) + 24, 100)
    Self.expectError(zip.bytes, "member 'a.npy'", "inflates beyond its declared size of 100 bytes")
  }

  @Test(
    "A member inflating short of its declared size is an error, even for absurd sizes",
    arguments: [200, 0x7FFF_FFFF, 0xFFFF_FFFE])
  func inflatesShort(declared: Int) throws {
    var zip = try Self.layout(compressed: true)
    zip.set32(zip.central(0) + 24, declared)
    Self.expectError(zip.bytes, "member 'a.npy'", "the archive declares \(declared)")
  }

  @Test("Stored sizes that disagree are an error")
  func storedSizeMismatch() throws {
    var zip = try Self.layout(compressed: false)
    zip.set32(zip.central(0) + 24, 0xFFFF_FFF0)
    Self.expectError(zip.bytes, "member 'a.npy'", "stored member declares")
  }

  @Test("Data running past the end of the file is an error")
  func dataPastEnd() throws {
    var zip = try Self.layout(compressed: false)
    zip.set32(zip.central(1) + 20, 0x7FFF_0000)
    zip.set32(zip.central(1) + 24, 0x7FFF_0000)
    Self.expectError(zip.bytes, "member 'b.npy'", "truncated")
  }

  @Test("Unsupported compression methods and encryption are named")
  func unsupportedMethod() throws {
    var zip = try Self.layout(compressed: false)
    zip.set16(zip.central(0) + 10, 12)
    Self.expectError(zip.bytes, "member 'a.npy' uses compression method 12 (bzip2)")
    var encrypted = try Self.layout(compressed: false)
    encrypted.set16(encrypted.central(1) + 8, 1)
    Self.expectError(encrypted.bytes, "member 'b.npy' is encrypted")
  }

  @Test("Duplicate member names are an error")
  func duplicateNames() throws {
    var zip = try Self.layout(compressed: false)
    let nameOffset = zip.central(1) + 46
    #expect(zip.bytes[nameOffset] == UInt8(ascii: "b"))
    zip.bytes[nameOffset] = UInt8(ascii: "a")
    zip.bytes[zip.local(1) + 30] = UInt8(ascii: "a")
    Self.expectError(zip.bytes, "member 'a.npy' appears more than once")
  }

  @Test("Members whose data overlap (an overlapping zip bomb) are rejected")
  func overlapping() throws {
    var zip = try Self.layout(compressed: true)
    zip.set32(zip.central(1) + 42, 0)  // member b now points at a's local header and data
    Self.expectError(zip.bytes, "overlaps")
  }

  @Test("A missing local header is an error")
  func missingLocalHeader() throws {
    var zip = try Self.layout(compressed: false)
    zip.set32(zip.central(1) + 42, 3)
    Self.expectError(zip.bytes, "member 'b.npy'", "no local file header")
  }

  @Test("A central directory outside the file, or with too many entries, is an error")
  func badDirectory() throws {
    var zip = try Self.layout(compressed: false)
    zip.set32(zip.bytes.count - 6, 0x7FFF_FFFF)
    Self.expectError(zip.bytes, "central directory")
    var many = try Self.layout(compressed: false)
    many.set16(many.bytes.count - 12, 0xFFFE)
    many.set16(many.bytes.count - 14, 0xFFFE)
    Self.expectError(many.bytes, "entries cannot fit")
  }

  @Test("Multi-disk archives are rejected")
  func multiDisk() throws {
    var zip = try Self.layout(compressed: false)
    zip.set16(zip.bytes.count - 18, 1)
    Self.expectError(zip.bytes, "multi-disk")
  }

  @Test("An archive comment and trailing bytes after the end record are tolerated, as in Python")
  func commentAndTrailing() throws {
    var zip = try Self.layout(compressed: true)
    zip.set16(zip.bytes.count - 2, 5)
    zip.bytes += Array("hello".utf8)
    #expect(try NPZ.decode(zip.bytes) == (try Self.sampleArchive()))
    #expect(try NPZ.decode(zip.bytes + [1, 2, 3]) == (try Self.sampleArchive()))
  }

  static let badNames: [(String, String)] = [
    ("", "must not be empty"),
    ("a/b", "must not contain '/'"),
    ("a\0b", "must not contain NUL"),
    (String(repeating: "x", count: 70_000), "too long"),
  ]

  @Test("Invalid entry names are rejected when encoding", arguments: badNames)
  func invalidNames(name: String, message: String) throws {
    let archive = NumPyArchive([.init(name: name, array: try NumPyArray(shape: [], doubles: [1]))])
    let error = #expect(throws: NumPyError.self) { try NPZ.encode(archive) }
    #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "nil")")
  }

  @Test("Duplicate entry names are rejected when encoding")
  func duplicateEncode() throws {
    let one = try NumPyArray(shape: [], doubles: [1])
    let error = #expect(throws: NumPyError.self) {
      try NPZ.encode(NumPyArchive([.init(name: "x", array: one), .init(name: "x", array: one)]))
    }
    #expect(error?.message.contains("'x' occurs more than once") == true)
  }

  @Test("Subscript get, replace, append and remove keep order")
  func subscripts() throws {
    let one = try NumPyArray(shape: [], doubles: [1])
    let two = try NumPyArray(shape: [], doubles: [2])
    var archive = NumPyArchive([.init(name: "a", array: one), .init(name: "b", array: one)])
    archive["a"] = two
    archive["c"] = one
    #expect(archive.names == ["a", "b", "c"])
    #expect(archive["a"] == two)
    archive["b"] = nil
    #expect(archive.names == ["a", "c"])
    #expect(archive["b"] == nil)
    var duplicated = NumPyArchive([
      .init(name: "d", array: one), .init(name: "e", array: one), .init(name: "d", array: one),
    ])
    duplicated["d"] = two
    #expect(duplicated.names == ["d", "e"])
    #expect(duplicated["d"] == two)
  }
}
