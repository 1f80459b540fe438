import Foundation
import NumPyFiles
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reading and writing files: messages that name the path, and atomic replacement.
@Suite("Files on disk")
struct FileTests {
  static let array = try! NumPyArray(shape: [2, 2], doubles: [1, 2, 3, 4])
  static let archive = NumPyArchive([.init(name: "w", array: array)])

  @Test("Write then read, NPY and NPZ (stored and compressed)")
  func writeRead() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    try NPY.write(Self.array, to: directory + "/a.npy")
    #expect(try NPY.read(contentsOf: directory + "/a.npy") == Self.array)
    for compressed in [false, true] {
      try NPZ.write(Self.archive, to: directory + "/b.npz", compressed: compressed)
      #expect(try NPZ.read(contentsOf: directory + "/b.npz") == Self.archive)
    }
    #expect(Support.listing(directory) == ["a.npy", "b.npz"])
  }

  /// Large float64 files are read in two pieces on two threads: every element lands where it
  /// belongs, across the piece boundary too, and a file cut short is still refused as truncated.
  @Test("Large files read in pieces, whole or refused")
  func largeFileInPieces() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    // 3,000,007 doubles (24 MB): above the two-piece threshold, not a multiple of the piece size.
    let count = 3_000_007
    let values = (0..<count).map { Double($0) * 0.5 - 1e6 }
    let array = try NumPyArray(shape: [count], doubles: values)
    let path = directory + "/large.npy"
    try NPY.write(array, to: path)
    #expect(try NPY.read(contentsOf: path) == array)
    let matrix = try NumPyArray(shape: [count / 7, 7], doubles: Array(values.prefix(count / 7 * 7)))
    try NPY.write(matrix, to: path)
    #expect(try NPY.read(contentsOf: path) == matrix)
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    #expect(truncate(path, off_t(size - 8)) == 0)
    let error = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: path) }
    #expect(error?.message.contains("truncated") == true)
  }

  @Test("Relative paths work")
  func relativePath() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    // Writing "name.npy" relative to the current directory is not exercised (tests share it);
    // "dir/../name" style relative components are.
    let path = directory + "/sub/../c.npy"
    try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: false)
    try NPY.write(Self.array, to: path)
    #expect(try NPY.read(contentsOf: directory + "/c.npy") == Self.array)
    #expect(Support.listing(directory + "/sub") == [])
  }

  @Test("Reading a missing file, a directory, or through a file names the path")
  func readErrors() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let missing = directory + "/x.npy"
    var error = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: missing) }
    #expect(error?.message == "\(missing): file does not exist")
    error = #expect(throws: NumPyError.self) { try NPZ.read(contentsOf: directory) }
    #expect(error?.message == "\(directory): is a directory")
    try NPY.write(Self.array, to: directory + "/f.npy")
    error = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: directory + "/f.npy/inner.npy") }
    #expect(error?.message == "\(directory)/f.npy/inner.npy: a component of the path is not a directory")
    error = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: "") }
    #expect(error?.message == "empty path")
  }

  @Test("Decoding errors from disk start with the path")
  func decodeErrorNamesPath() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let path = directory + "/x.npy"
    try Data("not numpy".utf8).write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: path) }
    #expect(error?.message == "\(path): not a NumPy file (bad magic)")
  }

  @Test("Writing into a missing directory throws naming the path and leaves nothing behind")
  func missingDirectory() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let path = directory + "/missing/a.npy"
    let error = #expect(throws: NumPyError.self) { try NPY.write(Self.array, to: path) }
    #expect(error?.message == "\(path): directory '\(directory)/missing' does not exist")
    let npzError = #expect(throws: NumPyError.self) {
      try NPZ.write(Self.archive, to: directory + "/missing/b.npz")
    }
    #expect(npzError?.message.hasPrefix(directory + "/missing/b.npz: ") == true)
    #expect(Support.listing(directory) == [])
  }

  @Test("Writing over a directory fails and leaves no temporary file")
  func overDirectory() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let target = directory + "/target.npy"
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
    let error = #expect(throws: NumPyError.self) { try NPY.write(Self.array, to: target) }
    #expect(error?.message == "\(target): is a directory")
    let trailingSlash = #expect(throws: NumPyError.self) { try NPY.write(Self.array, to: directory + "/") }
    #expect(trailingSlash?.message.contains("is a directory") == true)
    #expect(Support.listing(directory) == ["target.npy"])
  }

  @Test("A failed write keeps the old file untouched and leaves no temporary file")
  func atomicReplacement() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let path = directory + "/model.npz"
    try NPZ.write(Self.archive, to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))

    // Failure before any byte is written: an invalid entry name.
    let bad = NumPyArchive([.init(name: "a/b", array: Self.array)])
    let error = #expect(throws: NumPyError.self) { try NPZ.write(bad, to: path) }
    #expect(error?.message == "\(path): archive entry name 'a/b' must not contain '/'")
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)

    // A successful replacement is complete and leaves only the destination.
    let replacement = NumPyArchive([.init(name: "v", array: try NumPyArray(shape: [1], integers: [5]))])
    try NPZ.write(replacement, to: path, compressed: true)
    #expect(try NPZ.read(contentsOf: path) == replacement)
    #expect(Support.listing(directory) == ["model.npz"])
  }

  /// A write that fails part-way (the file-size limit is hit, EFBIG) must keep the old file.
  /// This runs in a child process so the resource limit cannot affect other tests.
  @Test("A write failing part-way keeps the old file")
  func failingMidWrite() async {
    await #expect(processExitsWith: .success) {
      guard let directory = try? Support.makeTemporaryDirectory() else { exit(10) }
      defer { Support.removeDirectory(directory) }
      let path = directory + "/old.npy"
      guard (try? NPY.write(FileTests.array, to: path)) != nil,
        let before = FileManager.default.contents(atPath: path)
      else { exit(11) }
      signal(SIGXFSZ, SIG_IGN)
      var limit = rlimit(rlim_cur: 4096, rlim_max: 4096)
      #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
      #else
        let resource = RLIMIT_FSIZE
      #endif
      guard setrlimit(resource, &limit) == 0 else { exit(12) }
      guard let big = try? NumPyArray(shape: [10_000], doubles: Array(repeating: 1, count: 10_000)) else {
        exit(13)
      }
      do throws(NumPyError) {
        try NPY.write(big, to: path)
        exit(14)  // the write should have failed
      } catch {
        guard error.message.hasPrefix(path + ": write failed") else { exit(15) }
      }
      guard FileManager.default.contents(atPath: path) == before else { exit(16) }
      guard Support.listing(directory) == ["old.npy"] else { exit(17) }
      exit(0)
    }
  }

  @Test("Replacing a file keeps its permissions")
  func keepsPermissions() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let path = directory + "/p.npy"
    try NPY.write(Self.array, to: path)
    #expect(chmod(path, 0o600) == 0)
    try NPY.write(Self.array, to: path)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
  }

  @Test("Permission errors name the path", .enabled(if: geteuid() != 0, "root bypasses permissions"))
  func permissionDenied() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer {
      chmod(directory, 0o755)
      Support.removeDirectory(directory)
    }
    let path = directory + "/p.npy"
    try NPY.write(Self.array, to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(chmod(path, 0o000) == 0)
    let readError = #expect(throws: NumPyError.self) { try NPY.read(contentsOf: path) }
    #expect(readError?.message == "\(path): permission denied")
    #expect(chmod(path, 0o644) == 0)
    #expect(chmod(directory, 0o555) == 0)
    let writeError = #expect(throws: NumPyError.self) { try NPY.write(Self.array, to: path) }
    #expect(writeError?.message.hasPrefix("\(path): permission denied") == true)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(Support.listing(directory) == ["p.npy"])
  }
}

/// `NPY.read(contentsOf:)` reads well-formed float64 files straight into the array's storage and
/// everything else through the general decoder: whichever path a file takes, the result (array or
/// error message) must be what decoding its bytes gives.
@Suite("Reading from disk equals decoding the bytes")
struct DirectReadTests {
  /// Writes `bytes` to a file and checks that reading it and decoding the bytes agree.
  private func expectReadMatchesDecode(_ bytes: [UInt8], _ label: String) throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { Support.removeDirectory(directory) }
    let path = directory + "/x.npy"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let decoded = Result { () throws(NumPyError) in try NPY.decode(bytes) }
    let read = Result { () throws(NumPyError) in try NPY.read(contentsOf: path) }
    switch (decoded, read) {
    case (.success(let a), .success(let b)):
      #expect(a.shape == b.shape && a.dtype == b.dtype, "\(label)")
      // Doubles by their bits (== would fail on NaN and let -0 or a NaN payload slip).
      if case .float64(let x) = a.storage, case .float64(let y) = b.storage {
        #expect(x.map(\.bitPattern) == y.map(\.bitPattern), "\(label)")
      } else {
        #expect(a == b, "\(label)")
      }
    case (.failure(let a), .failure(let b)):
      #expect(b.message == "\(path): \(a.message)", "\(label)")
    default:
      Issue.record("\(label): decoding gave \(decoded), reading gave \(read)")
    }
  }

  @Test("Every fixture")
  func fixtures() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Support.fixturesDirectory)
      .filter { $0.hasSuffix(".npy") }
    #expect(names.count >= 15)
    for name in names { try expectReadMatchesDecode(try Support.fixtureBytes(name), name) }
  }

  @Test("float64 files whole, cut short, with bytes beyond, as version 2 and 3, with odd values")
  func float64Variants() throws {
    let values: [Double] = [
      1.5, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3,
    ]
    var odd = Support.float64Bytes(values)
    odd[39] = 0xFF  // a NaN with a payload
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4), }"
    let whole = Support.npy(header: header, data: odd)
    try expectReadMatchesDecode(whole, "whole")
    try expectReadMatchesDecode(Array(whole.dropLast(8)), "one value short")
    try expectReadMatchesDecode(Array(whole.dropLast(1)), "one byte short")
    try expectReadMatchesDecode(whole + [0], "one byte beyond")
    try expectReadMatchesDecode(Array(whole.prefix(11)), "preamble only")
    try expectReadMatchesDecode(Array(whole.prefix(40)), "header cut")
    try expectReadMatchesDecode(Support.npy(header: header, version: 2, data: odd), "version 2")
    try expectReadMatchesDecode(Support.npy(header: header, version: 3, data: odd), "version 3")
    try expectReadMatchesDecode(
      Support.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }"), "empty")
    try expectReadMatchesDecode(
      Support.npy(header: "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 4), }", data: odd),
      "big-endian")
    try expectReadMatchesDecode(
      Support.npy(header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 4), }", data: odd),
      "Fortran order")
    try expectReadMatchesDecode(
      Support.npy(
        header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", data: odd),
      "a shape whose size overflows")
  }
}
