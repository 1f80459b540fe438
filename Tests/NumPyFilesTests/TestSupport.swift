import Foundation
import NumPyFiles
import Testing

/// Shared helpers for the NumPyFiles tests.
enum Support {
  /// The folder holding the NumPy-written fixtures (beside this file, found via `#filePath`).
  static let fixturesDirectory: String = {
    let file = "\(#filePath)"
    let folder = file[..<(file.lastIndex(of: "/") ?? file.startIndex)]
    return folder + "/Fixtures"
  }()

  static func fixturePath(_ name: String) -> String { fixturesDirectory + "/" + name }

  /// The raw bytes of a fixture file.
  static func fixtureBytes(_ name: String) throws -> [UInt8] {
    let path = fixturePath(name)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw NumPyError("fixture missing: \(path)")
    }
    return [UInt8](data)
  }

  /// A complete `.npy` file with the given header text (padded to 64 bytes and ended with '\n').
  static func npy(header: String, version: UInt8 = 1, data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
    var text = Array(header.utf8)
    let prefix = version == 1 ? 10 : 12
    if pad {
      while (prefix + text.count + 1) % 64 != 0 { text.append(0x20) }
      text.append(0x0A)
    }
    var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
    let length = UInt32(text.count)
    out.append(UInt8(length & 0xFF))
    out.append(UInt8((length >> 8) & 0xFF))
    if version != 1 {
      out.append(UInt8((length >> 16) & 0xFF))
      out.append(UInt8(length >> 24))
    }
    return out + text + data
  }

  /// Little-endian bytes of `values` as 8-byte doubles.
  static func float64Bytes(_ values: [Double]) -> [UInt8] {
    values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
  }

  /// A fresh, empty temporary directory; remove it with `removeDirectory`.
  static func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "NumPyFilesTests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }

  static func listing(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
  }

  /// An array of `dtype` and `shape` with varied, deterministic values.
  static func sampleArray(_ dtype: NumPyDType, shape: [Int]) throws -> NumPyArray {
    let count = shape.reduce(1, *)
    let indices = Array(0..<count)
    let storage: NumPyArray.Storage
    switch dtype {
    case .float64: storage = .float64(indices.map { Double($0) * 0.75 - 3.5 + ($0 == 1 ? 1e-300 : 0) })
    case .float32: storage = .float32(indices.map { Float($0) * -1.5 + 0.1 })
    case .int64: storage = .int64(indices.map { Int64($0) &* 1_000_000_007 &- (Int64($0 % 3) << 61) })
    case .int32: storage = .int32(indices.map { Int32($0 * 97) - (Int32($0 % 2) << 30) })
    case .uint8: storage = .uint8(indices.map { UInt8(truncatingIfNeeded: $0 * 37) })
    case .bool: storage = .bool(indices.map { $0 % 3 == 0 })
    }
    return try NumPyArray(shape: shape, storage: storage)
  }
}

/// SplitMix64: a small, seeded, deterministic generator, so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  mutating func bytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
  }
}
