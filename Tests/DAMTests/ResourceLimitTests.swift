import DAM
import Testing

/// ``ResourceLimits``: the size arithmetic, the check and its error, and the solvers that consult
/// it refusing sizes that imply terabytes before allocating them (with the machine's default
/// limit, which no machine these tests run on reaches; the limit itself is never lowered here,
/// since it is shared by every test running in the process).
struct ResourceLimitTests {
  @Test(arguments: [
    ("1", 1), ("4096", 4096), ("2K", 2048), ("2k", 2048), ("512M", 512 << 20), ("64G", 64 << 30),
    ("64GiB", 64 << 30), ("1.5G", 3 << 29), ("2T", 2 << 40), (" 8M ", 8 << 20), ("100B", 100),
  ])
  func parsesSizes(_ text: String, _ bytes: Int) {
    #expect(ResourceLimits.parseBytes(text) == bytes, "\(text)")
  }

  @Test(arguments: ["", "0", "-1", "12 apples", "G", "1e3", "1..5G", "nan", "inf", "99999999999T", "0.1"])
  func refusesWhatIsNotASize(_ text: String) {
    #expect(ResourceLimits.parseBytes(text) == nil, "\(text)")
  }

  @Test func sizesOverflowToNil() {
    #expect(ResourceLimits.bytes([1000, 1000], elementSize: 8) == 8_000_000)
    #expect(ResourceLimits.bytes([1 << 40, 1 << 40], elementSize: 8) == nil)
    #expect(ResourceLimits.bytes([3, -1], elementSize: 8) == nil)
    #expect(ResourceLimits.bytes([], elementSize: 8) == 8)
  }

  @Test func checkAdmitsUpToTheLimitAndNoMore() throws {
    let limits = try ResourceLimits(maximumBytes: 1000, advice: "ask for more")
    try limits.check(bytes: 1000, for: "x", "the thing")
    let error = try #require(throws: DAMError.self) {
      try limits.check(bytes: 1001, for: "x", "the thing", remedy: "try less")
    }
    #expect(error.kind == .resourceLimit)
    #expect(error.argument == "x")
    #expect(
      error.message
        == "the thing needs 1001 bytes, more than the memory limit of 1000 bytes; try less; ask for more")
    // A size that overflows is over every limit.
    let overflow = try #require(throws: DAMError.self) { try limits.check(bytes: nil, for: "x", "the thing") }
    #expect(overflow.message.hasPrefix("the thing needs more than \(Int.max) bytes"))
    #expect(throws: DAMError.self) { try ResourceLimits(maximumBytes: 0) }
  }

  @Test func defaultIsHalfThePhysicalMemory() throws {
    let memory = try #require(ResourceLimits.physicalMemory)
    #expect(ResourceLimits.machineDefault.maximumBytes == memory / 2)
    #expect(ResourceLimits.describe(720_000_000_000) == "720000000000 bytes (670.6 GiB)")
  }

  /// A 1-D grid of 300,000 cells: its 1-D kernel matrix alone is 720 GB. Refused by name before a
  /// kernel is built, for every backend but the FFT; the same mechanism as the point-cloud kernel.
  @Test(arguments: [GridKernelBackend.automatic, .logDomain, .separableKernel])
  func gridKernelOverTheLimitIsRefused(_ backend: GridKernelBackend) throws {
    let cells = 300_000
    let a = try GridHistogram(shape: [cells], intensities: (0..<cells).map { Double($0 % 7 + 1) })
    let b = try GridHistogram(shape: [cells], intensities: (0..<cells).map { Double($0 % 5 + 1) })
    let divergence = GridSinkhornDivergence(options: try GridSinkhornOptions(epsilon: 1e4, backend: backend))
    let error = try #require(throws: DAMError.self) { _ = try divergence.prepare(a) }
    #expect(error.kind == .resourceLimit)
    #expect(error.argument == "backend")
    #expect(error.message.contains("the kernel of a grid of 300000 cells"), "\(error.message)")
    let bytes = (backend == .logDomain ? 1 : 2) * 8 * (cells * cells + 2)
    #expect(error.message.contains("needs \(bytes) bytes"), "\(error.message)")
    #expect(throws: DAMError.self) {
      _ = try GridSinkhorn.barycenter(
        of: [a, b], options: try GridSinkhornOptions(epsilon: 1e4, backend: backend))
    }
  }

  /// 2,000 queries against 10^7 vector patterns: the batch's B x N arrays would take about 960 GB.
  /// Refused naming `queries` before any is allocated, by the batch and the snapshot entry points.
  @Test func batchOverTheLimitIsRefused() throws {
    let memory = try Memory(
      divergence: .squaredEuclidean, matrix: (0..<10_000_000).map { Double($0 % 97) }, columns: 1)
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: 1)
    let queries = [[Double]](repeating: [0.5], count: 2000)
    let error = try #require(throws: DAMError.self) { _ = try engine.retrieve(batch: queries) }
    #expect(error.kind == .resourceLimit)
    #expect(error.argument == "queries")
    #expect(error.message.contains("a batch of 2000 states against 10000000 patterns"), "\(error.message)")
    #expect(error.message.contains("retrieve in smaller batches"))
    let snapshots = try #require(throws: DAMError.self) { _ = try engine.snapshots(at: queries) }
    #expect(snapshots.argument == "states")
  }

  /// Sequential k-subsets on 10^6 scores with k = 500,000: the oracle's back-pointers would take
  /// 2 N (k + 1) bytes, about 1 TB; refused naming `k` before the solver starts.
  @Test func sequentialKSubsetsOverTheLimitIsRefused() throws {
    let scores = (0..<1_000_000).map { Double($0 % 1000) }
    let map = try SequentialKSubsets(k: 500_000, pairwise: 0.1)
    let error = try #require(throws: DAMError.self) { _ = try map.separate(scores) }
    #expect(error.kind == .resourceLimit)
    #expect(error.argument == "k")
    #expect(error.message.contains("needs 1000002000000 bytes"), "\(error.message)")
  }
}
