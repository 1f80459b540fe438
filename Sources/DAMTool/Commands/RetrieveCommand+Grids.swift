import DAM
import DAMExperiments

extension RetrieveCommand {
  func runGrids(stored: [GridHistogram]? = nil, storedEpsilon: Double? = nil) throws {
    try groundCost.requireAbsent(
      "applies to point-cloud memories only (grids use the squared distance between cells)")
    let stoppingRule = try stopping.rule(forClouds: true)
    if let divergence, divergence != .sinkhorn {
      throw CLIError(
        "--divergence", "\(divergence.rawValue) is for vector memories; grid histograms take sinkhorn")
    }
    let geometry = geometry ?? .hellinger
    let patterns = try stored ?? GridInputs.histograms(memory, option: "--memory").histograms
    let axes = patterns[0].shape.count
    let (queries, batch) = try GridInputs.histograms(query, option: "--query", gridAxes: axes)
    for (i, q) in queries.enumerated() where q.shape != patterns[0].shape {
      throw CLIError(
        "--query",
        "\(query): histogram \(i) has grid shape \(q.shape), the memory's have \(patterns[0].shape)")
    }
    // A query without its own spacing takes the memory's.
    let aligned = try queries.enumerated().map { (i, q) throws(CLIError) in
      try GridInputs.make(
        q.shape, q.masses, patterns[0].spacing, path: query, option: "--query", label: "histogram \(i): ")
    }
    let map = try separationMap(patternCount: patterns.count)
    let retriever = try GridEngines.make(
      patterns: patterns, geometry: geometry, separation: map, beta: beta, epsilon: epsilon ?? storedEpsilon,
      step: step,
      hellingerScale: hellingerScale, stopping: stoppingRule, pruning: pruning.pruning)
    let retrieved = try retrieveBatch(aligned, row: batch ? { "--query (histogram \($0))" } : nil) {
      try retriever.retrieve($0)
    }
    let results = queryResults(retrieved)
    let finals = retrieved.map(\.state)
    if let output { try GridInputs.write(finals, batch: batch, to: output, option: "--output") }
    try report(
      results, patterns: patterns.count, shape: "\(patterns.count) histograms on a \(patterns[0].shape) grid",
      dimension: patterns[0].cellCount, divergence: "sinkhorn-grid", geometry: retriever.description,
      separationName: map.name)
  }
}
