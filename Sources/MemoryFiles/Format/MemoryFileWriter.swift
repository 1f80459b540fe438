// How memory files are written: one writer at a time per file (an advisory lock), whole files
// only (a temporary file in the same directory, synced, then renamed or linked into place), and
// targets that are not regular writable files refused before anything is written.

import NumPyFiles

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An exclusive advisory lock (`flock`) held by one writer of one memory file.
///
/// The lock is taken on a separate lock file beside the target, `.<name>.lock`, not on the
/// memory file itself: writers replace the memory file by renaming a new inode over its name, so a
/// lock on the data file's inode would be a lock on a file that is no longer there after the first
/// write, and a writer arriving after that rename would lock the new inode while an earlier one
/// still holds the old: two writers at once, and a lost update. The lock file's name never
/// changes hands by rename.
///
/// The holder unlinks the lock file before releasing it, so that no lock file outlives a write;
/// a waiter that then obtains the lock on the unlinked inode sees that the name no longer leads to
/// it and starts over on a fresh lock file. A writer killed while holding the lock releases it
/// (the kernel drops `flock` locks with the last descriptor) and leaves the lock file, which the
/// next writer takes and removes.
///
/// `flock` locks are per open file description, so two threads of one process, each acquiring
/// through its own `open`, exclude each other as two processes do.
struct MemoryFileLock {
  /// The lock file.
  let path: String
  private let descriptor: Int32

  /// The lock file of `target`: `.<name>.lock` in the target's directory (the name cut to 120
  /// bytes, as temporary names are, to stay within NAME_MAX).
  static func lockPath(for target: String) -> String {
    let (directoryPrefix, name) = MemoryFileWriter.split(target)
    return directoryPrefix + "." + MemoryFileWriter.shortName(name) + ".lock"
  }

  /// Waits until this process is the only writer of `target`, for at most `timeout`.
  ///
  /// - Throws: ``MemoryFileError`` naming `target` and the lock file if the lock file cannot be
  ///   created or locked (a directory that is not writable, a file system without `flock`
  ///   support such as an NFS mount without a lock service: `ENOLCK`), or if another writer
  ///   holds the lock for longer than `timeout` (a writer stopped with its lock held would
  ///   otherwise leave every later writer waiting for ever). The file is then not written: an
  ///   unlocked write could lose a concurrent writer's update.
  static func acquire(for target: String, timeout: Duration) throws(MemoryFileError) -> MemoryFileLock {
    let path = lockPath(for: target)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
      let fd = path.withCString { open($0, O_RDONLY | O_CREAT | O_CLOEXEC, 0o644) }
      guard fd >= 0 else {
        let code = errno
        let directory = MemoryFileWriter.directory(of: target)
        switch code {
        case EINTR: continue
        case ENOENT: throw MemoryFileError("\(target): directory '\(directory)' does not exist")
        case ENOTDIR: throw MemoryFileError("\(target): '\(directory)' is not a directory")
        case EACCES, EPERM:
          throw MemoryFileError(
            "\(target): permission denied (cannot create the lock file '\(path)' in '\(directory)')")
        default:
          throw MemoryFileError(
            "\(target): cannot create the lock file '\(path)': \(MemoryFileWriter.describe(code))")
        }
      }
      var result: Int32
      var code: Int32 = 0
      while true {
        result = flock(fd, LOCK_EX | LOCK_NB)
        code = errno
        guard result != 0, code == EINTR || code == EWOULDBLOCK else { break }
        guard code == EINTR || clock.now < deadline else {
          close(fd)
          throw MemoryFileError(
            "\(target): another writer has held the lock '\(path)' for \(timeout) without releasing it; not written (remove the lock file only if no writer of \(target) is running)"
          )
        }
        // Polled: flock cannot wait with a timeout; 20 ms is far below any write's duration.
        if code == EWOULDBLOCK { usleep(20_000) }
      }
      guard result == 0 else {
        close(fd)
        throw MemoryFileError(
          "\(target): cannot lock '\(path)' (\(MemoryFileWriter.describe(code))); not written, since an unlocked write could lose a concurrent writer's update"
        )
      }
      // The lock counts only if the name still leads to the locked inode (see the type's comment).
      var held = stat()
      var named = stat()
      if fstat(fd, &held) == 0, path.withCString({ stat($0, &named) }) == 0, held.st_dev == named.st_dev,
        held.st_ino == named.st_ino
      {
        return MemoryFileLock(path: path, descriptor: fd)
      }
      close(fd)
    }
  }

  /// Removes the lock file and releases the lock.
  func release() {
    _ = path.withCString { unlink($0) }
    close(descriptor)
  }
}

/// Whole-file writes of memory files.
enum MemoryFileWriter {
  private static let fileTypeMask: mode_t = 0o170000
  private static let directoryType: mode_t = 0o040000
  private static let regularType: mode_t = 0o100000

  /// The path up to and including its last "/" (empty for a bare name), and the name after it.
  static func split(_ path: String) -> (directoryPrefix: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    return (String(path[...slash]), String(path[path.index(after: slash)...]))
  }

  /// The directory of `path`, for messages and for syncing.
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  /// `name` cut to at most 120 UTF-8 bytes (whole scalars), so that the hidden names built from it
  /// stay within NAME_MAX; the same cut as NumPyFiles' temporary names.
  static func shortName(_ name: String) -> String {
    var short = ""
    for scalar in name.unicodeScalars {
      if short.utf8.count + String(scalar).utf8.count > 120 { break }
      short.unicodeScalars.append(scalar)
    }
    return short
  }

  /// The prefix of the temporary files of `path`: `.<name>.tmp-`, followed by the writer's
  /// process id, `-` and a random number.
  static func temporaryPrefix(_ path: String) -> String {
    "." + shortName(split(path).name) + ".tmp-"
  }

  /// Runs `body` holding the lock of `path` (see ``MemoryFileLock``, waiting at most
  /// `lockTimeout` for it), after checking that `path` is absent or a regular file this process
  /// may write.
  static func locked<T>(
    _ path: String, lockTimeout: Duration, _ body: () throws(MemoryFileError) -> T
  ) throws(MemoryFileError) -> T {
    let (_, name) = split(path)
    guard !path.isEmpty, !name.isEmpty, name != ".", name != ".." else {
      throw MemoryFileError("\(path.isEmpty ? "(empty path)" : path): is not a file name")
    }
    let lock = try MemoryFileLock.acquire(for: path, timeout: lockTimeout)
    defer { lock.release() }
    try checkTarget(path)
    return try body()
  }

  /// Throws unless `path` is absent or a regular file that may be written: the write replaces
  /// it by rename, which would turn a device node or FIFO into a regular file and would bypass a
  /// file's read-only mode (rename needs only the directory to be writable).
  static func checkTarget(_ path: String) throws(MemoryFileError) {
    var info = stat()
    // Absent, or unreachable (the write then says why).
    guard path.withCString({ stat($0, &info) }) == 0 else { return }
    switch info.st_mode & fileTypeMask {
    case regularType: break
    case directoryType: throw MemoryFileError("\(path): is a directory")
    default: throw MemoryFileError("\(path): is not a regular file (\(describeType(info.st_mode)))")
    }
    if info.st_mode & 0o222 == 0 || path.withCString({ access($0, W_OK) }) != 0 {
      throw MemoryFileError(
        "\(path): is read-only (mode \(String(info.st_mode & 0o777, radix: 8))); not replaced: make it writable first"
      )
    }
  }

  /// What kind of file `mode` describes, for messages.
  static func describeType(_ mode: mode_t) -> String {
    switch mode & fileTypeMask {
    case 0o020000: "a character device"
    case 0o060000: "a block device"
    case 0o010000: "a FIFO"
    case 0o140000: "a socket"
    case 0o120000: "a symbolic link"
    case directoryType: "a directory"
    case regularType: "a regular file"
    default: "an unknown file type"
    }
  }

  /// The error `writeFile(_:to:overwrite: false)` throws when `path` exists.
  static func existsError(_ path: String) -> MemoryFileError {
    MemoryFileError("\(path): exists; not replaced")
  }

  /// Writes `bytes` to `path` whole; the caller holds the lock of `path` (``locked(_:_:)``).
  ///
  /// The bytes go to a temporary file in the same directory (`.<name>.tmp-<pid>-<random>`), which
  /// is synced and then renamed over `path` (`overwrite`), or hard-linked to `path`, which fails
  /// atomically if `path` exists (not `overwrite`); the temporary name is then removed and the
  /// directory synced. Readers see the previous file or the new one, whole. On failure the
  /// temporary file is removed and `path` is unchanged. After a successful write, temporary files
  /// of `path` left by writers that no longer run are removed.
  static func writeFile(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(MemoryFileError) {
    let (directoryPrefix, _) = split(path)
    let directory = directory(of: path)
    var existing = stat()
    let exists = path.withCString { stat($0, &existing) } == 0
    if exists && !overwrite { throw existsError(path) }
    let existingMode: mode_t? = exists ? existing.st_mode & 0o7777 : nil

    let random = String(UInt64.random(in: .min ... .max), radix: 16)
    let temporary = directoryPrefix + temporaryPrefix(path) + "\(getpid())-\(random)"
    do throws(NumPyError) {
      try _FileIO.writeTemporary(bytes, at: temporary, for: path, directory: directory, mode: existingMode)
    } catch {
      throw MemoryFileError(error.message)
    }
    func fail(_ message: String) -> MemoryFileError {
      _ = temporary.withCString { unlink($0) }
      return MemoryFileError("\(path): \(message)")
    }

    if overwrite {
      let renamed = temporary.withCString { from in path.withCString { to in rename(from, to) } }
      guard renamed == 0 else { throw fail("cannot replace the file: \(describe(errno))") }
    } else {
      let linked = temporary.withCString { from in path.withCString { to in link(from, to) } }
      if linked != 0 {
        let code = errno
        switch code {
        case EEXIST:
          _ = temporary.withCString { unlink($0) }
          throw existsError(path)
        case EPERM, EOPNOTSUPP, EMLINK, EXDEV:
          // A file system without hard links: the lock (held by every writer of memory files) is
          // what keeps the check above and this rename from interleaving with another creator.
          var again = stat()
          if path.withCString({ stat($0, &again) }) == 0 {
            _ = temporary.withCString { unlink($0) }
            throw existsError(path)
          }
          let renamed = temporary.withCString { from in path.withCString { to in rename(from, to) } }
          guard renamed == 0 else { throw fail("cannot create the file: \(describe(errno))") }
        default:
          throw fail("cannot create the file: \(describe(code))")
        }
      } else {
        _ = temporary.withCString { unlink($0) }
      }
    }

    // Make the rename or link durable; failing to sync the directory is not an error.
    let directoryFD = directory.withCString { open($0, O_RDONLY | O_CLOEXEC) }
    if directoryFD >= 0 {
      _ = fsync(directoryFD)
      close(directoryFD)
    }
    removeStaleTemporaries(of: path)
  }

  /// Removes the temporary files of `path` whose writer process no longer exists: writers killed
  /// mid-write. Called holding the lock, so no other writer of memory files is writing `path`;
  /// the process check spares a live process that writes `path` without the lock.
  static func removeStaleTemporaries(of path: String) {
    let (directoryPrefix, _) = split(path)
    let prefix = temporaryPrefix(path)
    for name in staleTemporaryNames(in: directory(of: path), prefix: prefix) {
      _ = (directoryPrefix + name).withCString { unlink($0) }
    }
  }

  /// The names in `directory` that start with `prefix` followed by the process id of a process
  /// that does not exist.
  static func staleTemporaryNames(in directory: String, prefix: String) -> [String] {
    guard let handle = directory.withCString({ opendir($0) }) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      guard name.hasPrefix(prefix) else { continue }
      let rest = name.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0, pid != getpid()
      else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { names.append(name) }
    }
    return names
  }

  /// A short explanation of `code` (an `errno` value).
  static func describe(_ code: Int32) -> String {
    switch code {
    case ENOENT: return "no such file or directory"
    case EACCES, EPERM: return "permission denied"
    case ENOTDIR: return "a component of the path is not a directory"
    case EISDIR: return "is a directory"
    case ENOSPC: return "no space left on device"
    case EROFS: return "read-only file system"
    case EDQUOT: return "disk quota exceeded"
    case ENOLCK:
      return "no locks available: a file system without lock support, such as NFS without a lock service?"
    default:
      if let text = strerror(code) { return String(cString: text).lowercased() }
      return "error \(code)"
    }
  }
}
