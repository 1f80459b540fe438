/// Reading and writing NumPy `.npz` archives: ZIP files whose members are `.npy` files.
///
/// This is what `np.savez` and `np.savez_compressed` write and `np.load` reads. Member
/// `"weights.npy"` becomes the entry named `"weights"`. The ZIP reader and writer are built in:
/// stored and deflated members, ZIP64 (as `np.savez` writes it), CRC-32 verification.
///
/// Decoding is safe on untrusted input: every offset and size is bounds-checked, decompression
/// never produces more than a member's declared size, and any problem is a `NumPyError` that
/// names the member concerned. Members whose names do not end in `".npy"`, duplicate names and
/// encrypted members are errors.
public enum NPZ {
  /// Decodes the bytes of a complete `.npz` archive.
  ///
  /// The members' declared uncompressed sizes are checked against `maximumBytes` (each, and in
  /// all) before any is inflated, and no member inflates beyond its declared size, so an archive
  /// that would inflate to more than `maximumBytes` is refused without inflating it.
  ///
  /// - Throws: `NumPyError`, e.g. `"member 'w.npy': CRC-32 mismatch ..."`; for an archive over
  ///   the limit, one whose ``NumPyError/exceededLimit`` is `maximumBytes`.
  public static func decode(_ bytes: [UInt8], maximumBytes: Int = FileBytes.defaultMaximumBytes)
    throws(NumPyError) -> NumPyArchive
  {
    let zip = _ZipReader(bytes)
    var entries: [NumPyArchive.Entry] = []
    var seen: Set<String> = []
    let members = try zip.members()
    var declared = 0
    for member in members {
      let (total, overflow) = declared.addingReportingOverflow(member.uncompressedSize)
      declared = overflow ? Int.max : total
      guard member.uncompressedSize <= maximumBytes else {
        throw NumPyError(
          "member '\(member.name)' declares \(_ByteCount.describe(member.uncompressedSize)) uncompressed, more than the limit of \(_ByteCount.describe(maximumBytes)) on one read",
          exceededLimit: maximumBytes)
      }
    }
    guard declared <= maximumBytes else {
      throw NumPyError(
        "the members declare \(_ByteCount.describe(declared)) uncompressed in all, more than the limit of \(_ByteCount.describe(maximumBytes)) on one read",
        exceededLimit: maximumBytes)
    }
    for member in members {
      guard member.name.hasSuffix(".npy") else {
        throw NumPyError(
          "member '\(member.name)' is not a .npy file; an .npz archive may only hold .npy members")
      }
      guard seen.insert(member.name).inserted else {
        throw NumPyError("member '\(member.name)' appears more than once in the archive")
      }
    }
    for member in members {
      let contents = try zip.contents(of: member)
      let array: NumPyArray
      do throws(NumPyError) {
        array = try NPY.decode(slice: contents[...])
      } catch {
        throw error.prefixed("member '\(member.name)'")
      }
      entries.append(NumPyArchive.Entry(name: String(member.name.dropLast(4)), array: array))
    }
    return NumPyArchive(entries)
  }

  /// Encodes `archive` as an `.npz` file.
  ///
  /// Each entry becomes the member `"<name>.npy"`, stored as is or, when `compressed` is true,
  /// deflated (like `np.savez_compressed`).
  /// - Throws: `NumPyError` if a name is empty, contains `"/"` or NUL, is too long for ZIP, or
  ///   occurs twice.
  public static func encode(_ archive: NumPyArchive, compressed: Bool = false) throws(NumPyError) -> [UInt8] {
    var seen: Set<String> = []
    for entry in archive.entries {
      let name = entry.name
      guard !name.isEmpty else { throw NumPyError("archive entry names must not be empty") }
      guard !name.contains("/") else {
        throw NumPyError("archive entry name '\(name)' must not contain '/'")
      }
      guard !name.unicodeScalars.contains("\0") else {
        throw NumPyError("archive entry name '\(name.replacingNUL)' must not contain NUL")
      }
      guard name.utf8.count + 4 <= Int(UInt16.max) else {
        throw NumPyError("archive entry name '\(name.prefix(40))...' is too long for a ZIP archive")
      }
      guard seen.insert(name).inserted else {
        throw NumPyError("archive entry name '\(name)' occurs more than once")
      }
    }
    var writer = _ZipWriter()
    for entry in archive.entries {
      let npy = NPY.encode(entry.array)
      let crc = _Zlib.crc32(npy[...])
      let fileName = entry.name + ".npy"
      if compressed {
        let deflated: [UInt8]
        do throws(NumPyError) {
          deflated = try _Zlib.deflateRaw(npy)
        } catch {
          throw error.prefixed("member '\(fileName)'")
        }
        writer.add(name: fileName, data: deflated, method: 8, crc32: crc, uncompressedSize: npy.count)
      } else {
        writer.add(name: fileName, data: npy, method: 0, crc32: crc, uncompressedSize: npy.count)
      }
    }
    return writer.finish()
  }

  /// Reads and decodes the `.npz` archive at `path`.
  ///
  /// Only regular files are read, none of more than `maximumBytes` bytes, and no archive whose
  /// members would inflate to more than that (see ``decode(_:maximumBytes:)``).
  ///
  /// - Throws: `NumPyError` whose message starts with `path`.
  public static func read(contentsOf path: String, maximumBytes: Int = FileBytes.defaultMaximumBytes)
    throws(NumPyError) -> NumPyArchive
  {
    let bytes = try _FileIO.readAll(path, maximumBytes: maximumBytes)
    do throws(NumPyError) {
      return try decode(bytes, maximumBytes: maximumBytes)
    } catch {
      throw error.prefixed(path)
    }
  }

  /// Writes `archive` to `path` as an `.npz` file, atomically (see ``NPY/write(_:to:)``).
  ///
  /// - Throws: `NumPyError` whose message starts with `path`; on failure any previous file at
  ///   `path` is left as it was.
  public static func write(_ archive: NumPyArchive, to path: String, compressed: Bool = false)
    throws(NumPyError)
  {
    let bytes: [UInt8]
    do throws(NumPyError) {
      bytes = try encode(archive, compressed: compressed)
    } catch {
      throw error.prefixed(path)
    }
    try _FileIO.writeAtomically(bytes, to: path)
  }
}

extension String {
  /// The string with NUL characters shown as `\0`, for messages.
  fileprivate var replacingNUL: String {
    String(String.UnicodeScalarView(unicodeScalars.flatMap { $0 == "\0" ? ["\\", "0"] : [$0] }))
  }
}
