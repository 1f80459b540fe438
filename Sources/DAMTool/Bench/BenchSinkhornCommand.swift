import ArgumentParser
import DAM
import DAMExperiments

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `dam bench sinkhorn`: the debiased Sinkhorn divergence between two uniform clouds in the unit
/// cube (the peer workloads of `scripts/bench/sinkhorn.sh`), for each backend, in one process.
struct BenchSinkhornCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sinkhorn",
    abstract: "Time the debiased Sinkhorn divergence on uniform clouds, backend against backend.",
    discussion: """
      For every (n, d, eps) the two clouds are drawn once (uniform in [0, 1]^d, seeded), then each \
      backend solves the three problems of S_eps (xy, xx, yy) to the L1 marginal tolerance: one \
      warm-up run and --repeats timed runs, median reported. Ratios are against the first backend \
      listed, timed in the same process. CPU time is reported next to wall time because these \
      machines are shared: when CPU time exceeds wall time, the solver used several cores.
      """)

  @Option(help: "Cloud sizes n = m, comma-separated.")
  var sizes: String = "1024"

  @Option(help: "Dimensions d, comma-separated.")
  var dimensions: String = "2"

  @Option(help: "Regularisations eps, comma-separated.")
  var epsilons: String = "0.05,0.005"

  @Option(help: "Backends, comma-separated: kernel, log-domain (the first is the baseline of the ratios).")
  var backends: String = "log-domain,kernel"

  @Option(parsing: .unconditional, help: "The L1 marginal tolerance of each solve.")
  var tolerance: Double = 1e-6

  @Flag(
    inversion: .prefixedNo, help: "Whether slow solves switch to Newton's method (SinkhornOptions.newton).")
  var newton = true

  @Option(parsing: .unconditional, help: "Timed runs per case (after one warm-up run).")
  var repeats: Int = 5

  @Option(
    help: ArgumentHelp(
      "The eps-annealing factor q in (0, 1), or 'none' to start at the target eps (SinkhornOptions.epsilonScaling).",
      valueName: "q|none"))
  var epsilonScaling: String = "0.5"

  @Option(help: "The seed of the clouds.")
  var seed: UInt64 = 1

  @Flag(help: "Print the results as JSON on standard output.")
  var json = false

  struct Row: Encodable {
    var n: Int
    var d: Int
    var epsilon: Double
    var backend: String
    var seconds: Double
    var cpuSeconds: Double
    var ratio: Double
    var iterations: [Int]
    var newtonSteps: Int
    var value: Double
    var marginalError: Double
  }

  func validate() throws {
    guard repeats >= 1 else { throw CLIError("--repeats", "must be >= 1, got \(repeats)") }
    _ = try scalingFactor()
    guard tolerance.isFinite, tolerance >= 0 else {
      throw CLIError("--tolerance", "must be a finite number >= 0, got \(tolerance)")
    }
  }

  func run() throws {
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
                epsilonScaling: try scalingFactor(), newton: newton, backend: backend)
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

  /// The annealing factor of `--epsilon-scaling`, nil for `none`.
  func scalingFactor() throws(CLIError) -> Double? {
    if epsilonScaling == "none" { return nil }
    guard let q = Double(epsilonScaling), q > 0, q < 1 else {
      throw CLIError("--epsilon-scaling", "must be a number in (0, 1) or 'none', got '\(epsilonScaling)'")
    }
    return q
  }

  static func uniformCloud(_ n: Int, _ d: Int, _ generator: inout SeededGenerator) throws -> PointCloud {
    var points = [Double](repeating: 0, count: n * d)
    for i in points.indices { points[i] = Double.random(in: 0..<1, using: &generator) }
    return try PointCloud(points: Matrix(rows: n, columns: d, elements: points))
  }

  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle])
  }

  static func integers(_ list: String, _ option: String) throws(CLIError) -> [Int] {
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

  static func numbers(_ list: String, _ option: String) throws(CLIError) -> [Double] {
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
