import DAM
import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Sizes taken from a file or an option that imply more memory than the limit (or a read that
/// need not end): each is refused before anything of that size is allocated, with exit status 1
/// (never a signal), a message that names the option and the file, and the folder left as it was
/// (no output written). Rows whose sizes imply terabytes run with the machine's default limit;
/// the others set `DAM_MEMORY_LIMIT` low so that a few kilobytes of input are enough.
struct ResourceLimitCommandTests {
  typealias Case = CommandCase

  /// The declared uncompressed size written into the bomb archives: 4.5 GiB.
  static let bombSize: UInt64 = 4_831_838_208

  /// Writes the inputs that `arguments` name (`$/name`), all small: only those, since the
  /// scores and grids take a few megabytes.
  static func writeInputs(_ folder: TemporaryFolder, for arguments: [String]) throws {
    var generator = SeededGenerator(seed: 19)
    func random(_ count: Int) -> [Double] {
      (0..<count).map { _ in Double.random(in: 0.1...1, using: &generator) }
    }
    let named = Set(arguments.filter { $0.hasPrefix("$/") }.map { String($0.dropFirst(2)) })
    func npz(_ name: String, _ members: [String: NumPyArray]) throws {
      var archive = NumPyArchive()
      for (key, value) in members { archive[key] = value }
      try NPZ.write(archive, to: folder.path(name))
    }
    let writers: [String: () throws -> Void] = [
      // Vectors: 64 patterns of dimension 8 (4 KiB of data), a query, one more pattern.
      "M.npy": {
        try NPY.write(try NumPyArray(shape: [64, 8], doubles: random(512)), to: folder.path("M.npy"))
      },
      "Q.npy": { try NPY.write(try NumPyArray(shape: [8], doubles: random(8)), to: folder.path("Q.npy")) },
      "Q2.npy": {
        try NPY.write(try NumPyArray(shape: [1, 8], doubles: random(8)), to: folder.path("Q2.npy"))
      },
      // Scores for sequential k-subsets: 10^6 of them (8 MB).
      "scores.npy": {
        try NPY.write(
          try NumPyArray(shape: [1_000_000], doubles: (0..<1_000_000).map { Double($0 % 1000) }),
          to: folder.path("scores.npy"))
      },
      // 10^5 nearly equal scores: sequential k-subsets spread their weight over all of them.
      "scores1e5.npy": {
        try NPY.write(
          try NumPyArray(shape: [100_000], doubles: (0..<100_000).map { Double($0 % 7) * 1e-6 }),
          to: folder.path("scores1e5.npy"))
      },
      // Point clouds: a (2^40, 0, 2) 'points' array, 0 bytes of data; a query cloud.
      "axis0.npz": { try npz("axis0.npz", ["points": try NumPyArray(shape: [1 << 40, 0, 2], doubles: [])]) },
      "Cq.npz": { try npz("Cq.npz", ["points": try NumPyArray(shape: [5, 2], doubles: random(10))]) },
      // Archives whose member declares 4.5 GiB uncompressed (a cloud memory, a Gaussian memory).
      "Cbomb.npz": {
        try Data(bombArchive(member: "points.npy")).write(to: folder.url.appendingPathComponent("Cbomb.npz"))
      },
      "Gbomb.npz": {
        try Data(bombArchive(member: "means.npy")).write(to: folder.url.appendingPathComponent("Gbomb.npz"))
      },
      "Gq.npz": {
        try npz(
          "Gq.npz",
          [
            "mean": try NumPyArray(shape: [2], doubles: [0, 0]),
            "variance": try NumPyArray(shape: [2], doubles: [1, 1]),
          ])
      },
      // Grids: a 1-D grid of 300,000 cells (two patterns, 4.8 MB) and a histogram on it.
      "H300k.npz": {
        try npz("H300k.npz", ["histograms": try NumPyArray(shape: [2, 300_000], doubles: random(600_000))])
      },
      "h300k.npy": {
        try NPY.write(
          try NumPyArray(shape: [300_000], doubles: random(300_000)), to: folder.path("h300k.npy"))
      },
      // A batch of 2^40 histograms on a grid of 0 cells (0 bytes of data), and a small grid memory.
      "h0.npy": {
        try NPY.write(try NumPyArray(shape: [1 << 40, 0], doubles: []), to: folder.path("h0.npy"))
      },
      "H4.npz": {
        try npz("H4.npz", ["histograms": try NumPyArray(shape: [2, 4], doubles: [1, 2, 3, 4, 4, 3, 2, 1])])
      },
      // Four Gaussians with full 8 x 8 covariances: 2304 bytes of data, whose prepared square roots
      // and Cholesky factors take 3200.
      "Gfull.npz": {
        let covariances = (0..<4).flatMap { i in
          (0..<64).map { $0 % 9 == 0 ? Double(i + 2) : 0.1 }
        }
        try npz(
          "Gfull.npz",
          [
            "means": try NumPyArray(shape: [4, 8], doubles: random(32)),
            "covariances": try NumPyArray(shape: [4, 8, 8], doubles: covariances),
          ])
      },
      "fifo.npz": { #expect(mkfifo(folder.path("fifo.npz"), 0o644) == 0) },
      "fifo.npy": { #expect(mkfifo(folder.path("fifo.npy"), 0o644) == 0) },
    ]
    for name in named.union(named.contains("m.npz") ? ["M.npy"] : []).sorted() {
      try writers[name]?()
    }
    if named.contains("m.npz") {
      // A memory file of the vectors of M.npy.
      let create = try DamProcess.run([
        "memory", "create", folder.path("m.npz"), "--patterns", folder.path("M.npy"),
      ])
      #expect(create.status == 0, "\(create.stderr)")
    }
  }

  /// An `.npz` with one deflated member whose central directory declares ``bombSize`` bytes
  /// uncompressed (ZIP64): what a member that really inflates to 4.5 GiB declares. Its data is a
  /// small valid deflate stream, so a reader that trusted the declared size would start inflating.
  static func bombArchive(member: String) throws -> [UInt8] {
    var archive = NumPyArchive()
    archive[String(member.dropLast(4))] = try NumPyArray(
      shape: [4096], doubles: [Double](repeating: 0, count: 4096))
    let bytes = try NPZ.encode(archive, compressed: true)
    return withDeclaredSize(bytes, bombSize)
  }

  /// `bytes` (an archive of one member, no ZIP64) with the member's central-directory entry
  /// rewritten to declare `size` bytes uncompressed through a ZIP64 extra field.
  static func withDeclaredSize(_ bytes: [UInt8], _ size: UInt64) -> [UInt8] {
    func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    let end = bytes.count - 22
    precondition(u32(end) == 0x0605_4B50, "expected an end record without a comment")
    let directory = u32(end + 16)
    let nameLength = u16(directory + 28)
    let extraLength = u16(directory + 30)
    var entry = Array(bytes[directory..<(directory + 46 + nameLength + extraLength)])
    entry.replaceSubrange(24..<28, with: [0xFF, 0xFF, 0xFF, 0xFF])  // uncompressed: see ZIP64 field
    let field: [UInt8] =
      [0x01, 0x00, 0x08, 0x00] + (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    entry += field
    let newExtra = extraLength + field.count
    entry[30] = UInt8(newExtra & 0xFF)
    entry[31] = UInt8(newExtra >> 8)
    var out = Array(bytes[..<directory]) + entry
    var record = Array(bytes[end...])
    let directorySize = entry.count
    for i in 0..<4 { record[12 + i] = UInt8(truncatingIfNeeded: directorySize >> (8 * i)) }
    out += record
    return out
  }

  static let tiny = ["DAM_MEMORY_LIMIT": "2K"]
  static let gigabyte = ["DAM_MEMORY_LIMIT": "1G"]

  static let cases: [Case] = [
    // Vectors.
    Case(
      name: "vectors: a character device (/dev/zero) as the memory",
      arguments: [
        "retrieve", "--memory", "/dev/zero", "--query", "$/Q.npy", "--beta", "1", "--output", "$/o.npy",
      ],
      expected: ["--memory", "/dev/zero: is a character device, not a regular file"]),
    Case(
      name: "vectors: a FIFO as the query",
      arguments: [
        "retrieve", "--memory", "$/M.npy", "--query", "$/fifo.npy", "--beta", "1", "--output", "$/o.npy",
      ],
      expected: ["--query", "fifo.npy: is a FIFO (named pipe), not a regular file"]),
    Case(
      name: "vectors: memory larger than DAM_MEMORY_LIMIT",
      arguments: [
        "retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1", "--output", "$/o.npy",
      ],
      expected: [
        "--memory", "M.npy: is 4224 bytes (4.1 KiB), more than the limit of 2048 bytes", "DAM_MEMORY_LIMIT",
      ],
      environment: tiny),
    Case(
      name: "vectors: sequential k-subsets, 10^6 scores and k = 500,000 (1 TB of back-pointers)",
      arguments: ["separate", "sequential-ksubsets", "$/scores.npy", "--k", "500000", "--pairwise", "0.1"],
      expected: [
        "--k", "needs 1000002000000 bytes (931.3 GiB), more than the memory limit", "DAM_MEMORY_LIMIT",
      ]),
    Case(
      name:
        "vectors: sequential k-subsets, 10^5 nearly equal scores and k = 50,000 (37 GiB of start structures)",
      arguments: ["separate", "sequential-ksubsets", "$/scores1e5.npy", "--k", "50000", "--pairwise", "0.1"],
      expected: [
        "--k", "the start of sequential k-subsets with k = 50000 over 100000 positive weights",
        "needs 40000400000 bytes (37.3 GiB), more than the memory limit", "DAM_MEMORY_LIMIT",
      ],
      environment: ["DAM_MEMORY_LIMIT": "11G"]),
    Case(
      name: "bench exp: --count 10^12",
      arguments: ["bench", "exp", "--count", "1000000000000"],
      expected: ["--count", "needs 16000000000000 bytes (14.6 TiB), more than the memory limit"]),
    Case(
      name: "bench retrieval: --atoms 10^12",
      arguments: ["bench", "retrieval", "--atoms", "1000000000000"],
      expected: ["--atoms", "one cloud of 1000000000000 atoms needs 32000000000000 bytes (29.1 TiB)"]),
    Case(
      name: "bench retrieval: --sizes 10^12",
      arguments: ["bench", "retrieval", "--sizes", "1000,1000000000000"],
      expected: [
        "--sizes", "a memory of 1000000000000 clouds of 32 atoms",
        "needs 1024000000000000 bytes (931.3 TiB), more than the memory limit",
      ]),
    Case(
      name: "bench retrieval: --queries 10^12",
      arguments: ["bench", "retrieval", "--queries", "1000000000000"],
      expected: ["--queries", "a set of 1000000000000 query clouds of 32 atoms needs 768000000000000 bytes"]),
    Case(
      name: "bench sinkhorn: --sizes 10^12",
      arguments: ["bench", "sinkhorn", "--sizes", "1000000000000", "--backends", "log-domain"],
      expected: [
        "--sizes",
        "a pair of clouds of 1000000000000 points in dimension 2 with their weights needs 48000000000000 bytes",
      ]),
    Case(
      name: "bench sinkhorn: --sizes 10^5 with the kernel backend (80 GB)",
      arguments: ["bench", "sinkhorn", "--sizes", "100000"],
      expected: [
        "--sizes", "the kernel backend's 100000 x 100000 matrix of doubles needs 80000000000 bytes",
        "time only --backends log-domain", "DAM_MEMORY_LIMIT",
      ],
      environment: gigabyte),
    Case(
      name: "bench sinkhorn: --dimensions 10^12",
      arguments: ["bench", "sinkhorn", "--dimensions", "2,1000000000000"],
      expected: ["--dimensions", "a pair of points in dimension 1000000000000 needs"]),
    Case(
      name: "bench bures-wasserstein: --dimension 10^6",
      arguments: ["bench", "bures-wasserstein", "--dimension", "1000000"],
      expected: [
        "--dimension", "one Gaussian in dimension 1000000 with its prepared data needs 24000008000000 bytes",
      ]),
    Case(
      name: "bench bures-wasserstein: --memories 10^9",
      arguments: ["bench", "bures-wasserstein", "--memories", "1000000000"],
      expected: [
        "--memories", "a memory of 1000000000 Gaussians in dimension 50", "needs 60400000000000 bytes",
      ]),
    Case(
      name: "bench bures-wasserstein: --batch 10^11",
      arguments: ["bench", "bures-wasserstein", "--batch", "100000000000"],
      expected: [
        "--batch", "a batch of 100000000000 queries in dimension 50 with their values against 1000 Gaussians",
      ]),
    Case(
      name: "experiment: --trials 10^12",
      arguments: ["experiment", "shk-random-patterns", "--trials", "1000000000000", "--report", "$/report"],
      expected: ["--trials", "a run of 1000000000000 trials", "needs 32000000000000 bytes (29.1 TiB)"]),
    Case(
      name: "compare: --count 10^12",
      arguments: ["compare", "--count", "1000000000000", "--report", "$/report"],
      expected: ["--count", "needs 8000000000000 bytes (7.3 TiB), more than the memory limit"]),
    // Point clouds.
    Case(
      name: "clouds: points (2^40, 0, 2), 0 bytes on disk",
      arguments: [
        "retrieve", "--memory", "$/axis0.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        "--output",
        "$/o.npz",
      ],
      expected: ["--memory", "axis0.npz: holds an empty cloud (shape [1099511627776, 0, 2])"]),
    Case(
      name: "clouds: a member declaring 4.5 GiB uncompressed",
      arguments: [
        "retrieve", "--memory", "$/Cbomb.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        "--output",
        "$/o.npz",
      ],
      expected: [
        "--memory",
        "Cbomb.npz: member 'points.npy' declares 4831838208 bytes (4.5 GiB) uncompressed, more than the limit",
        "DAM_MEMORY_LIMIT",
      ],
      environment: gigabyte),
    // Gaussians.
    Case(
      name: "Gaussians: a member declaring 4.5 GiB uncompressed",
      arguments: [
        "retrieve", "--memory", "$/Gbomb.npz", "--query", "$/Gq.npz", "--beta", "1", "--output", "$/o.npz",
      ],
      expected: [
        "--memory", "Gbomb.npz: member 'means.npy' declares 4831838208 bytes (4.5 GiB)", "DAM_MEMORY_LIMIT",
      ],
      environment: gigabyte),
    Case(
      name: "Gaussians: a character device as the query",
      arguments: [
        "retrieve", "--memory", "$/Gq.npz", "--query", "/dev/zero", "--beta", "1", "--output", "$/o.npz",
      ],
      expected: ["--query", "/dev/zero: is a character device"]),
    // Grids.
    Case(
      name: "grids: a 1-D grid of 300,000 cells (1-D kernels of 720 GB)",
      arguments: [
        "retrieve", "--memory", "$/H300k.npz", "--query", "$/h300k.npy", "--beta", "1", "--epsilon", "100",
        "--output", "$/o.npy",
      ],
      expected: [
        "--memory", "the kernel of a grid of 300000 cells", "more than the memory limit", "DAM_MEMORY_LIMIT",
      ]),
    Case(
      name: "grids: sinkhorn-grid on 300,000 cells",
      arguments: ["divergence", "sinkhorn-grid", "$/h300k.npy", "$/h300k.npy", "--epsilon", "100"],
      expected: ["--backend", "the kernel of a grid of 300000 cells", "more than the memory limit"]),
    Case(
      name: "grids: a batch of 2^40 histograms of 0 cells",
      arguments: [
        "retrieve", "--memory", "$/H4.npz", "--query", "$/h0.npy", "--beta", "1", "--epsilon", "1",
        "--output",
        "$/o.npy",
      ],
      expected: ["--query", "h0.npy"]),
    // Memory files.
    Case(
      name: "memory files: verify a character device",
      arguments: ["memory", "verify", "/dev/zero"],
      expected: ["/dev/zero", "is a character device"]),
    Case(
      name: "memory files: info on a FIFO",
      arguments: ["memory", "info", "$/fifo.npz"],
      expected: ["$/fifo.npz", "is a FIFO"]),
    Case(
      name: "memory files: a file larger than DAM_MEMORY_LIMIT",
      arguments: [
        "retrieve", "--memory", "$/m.npz", "--query", "$/Q.npy", "--beta", "1", "--output", "$/o.npy",
      ],
      expected: ["--memory", "m.npz: is", "more than the limit of 2048 bytes", "DAM_MEMORY_LIMIT"],
      environment: tiny),
    Case(
      name: "memory files: append to a file larger than DAM_MEMORY_LIMIT",
      arguments: ["memory", "append", "$/m.npz", "--patterns", "$/Q2.npy"],
      expected: ["$/m.npz", "m.npz: is", "more than the limit of 2048 bytes", "DAM_MEMORY_LIMIT"],
      environment: tiny),
    Case(
      name: "memory files: create, the prepared data over DAM_MEMORY_LIMIT",
      arguments: ["memory", "create", "$/gm.npz", "--patterns", "$/Gfull.npz"],
      expected: [
        "--patterns",
        "the data a memory built from this file prepares for its patterns (the square root of each covariance, and the Cholesky factor of a full one) needs 3200 bytes",
        "more than the memory limit of 3000 bytes", "DAM_MEMORY_LIMIT",
      ],
      environment: ["DAM_MEMORY_LIMIT": "3000"]),
    Case(
      name: "memory files: append, the new file over DAM_MEMORY_LIMIT",
      arguments: ["memory", "append", "$/m.npz", "--patterns", "$/M.npy"],
      expected: [
        "--patterns", "appending 64 vectors to",
        "the new file, built whole in memory before it is written, needs",
        "more than the memory limit of 8192 bytes", "DAM_MEMORY_LIMIT",
      ],
      environment: ["DAM_MEMORY_LIMIT": "8K"]),
    Case(
      name: "DAM_MEMORY_LIMIT that is not a size",
      arguments: [
        "retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy", "--beta", "1", "--output", "$/o.npy",
      ],
      expected: ["DAM_MEMORY_LIMIT", "expected a number of bytes >= 1", "got '12 apples'"],
      environment: ["DAM_MEMORY_LIMIT": "12 apples"]),
  ]

  @Test(arguments: cases)
  func refused(_ testCase: Case) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder, for: testCase.arguments)
    let before = try OutputRefusalTests.snapshot(folder)
    let start = Date()
    let run = try DamProcess.runRow(
      testCase.name, testCase.arguments, in: folder, environment: testCase.environment)
    #expect(!run.signaled, "\(testCase.name): killed by signal \(run.status)")
    run.expectRefusal(testCase.name, naming: testCase.expected, in: folder)
    #expect(!run.stdout.contains("nan"), "\(testCase.name): \(run.stdout)")
    // Refused before the work (and the allocation) it implied.
    #expect(
      Date().timeIntervalSince(start) < 30, "\(testCase.name): took \(Date().timeIntervalSince(start)) s")
    #expect(try OutputRefusalTests.snapshot(folder) == before, "\(testCase.name): files changed")
  }

  /// The limit is a setting, not a ceiling: the inputs refused under a low `DAM_MEMORY_LIMIT` go
  /// through once it is raised, and give the same result as with the machine's default.
  @Test func raisingTheLimitLetsTheInputThrough() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder, for: ["$/M.npy", "$/Q.npy", "$/m.npz"])
    let arguments = [
      "retrieve", "--memory", folder.path("M.npy"), "--query", folder.path("Q.npy"), "--beta", "1", "--json",
    ]
    let refused = try DamProcess.run(arguments, environment: Self.tiny)
    #expect(
      refused.status == 1 && refused.stderr.contains("more than the limit of 2048 bytes"), "\(refused.stderr)"
    )
    let raised = try DamProcess.run(arguments, environment: ["DAM_MEMORY_LIMIT": "4224"])
    let unlimited = try DamProcess.run(arguments)
    #expect(raised.status == 0, "\(raised.stderr)")
    #expect(!raised.stdout.isEmpty && raised.stdout == unlimited.stdout)
    // A memory file: refused at 2 KiB, appended to at 1 MiB.
    let appendArguments = ["memory", "append", folder.path("m.npz"), "--patterns", folder.path("M.npy")]
    #expect(try DamProcess.run(appendArguments, environment: Self.tiny).status == 1)
    let appended = try DamProcess.run(appendArguments, environment: ["DAM_MEMORY_LIMIT": "1M"])
    #expect(appended.status == 0, "\(appended.stderr)")
    let info = try DamProcess.run(["memory", "info", folder.path("m.npz"), "--json"])
    #expect(
      info.stdout.contains("\"count\" : 128") || info.stdout.contains("\"count\":128"), "\(info.stdout)")
    // Sequential k-subsets: k = 500 of 2000 scores needs 2 MB of back-pointers.
    try NPY.write(
      try NumPyArray(shape: [2000], doubles: (0..<2000).map { Double($0) * 3 }), to: folder.path("s2000.npy"))
    let separate = [
      "separate", "sequential-ksubsets", folder.path("s2000.npy"), "--k", "500", "--pairwise", "0.5",
    ]
    let small = try DamProcess.run(separate, environment: ["DAM_MEMORY_LIMIT": "1M"])
    #expect(small.status == 1 && small.stderr.hasPrefix("Error: --k:"), "\(small.stderr)")
    let large = try DamProcess.run(separate, environment: ["DAM_MEMORY_LIMIT": "4M"])
    #expect(large.status == 0, "\(large.stderr)")
    // The 500 largest scores are retrieved, each with weight 1.
    #expect(large.stdout.contains("500 of 2000 weights nonzero"), "\(large.stdout.prefix(200))")
  }
}
