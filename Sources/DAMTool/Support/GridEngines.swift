import DAM
import NumPyFiles

/// Grid-histogram retrieval for `dam retrieve`: the grid Sinkhorn divergence with the spherical
/// Hellinger (reweighting on the fixed grid) or the barycentric geometry.
enum GridEngines {
  /// Whether a `.npz` holds grid histograms (`histograms`).
  static func holdsHistograms(_ path: String) -> Bool {
    guard let archive = try? NPZ.read(contentsOf: path) else { return false }
    return archive["histograms"] != nil
  }

  static func make(
    patterns: [GridHistogram], geometry: GeometryChoice, separation: AnySeparationMap, beta: Double,
    epsilon: Double?, step: Double?, hellingerScale: Double?, stopping: StoppingRule, pruning: Pruning = .none
  ) throws(CLIError) -> (
    retrieve: ([GridHistogram]) throws -> [RetrievalResult<GridHistogram>], description: String
  ) {
    guard let epsilon else {
      throw CLIError("--epsilon", "required for grid memories (in squared grid units)")
    }
    let options = try attributing("--epsilon") { try GridSinkhornOptions(epsilon: epsilon) }
    let memory = try attributingMemory {
      try Memory(divergence: GridSinkhornDivergence(options: options), patterns: patterns)
    }
    switch geometry {
    case .hellinger:
      let tau = step ?? 0.5
      // Default alpha: tau alpha = eps / 20, as for the point-cloud SHK geometry.
      let alpha = hellingerScale ?? epsilon / (20 * tau)
      let shape = try attributing("--hellinger-scale") {
        try GridHellingerGeometry(step: tau, hellingerScale: alpha)
      }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: shape, beta: beta, stopping: stopping,
          pruning: pruning)
      }
      return (
        { try engine.retrieve(batch: $0) },
        "grid sinkhorn (eps \(epsilon)), hellinger (step \(tau), hellinger scale \(alpha))"
      )
    case .barycentric:
      if step != nil {
        throw CLIError("--step", "does not apply to --geometry barycentric (the step is the barycenter)")
      }
      if hellingerScale != nil { throw CLIError("--hellinger-scale", "applies to --geometry hellinger only") }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: GridBarycentricGeometry(options: options),
          beta: beta, stopping: stopping, pruning: pruning)
      }
      return (
        { try engine.retrieve(batch: $0) },
        "grid sinkhorn (eps \(epsilon)), barycentric (entropic barycenter)"
      )
    default:
      throw CLIError(
        "--geometry", "\(geometry.rawValue) is not for grid histograms; they take hellinger or barycentric")
    }
  }
}

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
    let map = try separationMap()
    if let k = separationOptions.k, k > patterns.count {
      throw CLIError("--k", "is \(k), but the memory \(memory) holds only \(patterns.count) patterns")
    }
    let retriever = try GridEngines.make(
      patterns: patterns, geometry: geometry, separation: map, beta: beta, epsilon: epsilon ?? storedEpsilon,
      step: step,
      hellingerScale: hellingerScale, stopping: stoppingRule, pruning: pruning.pruning)
    let retrieved = try retrieveBatch(aligned, row: batch ? { "--query (histogram \($0))" } : nil) {
      try retriever.retrieve($0)
    }
    let results = retrieved.enumerated().map { QueryResult($0, $1, options: weightOptions, json: json) }
    let finals = retrieved.map(\.state)
    if let output { try GridInputs.write(finals, batch: batch, to: output, option: "--output") }
    try report(
      results, patterns: patterns.count, shape: "\(patterns.count) histograms on a \(patterns[0].shape) grid",
      dimension: patterns[0].cellCount, divergence: "sinkhorn-grid", geometry: retriever.description,
      separationName: map.name)
  }
}
