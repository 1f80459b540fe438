import DAM

/// `dam bench sinkhorn`: the debiased Sinkhorn divergence between two uniform clouds in the unit
/// cube (the peer workloads of `scripts/bench/sinkhorn.sh`), for each backend, in one process.
package struct SinkhornBenchmark {
  package var sizes: String
  package var dimensions: String
  package var epsilons: String
  package var backends: String
  package var tolerance: Double
  package var newton: Bool
  package var repeats: Int
  package var epsilonScaling: String
  package var seed: UInt64
  package var json: Bool

  package init(
    sizes: String, dimensions: String, epsilons: String,
    backends: String, tolerance: Double, newton: Bool, repeats: Int,
    epsilonScaling: String, seed: UInt64, json: Bool
  ) {
    self.sizes = sizes
    self.dimensions = dimensions
    self.epsilons = epsilons
    self.backends = backends
    self.tolerance = tolerance
    self.newton = newton
    self.repeats = repeats
    self.epsilonScaling = epsilonScaling
    self.seed = seed
    self.json = json
  }

  package struct Row: Encodable {
    package var n: Int
    package var d: Int
    package var epsilon: Double
    package var backend: String
    package var seconds: Double
    package var cpuSeconds: Double
    package var ratio: Double
    package var iterations: [Int]
    package var newtonSteps: Int
    package var value: Double
    package var marginalError: Double
  }

  package func run() throws {
    let sizeList = try Self.integers(sizes, "--sizes")
    let dimensionList = try Self.integers(dimensions, "--dimensions")
    let epsilonList = try Self.numbers(epsilons, "--epsilons")
    let backendList = try backends.split(separator: ",").map {
      name throws(CLIError) -> (String, SinkhornBackend) in
      switch name.trimmingWhitespace {
      case "kernel": return ("kernel", .kernel)
      case "log-domain": return ("log-domain", .logDomain)
      case "automatic": return ("automatic", .automatic)
      default: throw CLIError("--backends", "unknown backend '\(name)'; use kernel, log-domain or automatic")
      }
    }
    guard !backendList.isEmpty else {
      throw CLIError("--backends", "is empty; give kernel, log-domain or automatic, comma-separated")
    }
    var rows: [Row] = []
    for n in sizeList {
      for d in dimensionList {
        var generator = SeededGenerator(seed: seed &+ UInt64(n * 1000 + d))
        let x = try Self.uniformCloud(n, d, &generator)
        let y = try Self.uniformCloud(n, d, &generator)
        for epsilon in epsilonList {
          var baseline: Double? = nil
          for (name, backend) in backendList {
            Terminal.progress("n = \(n), d = \(d), eps = \(epsilon): \(name)")
            let options = try attributing("--epsilons") {
              try SinkhornOptions(
                epsilon: epsilon, tolerance: tolerance, maxIterations: 100_000,
                epsilonScaling: try Self.scalingFactor(epsilonScaling), newton: newton, backend: backend)
            }
            var result = try Sinkhorn.divergence(x, y, options: options)
            var wall: [Double] = []
            var cpu: [Double] = []
            for _ in 0..<repeats {
              let (startWall, startCPU) = (Terminal.now(), Terminal.cpuTime())
              result = try Sinkhorn.divergence(x, y, options: options)
              wall.append(Terminal.now() - startWall)
              cpu.append(Terminal.cpuTime() - startCPU)
            }
            let seconds = Self.median(wall)
            if baseline == nil { baseline = seconds }
            rows.append(
              Row(
                n: n, d: d, epsilon: epsilon, backend: name, seconds: seconds, cpuSeconds: Self.median(cpu),
                ratio: seconds / (baseline ?? seconds),
                iterations: [
                  result.crossTerm.iterations, result.firstSelfTerm.iterations,
                  result.secondSelfTerm.iterations,
                ],
                newtonSteps: result.crossTerm.newtonSteps, value: result.value,
                marginalError: result.marginalError))
          }
        }
      }
    }
    Terminal.endProgress()
    if json {
      try JSONOutput.print(rows)
      return
    }
    var table = Table(header: [
      "n", "d", "eps", "backend", "median s", "CPU s", "ratio", "iterations xy/xx/yy", "Newton", "S_eps",
      "marginal error",
    ])
    for row in rows {
      table.append([
        "\(row.n)", "\(row.d)", "\(row.epsilon)", row.backend, Table.format(row.seconds, digits: 4),
        Table.format(row.cpuSeconds, digits: 4), Table.format(row.ratio, digits: 3),
        row.iterations.map(String.init).joined(separator: "/"), "\(row.newtonSteps)",
        Table.format(row.value, digits: 12), Table.format(row.marginalError, digits: 2),
      ])
    }
    print(table.markdown)
  }

  /// The annealing factor `--epsilon-scaling` gives: nil for `none`, else a number in (0, 1).
  package static func scalingFactor(_ text: String) throws(CLIError) -> Double? {
    if text == "none" { return nil }
    guard let q = Double(text), q > 0, q < 1 else {
      throw CLIError("--epsilon-scaling", "must be a number in (0, 1) or 'none', got '\(text)'")
    }
    return q
  }

  package static func uniformCloud(_ n: Int, _ d: Int, _ generator: inout SeededGenerator) throws
    -> PointCloud
  {
    var points = [Double](repeating: 0, count: n * d)
    for i in points.indices { points[i] = Double.random(in: 0..<1, using: &generator) }
    return try PointCloud(points: Matrix(rows: n, columns: d, elements: points))
  }

  package static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle])
  }

  package static func integers(_ list: String, _ option: String) throws(CLIError) -> [Int] {
    var values: [Int] = []
    for item in list.split(separator: ",") {
      guard let value = Int(item.trimmingWhitespace), value >= 1 else {
        throw CLIError(option, "expected positive integers separated by commas, got '\(item)'")
      }
      values.append(value)
    }
    guard !values.isEmpty else { throw CLIError(option, "is empty") }
    return values
  }

  package static func numbers(_ list: String, _ option: String) throws(CLIError) -> [Double] {
    var values: [Double] = []
    for item in list.split(separator: ",") {
      guard let value = Double(item.trimmingWhitespace), value.isFinite, value > 0 else {
        throw CLIError(option, "expected positive numbers separated by commas, got '\(item)'")
      }
      values.append(value)
    }
    guard !values.isEmpty else { throw CLIError(option, "is empty") }
    return values
  }
}

extension Substring {
  fileprivate var trimmingWhitespace: String {
    String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
