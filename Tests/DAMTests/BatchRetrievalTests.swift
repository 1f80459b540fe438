import DAM
import DAMDatasets
import DAMTestSupport
import Foundation
import Testing

/// `RetrievalEngine.retrieve(batch:)` against retrieving each query alone, for every family
/// (vectors, Gaussians, point clouds, grid histograms), every separation map, with and without
/// pruning, for batch sizes 1, 2, 7 and 64 and for 1 and 4 threads.
///
/// The contract (RetrievalEngine.retrieve(batch:) and the Divergence protocol): a batch gives
/// each query the result it gets alone, to round-off where a divergence evaluates a block with a
/// matrix product. So each query's result must have the same steps, stop reason, support,
/// evaluated patterns, evaluation count and dropped-weight bound as alone, and:
/// - Gaussians, point clouds, grids: bit-identical states, energies, weights, divergences and
///   trajectories (`==`). Their block evaluations run every (state, pattern) pair with its own
///   arithmetic (the Bures-Wasserstein chunks are per item, Sinkhorn and grid Sinkhorn solve pair
///   by pair, the Sinkhorn and Bures-Wasserstein block accumulations reduce each state in pattern
///   order), so nothing in a query's result can depend on the other queries or on the threads.
/// - vectors: 1e-12 relative (largest absolute difference over `max(1, largest |value|)`). Their
///   block evaluation scores all the batch's states by one `dgemm` (`Q Xᵀ`) and sums dense weight
///   rows by another (`W X`); BLAS may sum a `B x N` product in another order than the `1 x N`
///   product of a query alone (other kernels, other blocking), so values agree to a few units of
///   round-off, not bit for bit. Measured here (OpenBLAS): about half of the vector results differ
///   from one-by-one in some bit, by at most 3e-15 relative over up to 40 contracting steps;
///   1e-12 leaves room for other BLAS builds, and is still far below any difference a wrong
///   weight, support or step would make.
///
/// The one-by-one reference is always computed with 1 thread, so batches with 4 threads are also
/// checked against serial one-by-one retrieval.
struct BatchRetrievalTests {
  // MARK: Comparison

  /// How closely a batch must reproduce one-by-one retrieval.
  enum Agreement: Sendable {
    /// Bit for bit (`==`): block evaluations without matrix products.
    case identical
    /// To 1e-12 relative: block evaluations by matrix products (vectors).
    case roundOff
  }

  static let roundOffTolerance = 1e-12

  /// The largest absolute difference over `max(1, largest |reference value|)`; infinity when the
  /// lengths differ.
  static func relativeDifference(_ a: [Double], _ reference: [Double]) -> Double {
    guard a.count == reference.count else { return .infinity }
    if a.isEmpty { return 0 }
    let scale = reference.reduce(0) { max($0, abs($1)) }
    return TestData.maxDifference(a, reference) / max(1, scale)
  }

  /// Checks one query's batch result against its one-by-one result.
  static func expectAgreement<State: BatchState>(
    _ batch: RetrievalResult<State>, _ alone: RetrievalResult<State>, _ agreement: Agreement,
    _ label: String
  ) {
    #expect(batch.steps == alone.steps, "\(label): steps \(batch.steps) vs \(alone.steps) alone")
    #expect(
      batch.stopReason == alone.stopReason, "\(label): stop \(batch.stopReason) vs \(alone.stopReason) alone")
    #expect(batch.support == alone.support, "\(label): support \(batch.support) vs \(alone.support) alone")
    #expect(batch.evaluated == alone.evaluated, "\(label): evaluated patterns differ")
    #expect(
      batch.evaluationCount == alone.evaluationCount,
      "\(label): evaluationCount \(batch.evaluationCount) vs \(alone.evaluationCount) alone")
    #expect(
      batch.droppedWeightBound == alone.droppedWeightBound,
      "\(label): droppedWeightBound \(batch.droppedWeightBound) vs \(alone.droppedWeightBound) alone")
    #expect(batch.energies.count == alone.energies.count, "\(label): energy counts differ")
    #expect(batch.trajectory?.count == alone.trajectory?.count, "\(label): trajectory lengths differ")
    switch agreement {
    case .identical:
      #expect(batch.state == alone.state, "\(label): states differ")
      #expect(batch.energies == alone.energies, "\(label): energies \(batch.energies) vs \(alone.energies)")
      #expect(batch.weights == alone.weights, "\(label): weights differ")
      #expect(batch.divergences == alone.divergences, "\(label): divergences differ")
      #expect(batch.trajectory == alone.trajectory, "\(label): trajectories differ")
      #expect(batch.lastChange == alone.lastChange, "\(label): last changes differ")
    case .roundOff:
      let tolerance = roundOffTolerance
      let state = relativeDifference(batch.state.batchTestValues, alone.state.batchTestValues)
      #expect(state <= tolerance, "\(label): states differ by \(state) relative")
      let energies = relativeDifference(batch.energies, alone.energies)
      #expect(energies <= tolerance, "\(label): energies differ by \(energies) relative")
      let weights = relativeDifference(batch.weights, alone.weights)
      #expect(weights <= tolerance, "\(label): weights differ by \(weights) relative")
      let divergences = relativeDifference(batch.divergences, alone.divergences)
      #expect(divergences <= tolerance, "\(label): divergences differ by \(divergences) relative")
      for (k, (a, b)) in zip(batch.trajectory ?? [], alone.trajectory ?? []).enumerated() {
        let difference = relativeDifference(a.batchTestValues, b.batchTestValues)
        #expect(difference <= tolerance, "\(label): trajectory state \(k) differs by \(difference) relative")
      }
      let change = relativeDifference(
        [batch.lastChange.position, batch.lastChange.mass],
        [alone.lastChange.position, alone.lastChange.mass])
      #expect(change <= tolerance, "\(label): last changes differ by \(change)")
    }
  }

  /// Retrieves every query one by one with 1 thread (the reference) and with each other thread
  /// count, then the batches of the first `size` queries for every size and thread count, and
  /// checks every batch result against the reference. Returns the reference.
  @discardableResult
  static func checkBatches<D: Divergence, S: SeparationMap, G: Geometry>(
    queries: [D.State], batchSizes: [Int], threadCounts: [Int] = [1, 4], agreement: Agreement,
    label: String, _ engine: (_ parallelism: Int) throws -> RetrievalEngine<D, S, G>
  ) throws -> [RetrievalResult<D.State>]
  where D.State: BatchState, G.State == D.State, G.Variation == D.Variation {
    let largest = batchSizes.max() ?? 0
    precondition(largest <= queries.count, "more queries needed")
    let serial = try engine(1)
    let reference = try queries.prefix(largest).map { try serial.retrieve($0, recordingTrajectory: true) }
    for threads in threadCounts {
      let parallel = try engine(threads)
      if threads != 1 {
        // One by one does not depend on the thread count either.
        for b in 0..<largest {
          let alone = try parallel.retrieve(queries[b], recordingTrajectory: true)
          expectAgreement(alone, reference[b], agreement, "\(label), alone, \(threads) threads, query \(b)")
        }
      }
      for size in batchSizes {
        let results = try parallel.retrieve(batch: Array(queries.prefix(size)), recordingTrajectory: true)
        #expect(results.count == size, "\(label): \(results.count) results for \(size) queries")
        for (b, result) in results.enumerated() {
          expectAgreement(
            result, reference[b], agreement, "\(label), batch of \(size), \(threads) threads, query \(b)")
        }
      }
    }
    return reference
  }

  /// Whether pruning skipped any evaluation in these results (`N` per state without pruning).
  static func pruned<State>(_ results: [RetrievalResult<State>], patterns: Int) -> Bool {
    results.contains { $0.evaluationCount < patterns * ($0.steps + 1) }
  }

  /// The pruning cases do prune, so that the comparisons cover the pruned paths (skipped
  /// patterns, later pruning rounds and, with softmax, a nonzero dropped-weight bound).
  static func expectPruning<State>(
    _ reference: [RetrievalResult<State>], patterns: Int, _ map: MapCase, _ pruning: PruningCase,
    _ label: String
  ) {
    #expect(
      pruned(reference, patterns: patterns) == pruning.prunes(map),
      "\(label): pruning \(pruning.prunes(map) ? "expected" : "unexpected")")
    let dropsWeight = pruning == .softmaxMass && map == .softmax
    #expect(
      reference.contains { $0.droppedWeightBound > 0 } == dropsWeight,
      "\(label): dropped weight bounds \(reference.map(\.droppedWeightBound))")
  }

  // MARK: Components

  /// The package's separation maps (entmax at α = 1.5 by bisection and the closed-form 1.5-entmax
  /// are distinct implementations).
  enum MapCase: String, CaseIterable, Sendable, CustomStringConvertible {
    case softmax
    case sparsemax
    case entmax = "entmax(1.5)"
    case entmax15
    case normmax = "normmax(2)"
    case kSubsets = "ksubsets(2)"
    case sequentialKSubsets = "sequential(2, 0.6)"

    var description: String { rawValue }

    var map: AnySeparationMap {
      // Valid constants: the initialisers cannot throw.
      switch self {
      case .softmax: AnySeparationMap(Softmax())
      case .sparsemax: AnySeparationMap(Sparsemax())
      case .entmax: AnySeparationMap(try! Entmax(alpha: 1.5))
      case .entmax15: AnySeparationMap(Entmax15())
      case .normmax: AnySeparationMap(try! Normmax(alpha: 2))
      case .kSubsets: AnySeparationMap(try! KSubsets(k: 2))
      case .sequentialKSubsets: AnySeparationMap(try! SequentialKSubsets(k: 2, pairwise: 0.6))
      }
    }
  }

  enum PruningCase: String, CaseIterable, Sendable, CustomStringConvertible {
    case none
    case exact
    case softmaxMass = "softmaxMass(1e-9)"

    var description: String { rawValue }

    var pruning: Pruning {
      switch self {
      case .none: .none
      case .exact: .exact
      case .softmaxMass: .softmaxMass(1e-9)
      }
    }

    /// Whether this pruning can skip patterns with this map (given enough far patterns).
    func prunes(_ map: MapCase) -> Bool {
      switch self {
      case .none: false
      case .exact: map.map.zeroWeightRule != nil
      case .softmaxMass: map == .softmax || map.map.zeroWeightRule != nil
      }
    }
  }

  // MARK: Vectors

  /// The vector divergences, each with the fixed-point update and a damped gradient step.
  enum VectorSetup: String, CaseIterable, Sendable, CustomStringConvertible {
    case squaredFixedPoint = "squared-euclidean, fixed point"
    case squaredGradient = "squared-euclidean, gradient 0.3"
    case dotFixedPoint = "dot-product, fixed point"
    case dotGradient = "dot-product, gradient 0.6"

    var description: String { rawValue }

    var geometry: EuclideanGeometry {
      switch self {
      case .squaredFixedPoint, .dotFixedPoint: try! EuclideanGeometry()
      case .squaredGradient: try! EuclideanGeometry(update: .gradient(step: 0.3))
      case .dotGradient: try! EuclideanGeometry(update: .gradient(step: 0.6))
      }
    }

    var isDotProduct: Bool { self == .dotFixedPoint || self == .dotGradient }

    /// The same weights for both divergences on unit patterns (`‖ξ - X‖²` at β, dot product at 2β).
    var beta: Double { isDotProduct ? 8 : 4 }
  }

  static let vectorPatterns = TestData.unitVectors(count: 48, dimension: 12, seed: 501)

  /// Noisy copies of the patterns, at noise levels from 0.05 to 0.4.
  static func vectorQueries(_ count: Int, seed: UInt64) -> [[Double]] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { b in
      let noise = [0.05, 0.2, 0.4, 0.3][b % 4]
      return zip(vectorPatterns[(b * 7) % vectorPatterns.count], g.gaussians(12)).map { $0 + noise * $1 }
    }
  }

  static let vectorStopping = try! StoppingRule(maxSteps: 40)

  static func vectorEngine<V: Divergence, S: SeparationMap>(
    _ divergence: V, _ setup: VectorSetup, _ map: S, parallelism: Int, stopping: StoppingRule = vectorStopping
  ) throws -> RetrievalEngine<V, S, EuclideanGeometry>
  where V.State == [Double], V.Pattern == [Double], V.Variation == EuclideanVariation {
    try RetrievalEngine(
      memory: Memory(divergence: divergence, patterns: vectorPatterns), separation: map,
      geometry: setup.geometry, beta: setup.beta, stopping: stopping, parallelism: parallelism)
  }

  /// Every map on both vector divergences and both updates, batches of 1, 2, 7 and 64.
  @Test(arguments: VectorSetup.allCases, MapCase.allCases)
  func vectorBatchesMatchOneByOne(setup: VectorSetup, map: MapCase) throws {
    let queries = Self.vectorQueries(64, seed: 502)
    let label = "vectors \(setup), \(map)"
    let reference =
      setup.isDotProduct
      ? try Self.checkBatches(
        queries: queries, batchSizes: [1, 2, 7, 64], agreement: .roundOff, label: label
      ) {
        try Self.vectorEngine(DotProductDivergence(), setup, map.map, parallelism: $0)
      }
      : try Self.checkBatches(
        queries: queries, batchSizes: [1, 2, 7, 64], agreement: .roundOff, label: label
      ) {
        try Self.vectorEngine(SquaredEuclideanDivergence(), setup, map.map, parallelism: $0)
      }
    // The retrievals do something: every query moves, some stop before the step limit, and
    // queries leave the batch of 64 at different steps.
    #expect(reference.allSatisfy { $0.steps >= 1 }, "\(label): steps \(reference.map(\.steps))")
    #expect(reference.contains { $0.stopReason != .stepLimit }, "\(label): \(reference.map(\.stopReason))")
    #expect(Set(reference.map(\.steps)).count > 1, "\(label): steps \(reference.map(\.steps))")
  }

  /// The erased engine's batch is the typed engine's batch.
  @Test(arguments: VectorSetup.allCases, [MapCase.softmax, .sparsemax])
  func erasedVectorEngineMatches(setup: VectorSetup, map: MapCase) throws {
    let queries = Self.vectorQueries(7, seed: 503)
    func check<V: Divergence>(_ divergence: V) throws
    where V.State == [Double], V.Pattern == [Double], V.Variation == EuclideanVariation {
      let typed = try Self.vectorEngine(divergence, setup, map.map, parallelism: 4)
      let direct = try typed.retrieve(batch: queries, recordingTrajectory: true)
      let erased = try AnyRetrievalEngine(typed).retrieve(batch: queries, recordingTrajectory: true)
      for b in queries.indices {
        // The same computation: bit for bit.
        Self.expectAgreement(
          erased[b], direct[b], .identical, "erased vs typed, \(setup), \(map), query \(b)")
      }
      let untraced = try AnyRetrievalEngine(typed).retrieve(batch: queries)
      #expect(untraced.allSatisfy { $0.trajectory == nil })
    }
    if setup.isDotProduct {
      try check(DotProductDivergence())
    } else {
      try check(SquaredEuclideanDivergence())
    }
  }

  // MARK: Gaussians

  /// 40 Gaussians in ℝ³ with means spread over a few units (so that far patterns can be pruned),
  /// full covariances and every fourth diagonal.
  static let gaussianPatterns: [Gaussian] = {
    var g = SeededGenerator(seed: 601)
    return (0..<40).map { i in
      let eigenvalues = (0..<3).map { _ in Double.random(in: 0.3...2, using: &g) }
      let mean = g.gaussians(3).map { 3 * $0 }
      if i % 4 == 0 { return try! Gaussian(mean: mean, variances: eigenvalues) }
      return try! Gaussian(
        mean: mean, covariance: TestData.spd(eigenvalues: eigenvalues, seed: 700 + UInt64(i)).matrix)
    }
  }()

  /// Perturbations of the patterns at W₂ distances 0.3 to 1.2.
  static func gaussianQueries(_ count: Int, seed: UInt64) throws -> [Gaussian] {
    var g = SeededGenerator(seed: seed)
    return try (0..<count).map { b in
      try GaussianSampling.perturbation(
        of: gaussianPatterns[(b * 3) % gaussianPatterns.count], distance: [0.3, 0.8, 1.2][b % 3], using: &g)
    }
  }

  static func gaussianEngine(
    _ map: MapCase, _ pruning: Pruning, parallelism: Int, stopping: StoppingRule? = nil
  ) throws -> RetrievalEngine<BuresWassersteinDivergence, AnySeparationMap, BuresWassersteinGeometry> {
    try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: gaussianPatterns),
      separation: map.map, geometry: BuresWassersteinGeometry(), beta: 2,
      stopping: stopping ?? StoppingRule(maxSteps: 12), pruning: pruning, parallelism: parallelism)
  }

  /// Every map, every pruning, batches of 1, 2, 7 and 64: bit-identical.
  @Test(arguments: MapCase.allCases, PruningCase.allCases)
  func gaussianBatchesMatchOneByOne(map: MapCase, pruning: PruningCase) throws {
    let queries = try Self.gaussianQueries(64, seed: 602)
    let reference = try Self.checkBatches(
      queries: queries, batchSizes: [1, 2, 7, 64], agreement: .identical,
      label: "Gaussians, \(map), \(pruning)"
    ) { try Self.gaussianEngine(map, pruning.pruning, parallelism: $0) }
    Self.expectPruning(
      reference, patterns: Self.gaussianPatterns.count, map, pruning, "Gaussians, \(map), \(pruning)")
  }

  // MARK: Point clouds

  /// The SHK geometry and its transport-only (Wasserstein) special case.
  enum CloudGeometry: String, CaseIterable, Sendable, CustomStringConvertible {
    case shk = "SHK(0.5, 0.005)"
    case wasserstein = "Wasserstein(0.5)"

    var description: String { rawValue }

    /// τα = ε/20 for the SHK geometry (the step the SHK geometry's documentation vouches for).
    var geometry: SHKGeometry {
      switch self {
      case .shk: try! SHKGeometry(step: 0.5, hellingerScale: 0.005)
      case .wasserstein: try! SHKGeometry.wasserstein(step: 0.5)
      }
    }
  }

  static let cloudDivergence = SinkhornDivergence(
    options: try! SinkhornOptions(epsilon: 0.05, tolerance: 1e-10, maxIterations: 50_000))

  /// `count` clouds of `atoms` atoms around random centres in [0, 6]², with unequal masses.
  static func clouds(count: Int, atoms: Int, seed: UInt64) -> [PointCloud] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
      let centre = [Double.random(in: 0...6, using: &g), Double.random(in: 0...6, using: &g)]
      return try! PointCloud(
        points: Matrix(
          rows: atoms, columns: 2, elements: (0..<(2 * atoms)).map { centre[$0 % 2] + 0.3 * g.nextGaussian() }
        ),
        masses: (0..<atoms).map { _ in Double.random(in: 0.5...1.5, using: &g) })
    }
  }

  /// Noisy copies of the patterns (noise 0.1 to 0.25).
  static func cloudQueries(_ patterns: [PointCloud], count: Int, seed: UInt64) -> [PointCloud] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { b in
      let cloud = patterns[(b * 5) % patterns.count]
      let noise = [0.1, 0.25, 0.15][b % 3]
      return try! PointCloud(
        points: Matrix(
          rows: cloud.count, columns: 2, elements: cloud.points.elements.map { $0 + noise * g.nextGaussian() }
        ),
        weights: cloud.weights)
    }
  }

  static let cloudPatterns = clouds(count: 32, atoms: 5, seed: 801)

  static func cloudEngine(
    _ patterns: [PointCloud], _ map: MapCase, _ geometry: CloudGeometry, _ pruning: Pruning, parallelism: Int
  ) throws -> RetrievalEngine<SinkhornDivergence, AnySeparationMap, SHKGeometry> {
    try RetrievalEngine(
      memory: Memory(divergence: cloudDivergence, patterns: patterns), separation: map.map,
      geometry: geometry.geometry, beta: 4, stopping: StoppingRule(maxSteps: 3), pruning: pruning,
      parallelism: parallelism)
  }

  /// Every map, both geometries, every pruning; batches of 1, 2 and 7 of 32 clouds of 5 atoms:
  /// bit-identical.
  @Test(arguments: CloudGeometry.allCases, MapCase.allCases)
  func cloudBatchesMatchOneByOne(geometry: CloudGeometry, map: MapCase) throws {
    let queries = Self.cloudQueries(Self.cloudPatterns, count: 7, seed: 802)
    for pruning in PruningCase.allCases {
      let reference = try Self.checkBatches(
        queries: queries, batchSizes: [1, 2, 7], agreement: .identical,
        label: "clouds \(geometry), \(map), \(pruning)"
      ) { try Self.cloudEngine(Self.cloudPatterns, map, geometry, pruning.pruning, parallelism: $0) }
      Self.expectPruning(
        reference, patterns: Self.cloudPatterns.count, map, pruning, "clouds \(geometry), \(map), \(pruning)")
    }
  }

  /// A batch of 64 tiny clouds (4 atoms, 24 patterns, 3 steps; pruning's first round takes 16
  /// patterns, so 24 leave it something to skip), softmax and sparsemax, every pruning:
  /// bit-identical.
  @Test(arguments: [MapCase.softmax, .sparsemax], PruningCase.allCases)
  func largeCloudBatchMatchesOneByOne(map: MapCase, pruning: PruningCase) throws {
    let patterns = Self.clouds(count: 24, atoms: 4, seed: 803)
    let queries = Self.cloudQueries(patterns, count: 64, seed: 804)
    let label = "tiny clouds, \(map), \(pruning)"
    let reference = try Self.checkBatches(
      queries: queries, batchSizes: [64], agreement: .identical, label: label
    ) { try Self.cloudEngine(patterns, map, .shk, pruning.pruning, parallelism: $0) }
    Self.expectPruning(reference, patterns: patterns.count, map, pruning, label)
  }

  // MARK: Grids

  /// Three blobs on a 6 x 6 grid.
  static let gridPatterns: [GridHistogram] = [(1, 1), (4, 2), (2, 4)].map { centre in
    var masses = [Double](repeating: 0, count: 36)
    for i in 0..<6 {
      for j in 0..<6 {
        let r2 = Double((i - centre.0) * (i - centre.0) + (j - centre.1) * (j - centre.1))
        masses[i * 6 + j] = exp(-r2 / 1.5) + 1e-3
      }
    }
    return try! GridHistogram(shape: [6, 6], intensities: masses)
  }

  static func gridQueries(_ count: Int, seed: UInt64) -> [GridHistogram] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { b in
      let noise = [0.02, 0.08, 0.05][b % 3]
      return try! GridHistogram(
        shape: [6, 6],
        intensities: gridPatterns[b % 3].masses.map { $0 + noise * Double.random(in: 0...1, using: &g) })
    }
  }

  /// ε = 1 (1/50 of the squared diameter, the separable-kernel backend); τα = ε/20.
  static func gridEngine(_ map: MapCase, parallelism: Int) throws
    -> RetrievalEngine<GridSinkhornDivergence, AnySeparationMap, GridHellingerGeometry>
  {
    try RetrievalEngine(
      memory: Memory(
        divergence: GridSinkhornDivergence(options: GridSinkhornOptions(epsilon: 1, tolerance: 1e-10)),
        patterns: gridPatterns),
      separation: map.map, geometry: GridHellingerGeometry(step: 0.5, hellingerScale: 0.1), beta: 1,
      stopping: StoppingRule(maxSteps: 3), parallelism: parallelism)
  }

  /// Every map on 6 x 6 grids, batches of 1, 2, 7 and 64: bit-identical. (The grid divergence has
  /// no lower bound, so pruning never applies.)
  @Test(arguments: MapCase.allCases)
  func gridBatchesMatchOneByOne(map: MapCase) throws {
    try Self.checkBatches(
      queries: Self.gridQueries(64, seed: 901), batchSizes: [1, 2, 7, 64], agreement: .identical,
      label: "grids, \(map)"
    ) { try Self.gridEngine(map, parallelism: $0) }
  }

  // MARK: Queries that stop at different steps

  /// Stored patterns (sparsemax gives them weight one-hot: an exact fixed point after one step)
  /// among noisy queries that take longer: the batch keeps stepping the others after the first
  /// leave, and every query gets its own step count.
  @Test(arguments: [1, 4])
  func vectorQueriesLeaveTheBatchAtDifferentSteps(threads: Int) throws {
    var g = SeededGenerator(seed: 1001)
    let queries = (0..<12).map { b -> [Double] in
      let pattern = Self.vectorPatterns[b * 3]
      switch b % 3 {
      case 0: return pattern
      case 1: return zip(pattern, g.gaussians(12)).map { $0 + 0.05 * $1 }
      default: return zip(pattern, g.gaussians(12)).map { $0 + 0.45 * $1 }
      }
    }
    let serial = try Self.vectorEngine(
      SquaredEuclideanDivergence(), .squaredFixedPoint, Sparsemax(), parallelism: 1)
    let alone = try queries.map { try serial.retrieve($0, recordingTrajectory: true) }
    let batch = try Self.vectorEngine(
      SquaredEuclideanDivergence(), .squaredFixedPoint, Sparsemax(), parallelism: threads
    ).retrieve(batch: queries, recordingTrajectory: true)
    for b in queries.indices {
      Self.expectAgreement(batch[b], alone[b], .roundOff, "stored and noisy, \(threads) threads, query \(b)")
      if b % 3 == 0 {
        #expect(
          batch[b].steps == 1 && batch[b].stopReason == .fixedPoint, "query \(b): \(batch[b].steps) steps")
        #expect(batch[b].state == queries[b])
      }
    }
    let steps = Set(batch.map(\.steps))
    #expect(steps.count >= 3, "step counts \(batch.map(\.steps))")
  }

  /// The same with Gaussians (bit-identical), which stop by the energy and position tolerances
  /// after numbers of steps that depend on how far the query starts.
  @Test(arguments: [1, 4])
  func gaussianQueriesLeaveTheBatchAtDifferentSteps(threads: Int) throws {
    var g = SeededGenerator(seed: 1002)
    let queries = try (0..<9).map { b -> Gaussian in
      let pattern = Self.gaussianPatterns[b * 4 + 1]
      return b % 3 == 0
        ? pattern
        : try GaussianSampling.perturbation(of: pattern, distance: b % 3 == 1 ? 0.1 : 1.5, using: &g)
    }
    let stopping = try StoppingRule(maxSteps: 60, energyTolerance: 1e-10, positionTolerance: 1e-7)
    let serial = try Self.gaussianEngine(.sparsemax, .exact, parallelism: 1, stopping: stopping)
    let alone = try queries.map { try serial.retrieve($0, recordingTrajectory: true) }
    let batch = try Self.gaussianEngine(.sparsemax, .exact, parallelism: threads, stopping: stopping)
      .retrieve(batch: queries, recordingTrajectory: true)
    for b in queries.indices {
      Self.expectAgreement(
        batch[b], alone[b], .identical, "Gaussians stored and noisy, \(threads) threads, query \(b)")
    }
    #expect(Set(batch.map(\.steps)).count >= 2, "step counts \(batch.map(\.steps))")
    #expect(batch.allSatisfy { $0.stopReason != .stepLimit }, "stop reasons \(batch.map(\.stopReason))")
  }

  // MARK: A query's result does not depend on the rest of its batch

  /// Random reorderings and random sub-batches: each query's result is the one it gets in the
  /// original batch (to round-off for vectors, bit for bit otherwise).
  @Test(arguments: [MapCase.softmax, .sparsemax, .kSubsets])
  func vectorResultsDoNotDependOnTheRestOfTheBatch(map: MapCase) throws {
    let queries = Self.vectorQueries(20, seed: 1101)
    let engine = try Self.vectorEngine(DotProductDivergence(), .dotFixedPoint, map.map, parallelism: 4)
    let original = try engine.retrieve(batch: queries, recordingTrajectory: true)
    var g = SeededGenerator(seed: 1102)
    for trial in 0..<6 {
      var order = Array(queries.indices).shuffled(using: &g)
      if trial % 2 == 1 { order = Array(order.prefix(Int.random(in: 1...queries.count, using: &g))) }
      let results = try engine.retrieve(batch: order.map { queries[$0] }, recordingTrajectory: true)
      for (position, b) in order.enumerated() {
        Self.expectAgreement(
          results[position], original[b], .roundOff,
          "vectors \(map), trial \(trial), query \(b) at \(position)")
      }
    }
  }

  @Test(arguments: [MapCase.softmax, .sparsemax], [PruningCase.none, .exact, .softmaxMass])
  func gaussianResultsDoNotDependOnTheRestOfTheBatch(map: MapCase, pruning: PruningCase) throws {
    let queries = try Self.gaussianQueries(16, seed: 1201)
    let engine = try Self.gaussianEngine(map, pruning.pruning, parallelism: 4)
    let original = try engine.retrieve(batch: queries, recordingTrajectory: true)
    var g = SeededGenerator(seed: 1202)
    for trial in 0..<4 {
      var order = Array(queries.indices).shuffled(using: &g)
      if trial % 2 == 1 { order = Array(order.prefix(Int.random(in: 1...queries.count, using: &g))) }
      let results = try engine.retrieve(batch: order.map { queries[$0] }, recordingTrajectory: true)
      for (position, b) in order.enumerated() {
        Self.expectAgreement(
          results[position], original[b], .identical,
          "Gaussians \(map), \(pruning), trial \(trial), query \(b) at \(position)")
      }
    }
  }

  @Test(arguments: [PruningCase.none, .exact])
  func cloudResultsDoNotDependOnTheRestOfTheBatch(pruning: PruningCase) throws {
    let queries = Self.cloudQueries(Self.cloudPatterns, count: 6, seed: 1301)
    let engine = try Self.cloudEngine(Self.cloudPatterns, .sparsemax, .shk, pruning.pruning, parallelism: 4)
    let original = try engine.retrieve(batch: queries, recordingTrajectory: true)
    var g = SeededGenerator(seed: 1302)
    for trial in 0..<2 {
      let order = Array(queries.indices).shuffled(using: &g).prefix(trial == 0 ? queries.count : 3)
      let results = try engine.retrieve(batch: order.map { queries[$0] }, recordingTrajectory: true)
      for (position, b) in order.enumerated() {
        Self.expectAgreement(
          results[position], original[b], .identical,
          "clouds \(pruning), trial \(trial), query \(b) at \(position)")
      }
    }
  }

  // MARK: Errors

  /// An empty batch is an error naming `queries`, for every family and through the erased engine.
  @Test func emptyBatchIsAnError() throws {
    func expectEmptyBatchError(_ label: String, _ body: () throws -> Void) {
      let error = #expect(throws: DAMError.self, "\(label)") { try body() }
      #expect(error?.argument == "queries", "\(label): \(String(describing: error))")
      #expect(error?.kind == .invalidArgument, "\(label)")
    }
    let vectors = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: Self.vectorPatterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 4)
    expectEmptyBatchError("vectors") { _ = try vectors.retrieve(batch: []) }
    expectEmptyBatchError("erased vectors") { _ = try AnyRetrievalEngine(vectors).retrieve(batch: []) }
    let gaussians = try Self.gaussianEngine(.softmax, .exact, parallelism: 2)
    expectEmptyBatchError("Gaussians") { _ = try gaussians.retrieve(batch: [], recordingTrajectory: true) }
    let clouds = try Self.cloudEngine(Self.cloudPatterns, .sparsemax, .shk, .exact, parallelism: 2)
    expectEmptyBatchError("clouds") { _ = try clouds.retrieve(batch: []) }
    let grids = try Self.gridEngine(.softmax, parallelism: 2)
    expectEmptyBatchError("grids") { _ = try grids.retrieve(batch: []) }
  }

  /// A query of the wrong dimension at position `position` of a batch of 7: alone it is an error
  /// naming `query`; in the batch the same error names `queries[position]`.
  @Test(arguments: [0, 3, 6])
  func invalidVectorQueryIsNamedByItsPosition(position: Int) throws {
    var queries = Self.vectorQueries(7, seed: 1401)
    let bad = queries[position] + [0.5]
    queries[position] = bad
    for threads in [1, 4] {
      let engine = try RetrievalEngine(
        memory: Memory(divergence: .squaredEuclidean, patterns: Self.vectorPatterns), separation: .sparsemax,
        geometry: EuclideanGeometry(), beta: 4, parallelism: threads)
      let alone = #expect(throws: DAMError.self) { try engine.retrieve(bad) }
      #expect(alone?.argument == "query")
      for (label, retrieve) in [
        ("typed", { try engine.retrieve(batch: queries) }),
        ("erased", { try AnyRetrievalEngine(engine).retrieve(batch: queries) }),
      ] as [(String, () throws -> [RetrievalResult<[Double]>])] {
        let error = #expect(throws: DAMError.self, "\(label)") { _ = try retrieve() }
        #expect(
          error?.argument == "queries[\(position)]",
          "\(label), \(threads) threads: \(String(describing: error))")
        #expect(error?.kind == .dimensionMismatch, "\(label)")
        #expect(error?.message == alone?.message, "\(label)")
      }
    }
  }

  /// With two invalid queries the lowest position is named; a non-finite query is named the same way.
  @Test func firstInvalidVectorQueryIsNamed() throws {
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: Self.vectorPatterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 8, parallelism: 4)
    var queries = Self.vectorQueries(7, seed: 1402)
    queries[5] = [1, 2]
    queries[2][4] = .nan
    let error = #expect(throws: DAMError.self) { _ = try engine.retrieve(batch: queries) }
    #expect(error?.argument == "queries[2]", "\(String(describing: error))")
    #expect(error?.kind == .nonFinite)
    queries[2][4] = 0
    let second = #expect(throws: DAMError.self) { _ = try engine.retrieve(batch: queries) }
    #expect(second?.argument == "queries[5]", "\(String(describing: second))")
    #expect(second?.kind == .dimensionMismatch)
  }

  /// The other families: a query of another dimension (or grid) at position 3 of 5.
  @Test func invalidQueriesOfOtherFamiliesAreNamedByTheirPosition() throws {
    func expectNamed(_ label: String, _ body: () throws -> Void) {
      let error = #expect(throws: DAMError.self, "\(label)") { try body() }
      #expect(error?.argument == "queries[3]", "\(label): \(String(describing: error))")
      #expect(error?.kind == .dimensionMismatch, "\(label)")
    }
    var gaussians = try Self.gaussianQueries(5, seed: 1501)
    gaussians[3] = try Gaussian(mean: [0, 0], variances: [1, 1])
    let gaussianEngine = try Self.gaussianEngine(.sparsemax, .exact, parallelism: 4)
    expectNamed("Gaussians") { _ = try gaussianEngine.retrieve(batch: gaussians) }
    expectNamed("erased Gaussians") { _ = try AnyRetrievalEngine(gaussianEngine).retrieve(batch: gaussians) }

    var clouds = Self.cloudQueries(Self.cloudPatterns, count: 5, seed: 1502)
    clouds[3] = try PointCloud(points: Matrix(rows: 2, columns: 3, elements: [0, 0, 0, 1, 1, 1]))
    let cloudEngine = try Self.cloudEngine(Self.cloudPatterns, .softmax, .shk, .none, parallelism: 4)
    expectNamed("clouds") { _ = try cloudEngine.retrieve(batch: clouds) }

    var grids = Self.gridQueries(5, seed: 1503)
    grids[3] = try GridHistogram(shape: [5, 6], intensities: [Double](repeating: 1, count: 30))
    let gridEngine = try Self.gridEngine(.softmax, parallelism: 4)
    expectNamed("grids") { _ = try gridEngine.retrieve(batch: grids) }
  }

  /// A query whose dynamics diverge (a gradient step of 3 on the dot product multiplies the
  /// distance to the fixed point by -2 every step) fails the batch with the error it has alone,
  /// named `queries[i] (step)`, even after the stored patterns before it have left the batch.
  @Test func divergingQueryIsNamedByItsPosition() throws {
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: Self.vectorPatterns), separation: .sparsemax,
      geometry: EuclideanGeometry(update: .gradient(step: 3)), beta: 8, parallelism: 2)
    var g = SeededGenerator(seed: 1601)
    let noisy = zip(Self.vectorPatterns[2], g.gaussians(12)).map { $0 + 0.2 * $1 }
    let queries = [Self.vectorPatterns[0], Self.vectorPatterns[1], noisy, Self.vectorPatterns[3]]
    let stored = try engine.retrieve(batch: [queries[0], queries[1], queries[3]])
    #expect(stored.allSatisfy { $0.stopReason == .fixedPoint && $0.steps == 1 })
    let alone = #expect(throws: DAMError.self) { _ = try engine.retrieve(noisy) }
    #expect(alone?.argument == "step", "\(String(describing: alone))")
    let error = #expect(throws: DAMError.self) { _ = try engine.retrieve(batch: queries) }
    #expect(error?.argument == "queries[2] (step)", "\(String(describing: error))")
    #expect(error?.kind == alone?.kind)
    // The same failure at the same step. The energies it quotes agree to round-off only: the
    // first step scored the four queries by one matrix product, and the diverging dynamics
    // amplify that round-off at every step (measured: 1422510.0374919558 in the batch against
    // 1422510.0374919495 alone, 4e-15 relative).
    let message = try #require(alone?.message)
    #expect(message.hasPrefix("the dynamics diverged"), "\(message)")
    let steps = try #require(message.range(of: " in ", options: .backwards))
    #expect(error?.message.hasSuffix(message[steps.lowerBound...]) == true, "\(String(describing: error))")
  }
}

// MARK: - States as values

/// A retrieval state with its numbers in one array, for the round-off comparisons.
protocol BatchState: Sendable, Equatable {
  var batchTestValues: [Double] { get }
}

extension Array: BatchState where Element == Double {
  var batchTestValues: [Double] { self }
}

extension Gaussian: BatchState {
  var batchTestValues: [Double] { mean + covarianceMatrix.elements }
}

extension PointCloud: BatchState {
  var batchTestValues: [Double] { points.elements + weights }
}

extension GridHistogram: BatchState {
  var batchTestValues: [Double] { masses }
}
