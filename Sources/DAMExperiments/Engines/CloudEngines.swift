import DAM

/// The divergences `dam retrieve` knows, over both families.
package enum DivergenceChoice: String, CaseIterable {
  case squaredEuclidean = "squared-euclidean"
  case dotProduct = "dot-product"
  case sinkhorn
}

/// The geometries `dam retrieve` knows: fixed-point and gradient for vectors; shk, wasserstein and
/// euclidean (the stacked-coordinate baseline) for point clouds; bures-wasserstein and euclidean
/// (the stacked `(m, vec S)` baseline) for Gaussians.
package enum GeometryChoice: String, CaseIterable {
  case fixedPoint = "fixed-point"
  case gradient
  case shk
  case wasserstein
  case euclidean
  case buresWasserstein = "bures-wasserstein"
  case hellinger
  case barycentric
}

/// A retrieval over point clouds, whatever the engine behind it.
package struct CloudRetriever: Sendable {
  package let run:
    @Sendable (_ queries: [PointCloud], _ recordingTrajectory: Bool) throws -> [RetrievalResult<PointCloud>]
  package let description: String

  /// Retrieves from a query, keeping every visited state when asked.
  package func retrieve(_ query: PointCloud, recordingTrajectory: Bool = false) throws -> RetrievalResult<
    PointCloud
  > {
    do {
      return try run([query], recordingTrajectory)[0]
    } catch let error as DAMError where error.argument.hasPrefix("queries[0]") {
      // A batch of one: the library names the query by its position.
      let inner = error.argument.dropFirst("queries[0]".count)
      throw error.renamingArgument { _ in
        inner.hasPrefix(" (") ? String(inner.dropFirst(2).dropLast()) : "query"
      }
    }
  }

  /// Retrieves from every query of a batch together.
  package func retrieve(batch queries: [PointCloud], recordingTrajectory: Bool = false) throws
    -> [RetrievalResult<
      PointCloud
    >]
  {
    try run(queries, recordingTrajectory)
  }
}

/// Builds point-cloud retrieval from run-time choices.
package enum CloudEngines {
  package static func make(
    patterns: [PointCloud], geometry: GeometryChoice, separation: AnySeparationMap, beta: Double,
    epsilon: Double?, step: Double?, hellingerScale: Double?, cost: any Cost = SquaredEuclideanCost(),
    stopping: StoppingRule, sinkhornIterations: Int = 10_000, pruning: Pruning = .none
  ) throws(CLIError) -> CloudRetriever {
    switch geometry {
    case .shk, .wasserstein:
      guard let epsilon else {
        throw CLIError("--epsilon", "required with --divergence sinkhorn (in squared distance units)")
      }
      let tau = step ?? 0.5
      if geometry == .wasserstein, let hellingerScale, hellingerScale != 0 {
        throw CLIError("--hellinger-scale", "applies to --geometry shk only (wasserstein is alpha = 0)")
      }
      let alpha =
        geometry == .wasserstein
        ? 0 : (hellingerScale ?? SHKGeometry.hellingerScale(epsilon: epsilon, step: tau))
      let divergence = try attributing("--epsilon") {
        SinkhornDivergence(
          options: try SinkhornOptions(epsilon: epsilon, maxIterations: sinkhornIterations), cost: cost)
      }
      let shape = try attributing("--step") { try SHKGeometry(step: tau, hellingerScale: alpha) }
      let memory = try attributingMemory { try Memory(divergence: divergence, patterns: patterns) }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: shape, beta: beta, stopping: stopping,
          pruning: pruning)
      }
      return CloudRetriever(
        run: { try engine.retrieve(batch: $0, recordingTrajectory: $1) },
        description:
          "sinkhorn (eps \(epsilon)\(cost is SquaredEuclideanCost ? "" : ", cost \(cost)")), \(geometry.rawValue) (step \(tau), hellinger scale \(alpha))"
      )
    case .euclidean:
      if epsilon != nil {
        throw CLIError("--epsilon", "applies to the Sinkhorn geometries (shk, wasserstein) only")
      }
      guard cost is SquaredEuclideanCost else {
        throw CLIError("--cost", "applies to the Sinkhorn geometries (shk, wasserstein) only")
      }
      let atoms = patterns[0].count
      for (i, pattern) in patterns.enumerated() where pattern.count != atoms {
        throw CLIError(
          "--geometry",
          "euclidean stacks the atoms into vectors: every cloud needs \(atoms) atoms, pattern \(i) has \(pattern.count)"
        )
      }
      let stacking = Stacking<PointCloud>.atoms(count: atoms, dimension: patterns[0].dimension)
      let memory = try attributing("--memory") {
        try Memory(divergence: .dotProduct, patterns: try patterns.map(stacking.stack))
      }
      let engine = try attributing("--beta") {
        try RetrievalEngine(
          memory: memory, separation: separation, geometry: EuclideanGeometry(), beta: beta,
          stopping: stopping, pruning: pruning)
      }
      let baseline = StackedRetrievalEngine(AnyRetrievalEngine(engine), stacking: stacking)
      return CloudRetriever(
        run: { queries, recordingTrajectory in
          for (i, query) in queries.enumerated() where query.count != atoms {
            throw CLIError(
              queries.count > 1 ? "--query (cloud \(i))" : "--query",
              "euclidean stacks the atoms into vectors: the query has \(query.count) atoms, the patterns \(atoms)"
            )
          }
          return try baseline.retrieve(batch: queries, recordingTrajectory: recordingTrajectory)
        },
        description: "euclidean baseline (atoms stacked in stored order, dot product, fixed point)")
    case .fixedPoint, .gradient, .buresWasserstein, .hellinger, .barycentric:
      throw CLIError(
        "--geometry",
        "\(geometry.rawValue) is for vector memories; point clouds take shk, wasserstein or euclidean")
    }
  }
}
