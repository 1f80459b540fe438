import DAM
import Foundation
import NumPyFiles

/// `dam bench grids`: grid Sinkhorn per-iteration times for every kernel backend (and the dense
/// point-cloud solver where it fits), the barycenter workloads of the peer benchmark
/// (`scripts/bench/grids.sh` times POT on the same problems), and the accuracy scan behind
/// ``GridKernelBackend/separableKernelThreshold``.
package struct GridBenchmarks {
  package var sections: String
  package var repeats: Int
  package var iterations: Int
  package var tolerance: Double
  package var logBarycenterWidth: Int
  package var output: String?
  package var json: Bool

  package init(
    sections: String, repeats: Int, iterations: Int,
    tolerance: Double, logBarycenterWidth: Int, output: String?, json: Bool
  ) {
    self.sections = sections
    self.repeats = repeats
    self.iterations = iterations
    self.tolerance = tolerance
    self.logBarycenterWidth = logBarycenterWidth
    self.output = output
    self.json = json
  }

  package struct IterationRow: Encodable {
    package var grid: String
    package var cells: Int
    package var epsilonOverD2: Double
    package var solver: String
    package var secondsPerIteration: Double
    package var cpuSecondsPerIteration: Double
    package var ratioToSeparable: Double
  }

  package struct BarycenterRow: Encodable {
    package var width: Int
    package var count: Int
    package var backend: String
    package var debiased: Bool
    package var seconds: Double
    package var cpuSeconds: Double
    package var iterations: Int
    package var marginalError: Double
    package var spread: Double
    package var l1ToReference: Double
    package var centreX: Double
    package var referenceIterations: Int
  }

  package struct AccuracyRow: Encodable {
    package var grid: String
    package var pair: String
    package var epsilon: Double
    package var epsilonOverD2: Double
    package var dense: Double
    package var backend: String
    package var relativeError: Double?
    package var seconds: Double
    package var note: String
  }

  package struct Results: Encodable {
    package var iterations: [IterationRow] = []
    package var barycenters: [BarycenterRow] = []
    package var accuracy: [AccuracyRow] = []
    package var tolerance: Double
    package var repeats: Int
  }

  package func run() throws {
    let chosen = Set(sections.split(separator: ",").map(String.init))
    var results = Results(tolerance: tolerance, repeats: repeats)
    if let output {
      try attributing("--output") {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
      }
    }
    if chosen.contains("iterations") { results.iterations = try iterationRows() }
    if chosen.contains("barycenters") { results.barycenters = try barycenterRows() }
    if chosen.contains("accuracy") { results.accuracy = try accuracyRows() }
    Terminal.endProgress()
    if let output { try ReportFolder(path: output).writeJSON("dam-grids.json", results) }
    if json {
      try JSONOutput.print(results)
      return
    }
    if !results.iterations.isEmpty {
      var table = Table(header: [
        "grid", "eps / D^2", "solver", "s / iteration", "CPU s / iteration", "ratio",
      ])
      for r in results.iterations {
        table.append([
          r.grid, Table.format(r.epsilonOverD2, digits: 4), r.solver,
          Table.format(r.secondsPerIteration, digits: 3),
          Table.format(r.cpuSecondsPerIteration, digits: 3), Table.format(r.ratioToSeparable, digits: 3),
        ])
      }
      print(table.markdown)
    }
    if !results.barycenters.isEmpty {
      var table = Table(header: [
        "grid", "k", "backend", "debiased", "median s", "CPU s", "iterations", "marginal error", "spread",
        "L1 to reference",
      ])
      for r in results.barycenters {
        table.append([
          "\(r.width)x\(r.width)", "\(r.count)", r.backend, "\(r.debiased)",
          Table.format(r.seconds, digits: 3),
          Table.format(r.cpuSeconds, digits: 3), "\(r.iterations)", Table.format(r.marginalError, digits: 2),
          Table.format(r.spread, digits: 2), Table.format(r.l1ToReference, digits: 2),
        ])
      }
      print(table.markdown)
    }
    if !results.accuracy.isEmpty {
      var table = Table(header: [
        "grid", "pair", "eps", "eps / D^2", "S_eps (dense)", "backend", "rel. error", "s", "note",
      ])
      for r in results.accuracy {
        table.append([
          r.grid, r.pair, Table.format(r.epsilon, digits: 4), Table.format(r.epsilonOverD2, digits: 4),
          Table.format(r.dense, digits: 10), r.backend,
          r.relativeError.map { Table.format($0, digits: 2) } ?? "-",
          Table.format(r.seconds, digits: 3), r.note,
        ])
      }
      print(table.markdown)
    }
  }

  // MARK: - Workloads

  /// The peer benchmark's `histograms(w, k)` (as in scripts/bench/grids_peers.py): blobs (even i) and rings (odd i) of width
  /// 0.04 at fixed centres on `linspace(0, 1, w)²`, plus 1e-10, normalised.
  package static func peerHistograms(_ w: Int, _ k: Int) throws -> [GridHistogram] {
    let centres = [(0.25, 0.25), (0.75, 0.7), (0.3, 0.75), (0.7, 0.25), (0.5, 0.5)]
    let h = 1 / Double(w - 1)
    return try (0..<k).map { i in
      var values = [Double](repeating: 0, count: w * w)
      for a in 0..<w {
        for b in 0..<w {
          let (x, y) = (Double(a) * h, Double(b) * h)
          let r = ((x - centres[i].0) * (x - centres[i].0) + (y - centres[i].1) * (y - centres[i].1))
            .squareRoot()
          let t = r - 0.08 * Double(i % 2)
          values[a * w + b] = exp(-t * t / (2 * 0.04 * 0.04)) + 1e-10
        }
      }
      return try GridHistogram(shape: [w, w], intensities: values, spacing: [h, h])
    }
  }

  /// Two blobs of width 0.08 on `linspace(0, 1, n)³` (centres 0.3 and 0.65 on every axis), plus 1e-10.
  package static func volumeHistograms(_ n: Int) throws -> [GridHistogram] {
    let h = 1 / Double(n - 1)
    return try [0.3, 0.65].map { c in
      var values = [Double](repeating: 0, count: n * n * n)
      for cell in 0..<values.count {
        let index = [cell / (n * n), (cell / n) % n, cell % n]
        var r2 = 0.0
        for axis in 0..<3 { r2 += (Double(index[axis]) * h - c) * (Double(index[axis]) * h - c) }
        values[cell] = exp(-r2 / (2 * 0.08 * 0.08)) + 1e-10
      }
      return try GridHistogram(shape: [n, n, n], intensities: values, spacing: [h, h, h])
    }
  }

  /// Median wall and CPU seconds of `repeats` runs after one warm-up run, and the last result.
  package func timed<T>(_ body: () throws -> T) throws -> (wall: Double, cpu: Double, result: T) {
    var result = try body()
    var wall: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<repeats {
      let (startWall, startCPU) = (Terminal.now(), Terminal.cpuTime())
      result = try body()
      wall.append(Terminal.now() - startWall)
      cpu.append(Terminal.cpuTime() - startCPU)
    }
    return (SinkhornBenchmark.median(wall), SinkhornBenchmark.median(cpu), result)
  }

  /// The grid backends this build has (the FFT one only with the FFTW trait).
  package static let gridBackends: [(String, GridKernelBackend)] =
    [("grid separable (BLAS)", .separableKernel), ("grid log-domain", .logDomain)]
    + (GridKernelBackend.isFFTAvailable ? [("grid FFT", .fft)] : [])

  package func iterationRows() throws -> [IterationRow] {
    var rows: [IterationRow] = []
    let grids: [(String, [GridHistogram])] = [
      ("64x64", try Self.peerHistograms(64, 2)), ("256x256", try Self.peerHistograms(256, 2)),
      ("64^3", try Self.volumeHistograms(64)),
    ]
    for (name, pair) in grids {
      let (a, b) = (pair[0], pair[1])
      let d2 = Double(a.shape.count)  // unit square / cube
      for ratio in [0.002, 0.05] {
        let epsilon = ratio * d2
        var baseline: Double? = nil
        var solvers: [(String, () throws -> Void)] = Self.gridBackends.map { label, backend in
          (
            label,
            {
              let options = try GridSinkhornOptions(
                epsilon: epsilon, tolerance: 0, maxIterations: iterations, epsilonScaling: nil,
                relaxation: .none,
                backend: backend, allowsUnconverged: true)
              _ = try GridSinkhorn.transport(from: a, to: b, options: options)
            }
          )
        }
        if a.cellCount <= 4096 {
          let x = try Self.cloud(a)
          let y = try Self.cloud(b)
          for (label, backend) in [
            ("dense kernel (BLAS)", SinkhornBackend.kernel), ("dense log-domain", .logDomain),
          ] {
            solvers.append(
              (
                label,
                {
                  let options = try SinkhornOptions(
                    epsilon: epsilon, tolerance: 0, maxIterations: iterations, epsilonScaling: nil,
                    relaxation: .none, newton: false, allowsUnconverged: true, backend: backend)
                  _ = try Sinkhorn.transport(from: x, to: y, options: options)
                }
              ))
          }
        }
        for (label, body) in solvers {
          Terminal.progress("iterations: \(name), eps/D^2 = \(ratio), \(label)")
          let t = try timed(body)
          let perIteration = t.wall / Double(iterations)
          if baseline == nil { baseline = perIteration }
          rows.append(
            IterationRow(
              grid: name, cells: a.cellCount, epsilonOverD2: ratio, solver: label,
              secondsPerIteration: perIteration,
              cpuSecondsPerIteration: t.cpu / Double(iterations), ratioToSeparable: perIteration / baseline!))
        }
      }
    }
    return rows
  }

  package static func cloud(_ histogram: GridHistogram) throws -> PointCloud {
    let d = histogram.shape.count
    var points: [Double] = []
    points.reserveCapacity(histogram.cellCount * d)
    for cell in 0..<histogram.cellCount {
      var rest = cell
      var index = [Int](repeating: 0, count: d)
      for axis in (0..<d).reversed() {
        index[axis] = rest % histogram.shape[axis]
        rest /= histogram.shape[axis]
      }
      for axis in 0..<d { points.append(Double(index[axis]) * histogram.spacing[axis]) }
    }
    return try PointCloud(
      points: Matrix(rows: histogram.cellCount, columns: d, elements: points), weights: histogram.masses)
  }

  package func barycenterRows() throws -> [BarycenterRow] {
    var rows: [BarycenterRow] = []
    for w in [64, 256] {
      for k in [2, 5] {
        let inputs = try Self.peerHistograms(w, k)
        Terminal.progress("barycenters: \(w)x\(w), k = \(k), reference (tolerance 1e-11)")
        let referenceOptions = try GridSinkhornOptions(
          epsilon: 0.004, tolerance: 1e-11, maxIterations: 3_000, allowsUnconverged: true)
        let reference = try GridSinkhorn.barycenter(of: inputs, options: referenceOptions)
        try write(reference.histogram, "reference-\(w)-\(k).npy")
        var backends: [(String, GridKernelBackend)] = [("automatic", .automatic)]
        if w <= logBarycenterWidth { backends.append(("log", .logDomain)) }
        for (label, backend) in backends {
          Terminal.progress("barycenters: \(w)x\(w), k = \(k), \(label)")
          let options = try GridSinkhornOptions(
            epsilon: 0.004, tolerance: tolerance, maxIterations: 100_000, backend: backend)
          let t = try timed { try GridSinkhorn.barycenter(of: inputs, options: options) }
          let bar = t.result
          if label == "automatic" { try write(bar.histogram, "dam-\(w)-\(k).npy") }
          var l1 = 0.0
          var centre = 0.0
          for j in 0..<bar.histogram.cellCount {
            l1 += abs(bar.histogram.masses[j] - reference.histogram.masses[j])
            centre += bar.histogram.masses[j] * Double(j / w) / Double(w - 1)
          }
          rows.append(
            BarycenterRow(
              width: w, count: k, backend: GridBackendChoice.name(bar.backend), debiased: false,
              seconds: t.wall,
              cpuSeconds: t.cpu, iterations: bar.iterations, marginalError: bar.marginalError,
              spread: bar.spread,
              l1ToReference: l1, centreX: centre, referenceIterations: reference.iterations))
        }
      }
    }
    return rows
  }

  package func write(_ histogram: GridHistogram, _ name: String) throws {
    guard let output else { return }
    let path = URL(fileURLWithPath: output).appendingPathComponent(name).path
    try attributing("--output") {
      try NPY.write(NumPyArray(shape: histogram.shape, doubles: histogram.masses), to: path)
    }
  }

  /// Blob (full support), ring (mostly zero cells) and sparse (six cells) histograms, as in the tests.
  package static func testHistogram(_ kind: String, _ shape: [Int], spacing: [Double], seed: UInt64) throws
    -> GridHistogram

  {
    var g = SeededGenerator(seed: seed)
    let cells = shape.reduce(1, *)
    var values = [Double](repeating: 0, count: cells)
    let centre = shape.map { Double($0 - 1) * Double.random(in: 0.3...0.7, using: &g) }
    let radius = Double(shape.max()!) * Double.random(in: 0.15...0.3, using: &g)
    for cell in 0..<cells {
      var rest = cell
      var r2 = 0.0
      for axis in shape.indices.reversed() {
        let x = Double(rest % shape[axis]) - centre[axis]
        r2 += x * x
        rest /= shape[axis]
      }
      switch kind {
      case "blob": values[cell] = exp(-r2 / (2 * radius * radius)) + 1e-3
      case "ring":
        values[cell] = abs(r2.squareRoot() - radius) < 1.5 ? 1 + Double.random(in: 0...1, using: &g) : 0
      default: values[cell] = 0
      }
    }
    if kind == "sparse" {
      for _ in 0..<6 { values[Int.random(in: 0..<cells, using: &g)] = Double.random(in: 0.1...1, using: &g) }
    }
    return try GridHistogram(shape: shape, intensities: values, spacing: spacing)
  }

  package func accuracyRows() throws -> [AccuracyRow] {
    var rows: [AccuracyRow] = []
    let grids: [(String, [Int], [Double])] = [
      ("32x32", [32, 32], [1, 1]), ("10x12x14", [10, 12, 14], [1, 0.8, 0.6]),
    ]
    let pairs = [("blob", "blob"), ("ring", "blob"), ("sparse", "ring")]
    for (name, shape, spacing) in grids {
      var d2 = 0.0
      for axis in shape.indices { d2 += pow(spacing[axis] * Double(shape[axis] - 1), 2) }
      for (first, second) in pairs {
        let a = try Self.testHistogram(first, shape, spacing: spacing, seed: 1)
        let b = try Self.testHistogram(second, shape, spacing: spacing, seed: 2)
        let x = try Self.cloud(a)
        let y = try Self.cloud(b)
        for ratio in [0.2, 0.05, 0.02, 0.005, 0.002, 0.001, 0.0005] {
          let epsilon = ratio * d2
          Terminal.progress("accuracy: \(name), \(first)-\(second), eps/D^2 = \(ratio)")
          let dense = try Sinkhorn.divergence(
            x, y, options: SinkhornOptions(epsilon: epsilon, tolerance: 1e-11, maxIterations: 200_000)
          ).value
          for (label, backend) in [
            ("separable", GridKernelBackend.separableKernel), ("log", .logDomain), ("fft", .fft),
          ] where backend != .fft || GridKernelBackend.isFFTAvailable {
            let options = try GridSinkhornOptions(
              epsilon: epsilon, tolerance: backend == .fft ? 1e-9 : 1e-11,
              maxIterations: backend == .fft ? 5_000 : 20_000, backend: backend)
            let start = Terminal.now()
            var error: Double? = nil
            var note = ""
            do {
              let value = try GridSinkhorn.divergence(a, b, options: options).value
              error = abs(value - dense) / abs(dense)
            } catch {
              note = "failed: \(error.message)"
              if note.count > 60 { note = String(note.prefix(60)) + "..." }
            }
            rows.append(
              AccuracyRow(
                grid: name, pair: "\(first)-\(second)", epsilon: epsilon, epsilonOverD2: ratio, dense: dense,
                backend: label, relativeError: error, seconds: Terminal.now() - start, note: note))
          }
        }
      }
    }
    return rows
  }
}
