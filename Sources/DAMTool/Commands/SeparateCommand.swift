import ArgumentParser
import DAM
import DAMExperiments

struct SeparateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "separate",
    abstract: "Apply a separation map to a vector of scores.",
    discussion: """
      Reads a .npy vector of N scores theta (-inf marks a masked entry, which gets weight 0), \
      multiplies it by --beta and prints the weights y(beta theta), the support (the indices \
      with nonzero weight) and the conjugate Omega*(beta theta).

      Maps: softmax; sparsemax (the Euclidean projection onto the simplex); entmax (Tsallis \
      alpha-negentropy, --alpha >= 1, default 1.5; 1 is softmax and 2 sparsemax); normmax \
      (argmax of <theta, y> - ||y||_alpha over the simplex, --alpha > 1, default 2); ksubsets \
      (the projection onto {0 <= y <= 1, sum y = k}, --k required); sequential-ksubsets \
      (SparseMAP over k-subsets with the score --pairwise added for every two neighbours both \
      in, --k and --pairwise required; --beta does not scale --pairwise).
      """)

  @Argument(help: ArgumentHelp("The separation map.", valueName: "MAP"))
  var map: SeparationChoice

  @Argument(help: ArgumentHelp("The scores: a .npy vector (N).", valueName: "scores.npy"))
  var scores: String

  @Option(parsing: .unconditional, help: "The inverse temperature beta > 0 that multiplies the scores.")
  var beta: Double = 1

  @OptionGroup(title: "Map parameters")
  var separationOptions: SeparationOptions

  @OptionGroup var format: OutputFormat

  func validate() throws {
    guard beta.isFinite, beta > 0 else {
      throw CLIError("--beta", "must be a finite number > 0, got \(beta)")
    }
    _ = try separationMap()
  }

  func separationMap() throws(CLIError) -> AnySeparationMap {
    try map.map(
      alpha: separationOptions.alpha, k: separationOptions.k, pairwise: separationOptions.pairwise,
      choiceLabel: "")
  }

  func run() throws {
    let report = try SeparationReport.compute(
      map, map: separationMap(), scores: scores, beta: beta, k: separationOptions.k)
    try format.print(report) { report.text }
  }
}
