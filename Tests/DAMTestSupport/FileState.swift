import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a file is and holds (not following symbolic links), to show that a refused write or
/// command left it alone.
public struct FileState: Equatable {
  public var mode: mode_t
  public var inode: UInt64
  public var modified: Int
  public var bytes: [UInt8]?

  /// The state of the entry at `path`, or nil when there is none.
  public init?(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    mode = info.st_mode
    inode = UInt64(info.st_ino)
    modified = info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec
    bytes =
      info.st_mode & S_IFMT == S_IFREG ? FileManager.default.contents(atPath: path).map { [UInt8]($0) } : nil
  }
}
