import DAM
import DAMDatasets
import Foundation

package struct DigitsDemo {
  package var queries: Int
  package var seed: UInt64
  package var noise: Double
  package var report: String
  package var json: Bool

  package init(
    queries: Int, seed: UInt64, noise: Double, report: String,
    json: Bool
  ) {
    self.queries = queries
    self.seed = seed
    self.noise = noise
    self.report = report
    self.json = json
  }

  package struct Row: Encodable {
    package var divergence: String
    package var corruption: String
    package var beta: Double
    package var queries: Int
    package var exactRecall: Double
    package var exactRecallLower: Double
    package var exactRecallUpper: Double
    package var classRecall: Double
    package var meanSteps: Double
    package var millisecondsPerQuery: Double
    package var meanEffectivePatterns: Double

    package enum CodingKeys: String, CodingKey {
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

  package static let betas: [Double] = [0.25, 1, 4, 16, 64]

  package static let corruptions = ["noise", "erased bottom half"]

  package func run() throws {
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

  package static func table(_ rows: [Row]) -> Table {
    var table = Table(header: [
      "divergence", "corruption", "beta", "exact recall (95% CI)", "class", "steps", "ms/query", "patterns",
    ])
    for r in rows {
      table.append([
        r.divergence, r.corruption, Table.format(r.beta, digits: 3),
        "\(Table.percent(r.exactRecall)) (\(Table.percent(r.exactRecallLower))-\(Table.percent(r.exactRecallUpper)))",
        Table.percent(r.classRecall), Table.format(r.meanSteps, digits: 3),
        Table.format(r.millisecondsPerQuery, digits: 3),
        Table.format(r.meanEffectivePatterns, digits: 3),
      ])
    }
    return table
  }

  package func writeReport(
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
