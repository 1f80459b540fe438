/// Whole-file reads and atomic whole-file writes, the file handling that `NPY` and `NPZ` use,
/// for formats built on top of them.
public enum FileBytes {
  /// Reads the whole file at `path`.
  ///
  /// - Throws: `NumPyError` whose message starts with `path`, e.g. `"m.npz: file does not exist"`.
  public static func read(_ path: String) throws(NumPyError) -> [UInt8] {
    try _FileIO.readAll(path)
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
