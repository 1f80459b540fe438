// Regression benchmarks: one per hot path of the library, at sizes that run in well under a
// second each so the whole suite takes about a minute in release mode. Peer comparisons live in
// `scripts/bench/`; these track the library against itself over time (`swift package benchmark
// baseline compare`).

import Benchmark
@_spi(Testing) import DAM

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
    warmupIterations: 1,
    scalingFactor: .one,
    maxDuration: .seconds(5),
    maxIterations: 50
  )

  // Debiased Sinkhorn divergence, uniform clouds in the unit square, both backends.
  for (n, epsilon) in [(256, 0.05), (1024, 0.05), (1024, 0.005)] {
    let (x, y) = Workloads.clouds(n: n, dimension: 2, seed: 1)
    for backend in [SinkhornBackend.kernel, .logDomain] where backend == .kernel || n <= 256 {
      Benchmark("Sinkhorn divergence n=\(n) d=2 eps=\(epsilon) \(backend)") { benchmark in
        let options = try SinkhornOptions(epsilon: epsilon, tolerance: 1e-6, backend: backend)
        for _ in benchmark.scaledIterations {
          blackHole(try Sinkhorn.divergence(x, y, options: options).value)
        }
      }
    }
  }

  // The vectorised exponential behind kernel rebuilds: 2^20 values per call.
  Benchmark("exp in place, 2^20 doubles", configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput])) {
    benchmark in
    var values = (0..<(1 << 20)).map { -Double($0 % 1000) / 10 }
    for _ in benchmark.scaledIterations {
      values.withUnsafeMutableBufferPointer { _expInPlace($0.baseAddress!, count: $0.count) }
      blackHole(values[17])
      for i in values.indices { values[i] = -Double(i % 1000) / 10 }
    }
  }

  // One Sinkhorn-SHK retrieval against 1000 stored clouds of 32 atoms, sparsemax with exact
  // pruning and softmax with a dropped-weight bound.
  let memory = try! Workloads.cloudMemory(count: 1000, atoms: 32, seed: 1)
  for (name, pruning, map) in [
    ("sparsemax exact", Pruning.exact, AnySeparationMap(Sparsemax())),
    ("softmax mass 1e-9", Pruning.softmaxMass(1e-9), AnySeparationMap(Softmax())),
  ] {
    Benchmark("SHK retrieval N=1000 n=32 \(name)") { benchmark in
      let engine = try RetrievalEngine(
        memory: memory.memory, separation: map, geometry: SHKGeometry(), beta: 100,
        stopping: StoppingRule(maxSteps: 10, energyTolerance: 1e-9, positionTolerance: nil, massTolerance: nil),
        pruning: pruning)
      for _ in benchmark.scaledIterations {
        blackHole(try engine.retrieve(memory.query).nearestPattern)
      }
    }
  }

  // One BW-DAM step: 1000 full Gaussians in d = 50, softmax at beta = 2.
  let gaussians = try! Workloads.gaussianMemory(count: 1000, dimension: 50, seed: 1)
  Benchmark("BW-DAM step N=1000 d=50") { benchmark in
    let engine = try RetrievalEngine(
      memory: gaussians.memory, separation: .softmax, geometry: BuresWassersteinGeometry(), beta: 2)
    for _ in benchmark.scaledIterations {
      let snapshot = try engine.snapshot(at: gaussians.query)
      blackHole(try engine.step(from: gaussians.query, snapshot: snapshot))
    }
  }

  // Grid Sinkhorn divergence between two 64 x 64 blobs, automatic backend.
  let (a, b) = try! Workloads.blobs(side: 64)
  for epsilon in [4.0, 400.0] {
    Benchmark("grid Sinkhorn divergence 64x64 eps=\(epsilon)") { benchmark in
      let options = try GridSinkhornOptions(epsilon: epsilon, tolerance: 1e-6)
      for _ in benchmark.scaledIterations {
        blackHole(try GridSinkhorn.divergence(a, b, options: options).value)
      }
    }
  }
}

/// Seeded workloads, the same on every run.
enum Workloads {
  static func clouds(n: Int, dimension: Int, seed: UInt64) -> (PointCloud, PointCloud) {
    var generator = SeededGenerator(seed: seed)
    func cloud() -> PointCloud {
      let elements = (0..<(n * dimension)).map { _ in Double.random(in: 0..<1, using: &generator) }
      return try! PointCloud(points: Matrix(rows: n, columns: dimension, elements: elements))
    }
    return (cloud(), cloud())
  }

  static func cloudMemory(count: Int, atoms: Int, seed: UInt64) throws
    -> (memory: Memory<SinkhornDivergence>, query: PointCloud)
  {
    var generator = SeededGenerator(seed: seed)
    var clouds: [PointCloud] = []
    for _ in 0..<count {
      let centre = (Double.random(in: 0...10, using: &generator), Double.random(in: 0...10, using: &generator))
      var points: [Double] = []
      for _ in 0..<atoms {
        points.append(centre.0 + 0.2 * generator.nextGaussian())
        points.append(centre.1 + 0.2 * generator.nextGaussian())
      }
      clouds.append(try PointCloud(points: Matrix(rows: atoms, columns: 2, elements: points)))
    }
    let target = clouds[7]
    let query = try PointCloud(
      points: Matrix(
        rows: atoms, columns: 2, elements: target.points.elements.map { $0 + 0.05 * generator.nextGaussian() }))
    let divergence = SinkhornDivergence(options: try SinkhornOptions(epsilon: 0.01, tolerance: 1e-9))
    return (try Memory(divergence: divergence, patterns: clouds), query)
  }

  static func gaussianMemory(count: Int, dimension d: Int, seed: UInt64) throws
    -> (memory: Memory<BuresWassersteinDivergence>, query: Gaussian)
  {
    var generator = SeededGenerator(seed: seed)
    func gaussian() throws -> Gaussian {
      let b = try Matrix(rows: d, columns: d, elements: generator.gaussians(d * d))
      var covariance = [Double](repeating: 0, count: d * d)
      for i in 0..<d {
        for j in 0..<d {
          var sum = 0.0
          for k in 0..<d { sum += b[i, k] * b[j, k] }
          covariance[i * d + j] = sum / Double(d) + (i == j ? 0.1 : 0)
        }
      }
      return try Gaussian(mean: generator.gaussians(d), covariance: Matrix(rows: d, columns: d, elements: covariance))
    }
    let patterns = try (0..<count).map { _ in try gaussian() }
    return (try Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), try gaussian())
  }

  static func blobs(side: Int) throws -> (GridHistogram, GridHistogram) {
    func blob(_ cx: Double, _ cy: Double, _ radius: Double) throws -> GridHistogram {
      var intensities: [Double] = []
      for i in 0..<side {
        for j in 0..<side {
          let r = ((Double(i) - cx) * (Double(i) - cx) + (Double(j) - cy) * (Double(j) - cy)).squareRoot()
          intensities.append(r <= radius ? 1 + Double((i * 7 + j * 3) % 5) : 0)
        }
      }
      return try GridHistogram(shape: [side, side], intensities: intensities)
    }
    let s = Double(side)
    return (try blob(0.3 * s, 0.3 * s, 0.15 * s), try blob(0.65 * s, 0.6 * s, 0.2 * s))
  }
}
