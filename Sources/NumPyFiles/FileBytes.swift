/// Whole-file reads and atomic whole-file writes, the file handling that `NPY` and `NPZ` use,
/// for formats built on top of them.
public enum FileBytes {
  /// The default `maximumBytes` of every read: half the machine's physical memory (read with
  /// `sysconf`), or `Int.max` where that cannot be read. A read holds the file's bytes and then
  /// what is decoded from them, so a file of more than half the memory could not be used.
  public static let defaultMaximumBytes: Int = _ByteCount.physicalMemory.map { $0 / 2 } ?? Int.max

  /// Reads the whole regular file at `path`.
  ///
  /// Nothing is read from anything but a regular file (a directory, a character device such as
  /// `/dev/zero`, a FIFO or a socket is refused by name), nor from a file of more than
  /// `maximumBytes` bytes: the size is checked before any memory is allocated for it.
  ///
  /// - Throws: `NumPyError` whose message starts with `path`, e.g. `"m.npz: file does not exist"`;
  ///   for a file over the limit, one whose ``NumPyError/exceededLimit`` is `maximumBytes`.
  public static func read(_ path: String, maximumBytes: Int = defaultMaximumBytes) throws(NumPyError)
    -> [UInt8]
  {
    try _FileIO.readAll(path, maximumBytes: maximumBytes)
  }

  /// Writes `bytes` to `path` atomically: they go to a temporary file in the same directory
  /// (`.<name>.tmp-<pid>-<random>`), which is synced to disk and renamed over `path`; then the
  /// directory is synced. On failure the temporary file is removed and any previous file at
  /// `path` is left as it was; a process killed mid-write leaves the previous file intact and
  /// possibly a stale temporary file.
  ///
  /// - Throws: `NumPyError` whose message starts with `path`.
  public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(NumPyError) {
    try _FileIO.writeAtomically(bytes, to: path)
  }
}
