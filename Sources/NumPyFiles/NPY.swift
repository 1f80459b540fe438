/// Reading and writing single arrays in NumPy's `.npy` format.
///
/// An `.npy` file is the 6-byte magic `"\x93NUMPY"`, a format version, a little-endian header
/// length, a Python-literal header such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`, and then the raw elements in
/// C order, little-endian. This is what `np.save` writes and `np.load` reads.
///
/// Supported: versions 1.0, 2.0 and 3.0; the dtypes of ``NumPyDType``; any shape, including 0-d
/// and empty arrays; C-order and Fortran-order data (`'fortran_order': True`, which `np.save`
/// writes for transposed and other column-major arrays): Fortran-order data is rearranged on
/// reading, so every ``NumPyArray`` is in C order. Writing always produces C order. Not
/// supported, each with an error that says so: big-endian data, object (pickled) arrays,
/// structured dtypes and other dtypes such as complex or strings.
///
/// Decoding is safe on untrusted input: malformed bytes produce a `NumPyError`, never a crash,
/// and the declared shape is checked against the bytes present before anything is allocated.
public enum NPY {
  /// Decodes the bytes of a complete `.npy` file.
  ///
  /// The data must be exactly as long as the header's shape and dtype require.
  /// - Throws: `NumPyError` describing what is wrong, e.g.
  ///   `"truncated: shape (3, 4) of float64 needs 96 bytes of data, found 40"`.
  public static func decode(_ bytes: [UInt8]) throws(NumPyError) -> NumPyArray {
    try decode(slice: bytes[...])
  }

  /// Encodes `array` as a complete `.npy` file, byte for byte as `np.save` writes it.
  ///
  /// The header is format version 1.0 (2.0 only if it would exceed 65535 bytes), with sorted keys,
  /// `'fortran_order': False`, and padding so the data starts at a multiple of 64 bytes; it ends
  /// with `'\n'`. Elements follow in C order, little-endian; `bool` as one byte 0 or 1.
  public static func encode(_ array: NumPyArray) -> [UInt8] {
    let header = _NPYHeader.encode(dtype: array.dtype, shape: array.shape)
    let dataLength = array.count * array.dtype.itemSize
    var out: [UInt8] = []
    out.reserveCapacity(header.count + dataLength)
    out.append(contentsOf: header)
    switch array.storage {
    case .float64(let values): appendLittleEndian(values, to: &out, \.bitPattern)
    case .float32(let values): appendLittleEndian(values, to: &out, \.bitPattern)
    case .int64(let values): appendLittleEndian(values, to: &out, { $0 })
    case .int32(let values): appendLittleEndian(values, to: &out, { $0 })
    case .uint8(let values): out.append(contentsOf: values)
    case .bool(let values): out.append(contentsOf: values.lazy.map { $0 ? 1 : 0 })
    }
    return out
  }

  /// Reads and decodes the `.npy` file at `path`.
  ///
  /// Only regular files are read, and none of more than `maximumBytes` bytes (see
  /// ``FileBytes/read(_:maximumBytes:)``); the decoded array is no larger than the file.
  ///
  /// - Throws: `NumPyError` whose message starts with `path`, e.g.
  ///   `"x.npy: file does not exist"` or
  ///   `"x.npy: big-endian dtype '>f8' is not supported; convert with arr.astype('<f8')"`.
  public static func read(contentsOf path: String, maximumBytes: Int = FileBytes.defaultMaximumBytes)
    throws(NumPyError) -> NumPyArray
  {
    if let array = readFloat64Directly(path, maximumBytes: maximumBytes) { return array }
    let bytes = try _FileIO.readAll(path, maximumBytes: maximumBytes)
    do throws(NumPyError) {
      return try decode(slice: bytes[...])
    } catch {
      throw error.prefixed(path)
    }
  }

  /// Writes `array` to `path` as an `.npy` file, atomically.
  ///
  /// The bytes go to a temporary file in the same directory, which is flushed to disk and then
  /// renamed over `path`; on failure the temporary file is removed and any previous file at
  /// `path` is left as it was.
  /// - Throws: `NumPyError` whose message starts with `path`.
  public static func write(_ array: NumPyArray, to path: String) throws(NumPyError) {
    try _FileIO.writeAtomically(encode(array), to: path)
  }

  // MARK: - Internals

  /// Decodes a complete `.npy` file held in `bytes` (also used for `.npz` members).
  static func decode(slice bytes: ArraySlice<UInt8>) throws(NumPyError) -> NumPyArray {
    let reader = _ByteReader(bytes)
    let magic = _NPYHeader.magic
    guard reader.count > 0 else { throw NumPyError("empty file (0 bytes), not a NumPy file") }
    let magicPresent = reader.slice(0, min(magic.count, reader.count))
    guard magicPresent.elementsEqual(magic.prefix(magicPresent.count)) else {
      if reader.matches([0x50, 0x4B], at: 0) {
        throw NumPyError("not a NumPy file (bad magic); this looks like a ZIP (.npz) archive, use NPZ")
      }
      throw NumPyError("not a NumPy file (bad magic)")
    }
    guard reader.count >= 10 else {
      throw NumPyError("truncated: \(reader.count) bytes is shorter than the NumPy file preamble")
    }
    let major = reader.u8(6)
    let minor = reader.u8(7)
    let prefixLength: Int
    let headerLength: Int
    switch (major, minor) {
    case (1, 0):
      prefixLength = 10
      headerLength = Int(reader.u16(8))
    case (2, 0), (3, 0):
      prefixLength = 12
      guard reader.has(0, prefixLength) else {
        throw NumPyError("truncated: \(reader.count) bytes is shorter than the NumPy file preamble")
      }
      guard let length = Int(exactly: reader.u32(8)) else {
        throw NumPyError("the header length \(reader.u32(8)) is too large for this platform")
      }
      headerLength = length
    default:
      throw NumPyError("unsupported NumPy file format version \(major).\(minor) (known: 1.0, 2.0, 3.0)")
    }
    guard reader.has(prefixLength, headerLength) else {
      throw NumPyError(
        "truncated: the header declares \(headerLength) bytes but only \(reader.count - prefixLength) follow the preamble"
      )
    }
    let header = try _NPYHeader.parse(Array(reader.slice(prefixLength, headerLength)), version: major)
    let dataOffset = prefixLength + headerLength
    let available = reader.count - dataOffset
    let dtype = header.dtype
    let described = "shape \(_Shape.describe(header.shape)) of \(dtype.rawValue)"
    guard let count = _Shape.elementCount(header.shape),
      let needed = _Shape.byteCount(header.shape, itemSize: dtype.itemSize)
    else {
      throw NumPyError("\(described) is too large: its size overflows a 64-bit integer")
    }
    guard available >= needed else {
      throw NumPyError("truncated: \(described) needs \(needed) bytes of data, found \(available)")
    }
    guard available == needed else {
      throw NumPyError("\(available - needed) bytes of data beyond what \(described) needs")
    }
    let data = reader.slice(dataOffset, needed)
    let storage: NumPyArray.Storage
    switch dtype {
    case .float64:
      storage = .float64(loadLittleEndian(data, count: count, as: UInt64.self, Double.init(bitPattern:)))
    case .float32:
      storage = .float32(loadLittleEndian(data, count: count, as: UInt32.self, Float.init(bitPattern:)))
    case .int64: storage = .int64(loadLittleEndian(data, count: count, as: Int64.self, { $0 }))
    case .int32: storage = .int32(loadLittleEndian(data, count: count, as: Int32.self, { $0 }))
    case .uint8: storage = .uint8(Array(data))
    case .bool: storage = .bool(data.map { $0 != 0 })
    }
    return try NumPyArray(
      shape: header.shape,
      storage: header.fortranOrder ? _FortranOrder.toC(storage, shape: header.shape) : storage)
  }

  /// Converts `count` little-endian values of type `Raw` starting at the beginning of `data`.
  /// The caller has checked that `data` holds exactly `count * MemoryLayout<Raw>.size` bytes.
  private static func loadLittleEndian<Raw: FixedWidthInteger, Element>(
    _ data: ArraySlice<UInt8>, count: Int, as: Raw.Type, _ convert: (Raw) -> Element
  ) -> [Element] {
    let size = MemoryLayout<Raw>.size
    return data.withUnsafeBytes { raw -> [Element] in
      let available = raw.count / size
      let n = min(count, available)
      // Empty arrays (shape with a 0) are built directly: `Array(unsafeUninitializedCapacity: 0)`
      // writes its count (0) into the standard library's shared empty-array storage, which
      // ThreadSanitizer reports as a race with any other thread reading an empty array's count
      // (seen when two tests decoded files concurrently).
      guard n > 0 else { return [] }
      return [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
        for index in 0..<n {
          let value = raw.loadUnaligned(fromByteOffset: index * size, as: Raw.self)
          buffer.initializeElement(at: index, to: convert(Raw(littleEndian: value)))
        }
        initialized = n
      }
    }
  }

  /// Appends `values` to `out` as little-endian `Raw` integers (`convert` gives each one's bits).
  private static func appendLittleEndian<Element, Raw: FixedWidthInteger>(
    _ values: [Element], to out: inout [UInt8], _ convert: (Element) -> Raw
  ) {
    let size = MemoryLayout<Raw>.size
    let start = out.count
    out.append(contentsOf: repeatElement(0, count: values.count * size))
    out.withUnsafeMutableBytes { raw in
      for (index, value) in values.enumerated() {
        raw.storeBytes(of: convert(value).littleEndian, toByteOffset: start + index * size, as: Raw.self)
      }
    }
  }
}
