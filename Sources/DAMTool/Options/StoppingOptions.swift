import ArgumentParser
import DAM
import DAMExperiments

/// Options shared by commands that run retrieval.
struct StoppingOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "The largest number of retrieval steps.")
  var maxSteps: Int = 100

  @Option(
    parsing: .unconditional,
    help: """
      Also stop only when no coordinate (vectors) or atom (point clouds) moves by more than this in one \
      step. Default 1e-9 for vectors; not used for point clouds unless given (atoms can drift slowly \
      along nearly flat directions long after the energy has converged).
      """)
  var tolerance: Double?

  @Option(
    parsing: .unconditional,
    help:
      "Stop when the energy changes by at most this, relative to max(1, |E|) (default 1e-12 for vectors, 1e-7 for point clouds, where the energy converges slowly when eps is comparable to the atom spacing)."
  )
  var energyTolerance: Double?

  func rule(forClouds: Bool = false) throws(CLIError) -> StoppingRule {
    try attributing("--max-steps") {
      do {
        return try StoppingRule(
          maxSteps: maxSteps, energyTolerance: energyTolerance ?? (forClouds ? 1e-7 : 1e-12),
          positionTolerance: tolerance ?? (forClouds ? nil : 1e-9), massTolerance: forClouds ? nil : 1e-9,
          patience: forClouds ? 3 : 1)
      } catch let error as DAMError {
        let option =
          switch error.argument {
          case "maxSteps": "--max-steps"
          case "energyTolerance": "--energy-tolerance"
          default: "--tolerance"
          }
        throw CLIError(option, error.message)
      }
    }
  }
}

/// How `--json` reports each query's separation weights.
struct WeightOutputOptions: ParsableArguments {
  @Flag(help: "Report every pattern's weight in the JSON ('weights', N numbers per query).")
  var allWeights = false

  @Option(
    parsing: .unconditional,
    help:
      "Without --all-weights, the JSON's 'support' lists the patterns weighing more than this (in [0, 1)).")
  var weightThreshold = 1e-12

  func validate() throws {
    guard weightThreshold >= 0, weightThreshold < 1 else {
      throw CLIError("--weight-threshold", "must be a number in [0, 1), got \(weightThreshold)")
    }
  }
}
