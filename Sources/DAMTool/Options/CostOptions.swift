import ArgumentParser
import DAM
import DAMExperiments

/// `--cost` and `--power`: the ground cost of the point-cloud Sinkhorn divergence, for
/// `dam divergence sinkhorn` and `dam retrieve`.
struct CostOptions: ParsableArguments {
  @Option(
    help:
      "The ground cost of point clouds: sqeuclidean (||x - y||^2, the default) or power (||x - y||^p, p given by --power)."
  )
  var cost: CostChoice?

  @Option(parsing: .unconditional, help: "The power p >= 1 of the distance, with --cost power.")
  var power: Double?

  /// Whether either option was given.
  var isGiven: Bool { cost != nil || power != nil }

  /// The cost the options name (squared Euclidean when neither is given).
  func make() throws(CLIError) -> any Cost {
    switch (cost ?? .sqeuclidean, power) {
    case (.sqeuclidean, nil): return SquaredEuclideanCost()
    case (.sqeuclidean, .some): throw CLIError("--power", "applies to --cost power only")
    case (.power, nil): throw CLIError("--power", "is required with --cost power")
    case (.power, let p?):
      do { return try PowerCost(power: p) } catch { throw CLIError("--power", error.message) }
    }
  }

  /// Throws unless neither option was given: the memory is not of point clouds, or its
  /// geometry has no ground cost.
  func requireAbsent(_ reason: String) throws(CLIError) {
    guard isGiven else { return }
    throw CLIError(cost != nil ? "--cost" : "--power", reason)
  }
}

/// The ground costs `--cost` offers.
enum CostChoice: String, ExpressibleByArgument, CaseIterable {
  case sqeuclidean
  case power
}
