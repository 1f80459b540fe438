import ArgumentParser
import DAM
import DAMExperiments
import NumPyFiles

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

  struct Report: Encodable {
    var map: String
    var name: String
    var beta: Double
    var weights: [Double]
    var support: [Int]
    var conjugate: Double
  }

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
    let separationMap = try separationMap()
    let array = try attributing(scores) { try InputFiles.npy(scores) }
    guard array.shape.count == 1 else {
      throw CLIError(scores, "expected a vector (N), got shape \(array.shape)")
    }
    guard array.shape[0] > 0 else { throw CLIError(scores, "is empty") }
    let raw = array.doubles()
    let theta = raw.map { $0 * beta }
    for (i, (score, scaled)) in zip(raw, theta).enumerated() where score.isFinite && !scaled.isFinite {
      throw CLIError(
        "--beta",
        "beta x score overflows at index \(i) (\(beta) x \(score) = \(scaled)); lower --beta or scale \(scores) down"
      )
    }
    if let k = separationOptions.k, k > theta.count {
      throw CLIError("--k", "is \(k), but \(scores) holds only \(theta.count) scores")
    }
    let result = try SeparationOptions.attributingK(scores) { try separationMap.separate(theta) }
    // A map that returned a non-finite value must not print it with exit status 0.
    guard result.conjugate.isFinite, result.weights.allSatisfy(\.isFinite) else {
      throw CLIError(
        scores,
        "the result is not finite (conjugate \(result.conjugate)); the scores are out of the range this map can take, scale them down"
      )
    }
    let support = result.weights.indices.filter { result.weights[$0] != 0 }
    let report = Report(
      map: map.rawValue, name: separationMap.name, beta: beta, weights: result.weights, support: support,
      conjugate: result.conjugate)
    if format.json {
      try JSONOutput.print(report)
    } else {
      print("\(separationMap.name), beta = \(beta): \(support.count) of \(theta.count) weights nonzero")
      var table = Table(header: ["index", "score", "weight"])
      for i in support {
        table.append(["\(i)", Table.format(theta[i]), Table.format(result.weights[i])])
      }
      print(table.markdown)
      print("conjugate Omega*(beta theta) = \(result.conjugate)")
    }
  }
}
