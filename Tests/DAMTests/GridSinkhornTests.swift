import DAM
import DAMTestSupport
import Foundation
import Testing

/// Test histograms on regular grids, and their point-cloud twins for the dense solver.
enum GridCases {
  /// A histogram of the given kind on an `h x w` grid: `blob` (full support, a Gaussian bump
  /// plus a floor), `ring` (an annulus, most cells exactly zero), `sparse` (a few random cells).
  static func histogram(_ kind: String, _ shape: [Int], seed: UInt64, spacing: [Double]? = nil) throws
    -> GridHistogram
  {
    var g = SeededGenerator(seed: seed)
    let cells = shape.reduce(1, *)
    var values = [Double](repeating: 0, count: cells)
    let centre = shape.map { Double($0 - 1) * Double.random(in: 0.3...0.7, using: &g) }
    let radius = Double(shape.max()!) * Double.random(in: 0.15...0.3, using: &g)
    for cell in 0..<cells {
      let index = coordinates(cell, shape)
      var r2 = 0.0
      for axis in shape.indices {
        r2 += (Double(index[axis]) - centre[axis]) * (Double(index[axis]) - centre[axis])
      }
      switch kind {
      case "blob": values[cell] = exp(-r2 / (2 * radius * radius)) + 1e-3
      case "ring":
        let r = r2.squareRoot()
        values[cell] = abs(r - radius) < 1.5 ? 1 + Double.random(in: 0...1, using: &g) : 0
      default: values[cell] = 0
      }
    }
    if kind == "sparse" {
      for _ in 0..<6 { values[Int.random(in: 0..<cells, using: &g)] = Double.random(in: 0.1...1, using: &g) }
    }
    return try GridHistogram(shape: shape, intensities: values, spacing: spacing)
  }

  /// Row-major cell index → per-axis indices.
  static func coordinates(_ cell: Int, _ shape: [Int]) -> [Int] {
    var rest = cell
    var result = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() {
      result[axis] = rest % shape[axis]
      rest /= shape[axis]
    }
    return result
  }

  /// The cell centres weighted by the masses (zero masses kept), for the dense solver.
  static func cloud(_ histogram: GridHistogram) throws -> PointCloud {
    let d = histogram.shape.count
    var points: [Double] = []
    for cell in 0..<histogram.cellCount {
      let index = coordinates(cell, histogram.shape)
      for axis in 0..<d { points.append(Double(index[axis]) * histogram.spacing[axis]) }
    }
    return try PointCloud(
      points: Matrix(rows: histogram.cellCount, columns: d, elements: points), weights: histogram.masses)
  }

  static func gridOptions(_ epsilon: Double, _ backend: GridKernelBackend, tolerance: Double = 1e-11)
    -> GridSinkhornOptions
  {
    try! GridSinkhornOptions(epsilon: epsilon, tolerance: tolerance, maxIterations: 200_000, backend: backend)
  }

  /// `cases` without those on ``GridKernelBackend/fft`` when the package was built without its
  /// `FFTW` trait (GridFFTTraitTests checks that `.fft` is refused there).
  static func runnable<T>(_ cases: [T], backend: (T) -> GridKernelBackend) -> [T] {
    cases.filter { backend($0) != .fft || GridKernelBackend.isFFTAvailable }
  }

  static func denseOptions(_ epsilon: Double, tolerance: Double = 1e-11) -> SinkhornOptions {
    try! SinkhornOptions(epsilon: epsilon, tolerance: tolerance, maxIterations: 200_000)
  }
}

/// The grid solver against the dense log-domain solver on the cell centres, and the invariances
/// of the grid problem.
///
/// Agreement tolerance 1e-8 relative (the issue's criterion): both solves stop at an L1 marginal
/// error of 1e-11, which moves a value by about ε × 1e-11 relative to potentials of order D²; the
/// remaining differences are the kernels' round-off.
struct GridSinkhornTests {
  static let pairs = [("blob", "blob"), ("ring", "blob"), ("sparse", "ring")]

  static func relative(_ x: Double, _ y: Double) -> Double { abs(x - y) / max(abs(y), 1e-300) }

  /// Above its accuracy threshold (ε ≥ 0.05 D² = 96.1 on 32 x 32), the FFT backend agrees with
  /// the dense solver, on the divergence and on each OT term.
  @Test(.enabled(if: GridKernelBackend.isFFTAvailable, "needs the FFTW trait"), arguments: [100.0, 200, 500])
  func fftAgreesWithDenseAboveThreshold(epsilon: Double) throws {
    #expect(epsilon >= GridKernelBackend.fftThreshold * 1922)
    for (i, (ka, kb)) in Self.pairs.enumerated() {
      let a = try GridCases.histogram(ka, [32, 32], seed: UInt64(10 + i))
      let b = try GridCases.histogram(kb, [32, 32], seed: UInt64(20 + i))
      let options = GridCases.gridOptions(epsilon, .fft)
      #expect(GridSinkhorn.backend(for: a, options: options) == .fft)
      #expect(
        GridSinkhorn.backend(for: a, options: GridCases.gridOptions(epsilon, .automatic)) == .separableKernel)
      let grid = try GridSinkhorn.divergence(a, b, options: options)
      let dense = try Sinkhorn.divergence(
        GridCases.cloud(a), GridCases.cloud(b), options: GridCases.denseOptions(epsilon))
      #expect(Self.relative(grid.value, dense.value) < 1e-8, "\(ka)-\(kb) S: \(grid.value) vs \(dense.value)")
      #expect(Self.relative(grid.crossTerm.value, dense.crossTerm.value) < 1e-8)
      #expect(Self.relative(grid.firstSelfTerm.value, dense.firstSelfTerm.value) < 1e-8)
    }
  }

  /// The log backend agrees with the dense solver (and is the automatic choice below
  /// ε = 0.001 D² = 1.922 on 32 x 32).
  @Test(arguments: [1.0, 2, 10, 40, 90])
  func logAgreesWithDenseBelowThreshold(epsilon: Double) throws {
    for (i, (ka, kb)) in Self.pairs.enumerated() {
      let a = try GridCases.histogram(ka, [32, 32], seed: UInt64(30 + i))
      let b = try GridCases.histogram(kb, [32, 32], seed: UInt64(40 + i))
      let options = GridCases.gridOptions(epsilon, .logDomain)
      let automatic = GridSinkhorn.backend(for: a, options: GridCases.gridOptions(epsilon, .automatic))
      #expect(automatic == (epsilon >= 1.922 ? .separableKernel : .logDomain))
      let grid = try GridSinkhorn.divergence(a, b, options: options)
      let dense = try Sinkhorn.divergence(
        GridCases.cloud(a), GridCases.cloud(b), options: GridCases.denseOptions(epsilon))
      #expect(Self.relative(grid.value, dense.value) < 1e-8, "\(ka)-\(kb) S: \(grid.value) vs \(dense.value)")
      #expect(Self.relative(grid.crossTerm.value, dense.crossTerm.value) < 1e-8)
    }
  }

  /// 1-D, 3-D and anisotropic spacing, both backends, against the dense solver.
  @Test(arguments: [
    ([60], [1.0], 5.0), ([60], [1.0], 400.0), ([6, 7, 8], [1.0, 1, 1], 1.5), ([6, 7, 8], [1.0, 1, 1], 20.0),
    ([12, 20], [0.5, 0.1], 0.2), ([12, 20], [0.5, 0.1], 2.0),
  ])
  func otherGridsAgreeWithDense(shape: [Int], spacing: [Double], epsilon: Double) throws {
    let a = try GridCases.histogram("blob", shape, seed: 50, spacing: spacing)
    let b = try GridCases.histogram("ring", shape, seed: 51, spacing: spacing)
    let dense = try Sinkhorn.divergence(
      GridCases.cloud(a), GridCases.cloud(b), options: GridCases.denseOptions(epsilon))
    let grid = try GridSinkhorn.divergence(a, b, options: GridCases.gridOptions(epsilon, .automatic))
    #expect(Self.relative(grid.value, dense.value) < 1e-8, "\(grid.value) vs \(dense.value)")
    let log = try GridSinkhorn.divergence(a, b, options: GridCases.gridOptions(epsilon, .logDomain))
    #expect(Self.relative(log.value, dense.value) < 1e-8, "log \(log.value) vs \(dense.value)")
  }

  /// Two Diracs: the only coupling is the product, so OT_ε = ‖z - z'‖² for every ε and the self
  /// terms are 0; with both backends.
  @Test(
    arguments: GridCases.runnable(
      [(GridKernelBackend.logDomain, 0.05), (.logDomain, 3), (.fft, 300), (.automatic, 1e4)], backend: \.0))
  func twoDiracs(backend: GridKernelBackend, epsilon: Double) throws {
    var x = [Double](repeating: 0, count: 20 * 24)
    var y = x
    x[3 * 24 + 5] = 1
    y[17 * 24 + 20] = 1
    let a = try GridHistogram(shape: [20, 24], masses: x)
    let b = try GridHistogram(shape: [20, 24], masses: y)
    let s = try GridSinkhorn.divergence(a, b, options: GridCases.gridOptions(epsilon, backend))
    let cost = 14.0 * 14 + 15 * 15
    #expect(Self.relative(s.crossTerm.value, cost) < 1e-10)
    #expect(abs(s.firstSelfTerm.value) < 1e-10 * cost)
    #expect(Self.relative(s.value, cost) < 1e-10)
  }

  /// Embedding both histograms at an offset in a larger grid leaves the problem unchanged: no
  /// wrap-around from the FFT's periodicity, no border effect from the log passes.
  @Test(arguments: GridCases.runnable([GridKernelBackend.logDomain, .fft, .separableKernel]) { $0 })
  func embeddingInALargerGrid(backend: GridKernelBackend) throws {
    let a = try GridCases.histogram("blob", [16, 16], seed: 60)
    let b = try GridCases.histogram("ring", [16, 16], seed: 61)
    func embed(_ h: GridHistogram) throws -> GridHistogram {
      var big = [Double](repeating: 0, count: 40 * 36)
      for i in 0..<16 { for j in 0..<16 { big[(i + 20) * 36 + (j + 3)] = h.masses[i * 16 + j] } }
      return try GridHistogram(shape: [40, 36], masses: big)
    }
    let epsilon = backend == .fft ? 60.0 : 4.0
    let small = try GridSinkhorn.divergence(a, b, options: GridCases.gridOptions(epsilon, backend)).value
    let large = try GridSinkhorn.divergence(
      embed(a), embed(b), options: GridCases.gridOptions(epsilon, backend)
    ).value
    #expect(Self.relative(large, small) < 1e-8, "\(large) vs \(small)")
  }

  /// Symmetry and S(a, a) = 0.
  @Test func symmetryAndIdentity() throws {
    let a = try GridCases.histogram("sparse", [24, 24], seed: 70)
    let b = try GridCases.histogram("blob", [24, 24], seed: 71)
    let options = GridCases.gridOptions(3, .automatic)
    let ab = try GridSinkhorn.divergence(a, b, options: options).value
    let ba = try GridSinkhorn.divergence(b, a, options: options).value
    #expect(Self.relative(ab, ba) < 1e-9)
    #expect(abs(try GridSinkhorn.divergence(a, a, options: options).value) < 1e-9 * ab)
  }

  /// No NaN at the smallest ε we support (0.05 squared cells, where the kernel between
  /// neighbouring cells is e^-20): the log backend converges to finite potentials, and the FFT
  /// backend forced far below its range still returns finite numbers (with the FFTW trait).
  @Test func smallestEpsilon() throws {
    let a = try GridCases.histogram("sparse", [32, 32], seed: 80)
    let b = try GridCases.histogram("ring", [32, 32], seed: 81)
    let s = try GridSinkhorn.divergence(
      a, b, options: GridCases.gridOptions(0.05, .automatic, tolerance: 1e-9))
    #expect(s.value.isFinite && s.value > 0)
    #expect(s.crossTerm.f.allSatisfy(\.isFinite) && s.crossTerm.g.allSatisfy(\.isFinite))
    #expect(s.marginalError <= 1e-9)
    guard GridKernelBackend.isFFTAvailable else { return }
    let options = try GridSinkhornOptions(
      epsilon: 0.5, maxIterations: 50, backend: .fft, allowsUnconverged: true)
    let forced = try GridSinkhorn.transport(from: a, to: b, options: options)
    #expect(forced.value.isFinite)
    #expect(forced.f.allSatisfy(\.isFinite) && forced.g.allSatisfy(\.isFinite))
  }

  /// Many threads computing divergences against one memory give bit-for-bit the results of a
  /// serial loop, with both backends (kernels and FFT plans are shared read-only).
  @Test(arguments: [10.0, 200])
  func concurrentEqualsSerial(epsilon: Double) throws {
    let divergence = GridSinkhornDivergence(
      options: GridCases.gridOptions(epsilon, .automatic, tolerance: 1e-9))
    let patterns = try (0..<4).map {
      try GridCases.histogram(["blob", "ring", "sparse", "blob"][$0], [24, 24], seed: UInt64(90 + $0))
    }
    let memory = try Memory(divergence: divergence, patterns: patterns)
    let queries = try (0..<8).map {
      try GridCases.histogram($0 % 2 == 0 ? "blob" : "ring", [24, 24], seed: UInt64(100 + $0))
    }
    @Sendable func values(_ q: GridHistogram) throws -> [Double] {
      let query = try divergence.prepareQuery(q)
      return try (0..<memory.count).map { i in
        try divergence.evaluate(q, query: query, pattern: memory.patterns[i], cache: memory.caches[i]).value
      }
    }
    let serial = try queries.map(values)
    let results = _Box([[Double]](repeating: [], count: queries.count))
    DispatchQueue.concurrentPerform(iterations: queries.count * 2) { t in
      let v = try! values(queries[t % queries.count])
      results.lock.lock()
      if t < queries.count { results.value[t] = v } else { #expect(v == serial[t % queries.count]) }
      results.lock.unlock()
    }
    #expect(results.value == serial)
  }

  /// Histograms on different grids are refused, naming the argument.
  @Test func mismatchedGrids() throws {
    let a = try GridCases.histogram("blob", [8, 8], seed: 1)
    let b = try GridCases.histogram("blob", [8, 9], seed: 2)
    let c = try GridCases.histogram("blob", [8, 8], seed: 3, spacing: [1, 2])
    let options = GridCases.gridOptions(1, .automatic)
    #expect(throws: DAMError.self) { try GridSinkhorn.divergence(a, b, options: options) }
    do {
      _ = try GridSinkhorn.transport(from: a, to: c, options: options)
      Issue.record("expected an error")
    } catch { #expect(error.argument == "b" && error.message.contains("spacing")) }
  }
}

final class _Box<T>: @unchecked Sendable {
  var value: T
  let lock = NSLock()
  init(_ value: T) { self.value = value }
}
