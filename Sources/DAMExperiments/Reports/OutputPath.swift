import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Early checks of output paths, so that a long computation does not end in a failed write, and
/// so that no write replaces what it should not.
///
/// Outputs are written whole, to a temporary file renamed over the path. A rename replaces
/// whatever the name pointed to, whatever its type or mode: it would turn a device node or a FIFO
/// into a regular file, silently replace a read-only file (rename needs only the directory to be
/// writable), and overwrite an input that the command is still reading or whose contents the user
/// wanted to keep. So an output path must be absent or a regular, writable file that is none of
/// the command's inputs (compared by device and inode, which catches hard links and symbolic
/// links as well as the same name spelled differently). `--force` (of `dam memory create`) does
/// not lift the read-only refusal: a read-only mode is the user's protection of that file, to be
/// removed on purpose (`chmod u+w`), not by a flag that is about replacing existing files.
package enum OutputPath {
  /// Throws unless `path` can be written as the output of `option`: its directory exists and is
  /// writable, and `path` is absent or a regular file that is writable and is not one of
  /// `inputs` (option, path; `nil` paths are skipped).
  package static func check(_ path: String, option: String, inputs: [(option: String, path: String?)] = [])
    throws(CLIError)
  {
    guard !path.isEmpty else { throw CLIError(option, "empty path") }
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      throw CLIError(option, "\(path): directory '\(folder)' does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
      throw CLIError(option, "\(path): directory '\(folder)' is not writable")
    }
    guard let info = status(path) else { return }  // absent: created
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw CLIError(option, "\(path): is a directory")
    default:
      throw CLIError(
        option, "\(path): is \(describeType(info.st_mode)), not a regular file; it would be replaced by one")
    }
    for input in inputs {
      guard let inputPath = input.path, let other = status(inputPath) else { continue }
      if other.st_dev == info.st_dev && other.st_ino == info.st_ino {
        throw CLIError(
          option,
          "\(path): is the same file as \(input.option) (\(inputPath)); writing it would replace that input: choose another path"
        )
      }
    }
    if info.st_mode & 0o222 == 0 || path.withCString({ access($0, W_OK) }) != 0 {
      throw CLIError(
        option,
        "\(path): is read-only (mode \(String(info.st_mode & 0o777, radix: 8))); not replaced: make it writable (chmod u+w) or choose another path"
      )
    }
  }

  /// Throws unless `path` can be the report folder of `option`: absent (it is created) or a
  /// writable directory.
  package static func checkFolder(_ path: String, option: String) throws(CLIError) {
    guard !path.isEmpty else { throw CLIError(option, "empty path") }
    guard let info = status(path) else {
      // A folder to be created: its nearest existing ancestor must be a writable folder, or the
      // creation would fail after the work (with Foundation's error dump, not a message).
      var ancestor = (path as NSString).deletingLastPathComponent
      while !ancestor.isEmpty, status(ancestor) == nil {
        ancestor = (ancestor as NSString).deletingLastPathComponent
      }
      let existing = ancestor.isEmpty ? "." : ancestor
      guard let above = status(existing) else { return }
      guard above.st_mode & S_IFMT == S_IFDIR else {
        throw CLIError(
          option, "\(path): cannot be created: \(existing) is \(describeType(above.st_mode)), not a folder")
      }
      guard existing.withCString({ access($0, W_OK | X_OK) }) == 0 else {
        throw CLIError(option, "\(path): cannot be created: folder \(existing) is not writable")
      }
      return
    }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw CLIError(option, "\(path): is \(describeType(info.st_mode)), not a folder")
    }
    guard path.withCString({ access($0, W_OK | X_OK) }) == 0 else {
      throw CLIError(option, "\(path): folder is not writable")
    }
  }

  /// `stat` of `path` (following symbolic links), or `nil` if there is nothing there.
  private static func status(_ path: String) -> stat? {
    var info = stat()
    return path.withCString { stat($0, &info) } == 0 ? info : nil
  }

  private static func describeType(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFIFO: "a FIFO"
    case S_IFSOCK: "a socket"
    case S_IFDIR: "a directory"
    case S_IFREG: "a regular file"
    default: "not a regular file"
    }
  }
}
