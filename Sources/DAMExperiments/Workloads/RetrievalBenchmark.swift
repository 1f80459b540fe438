import DAM

/// `dam bench retrieval`: Sinkhorn-SHK retrieval against memories of growing size, with and
/// without pruning, in one process.
package struct RetrievalBenchmark {
  package var sizes: String
  package var layout: String
  package var atoms: Int
  package var epsilon: Double
  package var beta: Double
  package var maps: String
  package var massBound: Double
  package var queries: Int
  package var verifyUpTo: Int
  package var seed: UInt64
  package var batch: Bool
  package var json: Bool

  package init(
    sizes: String, layout: String, atoms: Int,
    epsilon: Double, beta: Double, maps: String, massBound: Double,
    queries: Int, verifyUpTo: Int, seed: UInt64, batch: Bool, json: Bool
  ) {
    self.sizes = sizes
    self.layout = layout
    self.atoms = atoms
    self.epsilon = epsilon
    self.beta = beta
    self.maps = maps
    self.massBound = massBound
    self.queries = queries
    self.verifyUpTo = verifyUpTo
    self.seed = seed
    self.batch = batch
    self.json = json
  }

  /// Where the clouds' centres lie.
  package enum Layout: String, CaseIterable {
    /// Uniform in `[0, 10]²` for every memory size.
    case fixed
    /// Uniform in a square of side `10 √(N / 1000)`: the density of 1000 clouds in `[0, 10]²`.
    case density

    /// The side of the square holding the centres of `count` clouds.
    package func side(count: Int) -> Double {
      switch self {
      case .fixed: 10
      case .density: 10 * (Double(count) / 1000).squareRoot()
      }
    }
  }

  package struct Row: Encodable {
    package var layout: String
    package var n: Int
    package var map: String
    package var pruning: String
    package var medianSeconds: Double
    package var exactPerStep: Double
    package var steps: Double
    package var retrieved: [Int]
    package var targets: [Int]
    package var droppedWeightBound: Double
    package var ratioToSmallest: Double?
    package var agreesWithUnpruned: Bool?
    /// With --batch: the queries one by one (the sum of their times), as one batch, and whether
    /// every batch result equals the one-by-one result (state, weights, energies, steps).
    package var oneByOneSeconds: Double?
    package var batchSeconds: Double?
    package var batchIdentical: Bool?
  }

  package func run() throws {
    let sizeList = try SinkhornBenchmark.integers(sizes, "--sizes")
    let mapList: [(String, AnySeparationMap)] = try maps.split(separator: ",").map { name throws(CLIError) in
      switch name {
      case "softmax": return ("softmax", AnySeparationMap(Softmax()))
      case "sparsemax": return ("sparsemax", AnySeparationMap(Sparsemax()))
      case "entmax15": return ("1.5-entmax", AnySeparationMap(Entmax15()))
      default: throw CLIError("--maps", "unknown map '\(name)'; use softmax, sparsemax or entmax15")
      }
    }
    let options = try attributing("--epsilon") {
      try SinkhornOptions(epsilon: epsilon, tolerance: 1e-9, maxIterations: 100_000)
    }
    let divergence = SinkhornDivergence(options: options)
    let stopping = try StoppingRule(
      maxSteps: 10, energyTolerance: 1e-9, positionTolerance: nil, massTolerance: nil)
    let smallest = sizeList.min() ?? 1
    var rows: [Row] = []
    var smallestTimes: [String: Double] = [:]
    for n in sizeList.sorted() {
      Terminal.progress("N = \(n): drawing and storing the clouds")
      var generator = SeededGenerator(seed: seed)
      let side = (Layout(rawValue: layout) ?? .fixed).side(count: n)
      let clouds = try (0..<n).map { _ in try Self.blob(atoms: atoms, side: side, generator: &generator) }
      let start = Terminal.now()
      let memory = try Memory(divergence: divergence, patterns: clouds)
      Terminal.note("N = \(n): stored in \(Table.format(Terminal.now() - start, digits: 3)) s")
      var queryGenerator = SeededGenerator(seed: seed &+ 99)
      let targets = (0..<queries).map { _ in Int.random(in: 0..<min(n, smallest), using: &queryGenerator) }
      let queryClouds = try targets.map { try Self.jitter(clouds[$0], generator: &queryGenerator) }
      for (name, map) in mapList {
        var retrievedByPruning: [String: [Int]] = [:]
        let prunings: [(String, Pruning)] =
          n <= verifyUpTo
          ? [("none", .none), (name == "softmax" ? "mass \(massBound)" : "exact", .softmaxMass(massBound))]
          : [(name == "softmax" ? "mass \(massBound)" : "exact", .softmaxMass(massBound))]
        for (label, pruning) in prunings {
          let engine = try RetrievalEngine(
            memory: memory, separation: map, geometry: SHKGeometry(), beta: beta, stopping: stopping,
            pruning: pruning)
          var times: [Double] = []
          var retrieved: [Int] = []
          var evaluations = 0
          var states = 0
          var stepsTaken = 0
          var dropped = 0.0
          var results: [RetrievalResult<PointCloud>] = []
          for (q, query) in queryClouds.enumerated() {
            Terminal.progress("N = \(n), \(name), pruning \(label): query \(q + 1)/\(queries)")
            let begin = Terminal.now()
            let result = try engine.retrieve(query)
            times.append(Terminal.now() - begin)
            results.append(result)
            retrieved.append(result.nearestPattern)
            evaluations += result.evaluationCount
            states += result.steps + 1
            stepsTaken += result.steps
            dropped = max(dropped, result.droppedWeightBound)
          }
          retrievedByPruning[label == "none" ? "none" : "pruned"] = retrieved
          let median = SinkhornBenchmark.median(times)
          let key = "\(name)/\(label == "none" ? "none" : "pruned")"
          if n == smallest { smallestTimes[key] = median }
          rows.append(
            Row(
              layout: layout, n: n, map: name, pruning: label, medianSeconds: median,
              exactPerStep: Double(evaluations) / Double(states), steps: Double(stepsTaken) / Double(queries),
              retrieved: retrieved, targets: targets, droppedWeightBound: dropped,
              ratioToSmallest: smallestTimes[key].map { median / $0 }, agreesWithUnpruned: nil))
          if batch {
            Terminal.progress("N = \(n), \(name), pruning \(label): \(queries) queries as one batch")
            let begin = Terminal.now()
            let together = try engine.retrieve(batch: queryClouds)
            rows[rows.count - 1].batchSeconds = Terminal.now() - begin
            rows[rows.count - 1].oneByOneSeconds = times.reduce(0, +)
            rows[rows.count - 1].batchIdentical = zip(together, results).allSatisfy { a, b in
              a.state == b.state && a.weights == b.weights && a.energies == b.energies && a.steps == b.steps
                && a.stopReason == b.stopReason && a.evaluationCount == b.evaluationCount
            }
          }
        }
        if let unpruned = retrievedByPruning["none"], let pruned = retrievedByPruning["pruned"] {
          rows[rows.count - 1].agreesWithUnpruned = unpruned == pruned
        }
      }
    }
    Terminal.endProgress()
    if json {
      try JSONOutput.print(rows)
      return
    }
    Terminal.note("centres: --layout \(layout)")
    var table = Table(
      header: [
        "N", "map", "pruning", "median s", "x N=\(smallest)", "exact/step", "steps", "retrieved = target",
        "same as unpruned", "dropped weight",
      ] + (batch ? ["one by one s", "batch s", "batch / one by one", "batch identical"] : []))
    for row in rows {
      let hits = zip(row.retrieved, row.targets).filter { $0 == $1 }.count
      var cells = [
        "\(row.n)", row.map, row.pruning, Table.format(row.medianSeconds, digits: 4),
        row.ratioToSmallest.map { Table.format($0, digits: 3) } ?? "-",
        Table.format(row.exactPerStep, digits: 4),
        Table.format(row.steps, digits: 3), "\(hits)/\(row.targets.count)",
        row.agreesWithUnpruned.map { $0 ? "yes" : "NO" } ?? "-",
        Table.format(row.droppedWeightBound, digits: 2),
      ]
      if batch {
        var ratio = "-"
        if let together = row.batchSeconds, let alone = row.oneByOneSeconds {
          ratio = Table.format(together / alone, digits: 3)
        }
        cells.append(row.oneByOneSeconds.map { Table.format($0, digits: 4) } ?? "-")
        cells.append(row.batchSeconds.map { Table.format($0, digits: 4) } ?? "-")
        cells.append(ratio)
        cells.append(row.batchIdentical.map { $0 ? "yes" : "NO" } ?? "-")
      }
      table.append(cells)
    }
    print(table.markdown)
  }

  package static func blob(atoms: Int, side: Double, generator: inout SeededGenerator) throws -> PointCloud {
    let centre = [
      Double.random(in: 0...side, using: &generator), Double.random(in: 0...side, using: &generator),
    ]
    let first = Double.random(in: 0.1...0.3, using: &generator)
    let second = Double.random(in: 0.1...0.3, using: &generator)
    let angle = Double.random(in: 0..<Double.pi, using: &generator)
    let (c, s) = (_cosine(angle), _sine(angle))
    var points = [Double](repeating: 0, count: 2 * atoms)
    for j in 0..<atoms {
      let u = first * generator.nextGaussian()
      let v = second * generator.nextGaussian()
      points[2 * j] = centre[0] + c * u - s * v
      points[2 * j + 1] = centre[1] + s * u + c * v
    }
    let masses = (0..<atoms).map { _ in Double.random(in: 0.5...1.5, using: &generator) }
    return try PointCloud(points: Matrix(rows: atoms, columns: 2, elements: points), masses: masses)
  }

  package static func jitter(_ cloud: PointCloud, generator: inout SeededGenerator) throws -> PointCloud {
    let points = cloud.points.elements.map { $0 + 0.05 * generator.nextGaussian() }
    return try PointCloud(
      points: Matrix(rows: cloud.count, columns: 2, elements: points), weights: cloud.weights)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

private func _cosine(_ x: Double) -> Double { cos(x) }
private func _sine(_ x: Double) -> Double { sin(x) }
