import CZlib

/// Raw DEFLATE (no zlib or gzip wrapper, as in ZIP archives) and CRC-32, through the system zlib.
enum _Zlib {
  private static let chunkSize = 1 << 16
  /// The largest amount handed to zlib at once; its length fields are 32-bit.
  private static let maxFeed = 1 << 30

  /// The CRC-32 (ZIP / zlib polynomial) of `bytes`.
  static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.withUnsafeBytes { raw -> UInt32 in
      var crc = CZlib.crc32(0, nil, 0)
      var offset = 0
      while offset < raw.count {
        let length = min(maxFeed, raw.count - offset)
        let start = raw.baseAddress.map { $0.assumingMemoryBound(to: Bytef.self) + offset }
        crc = CZlib.crc32(crc, start, uInt(length))
        offset += length
      }
      return UInt32(truncatingIfNeeded: crc)
    }
  }

  /// Allocates a `z_stream` at a stable address (zlib checks that the stream does not move).
  private static func makeStream() -> UnsafeMutablePointer<z_stream> {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    return stream
  }

  private static func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>, _ code: Int32) -> String {
    if let message = stream.pointee.msg { return String(cString: message) }
    return "zlib error \(code)"
  }

  /// Compresses `input` as one raw DEFLATE stream (window bits -15, default level).
  static func deflateRaw(_ input: [UInt8]) throws(NumPyError) -> [UInt8] {
    let stream = makeStream()
    defer {
      stream.deinitialize(count: 1)
      stream.deallocate()
    }
    let initCode = deflateInit2_(
      stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
      Int32(MemoryLayout<z_stream>.size))
    guard initCode == Z_OK else {
      throw NumPyError("cannot start compression: \(zlibMessage(stream, initCode))")
    }
    defer { deflateEnd(stream) }

    let result = input.withUnsafeBytes { raw -> Result<[UInt8], NumPyError> in
      var output: [UInt8] = []
      output.reserveCapacity(input.count / 2 + chunkSize)
      var chunk = [UInt8](repeating: 0, count: chunkSize)
      var consumed = 0
      let base = raw.baseAddress.map {
        UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
      }
      while true {
        if stream.pointee.avail_in == 0 && consumed < raw.count, let base {
          let length = min(maxFeed, raw.count - consumed)
          stream.pointee.next_in = base + consumed
          stream.pointee.avail_in = uInt(length)
          consumed += length
        }
        let flush = consumed == raw.count ? Z_FINISH : Z_NO_FLUSH
        var code: Int32 = Z_OK
        let produced = chunk.withUnsafeMutableBytes { out -> Int in
          stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
          stream.pointee.avail_out = uInt(out.count)
          code = deflate(stream, flush)
          return out.count - Int(stream.pointee.avail_out)
        }
        output.append(contentsOf: chunk[0..<produced])
        if code == Z_STREAM_END { return .success(output) }
        guard code == Z_OK || code == Z_BUF_ERROR else {
          return .failure(NumPyError("compression failed: \(zlibMessage(stream, code))"))
        }
      }
    }
    return try result.get()
  }

  /// Decompresses one raw DEFLATE stream that must inflate to exactly `expectedSize` bytes.
  ///
  /// Output grows only as data is actually produced, so a false `expectedSize` cannot cause a
  /// large allocation, and inflating past `expectedSize` stops with an error.
  static func inflateRaw(_ input: ArraySlice<UInt8>, expectedSize: Int) throws(NumPyError) -> [UInt8] {
    let stream = makeStream()
    defer {
      stream.deinitialize(count: 1)
      stream.deallocate()
    }
    let initCode = inflateInit2_(stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard initCode == Z_OK else {
      throw NumPyError("cannot start decompression: \(zlibMessage(stream, initCode))")
    }
    defer { inflateEnd(stream) }

    let result = input.withUnsafeBytes { raw -> Result<[UInt8], NumPyError> in
      var output: [UInt8] = []
      output.reserveCapacity(min(expectedSize, max(chunkSize, min(raw.count, 1 << 26) * 4)))
      var chunk = [UInt8](repeating: 0, count: chunkSize)
      var consumed = 0
      let base = raw.baseAddress.map {
        UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
      }
      while true {
        if stream.pointee.avail_in == 0 && consumed < raw.count, let base {
          let length = min(maxFeed, raw.count - consumed)
          stream.pointee.next_in = base + consumed
          stream.pointee.avail_in = uInt(length)
          consumed += length
        }
        let inputBefore = stream.pointee.avail_in
        var code: Int32 = Z_OK
        let produced = chunk.withUnsafeMutableBytes { out -> Int in
          stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
          stream.pointee.avail_out = uInt(out.count)
          code = inflate(stream, Z_NO_FLUSH)
          return out.count - Int(stream.pointee.avail_out)
        }
        if produced > expectedSize - output.count {
          return .failure(
            NumPyError("compressed data inflates beyond its declared size of \(expectedSize) bytes"))
        }
        output.append(contentsOf: chunk[0..<produced])
        switch code {
        case Z_STREAM_END:
          guard output.count == expectedSize else {
            return .failure(
              NumPyError(
                "compressed data inflates to \(output.count) bytes but the archive declares \(expectedSize)"))
          }
          return .success(output)
        case Z_OK, Z_BUF_ERROR:
          let progressed = produced > 0 || stream.pointee.avail_in != inputBefore
          if !progressed && stream.pointee.avail_in == 0 && consumed == raw.count {
            return .failure(NumPyError("truncated compressed data (the deflate stream does not end)"))
          }
          if !progressed {
            return .failure(NumPyError("corrupt compressed data (decompression made no progress)"))
          }
        case Z_NEED_DICT:
          return .failure(NumPyError("corrupt compressed data (a preset dictionary is required)"))
        default:
          return .failure(NumPyError("corrupt compressed data (\(zlibMessage(stream, code)))"))
        }
      }
    }
    return try result.get()
  }
}
