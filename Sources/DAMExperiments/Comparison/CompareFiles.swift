import DAM
import DAMDatasets
import NumPyFiles

/// `dam compare` on the user's files: a memory, and either queries with the index of the stored
/// pattern each should recall (`--targets`) or queries made by corrupting stored patterns.
package enum CompareFiles {
  package static func comparison(
    memory: String, queries: String?, targets: String?, settings: CompareSettings
  ) throws -> AnyComparison? {
    if queries != nil && targets == nil {
      throw CLIError(
        "--targets",
        "required with --queries: a .npy of integers, the index of the stored pattern each query should recall"
      )
    }
    if queries == nil && targets != nil {
      throw CLIError(
        "--targets",
        "applies with --queries only (without --queries, queries are made from the memory and their targets are known)"
      )
    }
    if queries == nil && settings.noise == nil {
      throw CLIError(
        "--noise",
        "required when --queries is not given: the corruption of the stored patterns that makes the queries (sd of Gaussian noise for vectors and points, the W2 distance for Gaussians)"
      )
    }
    if queries != nil {
      // These make queries from the memory; with queries given they would be silently ignored.
      if settings.noise != nil {
        throw CLIError("--noise", "applies when queries are made from the memory, not with --queries")
      }
      if settings.count != nil {
        throw CLIError("--count", "applies when queries are made from the memory, not with --queries")
      }
      if settings.keepAtomOrder {
        throw CLIError(
          "--keep-atom-order", "applies when queries are made from the memory, not with --queries")
      }
    }
    if let noise = settings.noise, !(noise.isFinite && noise >= 0) {
      throw CLIError("--noise", "must be a finite number >= 0, got \(noise)")
    }
    let lowercased = memory.lowercased()
    if lowercased.hasSuffix(".npy") {
      let patterns = try Inputs.vectors(memory, option: "--memory")
      let made = try queriesAndTargets(
        patterns: patterns, queries: queries, targets: targets, settings: settings,
        read: { try Inputs.queries($0, option: "--queries").rows },
        mismatch: { i, row in
          row.count == patterns[0].count
            ? nil : "query \(i) has dimension \(row.count), the memory \(patterns[0].count)"
        },
        corrupt: { pattern, generator in
          let noise = settings.noise ?? 0
          return pattern.map { $0 + noise * generator.nextGaussian() }
        })
      return try CompareWorkloads.vectors(
        patterns: patterns, queries: made.queries, targets: made.targets, imageSide: nil,
        workload: describe(
          memory: memory, patterns: patterns.count, queries: queries, count: made.queries.count,
          settings: settings),
        settings: settings, defaultBetas: [1, 4, 16])?.erased()
    }
    guard lowercased.hasSuffix(".npz") else {
      throw CLIError("--memory", "\(memory): expected a .npy (vectors) or .npz (point clouds or Gaussians)")
    }
    if GaussianInputs.holdsGaussians(memory) {
      let patterns = try GaussianInputs.gaussians(memory, option: "--memory").gaussians
      let made = try queriesAndTargets(
        patterns: patterns, queries: queries, targets: targets, settings: settings,
        read: { try GaussianInputs.gaussians($0, option: "--queries").gaussians },
        mismatch: { i, g in
          g.dimension == patterns[0].dimension
            ? nil : "Gaussian \(i) has dimension \(g.dimension), the memory \(patterns[0].dimension)"
        },
        corrupt: { pattern, generator in
          let distance = settings.noise ?? 0
          guard distance != 0 else { return pattern }
          return try attributing("--noise") {
            try GaussianSampling.perturbation(of: pattern, distance: distance, using: &generator)
          }
        })
      return try CompareWorkloads.gaussians(
        patterns: patterns, queries: made.queries, targets: made.targets,
        workload: describe(
          memory: memory, patterns: patterns.count, queries: queries, count: made.queries.count,
          settings: settings),
        settings: settings, defaultBetas: [0.1, 2])?.erased()
    }
    let patterns = try Inputs.clouds(memory, option: "--memory").clouds
    let made = try queriesAndTargets(
      patterns: patterns, queries: queries, targets: targets, settings: settings,
      read: { try Inputs.clouds($0, option: "--queries").clouds },
      mismatch: { i, cloud in
        cloud.dimension == patterns[0].dimension
          ? nil : "cloud \(i) has points in dimension \(cloud.dimension), the memory \(patterns[0].dimension)"
      },
      corrupt: { pattern, generator in
        try CompareWorkloads.noisyCloud(
          pattern, noise: settings.noise ?? 0, permuted: !settings.keepAtomOrder, generator: &generator)
      })
    return try CompareWorkloads.clouds(
      patterns: patterns, queries: made.queries, targets: made.targets,
      workload: describe(
        memory: memory, patterns: patterns.count, queries: queries, count: made.queries.count,
        settings: settings),
      settings: settings, defaultEpsilon: nil, defaultBetas: [5, 20])?.erased()
  }

  /// The queries and their targets: read from the user's files when both are given (each query
  /// checked against the memory by `mismatch`, which returns what is wrong or nil), else the
  /// memory's patterns at seeded targets, corrupted by `corrupt` in target order.
  static func queriesAndTargets<State>(
    patterns: [State], queries: String?, targets: String?, settings: CompareSettings,
    read: (String) throws -> [State], mismatch: (Int, State) -> String?,
    corrupt: (State, inout SeededGenerator) throws -> State
  ) throws -> (queries: [State], targets: [Int]) {
    if let queries, let targets {
      let given = try read(queries)
      for (i, query) in given.enumerated() {
        if let problem = mismatch(i, query) { throw CLIError("--queries", problem) }
      }
      return (given, try targetIndices(targets, queries: given.count, patterns: patterns.count))
    }
    var generator = SeededGenerator(seed: settings.seed)
    let targets = try sampleTargets(patterns.count, settings: settings, generator: &generator)
    var made: [State] = []
    for target in targets { made.append(try corrupt(patterns[target], &generator)) }
    return (made, targets)
  }

  package static func describe(
    memory: String, patterns: Int, queries: String?, count: Int, settings: CompareSettings
  )
    -> String
  {
    if let queries {
      return "\(patterns) patterns from \(memory); \(count) queries from \(queries) with their targets"
    }
    return
      "\(patterns) patterns from \(memory); \(count) queries = stored patterns (seed \(settings.seed)) corrupted with noise \(settings.noise ?? 0)"
  }

  /// Targets for generated queries: a seeded shuffle of the memory, repeated when more queries
  /// than patterns are asked for.
  package static func sampleTargets(
    _ patterns: Int, settings: CompareSettings, generator: inout SeededGenerator
  )
    throws -> [Int]
  {
    let count = settings.count ?? min(patterns, 50)
    var targets: [Int] = []
    while targets.count < count { targets += (0..<patterns).shuffled(using: &generator) }
    return Array(targets.prefix(count))
  }

  /// The `--targets` file: one integer in `0..<patterns` per query.
  package static func targetIndices(_ path: String, queries: Int, patterns: Int) throws -> [Int] {
    let array = try attributing("--targets") { try InputFiles.npy(path) }
    guard array.shape == [queries] else {
      throw CLIError(
        "--targets", "\(path): expected shape [\(queries)] (one index per query), got \(array.shape)")
    }
    let values: [Int]
    do throws(NumPyError) {
      values = try array.integers()
    } catch {
      throw CLIError("--targets", "\(path): \(error.message)")
    }
    for (i, value) in values.enumerated() where !(0..<patterns).contains(value) {
      throw CLIError(
        "--targets", "\(path): entry \(i) is \(value), not the index of a stored pattern (0..<\(patterns))")
    }
    return values
  }
}
