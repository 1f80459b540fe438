/// A minimal, defensive ZIP reader for `.npz` archives.
///
/// It finds the end-of-central-directory record (searching backwards over at most the last
/// 65557 bytes), follows a ZIP64 locator and record when present, reads the central directory
/// (taking sizes from it, with ZIP64 extended-information extra fields, since streamed members
/// have zero sizes in their local headers), then each local header to find where the data
/// starts. Members may be stored (method 0) or deflated (method 8); CRC-32 is verified.
/// Every offset and size is checked against the buffer before use.
struct _ZipReader {
  /// One member as described by the central directory.
  struct Member: Sendable {
    var name: String
    var flags: UInt16
    var method: UInt16
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
    /// Where the member's (possibly compressed) data starts, from its local header.
    var dataOffset: Int = 0
  }

  static let localHeaderSignature: UInt32 = 0x0403_4B50
  static let centralHeaderSignature: UInt32 = 0x0201_4B50
  static let endSignature: UInt32 = 0x0605_4B50
  static let zip64EndSignature: UInt32 = 0x0606_4B50
  static let zip64LocatorSignature: UInt32 = 0x0706_4B50
  static let endRecordLength = 22
  static let maxCommentLength = 0xFFFF

  let reader: _ByteReader

  init(_ bytes: [UInt8]) {
    reader = _ByteReader(bytes)
  }

  /// The members listed in the central directory, in order.
  func members() throws(NumPyError) -> [Member] {
    let end = try findEndRecord()
    var diskNumber = UInt32(reader.u16(end + 4))
    var directoryDisk = UInt32(reader.u16(end + 6))
    var entryCount = UInt64(reader.u16(end + 10))
    var directorySize = UInt64(reader.u32(end + 12))
    var directoryOffset = UInt64(reader.u32(end + 16))
    var directoryLimit = end  // the central directory must end before this offset

    let locator = end - 20
    if locator >= 0, reader.u32(locator) == Self.zip64LocatorSignature {
      guard let record = Int(exactly: reader.u64(locator + 8)), reader.has(record, 56),
        record <= locator - 56
      else {
        throw NumPyError(
          "corrupt ZIP archive: the ZIP64 end-of-central-directory locator points outside the file")
      }
      guard reader.u32(record) == Self.zip64EndSignature else {
        throw NumPyError(
          "corrupt ZIP archive: no ZIP64 end-of-central-directory record where the locator points")
      }
      diskNumber = reader.u32(record + 16)
      directoryDisk = reader.u32(record + 20)
      entryCount = reader.u64(record + 32)
      directorySize = reader.u64(record + 40)
      directoryOffset = reader.u64(record + 48)
      directoryLimit = record
    }
    guard diskNumber == 0, directoryDisk == 0 else {
      throw NumPyError("multi-disk (split or spanned) ZIP archives are not supported")
    }
    guard let size = Int(exactly: directorySize), let offset = Int(exactly: directoryOffset),
      reader.has(offset, size), offset + size <= directoryLimit
    else {
      throw NumPyError(
        "corrupt ZIP archive: the central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the file"
      )
    }
    // Each central directory header takes at least 46 bytes, which bounds the entry count.
    guard entryCount <= UInt64(size / 46) else {
      throw NumPyError(
        "corrupt ZIP archive: \(entryCount) entries cannot fit in a \(size)-byte central directory")
    }

    var members: [Member] = []
    members.reserveCapacity(Int(entryCount))
    var position = offset
    let directoryEnd = offset + size
    for index in 0..<Int(entryCount) {
      guard position <= directoryEnd - 46, reader.u32(position) == Self.centralHeaderSignature else {
        throw NumPyError("corrupt ZIP archive: central directory entry \(index) is missing or damaged")
      }
      let flags = reader.u16(position + 8)
      let method = reader.u16(position + 10)
      let crc = reader.u32(position + 16)
      var compressed = UInt64(reader.u32(position + 20))
      var uncompressed = UInt64(reader.u32(position + 24))
      let nameLength = Int(reader.u16(position + 28))
      let extraLength = Int(reader.u16(position + 30))
      let commentLength = Int(reader.u16(position + 32))
      var startDisk = UInt32(reader.u16(position + 34))
      var localOffset = UInt64(reader.u32(position + 42))
      let recordLength = 46 + nameLength + extraLength + commentLength
      guard recordLength <= directoryEnd - position else {
        throw NumPyError("corrupt ZIP archive: central directory entry \(index) runs past the directory")
      }
      let name = try Self.decodeName(reader.slice(position + 46, nameLength), flags: flags, index: index)

      // ZIP64 extended information: present fields replace the 0xFFFFFFFF / 0xFFFF markers, in order.
      var extra = position + 46 + nameLength
      let extraEnd = extra + extraLength
      while extra <= extraEnd - 4 {
        let id = reader.u16(extra)
        let length = Int(reader.u16(extra + 2))
        let dataStart = extra + 4
        guard length <= extraEnd - dataStart else { break }  // tolerate a damaged trailing field
        if id == 0x0001 {
          var field = dataStart
          let fieldEnd = dataStart + length
          func next() throws(NumPyError) -> UInt64 {
            guard field <= fieldEnd - 8 else {
              throw NumPyError("member '\(name)': ZIP64 extra field is too short")
            }
            defer { field += 8 }
            return reader.u64(field)
          }
          if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
          if compressed == 0xFFFF_FFFF { compressed = try next() }
          if localOffset == 0xFFFF_FFFF { localOffset = try next() }
          if startDisk == 0xFFFF, field <= fieldEnd - 4 { startDisk = reader.u32(field) }
        }
        extra = dataStart + length
      }
      guard startDisk == 0 else {
        throw NumPyError("member '\(name)': multi-disk ZIP archives are not supported")
      }
      guard let compressedSize = Int(exactly: compressed), let uncompressedSize = Int(exactly: uncompressed),
        let localHeaderOffset = Int(exactly: localOffset)
      else {
        throw NumPyError("member '\(name)': sizes or offset are too large")
      }
      members.append(
        Member(
          name: name, flags: flags, method: method, crc32: crc, compressedSize: compressedSize,
          uncompressedSize: uncompressedSize, localHeaderOffset: localHeaderOffset))
      position += recordLength
    }
    try resolveDataOffsets(&members, directoryOffset: offset)
    return members
  }

  /// Reads each member's local header to find its data, and rejects members whose data lies
  /// outside the file or overlaps another member (the trick behind overlapping "zip bombs").
  private func resolveDataOffsets(_ members: inout [Member], directoryOffset: Int) throws(NumPyError) {
    for index in members.indices {
      let member = members[index]
      let local = member.localHeaderOffset
      guard reader.has(local, 30), reader.u32(local) == Self.localHeaderSignature else {
        throw NumPyError(
          "member '\(member.name)': corrupt ZIP archive: no local file header at offset \(local)")
      }
      let dataStart = local + 30 + Int(reader.u16(local + 26)) + Int(reader.u16(local + 28))
      guard reader.has(dataStart, member.compressedSize) else {
        throw NumPyError(
          "member '\(member.name)': truncated: \(member.compressedSize) bytes of data at offset \(dataStart) lie outside the \(reader.count)-byte file"
        )
      }
      members[index].dataOffset = dataStart
    }
    let order = members.indices.sorted { members[$0].localHeaderOffset < members[$1].localHeaderOffset }
    for (position, index) in order.enumerated() {
      let member = members[index]
      let end = member.dataOffset + member.compressedSize
      let limit =
        position + 1 < order.count ? members[order[position + 1]].localHeaderOffset : directoryOffset
      guard end <= limit else {
        let other =
          position + 1 < order.count
          ? "member '\(members[order[position + 1]].name)'" : "the central directory"
        throw NumPyError("member '\(member.name)': its data overlaps \(other); the archive is corrupt")
      }
    }
  }

  /// The uncompressed, CRC-checked contents of `member`.
  func contents(of member: Member) throws(NumPyError) -> [UInt8] {
    let label = "member '\(member.name)'"
    if member.flags & 0x0001 != 0 {
      throw NumPyError("\(label) is encrypted, which is not supported")
    }
    let data = reader.slice(member.dataOffset, member.compressedSize)
    let contents: [UInt8]
    switch member.method {
    case 0:
      guard member.compressedSize == member.uncompressedSize else {
        throw NumPyError(
          "\(label): stored member declares \(member.compressedSize) bytes stored but \(member.uncompressedSize) uncompressed"
        )
      }
      contents = Array(data)
    case 8:
      do throws(NumPyError) {
        contents = try _Zlib.inflateRaw(data, expectedSize: member.uncompressedSize)
      } catch {
        throw error.prefixed(label)
      }
    default:
      let known: [UInt16: String] = [
        12: " (bzip2)", 14: " (LZMA)", 93: " (Zstandard)", 95: " (xz)", 9: " (deflate64)",
      ]
      throw NumPyError(
        "\(label) uses compression method \(member.method)\(known[member.method] ?? ""); only stored (0) and deflate (8) are supported"
      )
    }
    let computed = _Zlib.crc32(contents[...])
    guard computed == member.crc32 else {
      throw NumPyError(
        "\(label): CRC-32 mismatch (archive says \(Self.hex(member.crc32)), data has \(Self.hex(computed))); the archive is corrupt"
      )
    }
    return contents
  }

  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }

  /// Finds the end-of-central-directory record, searching backwards from the end.
  private func findEndRecord() throws(NumPyError) -> Int {
    guard reader.count >= Self.endRecordLength else {
      if reader.matches(_NPYHeader.magic, at: 0) {
        throw NumPyError("not a ZIP (.npz) archive: this is a .npy file, use NPY")
      }
      throw NumPyError(
        "not a ZIP (.npz) archive: \(reader.count) bytes is too short for an end-of-central-directory record")
    }
    let lowest = max(0, reader.count - Self.endRecordLength - Self.maxCommentLength)
    var candidate = reader.count - Self.endRecordLength
    while candidate >= lowest {
      if reader.u32(candidate) == Self.endSignature {
        let commentLength = Int(reader.u16(candidate + 20))
        if commentLength <= reader.count - candidate - Self.endRecordLength { return candidate }
      }
      candidate -= 1
    }
    if reader.matches(_NPYHeader.magic, at: 0) {
      throw NumPyError("not a ZIP (.npz) archive: this is a .npy file, use NPY")
    }
    if reader.matches([0x50, 0x4B, 0x03, 0x04], at: 0) {
      throw NumPyError("truncated or corrupt ZIP archive: no end-of-central-directory record")
    }
    throw NumPyError("not a ZIP (.npz) archive: no end-of-central-directory record")
  }

  /// Decodes a member name: UTF-8 when flag bit 11 is set, otherwise ASCII or code page 437.
  private static func decodeName(_ bytes: ArraySlice<UInt8>, flags: UInt16, index: Int) throws(NumPyError)
    -> String
  {
    if flags & 0x0800 != 0 || bytes.allSatisfy({ $0 < 0x80 }) {
      guard let name = String(validating: bytes, as: UTF8.self) else {
        throw NumPyError("corrupt ZIP archive: the name of entry \(index) is not valid UTF-8")
      }
      return name
    }
    var name = ""
    let high = Array(cp437High.unicodeScalars)
    for byte in bytes {
      if byte < 0x80 {
        name.unicodeScalars.append(Unicode.Scalar(byte))
      } else {
        name.unicodeScalars.append(high[Int(byte) - 0x80])
      }
    }
    return name
  }

  /// Code page 437, bytes 0x80 to 0xFF: the ZIP default for names without the UTF-8 flag.
  private static let cp437High =
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀"
    + "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{00A0}"
}
