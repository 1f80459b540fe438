import Foundation

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
  /// Redraws the figures of a report folder that this experiment wrote, from the rows in its
  /// `results.json` (figures not drawn from rows are recomputed with `seed` where that takes
  /// seconds), and returns them by file name; `nil` when the figures cannot be redrawn without
  /// rerunning the experiment.
  package var replot: (@Sendable (_ folder: String, _ seed: UInt64) throws -> [String: String])? = nil

  /// Every reproduction, in the order `--list` shows them.
  package static let all: [Experiment] = [
    Experiment(
      name: GaussianCloudsExperiment.name, summary: GaussianCloudsExperiment.summary,
      run: GaussianCloudsExperiment.run, replot: GaussianCloudsExperiment.replot),
    Experiment(
      name: RandomPatternsExperiment.name, summary: RandomPatternsExperiment.summary,
      run: RandomPatternsExperiment.run,
      replot: { folder, _ in try ["recall.svg": RandomPatternsExperiment.chart(rows(folder))] }),
    Experiment(
      name: WeightedDigitsExperiment.name, summary: WeightedDigitsExperiment.summary,
      run: WeightedDigitsExperiment.run,
      replot: { folder, _ in try ["recall.svg": WeightedDigitsExperiment.chart(rows(folder))] }),
    Experiment(
      name: HopfieldBasinsExperiment.name, summary: HopfieldBasinsExperiment.summary,
      run: HopfieldBasinsExperiment.run),
    Experiment(
      name: BWDAMSyntheticExperiment.name, summary: BWDAMSyntheticExperiment.summary,
      run: BWDAMSyntheticExperiment.run,
      replot: { folder, _ in try ["retrieval.svg": BWDAMSyntheticExperiment.chart(rows(folder))] }),
    Experiment(
      name: BWDAMOneStepExperiment.name, summary: BWDAMOneStepExperiment.summary,
      run: BWDAMOneStepExperiment.run,
      replot: { folder, _ in try ["one-step.svg": BWDAMOneStepExperiment.chart(rows(folder))] }),
    Experiment(
      name: BWDAMCapacityExperiment.name, summary: BWDAMCapacityExperiment.summary,
      run: BWDAMCapacityExperiment.run,
      replot: { folder, _ in try ["capacity.svg": BWDAMCapacityExperiment.chart(rows(folder))] }),
    Experiment(
      name: BWDAMEllipsesExperiment.name, summary: BWDAMEllipsesExperiment.summary,
      run: BWDAMEllipsesExperiment.run),
    Experiment(
      name: MetastableStatesExperiment.name, summary: MetastableStatesExperiment.summary,
      run: MetastableStatesExperiment.run),
    Experiment(
      name: GridImagesExperiment.name, summary: GridImagesExperiment.summary, run: GridImagesExperiment.run,
      replot: GridImagesExperiment.replot),
  ]

  /// The `results.json` of a report folder, decoded as `T`.
  package static func rows<T: Decodable>(_ folder: String, as type: T.Type = T.self) throws(CLIError) -> T {
    let path = folder + "/results.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError("--replot", "\(path) is missing or unreadable: give a folder that the experiment wrote")
    }
    do {
      return try JSONDecoder().decode(T.self, from: data)
    } catch {
      throw CLIError("--replot", "\(path) does not hold this experiment's rows: \(error)")
    }
  }

  /// The reproduction called `name`, if any.
  package static func named(_ name: String) -> Experiment? { all.first { $0.name == name } }
}
