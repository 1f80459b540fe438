import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

extension NPY {
  /// The largest header the direct read takes; longer (legal but unusual) headers go through the
  /// general path.
  private static let directHeaderLimit = 1 << 16

  /// Reads a well-formed little-endian `float64` `.npy` regular file with its data going straight
  /// from the file into the array's storage: one copy (the kernel's) instead of the general path's
  /// three (file to bytes, bytes to elements), which for a memory of 20,000 x 256 vectors was a
  /// fifth of `dam retrieve`'s time.
  ///
  /// Fortran-order data is read the same way and then rearranged into C order (one more copy).
  ///
  /// Returns nil for anything else, including every malformed or changing file (a size that does
  /// not match the header, a short read, bytes beyond the data): the caller then reads the file
  /// through the general path, which reports the problem exactly as it always has. Nothing is
  /// allocated for the data before the header's shape has been checked against the file's size.
  /// Files of more than `maximumBytes` bytes are left to the general path, which refuses them.
  static func readFloat64Directly(_ path: String, maximumBytes: Int) -> NumPyArray? {
    #if _endian(little)
      guard !path.isEmpty else { return nil }
      // Non-blocking: opening a FIFO without a writer must not wait (the general path refuses it).
      let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
      guard fd >= 0 else { return nil }
      defer { close(fd) }
      var info = stat()
      guard fstat(fd, &info) == 0, info.st_mode & 0o170000 == 0o100000, let size = Int(exactly: info.st_size),
        size <= maximumBytes
      else { return nil }

      // The preamble: magic, version, header length.
      guard let preamble = readBytes(fd, count: 12, at: 0), preamble.count >= 10,
        preamble.prefix(_NPYHeader.magic.count).elementsEqual(_NPYHeader.magic)
      else { return nil }
      let prefixLength: Int
      let headerLength: Int
      switch (preamble[6], preamble[7]) {
      case (1, 0):
        prefixLength = 10
        headerLength = Int(preamble[8]) | Int(preamble[9]) << 8
      case (2, 0), (3, 0):
        guard preamble.count == 12 else { return nil }
        prefixLength = 12
        headerLength = (8..<12).reduce(0) { $0 | Int(preamble[$1]) << (8 * ($1 - 8)) }
      default:
        return nil
      }
      guard headerLength > 0, headerLength <= directHeaderLimit,
        let text = readBytes(fd, count: headerLength, at: prefixLength),
        text.count == headerLength,
        let header = try? _NPYHeader.parse(text, version: preamble[6]),
        header.dtype == .float64,
        let count = _Shape.elementCount(header.shape),
        let needed = _Shape.byteCount(header.shape, itemSize: 8),
        size - (prefixLength + headerLength) == needed, count > 0
      else { return nil }

      // The data, straight into the elements; any short read means the file changed under us.
      var complete = true
      let values = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
        if readInPieces(
          fd, into: UnsafeMutableRawPointer(buffer.baseAddress!), count: needed,
          at: prefixLength + headerLength)
        {
          initialized = count
        } else {
          // Doubles need no deinitialisation: leave the storage empty and fall back.
          complete = false
          initialized = 0
        }
      }
      // The file must also end where the data does (it may have grown since fstat).
      guard complete, let beyond = readBytes(fd, count: 1, at: size), beyond.isEmpty else { return nil }
      let ordered = header.fortranOrder ? _FortranOrder.toC(values, shape: header.shape) : values
      return try? NumPyArray(shape: header.shape, storage: .float64(ordered))
    #else
      return nil
    #endif
  }

  /// Reads exactly `count` bytes at `offset` into `destination`; false on a read error or a short
  /// read. Reads of 16 MiB and more go in two pieces on two threads: the copy out of the page
  /// cache and the first touch of the destination's pages (the kernel zeroes each) are most of a
  /// large read's time, and both split.
  private static func readInPieces(
    _ fd: Int32, into destination: UnsafeMutableRawPointer, count: Int, at offset: Int
  ) -> Bool {
    guard count >= 1 << 24 else { return readFully(fd, into: destination, count: count, at: offset) == count }
    // The boundary on a 2 MiB multiple, so the pieces do not share a page of the destination.
    let boundary = (count / 2) & ~((1 << 21) - 1)
    let destination = UncheckedSendable(destination)
    let complete = UncheckedSendable(UnsafeMutablePointer<Bool>.allocate(capacity: 2))
    defer { complete.value.deallocate() }
    DispatchQueue.concurrentPerform(iterations: 2) { piece in
      let (start, end) = piece == 0 ? (0, boundary) : (boundary, count)
      let filled = readFully(fd, into: destination.value + start, count: end - start, at: offset + start)
      (complete.value + piece).initialize(to: filled == end - start)
    }
    return complete.value[0] && complete.value[1]
  }

  /// Up to `count` bytes at `offset`, fewer at the end of the file; nil on a read error.
  private static func readBytes(_ fd: Int32, count: Int, at offset: Int) -> [UInt8]? {
    guard count > 0 else { return [] }
    var filled: Int? = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      filled = readFully(fd, into: UnsafeMutableRawPointer(buffer.baseAddress!), count: count, at: offset)
      initialized = filled ?? 0
    }
    return filled == nil ? nil : bytes
  }

  /// Reads up to `count` bytes at `offset` into `destination`, retrying short reads and EINTR:
  /// the number read (fewer only at the end of the file), or nil on a read error.
  private static func readFully(
    _ fd: Int32, into destination: UnsafeMutableRawPointer, count: Int, at offset: Int
  )
    -> Int?
  {
    var filled = 0
    while filled < count {
      let got = pread(fd, destination + filled, count - filled, off_t(offset + filled))
      if got < 0 && errno == EINTR { continue }
      if got < 0 { return nil }
      if got == 0 { break }
      filled += got
    }
    return filled
  }
}

/// A value handed to the threads of one `concurrentPerform`, each of which touches only its own
/// part of it.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
