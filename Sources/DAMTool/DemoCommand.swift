import ArgumentParser
import DAM
import DAMDatasets
import Foundation

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "The main job: recall corrupted handwritten digits from a memory of all 1,797, side by side.",
    discussion: """
      Stores the 1,797 built-in 8x8 digits (pixels scaled to [0, 1]) as vectors in R^64, corrupts \
      a seeded sample of them (Gaussian pixel noise; the bottom half of the image erased) and \
      recalls each with softmax retrieval under two divergences (squared Euclidean and the classic \
      dot product) over a range of beta. Reports, per engine: exact recall (the final state is \
      nearest to the very image that was corrupted) with a Wilson 95% interval, class recall, \
      steps, time per query, and the effective number of patterns in the final weights, 1/sum(w^2) \
      (1 = a clean recall, more = a metastable blend of patterns). Writes a Markdown summary, CSV, JSON and \
      SVG figures into --report.
      """)

  @Option(help: "How many stored digits to corrupt and recall, per corruption and engine.")
  var queries: Int = 200

  @Option(help: "The seed of the query sample and the noise.")
  var seed: UInt64 = 1

  @Option(help: "The standard deviation of the pixel noise (pixels are in [0, 1]).")
  var noise: Double = 0.3

  @Option(help: ArgumentHelp("The folder for the report (created if missing).", valueName: "path"))
  var report: String = "reports/demo"

  @Flag(help: "Print the results as JSON on standard output instead of the table.")
  var json = false

  struct Row: Encodable {
    var divergence: String
    var corruption: String
    var beta: Double
    var queries: Int
    var exactRecall: Double
    var exactRecallLower: Double
    var exactRecallUpper: Double
    var classRecall: Double
    var meanSteps: Double
    var millisecondsPerQuery: Double
    var meanEffectivePatterns: Double

    enum CodingKeys: String, CodingKey {
      case divergence, corruption, beta, queries
      case exactRecall = "exact_recall"
      case exactRecallLower = "exact_recall_lower"
      case exactRecallUpper = "exact_recall_upper"
      case classRecall = "class_recall"
      case meanSteps = "mean_steps"
      case millisecondsPerQuery = "ms_per_query"
      case meanEffectivePatterns = "mean_effective_patterns"
    }
  }

  static let betas: [Double] = [0.25, 1, 4, 16, 64]
  static let corruptions = ["noise", "erased bottom half"]

  func validate() throws {
    guard (1...1797).contains(queries) else {
      throw ValidationError("--queries: must be in 1...1797, got \(queries)")
    }
    guard noise.isFinite, noise >= 0 else {
      throw ValidationError("--noise: must be a finite number >= 0, got \(noise)")
    }
    try OutputPath.checkFolder(report, option: "--report")
  }

  func run() throws {
    let digits = Digits()
    let patterns = (0..<digits.count).map { digits.image($0).map { $0 / Double(Digits.maxIntensity) } }
    var generator = SeededGenerator(seed: seed)
    let indices = Array((0..<digits.count).shuffled(using: &generator).prefix(queries))
    let corrupted: [String: [[Double]]] = [
      "noise": indices.map { i in patterns[i].map { $0 + noise * generator.nextGaussian() } },
      "erased bottom half": indices.map { i in
        patterns[i].enumerated().map { $0.offset >= 32 ? 0 : $0.element }
      },
    ]

    let stopping = try StoppingRule(maxSteps: 200)
    var rows: [Row] = []
    var examples: [String: [[Double]]] = [:]  // "divergence|corruption|beta" -> recalled states of the first queries
    let configurations = VectorDivergenceChoice.allCases.flatMap { d in
      Self.corruptions.flatMap { c in Self.betas.map { (d, c, $0) } }
    }
    for (number, (divergence, corruption, beta)) in configurations.enumerated() {
      Terminal.progress(
        "demo: engine \(number + 1) of \(configurations.count): \(divergence.rawValue), \(corruption), beta \(beta)"
      )
      let engine = try VectorEngines.make(
        patterns: .rows(patterns), divergence: divergence, separation: AnySeparationMap(Softmax()),
        geometry: .fixedPoint, step: nil, beta: beta, stopping: stopping)
      var exact = 0
      var sameClass = 0
      var steps = 0
      var effective = 0.0
      var recalled: [[Double]] = []
      let start = Terminal.now()
      for (k, query) in (corrupted[corruption] ?? []).enumerated() {
        let result = try engine.retrieve(query)
        let nearest = Self.nearestEuclidean(result.state, patterns)
        if nearest == indices[k] { exact += 1 }
        if digits.labels[nearest] == digits.labels[indices[k]] { sameClass += 1 }
        steps += result.steps
        effective += 1 / result.weights.reduce(0) { $0 + $1 * $1 }
        if k < 6 { recalled.append(result.state) }
      }
      let elapsed = Terminal.now() - start
      examples["\(divergence.rawValue)|\(corruption)|\(beta)"] = recalled
      let interval = try WilsonInterval(successes: exact, trials: queries)
      let n = Double(queries)
      rows.append(
        Row(
          divergence: divergence.rawValue, corruption: corruption, beta: beta, queries: queries,
          exactRecall: interval.proportion, exactRecallLower: interval.lower,
          exactRecallUpper: interval.upper,
          classRecall: Double(sameClass) / n, meanSteps: Double(steps) / n,
          millisecondsPerQuery: 1000 * elapsed / n, meanEffectivePatterns: effective / n))
    }
    Terminal.endProgress()

    let table = Self.table(rows)
    try writeReport(
      rows: rows, table: table, patterns: patterns, indices: indices, corrupted: corrupted, examples: examples
    )
    if json {
      try JSONOutput.print(rows)
    } else {
      print(
        "Recall of \(queries) corrupted digits from a memory of all \(digits.count) (8x8, R^64), softmax, "
          + "fixed-point (CCCP) updates, seed \(seed):\n")
      print(table.markdown)
      print(
        """

        exact = nearest stored image to the final state is the one that was corrupted (Wilson 95% interval);
        class = it has the same label; patterns = effective number of patterns in the final weights, 1/sum(w^2).
        Report (Markdown, CSV, JSON, SVG): \(report)/
        """)
    }
  }

  /// The index of the pattern nearest in Euclidean distance.
  static func nearestEuclidean(_ x: [Double], _ patterns: [[Double]]) -> Int {
    var best = 0
    var bestDistance = Double.infinity
    for (i, p) in patterns.enumerated() {
      var d = 0.0
      for k in 0..<x.count { d += (x[k] - p[k]) * (x[k] - p[k]) }
      if d < bestDistance {
        bestDistance = d
        best = i
      }
    }
    return best
  }

  static func table(_ rows: [Row]) -> Table {
    var table = Table(header: [
      "divergence", "corruption", "beta", "exact recall (95% CI)", "class", "steps", "ms/query", "patterns",
    ])
    for r in rows {
      table.append([
        r.divergence, r.corruption, Table.format(r.beta, digits: 3),
        "\(percent(r.exactRecall)) (\(percent(r.exactRecallLower))-\(percent(r.exactRecallUpper)))",
        percent(r.classRecall), Table.format(r.meanSteps, digits: 3),
        Table.format(r.millisecondsPerQuery, digits: 3),
        Table.format(r.meanEffectivePatterns, digits: 3),
      ])
    }
    return table
  }

  static func percent(_ p: Double) -> String { _snprintf("%.1f%%", 100 * p) }

  func writeReport(
    rows: [Row], table: Table, patterns: [[Double]], indices: [Int], corrupted: [String: [[Double]]],
    examples: [String: [[Double]]]
  ) throws {
    let files = ReportFolder(path: report)
    var csv =
      "divergence,corruption,beta,queries,exact_recall,exact_recall_lower,exact_recall_upper,class_recall,mean_steps,ms_per_query,mean_effective_patterns\n"
    for r in rows {
      csv +=
        "\(r.divergence),\(r.corruption),\(r.beta),\(r.queries),\(r.exactRecall),\(r.exactRecallLower),\(r.exactRecallUpper),\(r.classRecall),\(r.meanSteps),\(r.millisecondsPerQuery),\(r.meanEffectivePatterns)\n"
    }
    var series: [SVG.Series] = []
    for divergence in VectorDivergenceChoice.allCases {
      for corruption in Self.corruptions {
        let selected = rows.filter { $0.divergence == divergence.rawValue && $0.corruption == corruption }
        series.append(
          SVG.Series(
            label: "\(divergence.rawValue), \(corruption)",
            points: selected.map { ($0.beta, $0.exactRecall) },
            lower: selected.map(\.exactRecallLower), upper: selected.map(\.exactRecallUpper)))
      }
    }
    let chart = SVG.lineChart(
      title: "Exact recall of corrupted digits (N = 1797, softmax)", xLabel: "beta (log scale)",
      yLabel: "exact recall", series: series, logX: true, yRange: 0...1)
    let showBeta = 16.0
    var grid: [[[Double]]] = []
    var labels: [String] = []
    for corruption in Self.corruptions {
      grid.append(indices.prefix(6).map { patterns[$0] })
      labels.append("stored")
      grid.append(Array((corrupted[corruption] ?? []).prefix(6)))
      labels.append(corruption)
      for divergence in VectorDivergenceChoice.allCases {
        grid.append(examples["\(divergence.rawValue)|\(corruption)|\(showBeta)"] ?? [])
        labels.append("\(divergence.rawValue)")
      }
    }
    let picture = SVG.imageGrid(
      title: "Queries and recalls at beta = \(Int(showBeta))", images: grid, side: 8, rowLabels: labels,
      columnLabels: (1...6).map { "query \($0)" })
    let markdown = """
      # Demo: recall of corrupted handwritten digits

      Command: `dam demo --queries \(queries) --seed \(seed) --noise \(noise)`, on \(Machine.description).

      Memory: all 1,797 digits of the built-in data set (8x8, pixels / 16, vectors in R^64).
      Queries: \(queries) stored digits (seeded sample), corrupted by Gaussian pixel noise (sd \(noise))
      or by erasing the bottom half of the image. Retrieval: softmax, fixed-point (CCCP) updates,
      at most 200 steps. Exact recall: the nearest stored image to the final state is the corrupted
      one; class recall: it has the same label; patterns: the effective number of patterns in the final
      weights, 1/sum(w^2) (1 for a clean recall).

      \(table.markdown)

      ![exact recall against beta](recall.svg)

      ![queries and recalls](examples.svg)

      """
    try files.write([
      "summary.md": markdown, "results.csv": csv, "recall.svg": chart, "examples.svg": picture,
    ])
    try files.writeJSON("results.json", rows)
  }
}
