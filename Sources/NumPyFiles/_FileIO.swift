#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file reads and atomic whole-file writes with POSIX calls, with errors that name the path.
package enum _FileIO {
  private static let fileTypeMask: mode_t = 0o170000
  private static let directoryType: mode_t = 0o040000
  private static let regularType: mode_t = 0o100000

  /// Reads the whole regular file at `path`, refusing anything else (a directory, a device such
  /// as `/dev/zero`, a FIFO, a socket: a device or a FIFO need not end) and any file of more than
  /// `maximumBytes` bytes, before reading a byte of it.
  static func readAll(_ path: String, maximumBytes: Int) throws(NumPyError) -> [UInt8] {
    guard !path.isEmpty else { throw NumPyError("empty path") }
    // Non-blocking, so that opening a FIFO without a writer returns at once and is refused below;
    // it changes nothing for regular files.
    let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
    guard fd >= 0 else { throw NumPyError("\(path): \(describe(errno, reading: true))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw NumPyError("\(path): \(describe(errno, reading: true))") }
    try requireRegular(path, mode: info.st_mode)
    let size = Int(exactly: info.st_size) ?? Int.max
    try requireWithin(path, size: size, maximumBytes: maximumBytes)

    let expected = max(0, size)
    // Read straight into uninitialised storage: zero-filling first would touch every page twice.
    var failure: Int32? = nil
    var filled = 0
    var bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
      while filled < expected {
        let got = read(fd, buffer.baseAddress.map { $0 + filled }, expected - filled)
        if got < 0 {
          if errno == EINTR { continue }
          failure = errno
          break
        }
        if got == 0 { break }
        filled += got
      }
      initialized = filled
    }
    if let failure {
      throw NumPyError("\(path): read failed: \(describe(failure, reading: true))")
    }
    if filled < expected { return bytes }
    // The file may have grown since `fstat`: read on to the end, within the limit.
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let got = chunk.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress, raw.count) }
      if got < 0 {
        if errno == EINTR { continue }
        throw NumPyError("\(path): read failed: \(describe(errno, reading: true))")
      }
      if got == 0 { break }
      try requireWithin(path, size: bytes.count + got, maximumBytes: maximumBytes)
      bytes.append(contentsOf: chunk[0..<got])
    }
    return bytes
  }

  /// Throws unless `mode` (from `stat`) is that of a regular file, naming what the file is.
  static func requireRegular(_ path: String, mode: mode_t) throws(NumPyError) {
    let kind: String
    switch mode & fileTypeMask {
    case regularType: return
    case directoryType: throw NumPyError("\(path): is a directory")
    case 0o020000: kind = "a character device"
    case 0o060000: kind = "a block device"
    case 0o010000: kind = "a FIFO (named pipe)"
    case 0o140000: kind = "a socket"
    default: kind = "of an unknown file type"
    }
    throw NumPyError(
      "\(path): is \(kind), not a regular file; only regular files are read (a device or a pipe need not end)"
    )
  }

  /// Throws the limit error unless `size` bytes fit in `maximumBytes`.
  static func requireWithin(_ path: String, size: Int, maximumBytes: Int) throws(NumPyError) {
    guard size > maximumBytes else { return }
    throw NumPyError(
      "\(path): is \(_ByteCount.describe(size)), more than the limit of \(_ByteCount.describe(maximumBytes)) on one read",
      exceededLimit: maximumBytes)
  }

  /// Writes `bytes` to `path` through a temporary file in the same directory that is flushed,
  /// synced and renamed over `path`. On failure the temporary file is removed and any existing
  /// file at `path` is untouched.
  static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NumPyError) {
    guard !path.isEmpty else { throw NumPyError("empty path") }
    let directory: String
    let name: String
    let directoryPrefix: String  // the path up to and including its last "/"
    if let slash = path.lastIndex(of: "/") {
      directoryPrefix = String(path[...slash])
      directory = slash == path.startIndex ? "/" : String(path[..<slash])
      name = String(path[path.index(after: slash)...])
    } else {
      directoryPrefix = ""
      directory = "."
      name = path
    }
    guard !name.isEmpty, name != ".", name != ".." else {
      throw NumPyError("\(path): is a directory, not a file name")
    }

    var existing = stat()
    var existingMode: mode_t?
    if path.withCString({ stat($0, &existing) }) == 0 {
      switch existing.st_mode & fileTypeMask {
      case directoryType: throw NumPyError("\(path): is a directory")
      case regularType: existingMode = existing.st_mode & 0o7777
      default: break
      }
    }

    // Keep the temporary name within NAME_MAX however long the final name is.
    var shortName = ""
    for scalar in name.unicodeScalars {
      if shortName.utf8.count + String(scalar).utf8.count > 120 { break }
      shortName.unicodeScalars.append(scalar)
    }
    let random = String(UInt64.random(in: .min ... .max), radix: 16)
    let temporary = directoryPrefix + ".\(shortName).tmp-\(getpid())-\(random)"

    try writeTemporary(bytes, at: temporary, for: path, directory: directory, mode: existingMode)
    let renamed = temporary.withCString { from in path.withCString { to in rename(from, to) } }
    guard renamed == 0 else {
      let code = errno
      _ = temporary.withCString { unlink($0) }
      throw NumPyError("\(path): cannot replace the file: \(describe(code, reading: false))")
    }

    // Make the rename itself durable; failing to sync the directory is not an error.
    let directoryFD = directory.withCString { open($0, O_RDONLY | O_CLOEXEC) }
    if directoryFD >= 0 {
      _ = fsync(directoryFD)
      close(directoryFD)
    }
  }

  /// Writes `bytes` to a new file at `temporary` (in `directory`, beside its destination `path`,
  /// which errors name), created exclusively, with permissions `mode` if given, then synced and
  /// closed: a whole file that the caller puts in place (by rename or link) or removes. On failure
  /// the temporary file is removed.
  package static func writeTemporary(
    _ bytes: [UInt8], at temporary: String, for path: String, directory: String, mode: mode_t?
  ) throws(NumPyError) {
    let fd = temporary.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666) }
    guard fd >= 0 else {
      let code = errno
      switch code {
      case ENOENT: throw NumPyError("\(path): directory '\(directory)' does not exist")
      case ENOTDIR: throw NumPyError("\(path): '\(directory)' is not a directory")
      case EROFS: throw NumPyError("\(path): read-only file system")
      case EACCES, EPERM:
        throw NumPyError("\(path): permission denied (cannot create a file in '\(directory)')")
      default: throw NumPyError("\(path): cannot create a temporary file: \(describe(code, reading: false))")
      }
    }
    var closed = false
    func fail(_ message: String) -> NumPyError {
      if !closed { close(fd) }
      _ = temporary.withCString { unlink($0) }
      return NumPyError("\(path): \(message)")
    }

    if let mode { _ = fchmod(fd, mode) }
    var written = 0
    while written < bytes.count {
      let count = min(bytes.count - written, 1 << 30)
      let result = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + written }, count) }
      if result < 0 {
        if errno == EINTR { continue }
        throw fail("write failed: \(describe(errno, reading: false))")
      }
      if result == 0 { throw fail("write failed: no progress") }
      written += result
    }
    guard fsync(fd) == 0 else { throw fail("fsync failed: \(describe(errno, reading: false))") }
    closed = true
    guard close(fd) == 0 else { throw fail("close failed: \(describe(errno, reading: false))") }
  }

  /// A short explanation of `code` (an `errno` value).
  private static func describe(_ code: Int32, reading: Bool) -> String {
    switch code {
    case ENOENT: return reading ? "file does not exist" : "no such file or directory"
    case EISDIR: return "is a directory"
    case EACCES, EPERM: return "permission denied"
    case ENOTDIR: return "a component of the path is not a directory"
    case ELOOP: return "too many levels of symbolic links"
    case ENAMETOOLONG: return "file name too long"
    case ENOSPC: return "no space left on device"
    case EROFS: return "read-only file system"
    case EDQUOT: return "disk quota exceeded"
    default:
      if let text = strerror(code) { return String(cString: text).lowercased() }
      return "error \(code)"
    }
  }
}
