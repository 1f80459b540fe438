import Foundation
import NumPyFiles
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Bounded reads: regular files only, the file's size and an archive's declared uncompressed
/// sizes checked against `maximumBytes` before anything is read or inflated.
struct ReadLimitTests {
  static func folder() throws -> String {
    let path = NSTemporaryDirectory() + "numpy-limits-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// A character device (which never ends) and a FIFO without a writer (whose open would block)
  /// are refused by name, at once, by every reader.
  @Test func onlyRegularFilesAreRead() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let fifo = folder + "/fifo.npy"
    #expect(mkfifo(fifo, 0o644) == 0)
    for (path, kind) in [("/dev/zero", "is a character device"), (fifo, "is a FIFO (named pipe)")] {
      let readers: [() throws -> Void] = [
        { _ = try NPY.read(contentsOf: path) }, { _ = try NPZ.read(contentsOf: path) },
        { _ = try FileBytes.read(path) },
      ]
      for read in readers {
        let error = try #require(throws: NumPyError.self) { try read() }
        #expect(
          error.message
            == "\(path): \(kind), not a regular file; only regular files are read (a device or a pipe need not end)"
        )
        #expect(error.exceededLimit == nil)
      }
    }
  }

  /// A file of exactly `maximumBytes` bytes is read (both the direct float64 path and the general
  /// one); one byte less refuses it, with the limit in the error.
  @Test(arguments: [NumPyDType.float64, .int32])
  func fileSizeIsCheckedAgainstTheLimit(_ dtype: NumPyDType) throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/x.npy"
    let array =
      dtype == .float64
      ? try NumPyArray(shape: [10, 10], doubles: (0..<100).map(Double.init))
      : try NumPyArray(shape: [10, 10], integers: Array(0..<100))
    try NPY.write(array, to: path)
    let size = NPY.encode(array).count
    #expect(try NPY.read(contentsOf: path, maximumBytes: size) == array)
    let error = try #require(throws: NumPyError.self) {
      _ = try NPY.read(contentsOf: path, maximumBytes: size - 1)
    }
    #expect(error.exceededLimit == size - 1)
    #expect(
      error.message == "\(path): is \(size) bytes, more than the limit of \(size - 1) bytes on one read")
  }

  /// A member that declares more than the limit uncompressed is refused before it is inflated
  /// (its data here would inflate to 32 KiB, far from what it declares); members under the limit
  /// one by one but over it in all are refused as well.
  @Test func declaredInflationIsCheckedAgainstTheLimit() throws {
    var archive = NumPyArchive()
    archive["points"] = try NumPyArray(shape: [4096], doubles: [Double](repeating: 0, count: 4096))
    let bytes = withDeclaredSize(try NPZ.encode(archive, compressed: true), 4_831_838_208)
    let error = try #require(throws: NumPyError.self) { _ = try NPZ.decode(bytes, maximumBytes: 1 << 30) }
    #expect(error.exceededLimit == 1 << 30)
    #expect(
      error.message
        == "member 'points.npy' declares 4831838208 bytes (4.5 GiB) uncompressed, more than the limit of 1073741824 bytes (1.0 GiB) on one read"
    )
    // Allowed by the limit, the false size is caught by the inflation, which stops at the data's end.
    let inflated = try #require(throws: NumPyError.self) { _ = try NPZ.decode(bytes, maximumBytes: 1 << 33) }
    #expect(inflated.exceededLimit == nil)
    #expect(
      inflated.message.contains("inflates to 32896 bytes but the archive declares 4831838208"), "\(inflated)")

    archive["weights"] = try NumPyArray(shape: [4096], doubles: [Double](repeating: 1, count: 4096))
    let two = try NPZ.encode(archive, compressed: true)
    let each = NPY.encode(archive["points"]!).count
    #expect(try NPZ.decode(two, maximumBytes: 2 * each) == archive)
    let total = try #require(throws: NumPyError.self) { _ = try NPZ.decode(two, maximumBytes: 2 * each - 1) }
    #expect(total.exceededLimit == 2 * each - 1)
    #expect(total.message.hasPrefix("the members declare \(2 * each) bytes"), "\(total)")
  }

  /// `bytes` (an archive of one member, no ZIP64, no comment) with the member's central-directory
  /// entry declaring `size` bytes uncompressed through a ZIP64 extra field.
  func withDeclaredSize(_ bytes: [UInt8], _ size: UInt64) -> [UInt8] {
    func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    let end = bytes.count - 22
    let directory = u32(end + 16)
    let extraLength = u16(directory + 30)
    var entry = Array(bytes[directory..<(directory + 46 + u16(directory + 28) + extraLength)])
    entry.replaceSubrange(24..<28, with: [0xFF, 0xFF, 0xFF, 0xFF])
    entry += [0x01, 0x00, 0x08, 0x00] + (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    entry[30] = UInt8((extraLength + 12) & 0xFF)
    entry[31] = UInt8((extraLength + 12) >> 8)
    var record = Array(bytes[end...])
    for i in 0..<4 { record[12 + i] = UInt8(truncatingIfNeeded: entry.count >> (8 * i)) }
    return Array(bytes[..<directory]) + entry + record
  }
}
