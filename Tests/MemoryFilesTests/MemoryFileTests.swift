import DAM
import Foundation
import MemoryFiles
import NumPyFiles
import Testing

/// A fresh temporary folder per test.
struct Scratch {
  let folder: String

  init() throws {
    folder = NSTemporaryDirectory() + "memory-files-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  func path(_ name: String) -> String { folder + "/" + name }

  func bytes(_ name: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path(name)) ?? Data())
  }

  func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

enum Fixtures {
  static func path(_ name: String) -> String {
    let file = "\(#filePath)"
    return file[..<(file.lastIndex(of: "/") ?? file.startIndex)] + "/Fixtures/" + name
  }
}

/// Sample patterns of every kind, with values that are not round in binary.
enum Samples {
  static let vectors: MemoryFile.Patterns = .vectors([
    [0.1, -2.5, 1e-300], [3.0, 0.7, -0.0], [1 / 3, 2 / 3, 1],
  ])

  static func clouds() throws -> MemoryFile.Patterns {
    .pointClouds([
      try PointCloud(points: Matrix(rows: 2, columns: 2, elements: [0, 0.1, 1, 1.3]), weights: [0.3, 0.7]),
      try PointCloud(points: Matrix(rows: 3, columns: 2, elements: [5, 5, -1, 2, 0.25, 0.5])),
    ])
  }

  static func gaussiansFull() throws -> MemoryFile.Patterns {
    .gaussians([
      try Gaussian(mean: [1, 2], covariance: Matrix(rows: 2, columns: 2, elements: [2, 0.5, 0.5, 1])),
      try Gaussian(mean: [0, -1], covariance: Matrix(rows: 2, columns: 2, elements: [1, 0, 0, 3])),
    ])
  }

  static func gaussiansDiagonal() throws -> MemoryFile.Patterns {
    .gaussians([try Gaussian(mean: [1, 2, 3], variances: [0.1, 2, 5])])
  }

  static func histograms() throws -> MemoryFile.Patterns {
    .histograms([
      try GridHistogram(shape: [2, 3], masses: [0.1, 0.2, 0.3, 0.1, 0.2, 0.1], spacing: [0.5, 2]),
      try GridHistogram(shape: [2, 3], masses: [0, 0, 1, 0, 0, 0], spacing: [0.5, 2]),
    ])
  }

  static func all() throws -> [(String, MemoryFile.Patterns, Double?)] {
    [
      ("vectors", vectors, nil), ("clouds", try clouds(), 0.1), ("gaussians-full", try gaussiansFull(), nil),
      ("gaussians-diagonal", try gaussiansDiagonal(), nil), ("histograms", try histograms(), 0.5),
    ]
  }
}

/// The stored values of patterns, flattened, for bitwise comparison.
func flatValues(_ patterns: MemoryFile.Patterns) -> [UInt64] {
  let values: [Double]
  switch patterns {
  case .vectors(let v): values = v.flatMap { $0 }
  case .pointClouds(let c): values = c.flatMap { $0.points.elements + $0.weights + [Double($0.count)] }
  case .gaussians(let g): values = g.flatMap { $0.mean + $0.covarianceMatrix.elements }
  case .histograms(let h): values = h.flatMap { $0.masses + $0.spacing + $0.shape.map(Double.init) }
  }
  return values.map(\.bitPattern)
}

@Suite struct MemoryFileRoundTripTests {
  @Test("every kind survives write and read bit for bit", arguments: [0, 1, 2, 3, 4])
  func roundTrip(index: Int) throws {
    let (name, patterns, epsilon) = try Samples.all()[index]
    let scratch = try Scratch()
    defer { scratch.remove() }
    let file = try MemoryFile(patterns: patterns, epsilon: epsilon)
    try file.write(to: scratch.path("\(name).npz"))
    let back = try MemoryFile.read(contentsOf: scratch.path("\(name).npz"))
    #expect(back.kind == patterns.kind)
    #expect(back.count == patterns.count)
    #expect(back.divergence == file.divergence)
    #expect(back.epsilon == epsilon)
    #expect(flatValues(back.patterns) == flatValues(patterns))
    // The file is an ordinary .npz whose arrays NumPyFiles reads.
    let archive = try NPZ.read(contentsOf: scratch.path("\(name).npz"))
    #expect(archive.names.first == "manifest")
  }

  @Test("appending keeps the stored patterns first and adds the new ones", arguments: [0, 1, 2, 3, 4])
  func append(index: Int) throws {
    let (name, patterns, epsilon) = try Samples.all()[index]
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("\(name).npz")
    try MemoryFile(patterns: patterns, epsilon: epsilon).write(to: path)
    let result = try MemoryFile.append(patterns, to: path)
    #expect(result.count == 2 * patterns.count)
    let back = try MemoryFile.read(contentsOf: path)
    #expect(flatValues(back.patterns) == flatValues(patterns) + flatValues(patterns))
  }

  @Test func checksumIsZlibCRC32() throws {
    // The standard CRC-32 check value: crc32("123456789") = 0xCBF43926.
    let array = try NumPyArray(shape: [9], storage: .uint8(Array("123456789".utf8)))
    #expect(MemoryFileContents.checksum(array) == 0xCBF4_3926)
  }

  @Test func numpyWrittenFilesLoad() throws {
    let clouds = try MemoryFile.read(contentsOf: Fixtures.path("numpy_clouds.npz"))
    let points = try NPY.read(contentsOf: Fixtures.path("numpy_clouds_points.npy")).doubles()
    guard case .pointClouds(let c) = clouds.patterns else {
      Issue.record("expected point clouds")
      return
    }
    #expect(c.map(\.count) == [2, 3, 2])
    #expect(c.flatMap(\.points.elements) == points)
    #expect(c[2].weights == [0.25, 0.75])
    #expect(clouds.divergence == "sinkhorn" && clouds.epsilon == 0.05)
    let vectors = try MemoryFile.read(contentsOf: Fixtures.path("numpy_vectors.npz"))
    #expect(vectors.divergence == "dot-product")
    #expect(vectors.count == 3)
  }

  @Test func memoriesBuildFromFiles() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try MemoryFile(patterns: Samples.vectors).write(to: scratch.path("v.npz"))
    let memory = try MemoryFile.read(contentsOf: scratch.path("v.npz")).memory(SquaredEuclideanDivergence())
    #expect(memory.count == 3)
    let clouds = try MemoryFile(patterns: try Samples.clouds(), epsilon: 0.1)
    let cloudMemory = try clouds.memory(try clouds.sinkhornDivergence())
    #expect(cloudMemory.count == 2)
    #expect(cloudMemory.divergence.options.epsilon == 0.1)
    #expect(throws: MemoryFileError.self) { try clouds.memory(BuresWassersteinDivergence()) }
  }
}

@Suite struct MemoryFileRejectionTests {
  /// Writes `archive` and expects reading it to fail with a message containing `expected`.
  func expectRejected(_ archive: NumPyArchive, _ expected: String) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try NPZ.write(archive, to: scratch.path("m.npz"))
    do {
      _ = try MemoryFile.read(contentsOf: scratch.path("m.npz"))
      Issue.record("read accepted a bad file; expected \(expected)")
    } catch {
      #expect(error.message.contains(expected), "\(error.message)")
      #expect(error.message.hasPrefix(scratch.path("m.npz")))
    }
  }

  func archive(_ patterns: MemoryFile.Patterns, epsilon: Double? = nil) throws -> NumPyArchive {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try MemoryFile(patterns: patterns, epsilon: epsilon).write(to: scratch.path("m.npz"))
    return try NPZ.read(contentsOf: scratch.path("m.npz"))
  }

  func manifestJSON(_ archive: NumPyArchive) -> String {
    guard case .uint8(let bytes) = archive["manifest"]!.storage else { return "" }
    return String(decoding: bytes, as: UTF8.self)
  }

  func replacingManifest(_ archive: NumPyArchive, _ transform: (String) -> String) throws -> NumPyArchive {
    var copy = archive
    let json = Array(transform(manifestJSON(archive)).utf8)
    copy["manifest"] = try NumPyArray(shape: [json.count], storage: .uint8(json))
    return copy
  }

  @Test func tamperedDataFailsItsChecksum() throws {
    var a = try archive(Samples.vectors)
    var values = a["patterns"]!.doubles()
    values[4] = values[4].nextUp
    a["patterns"] = try NumPyArray(shape: [3, 3], doubles: values)
    try expectRejected(a, "array 'patterns': checksum mismatch")
  }

  @Test func numpyTamperedFixtureFailsItsChecksum() throws {
    #expect(throws: MemoryFileError.self) {
      try MemoryFile.read(contentsOf: Fixtures.path("numpy_clouds_tampered.npz"))
    }
    do {
      _ = try MemoryFile.read(contentsOf: Fixtures.path("numpy_clouds_tampered.npz"))
    } catch {
      #expect(error.message.contains("array 'points': checksum mismatch"), "\(error.message)")
    }
  }

  @Test func missingManifest() throws {
    var a = try archive(Samples.vectors)
    a["manifest"] = nil
    try expectRejected(a, "no 'manifest' member")
  }

  @Test func missingArray() throws {
    var a = try archive(try Samples.clouds(), epsilon: 0.1)
    a["offsets"] = nil
    try expectRejected(a, "array 'offsets' is listed in the manifest but missing")
  }

  @Test func extraMember() throws {
    var a = try archive(Samples.vectors)
    a["extra"] = try NumPyArray(shape: [1], doubles: [1])
    try expectRejected(a, "member 'extra' is not listed in the manifest")
  }

  @Test func newerVersion() throws {
    let a = try replacingManifest(try archive(Samples.vectors)) {
      $0.replacingOccurrences(of: "\"version\":2", with: "\"version\":3")
    }
    try expectRejected(a, "format version 3 is newer than this build reads (2)")
  }

  @Test func wrongCount() throws {
    let a = try replacingManifest(try archive(Samples.vectors)) {
      $0.replacingOccurrences(of: "\"count\":3", with: "\"count\":4")
    }
    try expectRejected(a, "'manifest' says 4 patterns, the arrays hold 3")
  }

  @Test func manifestNotJSON() throws {
    let a = try replacingManifest(try archive(Samples.vectors)) { String($0.dropLast(3)) }
    try expectRejected(a, "'manifest' is not a valid memory-file manifest")
  }

  @Test func shapeDisagreesWithManifest() throws {
    var a = try archive(Samples.vectors)
    a["patterns"] = try NumPyArray(shape: [9], doubles: a["patterns"]!.doubles())
    try expectRejected(a, "array 'patterns': shape [9] in the file, [3, 3] in the manifest")
  }

  @Test func invalidWeightsNameThePattern() throws {
    // Consistent checksums, but cloud 1's weights do not sum to 1.
    let points = try NumPyArray(shape: [4, 1], doubles: [0, 1, 2, 3])
    let weights = try NumPyArray(shape: [4], doubles: [0.5, 0.5, 0.5, 0.2])
    let offsets = try NumPyArray(shape: [3], integers: [0, 2, 4])
    let contents = try MemoryFileContents(
      kind: .pointClouds, divergence: "sinkhorn", epsilon: 0.1,
      parameters: .init(cost: "squared-euclidean", tolerance: 1e-9, maxIterations: 10_000),
      arrays: [("points", points), ("weights", weights), ("offsets", offsets)])
    let scratch = try Scratch()
    defer { scratch.remove() }
    try contents.write(to: scratch.path("m.npz"))
    #expect {
      try MemoryFile.read(contentsOf: scratch.path("m.npz"))
    } throws: { error in
      "\(error)".contains("pattern 1: weights:")
    }
  }

  @Test func everyTruncationIsAnError() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    try MemoryFile(patterns: try Samples.clouds(), epsilon: 0.1).write(to: scratch.path("m.npz"))
    let bytes = scratch.bytes("m.npz")
    for length in stride(from: 0, to: bytes.count, by: 7) {
      #expect(throws: MemoryFileError.self) { try MemoryFileContents.decode(Array(bytes.prefix(length))) }
    }
  }

  @Test func everySingleByteFlipIsCaught() throws {
    // ZIP CRCs, the manifest checksums and the structure checks together catch any one changed
    // byte of this (uncompressed) file: reading either fails or, where the byte is not read
    // (ZIP padding or version fields), returns exactly the original patterns.
    let scratch = try Scratch()
    defer { scratch.remove() }
    try MemoryFile(patterns: Samples.vectors).write(to: scratch.path("m.npz"))
    let bytes = scratch.bytes("m.npz")
    var rejected = 0
    for index in bytes.indices {
      var copy = bytes
      copy[index] ^= 0x5A
      guard let contents = try? MemoryFileContents.decode(copy),
        let file = try? MemoryFile(contents: contents)
      else {
        rejected += 1
        continue
      }
      #expect(
        flatValues(file.patterns) == flatValues(Samples.vectors), "byte \(index) changed the values silently")
    }
    #expect(rejected > bytes.count / 2)
  }

  @Test func appendRefusesAndLeavesTheFileUntouched() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("m.npz")
    try MemoryFile(patterns: Samples.vectors).write(to: path)
    let before = scratch.bytes("m.npz")
    #expect(throws: MemoryFileError.self) { try MemoryFile.append(.vectors([[1, 2]]), to: path) }
    #expect(throws: MemoryFileError.self) { try MemoryFile.append(try Samples.clouds(), to: path) }
    #expect(throws: MemoryFileError.self) { try MemoryFile.append(.vectors([[1, .nan, 2]]), to: path) }
    #expect(throws: MemoryFileError.self) { try MemoryFile.append(.vectors([]), to: path) }
    #expect(scratch.bytes("m.npz") == before)
    let names = try FileManager.default.contentsOfDirectory(atPath: scratch.folder)
    #expect(names == ["m.npz"])
  }

  @Test func constructionRejectsBadPatterns() throws {
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: .vectors([])) }
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: .vectors([[1, 2], [1]])) }
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: .vectors([[1, .infinity]])) }
    #expect(throws: MemoryFileError.self) {
      try MemoryFile(patterns: .vectors([[1]]), divergence: "sinkhorn")
    }
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: try Samples.clouds()) }  // no epsilon
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: try Samples.clouds(), epsilon: -1) }
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: Samples.vectors, epsilon: 0.1) }
    let mixed: MemoryFile.Patterns = .gaussians([
      try Gaussian(mean: [0], variances: [1]),
      try Gaussian(mean: [0], covariance: Matrix(rows: 1, columns: 1, elements: [1])),
    ])
    #expect(throws: MemoryFileError.self) { try MemoryFile(patterns: mixed) }
  }
}

/// The parameters the prepared data depend on: recorded, checked on load and on use.
@Suite struct MemoryFileParameterTests {
  let rejection = MemoryFileRejectionTests()

  @Test func sinkhornFilesRecordTheirPreparation() throws {
    let defaults = try SinkhornOptions(epsilon: 0.1)
    let scratch = try Scratch()
    defer { scratch.remove() }
    try MemoryFile(patterns: try Samples.clouds(), epsilon: 0.1).write(to: scratch.path("c.npz"))
    let clouds = try MemoryFileContents.read(contentsOf: scratch.path("c.npz")).manifest
    #expect(clouds.version == 2)
    #expect(
      clouds.parameters
        == .init(
          cost: "squared-euclidean", tolerance: defaults.tolerance, maxIterations: defaults.maxIterations))
    try MemoryFile(patterns: try Samples.histograms(), epsilon: 0.5).write(to: scratch.path("h.npz"))
    let grids = try MemoryFile.read(contentsOf: scratch.path("h.npz"))
    #expect(grids.parameters?.spacing == [0.5, 2])
    #expect(try grids.sinkhornOptions().tolerance == defaults.tolerance)
    // Divergences whose prepared data depend on the patterns alone record none.
    try MemoryFile(patterns: try Samples.gaussiansFull()).write(to: scratch.path("g.npz"))
    #expect(try MemoryFileContents.read(contentsOf: scratch.path("g.npz")).manifest.parameters == nil)
  }

  @Test func versionOneFilesLoadAndAppendsUpgradeThem() throws {
    // The NumPy fixture is a version 1 file: epsilon only.
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.path("v1.npz")
    try FileManager.default.copyItem(atPath: Fixtures.path("numpy_clouds.npz"), toPath: path)
    let old = try MemoryFile.read(contentsOf: path)
    #expect(old.parameters == nil)
    #expect(try old.sinkhornOptions().tolerance == 1e-9)
    try MemoryFile.append(try Samples.clouds(), to: path)
    let upgraded = try MemoryFileContents.read(contentsOf: path).manifest
    #expect(upgraded.version == 2)
    #expect(upgraded.parameters?.cost == "squared-euclidean")
    #expect(upgraded.epsilon == 0.05)
  }

  @Test func tamperedParametersAreRefused() throws {
    let clouds = try rejection.archive(try Samples.clouds(), epsilon: 0.1)
    try rejection.expectRejected(
      try rejection.replacingManifest(clouds) {
        $0.replacingOccurrences(of: "\"cost\":\"squared-euclidean\"", with: "\"cost\":\"euclidean\"")
      }, "'parameters': cost 'euclidean' is not one this build computes (squared-euclidean)")
    try rejection.expectRejected(
      try rejection.replacingManifest(clouds) {
        $0.replacingOccurrences(of: "\"tolerance\":1e-09", with: "\"tolerance\":-1")
      }, "'parameters': tolerance must be a finite number > 0, got -1.0")
    let withoutParameters = try rejection.replacingManifest(clouds) { json in
      guard let start = json.range(of: "\"parameters\":{"),
        let end = json[start.upperBound...].range(of: "},")
      else { return json }
      return String(json[..<start.lowerBound]) + String(json[end.upperBound...])
    }
    #expect(!manifestHasParameters(withoutParameters))
    try rejection.expectRejected(
      withoutParameters,
      "divergence sinkhorn needs 'parameters' (cost, tolerance, maxIterations) from format version 2 on")
    let grids = try rejection.archive(try Samples.histograms(), epsilon: 0.5)
    try rejection.expectRejected(
      try rejection.replacingManifest(grids) {
        $0.replacingOccurrences(of: "\"spacing\":[0.5,2]", with: "\"spacing\":[0.5,1]")
      }, "'parameters': spacing [0.5, 1.0] differs from the 'spacing' array [0.5, 2.0]")
  }

  func manifestHasParameters(_ archive: NumPyArchive) -> Bool {
    rejection.manifestJSON(archive).contains("\"parameters\"")
  }

  @Test func anotherEpsilonIsRefusedOnUse() throws {
    let clouds = try MemoryFile(patterns: try Samples.clouds(), epsilon: 0.1)
    #expect {
      try clouds.memory(try SinkhornDivergence(epsilon: 0.2))
    } throws: { error in
      "\(error)".contains("epsilon: the memory file was prepared for epsilon 0.1, not 0.2")
    }
    #expect(try clouds.memory(try SinkhornDivergence(epsilon: 0.1)).count == 2)
    let grids = try MemoryFile(patterns: try Samples.histograms(), epsilon: 0.5)
    #expect(throws: MemoryFileError.self) { try grids.memory(try GridSinkhornDivergence(epsilon: 0.25)) }
    #expect(throws: MemoryFileError.self) { try grids.memory(try SinkhornDivergence(epsilon: 0.5)) }
  }

  @Test func gridMemoryFromAFileRetrievesLikeOneBuiltDirectly() throws {
    guard case .histograms(let histograms) = try Samples.histograms() else { return }
    let scratch = try Scratch()
    defer { scratch.remove() }
    try MemoryFile(patterns: .histograms(histograms), epsilon: 0.5).write(to: scratch.path("h.npz"))
    let file = try MemoryFile.read(contentsOf: scratch.path("h.npz"))
    let fromFile = try file.memory(try file.gridSinkhornDivergence())
    let direct = try Memory(divergence: try GridSinkhornDivergence(epsilon: 0.5), patterns: histograms)
    let query = try GridHistogram(
      shape: [2, 3], masses: [0.05, 0.05, 0.6, 0.1, 0.1, 0.1], spacing: [0.5, 2])
    func run(_ memory: Memory<GridSinkhornDivergence>, hellinger: Bool) throws -> RetrievalResult<
      GridHistogram
    > {
      let stopping = try StoppingRule(maxSteps: 5)
      if hellinger {
        return try RetrievalEngine(
          memory: memory, separation: Softmax(),
          geometry: try GridHellingerGeometry(step: 0.5, hellingerScale: 0.05), beta: 4, stopping: stopping
        ).retrieve(query)
      }
      return try RetrievalEngine(
        memory: memory, separation: Softmax(),
        geometry: GridBarycentricGeometry(options: try GridSinkhornOptions(epsilon: 0.5)), beta: 4,
        stopping: stopping
      ).retrieve(query)
    }
    for hellinger in [true, false] {
      let (a, b) = (try run(fromFile, hellinger: hellinger), try run(direct, hellinger: hellinger))
      #expect(a.state.masses.map(\.bitPattern) == b.state.masses.map(\.bitPattern))
      #expect(a.energies.map(\.bitPattern) == b.energies.map(\.bitPattern))
      #expect(a.nearestPattern == b.nearestPattern)
    }
  }
}
