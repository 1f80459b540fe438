// The container layer of memory files: a manifest plus named arrays in one `.npz`, with checksums
// and per-kind shape rules. It knows nothing about the library's value types (so that
// scripts/fuzz.sh can compile it with NumPyFiles alone); `MemoryFile` turns it into patterns.

import CZlib
import Foundation

#if !FUZZING
  import NumPyFiles
#endif

/// What a memory file stores.
public enum MemoryFileKind: String, Sendable, Hashable, CaseIterable, Codable {
  /// Vectors: `patterns` (N, D).
  case vectors
  /// Weighted point clouds of any sizes: `points` (total, d), `weights` (total), `offsets` (N + 1).
  case pointClouds = "point-clouds"
  /// Gaussians: `means` (N, d) with `covariances` (N, d, d) or `variances` (N, d).
  case gaussians
  /// Histograms on one regular grid: `histograms` (N, H[, W[, D]]) and `spacing` (axes).
  case histograms
}

/// A memory file that cannot be read or written, with what is wrong and where.
public struct MemoryFileError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What went wrong, starting with the file's path when there is one.
  public var message: String

  /// The limit, in bytes, when the file was refused for needing more memory than the read's
  /// `maximumBytes` allows (a larger file, or members that would inflate to more); `nil` otherwise.
  public var exceededLimit: Int?

  /// Creates an error with `message`.
  public init(_ message: String) { self.message = message }

  /// An error about the file from a NumPy-level error, keeping its ``exceededLimit``.
  init(_ message: String, from error: NumPyError) {
    self.message = message
    exceededLimit = error.exceededLimit
  }

  /// The message.
  public var description: String { message }

  func prefixed(_ prefix: String) -> MemoryFileError {
    var error = self
    error.message = "\(prefix): \(message)"
    return error
  }

  /// The error of a write without overwrite (``MemoryFileContents/write(to:overwrite:lockTimeout:)``) to a
  /// `path` that exists: `"<path>: exists; not replaced"`.
  public static func fileExists(_ path: String) -> MemoryFileError { MemoryFileWriter.existsError(path) }
}

/// The manifest of a memory file, stored as UTF-8 JSON in the `manifest` member.
public struct MemoryFileManifest: Sendable, Hashable, Codable {
  /// One data array: its dtype, shape and the CRC-32 of its data bytes.
  public struct ArrayRecord: Sendable, Hashable, Codable {
    /// The member name without `.npy`.
    public var name: String
    /// The NumPy type string, for example `<f8`.
    public var dtype: String
    /// The shape.
    public var shape: [Int]
    /// CRC-32 (zlib's) of the elements as stored in the `.npy` after its header: little-endian,
    /// C order. In Python: `zlib.crc32(np.ascontiguousarray(a).tobytes())`.
    public var crc32: UInt32
  }

  /// Always ``MemoryFileManifest/formatName``.
  public var format: String
  /// The format version; this build reads and writes ``MemoryFileManifest/currentVersion``.
  public var version: Int
  /// What the file stores.
  public var kind: MemoryFileKind
  /// The number of stored patterns.
  public var count: Int
  /// The divergence whose cached data the patterns are stored for (`squared-euclidean`,
  /// `dot-product`, `sinkhorn`, `bures-wasserstein`).
  public var divergence: String
  /// The entropic regularisation of `sinkhorn`, when it applies.
  public var epsilon: Double?
  /// The other parameters that the prepared data of `sinkhorn` (each pattern's self-transport)
  /// depend on; `nil` for the other divergences, whose prepared data depend on the patterns
  /// alone. Required for `sinkhorn` from version 2 on; version 1 files have none.
  public var parameters: Parameters?
  /// The data arrays, in file order.
  public var arrays: [ArrayRecord]

  /// The parameters, besides ``epsilon``, that the per-pattern data prepared for `sinkhorn`
  /// depend on.
  public struct Parameters: Sendable, Hashable, Codable {
    /// The ground cost: `squared-euclidean`, `‖x - y‖²` not halved (between cell centres, with
    /// the grid's spacing, for histograms). The only cost this build computes.
    public var cost: String
    /// The marginal tolerance of the Sinkhorn solves (recorded; results differ only within it).
    public var tolerance: Double
    /// The iteration cap of the Sinkhorn solves (recorded).
    public var maxIterations: Int
    /// Histograms: the grid spacing per axis (equal to the `spacing` array).
    public var spacing: [Double]?

    /// Parameters for a cost, solver tolerance and iteration cap, and a grid spacing.
    public init(cost: String, tolerance: Double, maxIterations: Int, spacing: [Double]? = nil) {
      self.cost = cost
      self.tolerance = tolerance
      self.maxIterations = maxIterations
      self.spacing = spacing
    }

    /// The only ground cost this build computes.
    public static let squaredEuclidean = "squared-euclidean"
  }

  /// The value of ``format``.
  public static let formatName = "dam-memory"
  /// The version this build writes, and the newest it reads. Version 2 added ``parameters``.
  public static let currentVersion = 2
}

/// The verified contents of a memory file: its manifest and data arrays.
///
/// ``decode(_:maximumBytes:)`` checks, in order: the ZIP structure and each member's CRC-32 (through
/// `NPZ.decode`), the manifest (format name, version, kind, count), that the members are exactly
/// the manifest's arrays, each array's dtype, shape and data checksum, and the shape rules of the
/// kind. Values themselves (finite numbers, weights that sum to one, positive definite
/// covariances) are checked when the arrays are turned into patterns.
public struct MemoryFileContents: Sendable {
  /// The manifest, with checksums matching ``arrays``.
  public private(set) var manifest: MemoryFileManifest
  /// The data arrays by name.
  public private(set) var arrays: [String: NumPyArray]

  /// The kind of the stored patterns.
  public var kind: MemoryFileKind { manifest.kind }
  /// The number of stored patterns.
  public var count: Int { manifest.count }

  /// Contents as read from a file of `version` (checked against that version's rules).
  init(
    kind: MemoryFileKind, divergence: String, epsilon: Double?, parameters: MemoryFileManifest.Parameters?,
    arrays: [(name: String, array: NumPyArray)], version: Int
  ) throws(MemoryFileError) {
    var records: [MemoryFileManifest.ArrayRecord] = []
    var byName: [String: NumPyArray] = [:]
    for (name, array) in arrays {
      byName[name] = array
      records.append(
        .init(name: name, dtype: array.dtype.descr, shape: array.shape, crc32: Self.checksum(array)))
    }
    let count = try Self.checkShapes(kind: kind, arrays: byName)
    manifest = MemoryFileManifest(
      format: MemoryFileManifest.formatName, version: version, kind: kind, count: count,
      divergence: divergence, epsilon: epsilon, parameters: parameters, arrays: records)
    self.arrays = byName
    try Self.checkParameters(manifest, arrays: byName)
  }

  /// Contents of `kind` holding `arrays`, with a fresh manifest (``MemoryFileManifest/currentVersion``).
  ///
  /// `parameters` are required for `sinkhorn` (see ``MemoryFileManifest/Parameters``) and must be
  /// `nil` for the other divergences.
  ///
  /// - Throws: ``MemoryFileError`` if an array is missing or extra, or shapes break the kind's
  ///   rules (see ``MemoryFileKind``).
  public init(
    kind: MemoryFileKind, divergence: String, epsilon: Double?,
    parameters: MemoryFileManifest.Parameters? = nil,
    arrays: [(name: String, array: NumPyArray)]
  ) throws(MemoryFileError) {
    var names: Set<String> = []
    for (name, _) in arrays where !names.insert(name).inserted {
      throw MemoryFileError("array '\(name)' is given twice")
    }
    try self.init(
      kind: kind, divergence: divergence, epsilon: epsilon, parameters: parameters, arrays: arrays,
      version: MemoryFileManifest.currentVersion)
  }

  // MARK: Decoding

  /// Decodes and verifies the bytes of a memory file.
  ///
  /// An archive whose members would inflate to more than `maximumBytes` is refused before any is
  /// inflated (see NumPyFiles' `NPZ.decode(_:maximumBytes:)`).
  ///
  /// - Throws: ``MemoryFileError`` saying exactly what is wrong, for example
  ///   `"array 'points': checksum mismatch (manifest 0x1a2b3c4d, data 0x99887766)"`; when the
  ///   limit refused it, one whose ``MemoryFileError/exceededLimit`` is `maximumBytes`.
  public static func decode(_ bytes: [UInt8], maximumBytes: Int = FileBytes.defaultMaximumBytes)
    throws(MemoryFileError) -> MemoryFileContents
  {
    let archive: NumPyArchive
    do throws(NumPyError) {
      archive = try NPZ.decode(bytes, maximumBytes: maximumBytes)
    } catch {
      throw MemoryFileError("not a readable memory file (.npz): \(error.message)", from: error)
    }
    guard let manifestArray = archive["manifest"] else {
      throw MemoryFileError(
        "no 'manifest' member, so not a memory file (members: \(archive.names.joined(separator: ", ")));"
          + " make one with `dam memory create`")
    }
    guard manifestArray.dtype == .uint8, manifestArray.shape.count == 1,
      case .uint8(let jsonBytes) = manifestArray.storage
    else {
      throw MemoryFileError(
        "'manifest' must be a 1-D uint8 array of UTF-8 JSON, got \(manifestArray.dtype.descr) of shape \(manifestArray.shape)"
      )
    }
    let manifest: MemoryFileManifest
    do {
      manifest = try JSONDecoder().decode(MemoryFileManifest.self, from: Data(jsonBytes))
    } catch {
      throw MemoryFileError("'manifest' is not a valid memory-file manifest: \(Self.describe(error))")
    }
    guard manifest.format == MemoryFileManifest.formatName else {
      throw MemoryFileError(
        "'manifest' names format '\(manifest.format)', expected '\(MemoryFileManifest.formatName)'")
    }
    guard manifest.version >= 1 else {
      throw MemoryFileError("'manifest' has an invalid version \(manifest.version)")
    }
    guard manifest.version <= MemoryFileManifest.currentVersion else {
      throw MemoryFileError(
        "format version \(manifest.version) is newer than this build reads (\(MemoryFileManifest.currentVersion))"
      )
    }
    var arrays: [String: NumPyArray] = [:]
    var listed: Set<String> = []
    for record in manifest.arrays {
      guard record.name != "manifest", listed.insert(record.name).inserted else {
        throw MemoryFileError("'manifest' lists array '\(record.name)' more than once")
      }
      guard let array = archive[record.name] else {
        throw MemoryFileError("array '\(record.name)' is listed in the manifest but missing from the file")
      }
      guard array.dtype.descr == record.dtype else {
        throw MemoryFileError(
          "array '\(record.name)': dtype \(array.dtype.descr) in the file, \(record.dtype) in the manifest")
      }
      guard array.shape == record.shape else {
        throw MemoryFileError(
          "array '\(record.name)': shape \(array.shape) in the file, \(record.shape) in the manifest")
      }
      let crc = checksum(array)
      guard crc == record.crc32 else {
        throw MemoryFileError(
          "array '\(record.name)': checksum mismatch (manifest \(hex(record.crc32)), data \(hex(crc)))")
      }
      arrays[record.name] = array
    }
    for name in archive.names where name != "manifest" && !listed.contains(name) {
      throw MemoryFileError("member '\(name)' is not listed in the manifest")
    }
    let count = try checkShapes(kind: manifest.kind, arrays: arrays)
    guard count == manifest.count else {
      throw MemoryFileError("'manifest' says \(manifest.count) patterns, the arrays hold \(count)")
    }
    try checkParameters(kind: manifest.kind, divergence: manifest.divergence, epsilon: manifest.epsilon)
    return try MemoryFileContents(
      kind: manifest.kind, divergence: manifest.divergence, epsilon: manifest.epsilon,
      parameters: manifest.parameters, arrays: manifest.arrays.map { ($0.name, arrays[$0.name]!) },
      version: manifest.version)
  }

  /// Reads and verifies the memory file at `path`.
  ///
  /// Only a regular file is read (a device such as `/dev/zero` or a FIFO is refused by name), and
  /// none larger than `maximumBytes` or whose members would inflate to more.
  ///
  /// - Throws: ``MemoryFileError`` whose message starts with `path`.
  public static func read(contentsOf path: String, maximumBytes: Int = FileBytes.defaultMaximumBytes)
    throws(MemoryFileError) -> MemoryFileContents
  {
    let bytes: [UInt8]
    do throws(NumPyError) {
      bytes = try FileBytes.read(path, maximumBytes: maximumBytes)
    } catch {
      throw MemoryFileError(error.message, from: error)
    }
    do throws(MemoryFileError) {
      return try decode(bytes, maximumBytes: maximumBytes)
    } catch {
      throw error.prefixed(path)
    }
  }

  // MARK: Encoding

  /// The bytes of the memory file: an `.npz` with the `manifest` first, then the arrays.
  public func encode() throws(MemoryFileError) -> [UInt8] {
    var archive = NumPyArchive()
    let json: Data
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      json = try encoder.encode(manifest)
    } catch {
      throw MemoryFileError("cannot encode the manifest: \(error)")
    }
    do throws(NumPyError) {
      archive["manifest"] = try NumPyArray(shape: [json.count], storage: .uint8(Array(json)))
      for record in manifest.arrays { archive[record.name] = arrays[record.name]! }
      return try NPZ.encode(archive)
    } catch {
      throw MemoryFileError(error.message)
    }
  }

  /// Writes the file to `path` atomically, as the only writer of `path`.
  ///
  /// The bytes go to a temporary file in the same directory, which is synced and renamed over
  /// `path` (or, without `overwrite`, hard-linked to it), and the directory is synced: readers see
  /// the previous file or the new one, whole. If anything fails, or the process is killed, `path`
  /// still holds its previous contents (a killed process may leave a hidden
  /// `.<name>.tmp-<pid>-<random>` file behind, which readers ignore and the next successful write
  /// of `path` removes).
  ///
  /// Writers of one path take turns: an exclusive advisory lock (`flock`) on the lock file
  /// `.<name>.lock` beside `path` is held from the checks to the rename, and the lock file is
  /// removed after. Readers take no lock.
  ///
  /// - Parameters:
  ///   - path: The file to write.
  ///   - overwrite: Whether an existing file at `path` is replaced (the default). When
  ///     `false`, the file is created only if `path` does not exist, atomically: of several
  ///     processes or threads creating `path` at once, exactly one succeeds and the others get
  ///     ``MemoryFileError/fileExists(_:)``.
  ///   - lockTimeout: How long to wait for another writer's lock before giving up (600 s by
  ///     default): a writer stopped with the lock held would otherwise keep this one waiting.
  /// - Throws: ``MemoryFileError`` whose message starts with `path` if `path` exists and
  ///   `overwrite` is `false`, is a directory or not a regular file (a device, a FIFO, a socket),
  ///   is read-only (its mode has no write permission, or this process may not write it: a
  ///   read-only file is not replaced), or cannot be locked or written, or if another writer holds
  ///   the lock of `path` for longer than `lockTimeout` (then nothing is written).
  public func write(to path: String, overwrite: Bool = true, lockTimeout: Duration = .seconds(600))
    throws(MemoryFileError)
  {
    let bytes = try encode()
    try MemoryFileWriter.locked(path, lockTimeout: lockTimeout) { () throws(MemoryFileError) in
      try MemoryFileWriter.writeFile(bytes, to: path, overwrite: overwrite)
    }
  }

  // MARK: Rules

  /// The CRC-32 of `array`'s data bytes as stored in an `.npy` (little-endian, C order).
  public static func checksum(_ array: NumPyArray) -> UInt32 {
    let encoded = NPY.encode(array)
    let dataCount = array.count * array.dtype.itemSize
    let crc = encoded.withUnsafeBufferPointer { buffer -> UInt in
      var crc: UInt = 0
      var offset = encoded.count - dataCount
      while offset < encoded.count {
        let chunk = min(encoded.count - offset, Int(Int32.max))
        crc = CZlib.crc32(crc, buffer.baseAddress! + offset, UInt32(chunk))
        offset += chunk
      }
      return crc
    }
    return UInt32(truncatingIfNeeded: crc)
  }

  /// Checks that the divergence and epsilon suit the kind.
  static func checkParameters(kind: MemoryFileKind, divergence: String, epsilon: Double?)
    throws(MemoryFileError)
  {
    let allowed: [String]
    switch kind {
    case .vectors: allowed = ["squared-euclidean", "dot-product"]
    case .pointClouds, .histograms: allowed = ["sinkhorn"]
    case .gaussians: allowed = ["bures-wasserstein"]
    }
    guard allowed.contains(divergence) else {
      throw MemoryFileError(
        "divergence '\(divergence)' does not apply to \(kind.rawValue) (allowed: \(allowed.joined(separator: ", ")))"
      )
    }
    if divergence == "sinkhorn" {
      guard let epsilon, epsilon.isFinite, epsilon > 0 else {
        throw MemoryFileError(
          "divergence sinkhorn needs an epsilon, a finite number > 0, got \(epsilon.map { "\($0)" } ?? "none")"
        )
      }
    } else if let epsilon {
      throw MemoryFileError("epsilon (\(epsilon)) applies to divergence sinkhorn only, not \(divergence)")
    }
  }

  /// Checks the recorded preparation parameters: required (from version 2 on) for `sinkhorn`
  /// with the one cost this build computes, a finite tolerance > 0, an iteration cap >= 1 and,
  /// for histograms, the spacing of the `spacing` array; absent for the other divergences.
  static func checkParameters(_ manifest: MemoryFileManifest, arrays: [String: NumPyArray])
    throws(MemoryFileError)
  {
    guard manifest.divergence == "sinkhorn" else {
      guard manifest.parameters == nil else {
        throw MemoryFileError(
          "'parameters' apply to divergence sinkhorn only, not \(manifest.divergence) (its prepared data depend on the patterns alone)"
        )
      }
      return
    }
    guard let parameters = manifest.parameters else {
      guard manifest.version >= 2 else { return }  // version 1 recorded epsilon only
      throw MemoryFileError(
        "divergence sinkhorn needs 'parameters' (cost, tolerance, maxIterations) from format version 2 on")
    }
    guard parameters.cost == MemoryFileManifest.Parameters.squaredEuclidean else {
      throw MemoryFileError(
        "'parameters': cost '\(parameters.cost)' is not one this build computes (\(MemoryFileManifest.Parameters.squaredEuclidean))"
      )
    }
    guard parameters.tolerance.isFinite, parameters.tolerance > 0 else {
      throw MemoryFileError(
        "'parameters': tolerance must be a finite number > 0, got \(parameters.tolerance)")
    }
    guard parameters.maxIterations >= 1 else {
      throw MemoryFileError("'parameters': maxIterations must be >= 1, got \(parameters.maxIterations)")
    }
    if manifest.kind == .histograms {
      let stored = arrays["spacing"]?.doubles() ?? []
      guard let spacing = parameters.spacing else {
        throw MemoryFileError("'parameters': histograms need the grid 'spacing' their data were prepared for")
      }
      guard spacing.count == stored.count, zip(spacing, stored).allSatisfy({ $0.bitPattern == $1.bitPattern })
      else {
        throw MemoryFileError(
          "'parameters': spacing \(spacing) differs from the 'spacing' array \(stored)")
      }
    } else if parameters.spacing != nil {
      throw MemoryFileError("'parameters': spacing applies to histograms only, not \(manifest.kind.rawValue)")
    }
  }

  /// Checks the kind's shape rules and returns the number of patterns.
  static func checkShapes(kind: MemoryFileKind, arrays: [String: NumPyArray]) throws(MemoryFileError) -> Int {
    func require(_ name: String) throws(MemoryFileError) -> NumPyArray {
      guard let array = arrays[name] else {
        throw MemoryFileError(
          "\(kind.rawValue) need an array '\(name)' (found: \(arrays.keys.sorted().joined(separator: ", ")))")
      }
      return array
    }
    func requireOnly(_ names: Set<String>) throws(MemoryFileError) {
      for name in arrays.keys.sorted() where !names.contains(name) {
        throw MemoryFileError("array '\(name)' does not belong in a memory of \(kind.rawValue)")
      }
    }
    func requireFloat(_ name: String, _ array: NumPyArray) throws(MemoryFileError) {
      guard array.dtype == .float64 else {
        throw MemoryFileError("array '\(name)' must be float64 (<f8), got \(array.dtype.descr)")
      }
    }
    switch kind {
    case .vectors:
      try requireOnly(["patterns"])
      let patterns = try require("patterns")
      try requireFloat("patterns", patterns)
      guard patterns.shape.count == 2, patterns.shape[0] > 0, patterns.shape[1] > 0 else {
        throw MemoryFileError("'patterns' must have shape (N, D) with N, D >= 1, got \(patterns.shape)")
      }
      return patterns.shape[0]
    case .pointClouds:
      try requireOnly(["points", "weights", "offsets"])
      let points = try require("points")
      let weights = try require("weights")
      let offsetsArray = try require("offsets")
      try requireFloat("points", points)
      try requireFloat("weights", weights)
      guard points.shape.count == 2, points.shape[0] > 0, points.shape[1] > 0 else {
        throw MemoryFileError("'points' must have shape (total, d) with total, d >= 1, got \(points.shape)")
      }
      guard weights.shape == [points.shape[0]] else {
        throw MemoryFileError(
          "'weights' must have shape [\(points.shape[0])] (one per point), got \(weights.shape)")
      }
      guard offsetsArray.dtype == .int64, offsetsArray.shape.count == 1, offsetsArray.shape[0] >= 2 else {
        throw MemoryFileError(
          "'offsets' must be int64 of shape (N + 1) with N >= 1, got \(offsetsArray.dtype.descr) \(offsetsArray.shape)"
        )
      }
      let offsets = try integers(offsetsArray, "offsets")
      guard offsets.first == 0 else { throw MemoryFileError("'offsets' must start at 0, got \(offsets[0])") }
      for i in 1..<offsets.count where offsets[i] <= offsets[i - 1] {
        throw MemoryFileError(
          "'offsets' must increase strictly (every cloud has an atom): offsets[\(i)] = \(offsets[i]) after \(offsets[i - 1])"
        )
      }
      guard offsets.last == points.shape[0] else {
        throw MemoryFileError(
          "'offsets' must end at the number of points \(points.shape[0]), got \(offsets.last!)")
      }
      return offsets.count - 1
    case .gaussians:
      let means = try require("means")
      try requireFloat("means", means)
      guard means.shape.count == 2, means.shape[0] > 0, means.shape[1] > 0 else {
        throw MemoryFileError("'means' must have shape (N, d) with N, d >= 1, got \(means.shape)")
      }
      let (n, d) = (means.shape[0], means.shape[1])
      switch (arrays["covariances"], arrays["variances"]) {
      case (let covariances?, nil):
        try requireOnly(["means", "covariances"])
        try requireFloat("covariances", covariances)
        guard covariances.shape == [n, d, d] else {
          throw MemoryFileError("'covariances' must have shape [\(n), \(d), \(d)], got \(covariances.shape)")
        }
      case (nil, let variances?):
        try requireOnly(["means", "variances"])
        try requireFloat("variances", variances)
        guard variances.shape == [n, d] else {
          throw MemoryFileError("'variances' must have shape [\(n), \(d)], got \(variances.shape)")
        }
      case (.some, .some): throw MemoryFileError("Gaussians have 'covariances' or 'variances', not both")
      case (nil, nil): throw MemoryFileError("Gaussians need 'covariances' (N, d, d) or 'variances' (N, d)")
      }
      return n
    case .histograms:
      try requireOnly(["histograms", "spacing"])
      let histograms = try require("histograms")
      let spacing = try require("spacing")
      try requireFloat("histograms", histograms)
      try requireFloat("spacing", spacing)
      guard (2...4).contains(histograms.shape.count), histograms.shape.allSatisfy({ $0 > 0 }) else {
        throw MemoryFileError(
          "'histograms' must have shape (N, H[, W[, D]]) with every size >= 1, got \(histograms.shape)")
      }
      guard spacing.shape == [histograms.shape.count - 1] else {
        throw MemoryFileError(
          "'spacing' must have shape [\(histograms.shape.count - 1)] (one per grid axis), got \(spacing.shape)"
        )
      }
      return histograms.shape[0]
    }
  }

  static func integers(_ array: NumPyArray, _ name: String) throws(MemoryFileError) -> [Int] {
    do throws(NumPyError) {
      return try array.integers()
    } catch {
      throw MemoryFileError("'\(name)': \(error.message)")
    }
  }

  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }

  static func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      let path = context.codingPath.map(\.stringValue).joined(separator: ".")
      return "wrong type at '\(path)'"
    case DecodingError.dataCorrupted(let context):
      let path = context.codingPath.map(\.stringValue).joined(separator: ".")
      return path.isEmpty ? "not valid JSON" : "invalid value at '\(path)'"
    default: return "\(error)"
    }
  }
}
