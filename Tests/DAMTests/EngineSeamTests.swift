import DAM
import DAMTestSupport
import Foundation
import Testing

/// The batch-first seams: the block defaults against the per-pair methods, the vector blocks'
/// matrix products against direct sums, the memory-wide cache after an append, snapshots that
/// belong to their state, and the separation map's bound on unevaluated weight.
struct EngineSeamTests {
  /// A divergence with only per-pair methods (as a user writes one): `‖ξ - X‖⁴`, whose block
  /// methods are the protocol's defaults.
  struct QuarticDistance: Divergence {
    func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void, previous: Double?) -> Double
    {
      let squared = zip(state, pattern).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      return squared * squared
    }
    func zeroVariation(at state: [Double]) -> EuclideanVariation {
      EuclideanVariation(dimension: state.count)
    }
    func accumulate(
      _ weight: Double, of evaluation: Double, at state: [Double], query: Void, pattern: [Double],
      cache: Void,
      into variation: inout EuclideanVariation
    ) {
      let squared = zip(state, pattern).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      variation.addGradient(zip(state, pattern).map { 4 * squared * ($0 - $1) }, weight: weight, curvature: 1)
    }
  }

  /// The default block evaluation gives, for every thread count, exactly the per-pair values,
  /// in the order of each item's indices (all patterns, or a selection).
  @Test(arguments: [1, 3, 8])
  func defaultBlockIsThePerPairMethod(parallelism: Int) throws {
    let patterns = TestData.unitVectors(count: 40, dimension: 5, seed: 3)
    let divergence = QuarticDistance()
    let memory = try Memory(divergence: divergence, patterns: patterns)
    let states = TestData.unitVectors(count: 6, dimension: 5, seed: 4)
    let selections: [PatternIndices] = [
      .all(40), .some([0, 7, 39]), .some([]), .all(40), .some([5]), .all(40),
    ]
    let items = zip(states, selections).map {
      EvaluationBlock<QuarticDistance>.Item(state: $0, query: (), indices: $1)
    }
    let block = try divergence.evaluate(
      EvaluationBlock(memory: memory, items: items, parallelism: parallelism))
    #expect(block.count == items.count)
    for (k, item) in items.enumerated() {
      let direct = item.indices.map {
        divergence.evaluate(item.state, query: (), pattern: patterns[$0], cache: (), previous: nil)
      }
      #expect(block[k] == direct)
    }
  }

  /// The vector blocks: scores by one matrix product against the direct sums (1e-12 relative to
  /// the sizes `‖ξ‖² + ‖X‖²` that the expansion subtracts; BLAS orders the sums its own way),
  /// and the distance of a state to itself, which the squared Euclidean block sums directly, 0.
  @Test func vectorBlocksAgreeWithDirectSums() throws {
    let patterns = (0..<300).map { i in
      TestData.unitVectors(count: 1, dimension: 17, seed: UInt64(i))[0].map { $0 * 3 }
    }
    let states = Array(patterns[10..<15]) + TestData.unitVectors(count: 4, dimension: 17, seed: 900)
    for squared in [true, false] {
      func check<D: Divergence>(_ divergence: D) throws
      where D.State == [Double], D.Pattern == [Double], D.Evaluation == Double {
        let memory = try Memory(divergence: divergence, patterns: patterns)
        let items = try states.map {
          EvaluationBlock<D>.Item(
            state: $0, query: try divergence.prepareQuery($0), indices: .all(patterns.count))
        }
        let block = try divergence.evaluate(EvaluationBlock(memory: memory, items: items, parallelism: 2))
        for (b, state) in states.enumerated() {
          for (i, pattern) in patterns.enumerated() {
            let direct = try divergence.evaluate(
              state, query: divergence.prepareQuery(state), pattern: pattern, cache: memory.caches[i])
            let scale = state.reduce(0) { $0 + $1 * $1 } + pattern.reduce(0) { $0 + $1 * $1 }
            #expect(abs(block[b][i] - direct) <= 1e-12 * scale)
          }
        }
        if squared {
          for b in 0..<5 { #expect(block[b][10 + b] == 0) }
        }
      }
      if squared { try check(SquaredEuclideanDivergence()) } else { try check(DotProductDivergence()) }
    }
  }

  /// A memory's packed matrix is rebuilt after an append: a query equal to the appended pattern is
  /// retrieved by it exactly (sparsemax lands on it) after the memory answered a query before.
  @Test func appendedPatternsReachTheBlocks() throws {
    let patterns = TestData.unitVectors(count: 20, dimension: 8, seed: 5)
    var memory = try Memory(divergence: .dotProduct, patterns: patterns)
    let first = try RetrievalEngine(
      memory: memory, separation: .sparsemax, geometry: EuclideanGeometry(), beta: 50)
    _ = try first.retrieve(batch: [patterns[3]])
    let extra = TestData.unitVectors(count: 1, dimension: 8, seed: 77)[0]
    try memory.append(extra)
    let engine = try RetrievalEngine(
      memory: memory, separation: .sparsemax, geometry: EuclideanGeometry(), beta: 50)
    let result = try engine.retrieve(batch: [extra, patterns[3]])
    #expect(result[0].weights.count == 21)
    #expect(result[0].nearestPattern == 20)
    #expect(result[0].state == extra)
    #expect(result[1].state == patterns[3])
  }

  /// A step takes its state from the snapshot; given another state it throws, naming `snapshot`.
  @Test func stepRefusesASnapshotOfAnotherState() throws {
    let patterns = TestData.unitVectors(count: 10, dimension: 4, seed: 6)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 4)
    let snapshot = try engine.snapshot(at: patterns[0])
    #expect(snapshot.state == patterns[0])
    #expect(try engine.step(from: patterns[0], snapshot: snapshot) == engine.step(from: snapshot))
    let error = #expect(throws: DAMError.self) { try engine.step(from: patterns[1], snapshot: snapshot) }
    #expect(error?.argument == "snapshot")
    // The batch forms: one snapshot and one step per state, as alone.
    let snapshots = try engine.snapshots(at: [patterns[0], patterns[1]])
    #expect(snapshots.map(\.state) == [patterns[0], patterns[1]])
    let steps = try engine.steps(from: snapshots)
    #expect(
      zip(steps[1], try engine.step(from: engine.snapshot(at: patterns[1]))).allSatisfy {
        abs($0 - $1) <= 1e-12
      })
  }

  /// Softmax's bound on the weight of scores it was not shown is exact when given the exact
  /// log-mass of those scores, and an upper bound when given more; maps with exact zeros instead
  /// (sparsemax) have none.
  @Test func softmaxBoundsTheUnevaluatedWeight() throws {
    var generator = SeededGenerator(seed: 8)
    let scores = (0..<50).map { _ in 3 * generator.nextGaussian() }
    let weights = try Softmax().separate(scores).weights
    let evaluated = Array(scores[0..<20])
    let others = Array(scores[20...])
    let exact = try #require(
      Softmax().unevaluatedWeightBound(
        evaluatedLogMass: logSumExp(evaluated), otherLogMass: logSumExp(others)))
    let dropped = weights[20...].reduce(0, +)
    // The bound is Σ_others e^θ / Σ_evaluated e^θ, the others' weight over the evaluated weight.
    #expect(abs(exact - dropped / (1 - dropped)) <= 1e-12 * exact)
    #expect(exact >= dropped)
    let looser = try #require(
      Softmax().unevaluatedWeightBound(
        evaluatedLogMass: logSumExp(evaluated), otherLogMass: logSumExp(others) + 0.5))
    #expect(looser > exact)
    #expect(Sparsemax().unevaluatedWeightBound(evaluatedLogMass: 0, otherLogMass: 0) == nil)
    #expect(
      AnySeparationMap(Softmax()).unevaluatedWeightBound(evaluatedLogMass: 1, otherLogMass: 0) == exp(-1))
  }

  /// A memory built from a row-major matrix is the memory of its rows: retrievals equal to the bit
  /// (the matrix is the packed cache the rows would be packed into), and the same patterns when
  /// asked for afterwards, also by several threads at once (the rows are made on first use).
  @Test func matrixMemoryIsTheMemoryOfItsRows() throws {
    let patterns = TestData.unitVectors(count: 70, dimension: 9, seed: 21)
    let fromRows = try Memory(divergence: .squaredEuclidean, patterns: patterns)
    let fromMatrix = try Memory(divergence: .squaredEuclidean, matrix: patterns.flatMap { $0 }, columns: 9)
    #expect(fromMatrix.count == 70 && !fromMatrix.isEmpty)
    let queries = TestData.unitVectors(count: 4, dimension: 9, seed: 22)
    let a = try RetrievalEngine(
      memory: fromRows, separation: .softmax, geometry: EuclideanGeometry(), beta: 5)
    let b = try RetrievalEngine(
      memory: fromMatrix, separation: .softmax, geometry: EuclideanGeometry(), beta: 5)
    let ra = try a.retrieve(batch: queries)
    let rb = try b.retrieve(batch: queries)
    #expect(ra.map(\.state) == rb.map(\.state))
    #expect(ra.map(\.energies) == rb.map(\.energies))
    let seen = _LockedRows()
    DispatchQueue.concurrentPerform(iterations: 4) { _ in seen.add(fromMatrix.patterns) }
    #expect(seen.all.count == 4 && seen.all.allSatisfy { $0 == patterns })
    // An append drops the matrix for a cache packed from all the rows.
    var grown = fromMatrix
    try grown.append(patterns[3].map { -$0 })
    var reference = fromRows
    try reference.append(patterns[3].map { -$0 })
    let c = try RetrievalEngine(memory: grown, separation: .softmax, geometry: EuclideanGeometry(), beta: 5)
    let d = try RetrievalEngine(
      memory: reference, separation: .softmax, geometry: EuclideanGeometry(), beta: 5)
    #expect(try c.retrieve(batch: queries).map(\.state) == d.retrieve(batch: queries).map(\.state))
  }

  /// Columns that do not divide the matrix, zero columns and non-finite entries are refused.
  @Test func matrixMemoryRefusesBadShapes() throws {
    var error = #expect(throws: DAMError.self) {
      try Memory(divergence: .dotProduct, matrix: [1, 2, 3, 4, 5], columns: 2)
    }
    #expect(error?.argument == "columns")
    error = #expect(throws: DAMError.self) {
      try Memory(divergence: .dotProduct, matrix: [1, 2], columns: 0)
    }
    #expect(error?.argument == "columns")
    error = #expect(throws: DAMError.self) {
      try Memory(divergence: .dotProduct, matrix: [1, 2, .nan, 4], columns: 2)
    }
    #expect(error?.argument == "patterns[1]")
  }

  /// The finiteness check reads the squared norms, computed in blocks of rows on every core: a
  /// non-finite entry in the last block is still found and named, and rows whose values are finite
  /// but whose squared norm overflows are accepted, as the values themselves are.
  @Test func matrixMemoryChecksEveryBlock() throws {
    let columns = 16
    var matrix = (0..<(50_000 * columns)).map { Double($0 % 13) - 6 }
    matrix[49_999 * columns + 3] = -.infinity
    let error = #expect(throws: DAMError.self) {
      try Memory(divergence: .dotProduct, matrix: matrix, columns: columns)
    }
    #expect(error?.argument == "patterns[49999]")
    #expect(error?.kind == .nonFinite)
    matrix[49_999 * columns + 3] = 1e200
    let memory = try Memory(divergence: .dotProduct, matrix: matrix, columns: columns)
    #expect(memory.count == 50_000)
    #expect(memory.patterns[49_999][3] == 1e200)
  }
}

/// Rows collected from several threads.
private final class _LockedRows: @unchecked Sendable {
  private let lock = NSLock()
  private var rows: [[[Double]]] = []
  func add(_ value: [[Double]]) { lock.withLock { rows.append(value) } }
  var all: [[[Double]]] { lock.withLock { rows } }
}
