/// A reproduction that writes a report folder. (A plain registry of values rather than protocol
/// metatypes: Swift 6.3.1's SILGen crashes on static members read through `any P.Type` here.)
package struct Experiment: Sendable {
  /// The name `dam experiment` takes.
  package var name: String
  /// One line for `dam experiment --list`.
  package var summary: String
  /// Runs the reproduction into the report folder: `trials` seeded trials per configuration from
  /// `seed` on, or a reduced grid of settings when `quick`.
  package var run: @Sendable (_ report: String, _ trials: Int, _ seed: UInt64, _ quick: Bool) throws -> Void

  /// Every reproduction, in the order `--list` shows them.
  package static let all: [Experiment] = [
    Experiment(
      name: GaussianCloudsExperiment.name, summary: GaussianCloudsExperiment.summary,
      run: GaussianCloudsExperiment.run),
    Experiment(
      name: RandomPatternsExperiment.name, summary: RandomPatternsExperiment.summary,
      run: RandomPatternsExperiment.run),
    Experiment(
      name: WeightedDigitsExperiment.name, summary: WeightedDigitsExperiment.summary,
      run: WeightedDigitsExperiment.run),
    Experiment(
      name: HopfieldBasinsExperiment.name, summary: HopfieldBasinsExperiment.summary,
      run: HopfieldBasinsExperiment.run),
    Experiment(
      name: BWDAMSyntheticExperiment.name, summary: BWDAMSyntheticExperiment.summary,
      run: BWDAMSyntheticExperiment.run),
    Experiment(
      name: BWDAMOneStepExperiment.name, summary: BWDAMOneStepExperiment.summary,
      run: BWDAMOneStepExperiment.run),
    Experiment(
      name: BWDAMCapacityExperiment.name, summary: BWDAMCapacityExperiment.summary,
      run: BWDAMCapacityExperiment.run),
    Experiment(
      name: BWDAMEllipsesExperiment.name, summary: BWDAMEllipsesExperiment.summary,
      run: BWDAMEllipsesExperiment.run),
    Experiment(
      name: MetastableStatesExperiment.name, summary: MetastableStatesExperiment.summary,
      run: MetastableStatesExperiment.run),
    Experiment(
      name: GridImagesExperiment.name, summary: GridImagesExperiment.summary, run: GridImagesExperiment.run),
  ]

  /// The reproduction called `name`, if any.
  package static func named(_ name: String) -> Experiment? { all.first { $0.name == name } }
}
