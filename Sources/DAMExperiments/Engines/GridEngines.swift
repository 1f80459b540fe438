import DAM
import NumPyFiles

/// Grid-histogram retrieval for `dam retrieve`: the grid Sinkhorn divergence with the spherical
/// Hellinger (reweighting on the fixed grid) or the barycentric geometry.
package enum GridEngines {
  /// Whether a `.npz` holds grid histograms (`histograms`).
  package static func holdsHistograms(_ path: String) -> Bool {
    guard let archive = try? InputFiles.npz(path) else { return false }
    return archive["histograms"] != nil
  }

  package static func make(
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
      let alpha = hellingerScale ?? SHKGeometry.hellingerScale(epsilon: epsilon, step: tau)
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
