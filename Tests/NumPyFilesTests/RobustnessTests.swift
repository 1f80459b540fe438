import NumPyFiles
import Testing

/// Hostile input: every prefix of valid files, random bytes and random mutations must produce
/// a `NumPyError` (or, for mutations that happen to stay valid, a result), never a crash or hang.
@Suite("Robustness against malformed input")
struct RobustnessTests {
  static let npyFixtures = [
    "float64_2x3.npy", "bool_2x2.npy", "scalar_0d.npy", "empty_0.npy", "int64_2x3x4.npy", "version3.npy",
  ]
  static let npzFixtures = ["savez.npz", "savez_compressed.npz", "zip64_forced.npz", "streamed.npz"]

  @Test("Every proper prefix of an .npy file throws", arguments: npyFixtures)
  func npyPrefixes(name: String) throws {
    let bytes = try Support.fixtureBytes(name)
    #expect(throws: Never.self) { try NPY.decode(bytes) }
    for length in 0..<bytes.count {
      #expect(throws: NumPyError.self, "prefix of \(length) bytes") {
        try NPY.decode(Array(bytes.prefix(length)))
      }
    }
  }

  @Test("Every proper prefix of an .npz file throws", arguments: npzFixtures)
  func npzPrefixes(name: String) throws {
    let bytes = try Support.fixtureBytes(name)
    #expect(throws: Never.self) { try NPZ.decode(bytes) }
    for length in 0..<bytes.count {
      #expect(throws: NumPyError.self, "prefix of \(length) bytes") {
        try NPZ.decode(Array(bytes.prefix(length)))
      }
    }
  }

  @Test("Every proper prefix of archives written here throws", arguments: [false, true])
  func ownNpzPrefixes(compressed: Bool) throws {
    let archive = NumPyArchive([
      .init(name: "x", array: try NumPyArray(shape: [3], doubles: [1, 2, 3])),
      .init(name: "y", array: try NumPyArray(shape: [], storage: .bool([true]))),
    ])
    let bytes = try NPZ.encode(archive, compressed: compressed)
    for length in 0..<bytes.count {
      #expect(throws: NumPyError.self, "prefix of \(length) bytes") {
        try NPZ.decode(Array(bytes.prefix(length)))
      }
    }
  }

  @Test("Random byte strings never crash either decoder")
  func randomBytes() {
    var random = SplitMix64(seed: 0x5EED_0001)
    let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    var npyFailures = 0
    var npzFailures = 0
    for round in 0..<3_000 {
      var bytes = random.bytes(Int.random(in: 0...400, using: &random))
      switch round % 4 {
      case 1:  // a valid magic and version, so the header parser sees random text
        bytes = npyMagic + [UInt8.random(in: 1...3, using: &random), 0] + bytes
      case 2:  // an end-of-central-directory record with random fields
        bytes += [0x50, 0x4B, 0x05, 0x06] + random.bytes(16) + [0, 0]
      case 3:  // a plausible header start followed by random text
        let start = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (".utf8)
        bytes = npyMagic + [1, 0, UInt8(start.count + bytes.count / 2), 0] + start + bytes
      default: break
      }
      do { _ = try NPY.decode(bytes) } catch { npyFailures += 1 }
      do { _ = try NPZ.decode(bytes) } catch { npzFailures += 1 }
    }
    #expect(npyFailures > 2_900)
    #expect(npzFailures > 2_900)
  }

  static let mutationSeeds: [String] = npyFixtures + npzFixtures + ["version2.npy", "bad_member.npz"]

  @Test("Random mutations of valid files never crash", arguments: mutationSeeds)
  func mutations(name: String) throws {
    let original = try Support.fixtureBytes(name)
    var random = SplitMix64(seed: UInt64(truncatingIfNeeded: name.utf8.reduce(17) { $0 &* 31 &+ Int($1) }))
    for _ in 0..<1_500 {
      var bytes = original
      switch Int.random(in: 0..<5, using: &random) {
      case 0:  // flip a few bits
        for _ in 0..<Int.random(in: 1...4, using: &random) {
          bytes[Int.random(in: 0..<bytes.count, using: &random)] ^=
            1 << UInt8.random(in: 0...7, using: &random)
        }
      case 1:  // overwrite a byte with an extreme value
        bytes[Int.random(in: 0..<bytes.count, using: &random)] =
          [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &random) ?? 0
      case 2:  // overwrite 4 bytes (a size or offset field, often) with 0xFF
        let start = Int.random(in: 0..<(bytes.count - 4), using: &random)
        for index in start..<(start + 4) { bytes[index] = 0xFF }
      case 3:  // delete a range
        let start = Int.random(in: 0..<bytes.count, using: &random)
        bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &random)))
      default:  // insert random bytes
        let at = Int.random(in: 0...bytes.count, using: &random)
        bytes.insert(contentsOf: random.bytes(Int.random(in: 1...16, using: &random)), at: at)
      }
      if name.hasSuffix(".npy") {
        _ = try? NPY.decode(bytes)
      } else {
        _ = try? NPZ.decode(bytes)
      }
    }
  }

  @Test("Header-only mutations exercise the parser")
  func headerMutations() throws {
    let original = try Support.fixtureBytes("float64_2x3.npy")
    let alphabet = Array("{}()[],:'\" 0123456789-LTrueFalseNone<>|fiub8\n\\".utf8)
    var random = SplitMix64(seed: 42)
    for _ in 0..<5_000 {
      var bytes = original
      for _ in 0..<Int.random(in: 1...6, using: &random) {
        bytes[Int.random(in: 10..<128, using: &random)] = alphabet.randomElement(using: &random) ?? 0
      }
      _ = try? NPY.decode(bytes)
    }
  }
}
