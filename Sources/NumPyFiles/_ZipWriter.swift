/// A minimal ZIP writer for `.npz` archives.
///
/// Members are stored (method 0) or deflated (method 8, raw DEFLATE), with their CRC-32 and
/// sizes in the local header (no data descriptors) and a fixed DOS timestamp of 1980-01-01 00:00.
/// ZIP64 structures are written only when needed: a ZIP64 extra field for a member whose size or
/// offset reaches 0xFFFFFFFF, and the ZIP64 end-of-central-directory record and locator when
/// the entry count reaches 0xFFFF or the central directory's size or offset reaches 0xFFFFFFFF.
struct _ZipWriter {
  private static let limit32: UInt64 = 0xFFFF_FFFF
  private static let limit16: UInt64 = 0xFFFF
  private static let dosTime: UInt16 = 0
  private static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1  // 1980-01-01

  private struct CentralRecord {
    var name: [UInt8]
    var flags: UInt16
    var method: UInt16
    var crc32: UInt32
    var compressedSize: UInt64
    var uncompressedSize: UInt64
    var localHeaderOffset: UInt64
  }

  private var output: [UInt8] = []
  private var records: [CentralRecord] = []

  init() {}

  /// Appends a member. `data` is already compressed when `method` is 8.
  mutating func add(
    name: String, data: [UInt8], method: UInt16, crc32: UInt32, uncompressedSize: Int
  ) {
    let nameBytes = Array(name.utf8)
    let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800  // bit 11: UTF-8 name
    let offset = UInt64(output.count)
    let compressed = UInt64(data.count)
    let uncompressed = UInt64(uncompressedSize)
    let zip64 = compressed >= Self.limit32 || uncompressed >= Self.limit32
    let versionNeeded: UInt16 = zip64 ? 45 : (method == 8 ? 20 : 10)

    output.appendLE(_ZipReader.localHeaderSignature)
    output.appendLE(versionNeeded)
    output.appendLE(flags)
    output.appendLE(method)
    output.appendLE(Self.dosTime)
    output.appendLE(Self.dosDate)
    output.appendLE(crc32)
    output.appendLE(zip64 ? UInt32.max : UInt32(compressed))
    output.appendLE(zip64 ? UInt32.max : UInt32(uncompressed))
    output.appendLE(UInt16(nameBytes.count))
    output.appendLE(UInt16(zip64 ? 20 : 0))
    output.append(contentsOf: nameBytes)
    if zip64 {
      // In a local header the ZIP64 field holds both sizes.
      output.appendLE(UInt16(0x0001))
      output.appendLE(UInt16(16))
      output.appendLE(uncompressed)
      output.appendLE(compressed)
    }
    output.append(contentsOf: data)
    records.append(
      CentralRecord(
        name: nameBytes, flags: flags, method: method, crc32: crc32, compressedSize: compressed,
        uncompressedSize: uncompressed, localHeaderOffset: offset))
  }

  /// Writes the central directory and end records and returns the whole archive.
  consuming func finish() -> [UInt8] {
    let directoryOffset = UInt64(output.count)
    for record in records {
      var extra: [UInt8] = []
      if record.uncompressedSize >= Self.limit32 { extra.appendLE(record.uncompressedSize) }
      if record.compressedSize >= Self.limit32 { extra.appendLE(record.compressedSize) }
      if record.localHeaderOffset >= Self.limit32 { extra.appendLE(record.localHeaderOffset) }
      let zip64 = !extra.isEmpty
      let versionNeeded: UInt16 = zip64 ? 45 : (record.method == 8 ? 20 : 10)
      output.appendLE(_ZipReader.centralHeaderSignature)
      output.appendLE(UInt16(3 << 8) | versionNeeded)  // made by: Unix
      output.appendLE(versionNeeded)
      output.appendLE(record.flags)
      output.appendLE(record.method)
      output.appendLE(Self.dosTime)
      output.appendLE(Self.dosDate)
      output.appendLE(record.crc32)
      output.appendLE(UInt32(min(record.compressedSize, Self.limit32)))
      output.appendLE(UInt32(min(record.uncompressedSize, Self.limit32)))
      output.appendLE(UInt16(record.name.count))
      output.appendLE(UInt16(zip64 ? extra.count + 4 : 0))
      output.appendLE(UInt16(0))  // comment length
      output.appendLE(UInt16(0))  // disk number start
      output.appendLE(UInt16(0))  // internal attributes
      output.appendLE(UInt32(0o100644) << 16)  // external attributes: regular file, rw-r--r--
      output.appendLE(UInt32(min(record.localHeaderOffset, Self.limit32)))
      output.append(contentsOf: record.name)
      if zip64 {
        output.appendLE(UInt16(0x0001))
        output.appendLE(UInt16(extra.count))
        output.append(contentsOf: extra)
      }
    }
    let directorySize = UInt64(output.count) - directoryOffset
    let entryCount = UInt64(records.count)
    if entryCount >= Self.limit16 || directorySize >= Self.limit32 || directoryOffset >= Self.limit32 {
      let recordOffset = UInt64(output.count)
      output.appendLE(_ZipReader.zip64EndSignature)
      output.appendLE(UInt64(44))  // size of the rest of this record
      output.appendLE(UInt16(3 << 8 | 45))
      output.appendLE(UInt16(45))
      output.appendLE(UInt32(0))  // this disk
      output.appendLE(UInt32(0))  // disk with the central directory
      output.appendLE(entryCount)
      output.appendLE(entryCount)
      output.appendLE(directorySize)
      output.appendLE(directoryOffset)
      output.appendLE(_ZipReader.zip64LocatorSignature)
      output.appendLE(UInt32(0))
      output.appendLE(recordOffset)
      output.appendLE(UInt32(1))  // total number of disks
    }
    output.appendLE(_ZipReader.endSignature)
    output.appendLE(UInt16(0))
    output.appendLE(UInt16(0))
    output.appendLE(UInt16(min(entryCount, Self.limit16)))
    output.appendLE(UInt16(min(entryCount, Self.limit16)))
    output.appendLE(UInt32(min(directorySize, Self.limit32)))
    output.appendLE(UInt32(min(directoryOffset, Self.limit32)))
    output.appendLE(UInt16(0))  // comment length
    return output
  }
}
