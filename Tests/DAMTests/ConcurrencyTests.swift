import DAM
import DAMTestSupport
import Foundation
import Testing

/// Many concurrent retrievals on one shared engine give bit for bit the results of serial
/// retrievals. Engines, memories and caches are values (`Sendable`); this checks that no hidden
/// shared state (a cache, a solver workspace, a plan) leaks between threads. scripts/sanitize.sh
/// runs this suite under the thread sanitizer.
struct ConcurrencyTests {
  /// Runs `retrieve` on every query from `threads` threads at once, each thread taking every
  /// query in a different order, and returns the results per thread in query order.
  static func concurrently<R: Sendable>(
    queries: Int, threads: Int, _ retrieve: @Sendable @escaping (Int) throws -> R
  ) -> [[Result<R, any Error>]] {
    let lock = NSLock()
    nonisolated(unsafe) var results = [[Result<R, any Error>?]](
      repeating: [Result<R, any Error>?](repeating: nil, count: queries), count: threads)
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
      for offset in 0..<queries {
        let index = (offset * 7 + thread * 3) % queries  // a different order per thread
        let result = Result { try retrieve(index) }
        lock.lock()
        results[thread][index] = result
        lock.unlock()
      }
    }
    return results.map { $0.map { $0! } }
  }

  static func bits(_ values: [Double]) -> [UInt64] { values.map(\.bitPattern) }

  @Test func vectorRetrievalsAgreeWithSerial() throws {
    let patterns = TestData.unitVectors(count: 200, dimension: 16, seed: 1)
    var generator = SeededGenerator(seed: 2)
    let queries = (0..<24).map { i in zip(patterns[i * 5], generator.gaussians(16)).map { $0 + 0.2 * $1 } }
    let engine = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns),
      separation: AnySeparationMap(try Entmax(alpha: 1.5)),
      geometry: EuclideanGeometry(), beta: 4)
    let serial = try queries.map { try engine.retrieve($0) }
    let parallel = Self.concurrently(queries: queries.count, threads: 8) { try engine.retrieve(queries[$0]) }
    for thread in parallel {
      for (index, result) in thread.enumerated() {
        let r = try result.get()
        #expect(Self.bits(r.state) == Self.bits(serial[index].state))
        #expect(Self.bits(r.weights) == Self.bits(serial[index].weights))
        #expect(r.steps == serial[index].steps)
      }
    }
  }

  @Test func cloudRetrievalsAgreeWithSerial() throws {
    var generator = SeededGenerator(seed: 3)
    func cloud(_ center: Double, _ n: Int) throws -> PointCloud {
      try PointCloud(
        points: Matrix(rows: n, columns: 2, elements: generator.gaussians(2 * n).map { center + 0.5 * $0 }))
    }
    let patterns = try (0..<6).map { try cloud(Double($0) * 2, 12) }
    let queries = try (0..<6).map { try cloud(Double($0) * 2 + 0.3, 10) }
    let engine = try RetrievalEngine(
      memory: Memory(divergence: SinkhornDivergence(epsilon: 0.1), patterns: patterns), separation: .softmax,
      geometry: SHKGeometry(step: 0.5, hellingerScale: 0.01), beta: 10, stopping: StoppingRule(maxSteps: 15))
    let serial = try queries.map { try engine.retrieve($0) }
    let parallel = Self.concurrently(queries: queries.count, threads: 4) { try engine.retrieve(queries[$0]) }
    for thread in parallel {
      for (index, result) in thread.enumerated() {
        let r = try result.get()
        #expect(Self.bits(r.state.points.elements) == Self.bits(serial[index].state.points.elements))
        #expect(Self.bits(r.state.weights) == Self.bits(serial[index].state.weights))
        #expect(Self.bits(r.energies) == Self.bits(serial[index].energies))
      }
    }
  }

  @Test func gaussianRetrievalsAgreeWithSerial() throws {
    var generator = SeededGenerator(seed: 4)
    func gaussian(_ shift: Double) throws -> Gaussian {
      let a = generator.gaussians(9)
      var s = [Double](repeating: 0, count: 9)
      for i in 0..<3 {
        for j in 0..<3 {
          for k in 0..<3 { s[i * 3 + j] += a[i * 3 + k] * a[j * 3 + k] }
          if i == j { s[i * 3 + j] += 0.5 }
        }
      }
      return try Gaussian(
        mean: generator.gaussians(3).map { $0 + shift }, covariance: Matrix(rows: 3, columns: 3, elements: s))
    }
    let patterns = try (0..<20).map { try gaussian(Double($0)) }
    let queries = try (0..<10).map { try gaussian(Double($0) * 2) }
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: 2)
    let serial = try queries.map { try engine.retrieve($0) }
    let parallel = Self.concurrently(queries: queries.count, threads: 6) { try engine.retrieve(queries[$0]) }
    for thread in parallel {
      for (index, result) in thread.enumerated() {
        let r = try result.get()
        #expect(Self.bits(r.state.mean) == Self.bits(serial[index].state.mean))
        #expect(
          Self.bits(r.state.covarianceMatrix.elements)
            == Self.bits(serial[index].state.covarianceMatrix.elements))
      }
    }
  }
}
