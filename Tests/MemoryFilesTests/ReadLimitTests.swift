import DAM
import Foundation
import MemoryFiles
import NumPyFiles
import Testing

/// Memory files are read within the limit: a device is refused by name, a file over
/// `maximumBytes` with the limit recorded in the error, and a file at the limit is read.
struct MemoryFileReadLimitTests {
  @Test func aDeviceIsRefusedByName() {
    let error = #expect(throws: MemoryFileError.self) { _ = try MemoryFile.read(contentsOf: "/dev/zero") }
    #expect(
      error?.message.hasPrefix("/dev/zero: is a character device, not a regular file") == true,
      "\(String(describing: error))")
    #expect(error?.exceededLimit == nil)
  }

  @Test func aFileOverTheLimitIsRefusedAndOneAtItIsRead() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    let file = try MemoryFile(patterns: .vectors([[1, 2], [3, 4]]), divergence: "squared-euclidean")
    try file.write(to: path)
    let size = scratch.bytes("m.npz").count
    #expect(try MemoryFileContents.read(contentsOf: path, maximumBytes: size).manifest.count == 2)
    let error = #expect(throws: MemoryFileError.self) {
      _ = try MemoryFileContents.read(contentsOf: path, maximumBytes: size - 1)
    }
    #expect(error?.exceededLimit == size - 1)
    #expect(
      error?.message == "\(path): is \(size) bytes, more than the limit of \(size - 1) bytes on one read")
    // The file's own bytes, decoded under a limit below its members' sizes, are refused the same way.
    let decoded = #expect(throws: MemoryFileError.self) {
      _ = try MemoryFileContents.decode(scratch.bytes("m.npz"), maximumBytes: 64)
    }
    #expect(decoded?.exceededLimit == 64)
  }
}
