import ArgumentParser
import DAM
import DAMExperiments

/// The options that parametrise a separation map, shared by `retrieve` and `separate`.
struct SeparationOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: """
      entmax: the entropic index alpha >= 1 (default 1.5; 1 is softmax, 2 sparsemax); \
      normmax: the norm order alpha > 1 (default 2).
      """)
  var alpha: Double?

  @Option(
    parsing: .unconditional,
    help: """
      ksubsets, sequential-ksubsets: the number k of patterns retrieved together \
      (required; the weights sum to k).
      """)
  var k: Int?

  @Option(
    parsing: .unconditional,
    help: """
      sequential-ksubsets: the score of two neighbouring patterns both retrieved \
      (required; > 0 favours runs, 0 is ksubsets).
      """)
  var pairwise: Double?
}
