import DAM
import NumPyFiles

/// What `dam separate` prints: a separation map's weights at `β θ`, their support and the
/// conjugate. The JSON keys are the command's; ``text`` is its plain output (a table of the
/// support's scaled scores and weights).
package struct SeparationReport: Encodable, Equatable {
  package var map: String
  package var name: String
  package var beta: Double
  package var weights: [Double]
  package var support: [Int]
  package var conjugate: Double
  /// The scaled scores `β θ` (printed in the table, not in the JSON).
  package var scaledScores: [Double]

  enum CodingKeys: String, CodingKey {
    case map, name, beta, weights, support, conjugate
  }

  /// The plain output: the support's size, a table of its scores and weights, the conjugate.
  package var text: String {
    var table = Table(header: ["index", "score", "weight"])
    for i in support { table.append(["\(i)", Table.format(scaledScores[i]), Table.format(weights[i])]) }
    return """
      \(name), beta = \(beta): \(support.count) of \(scaledScores.count) weights nonzero
      \(table.markdown)
      conjugate Omega*(beta theta) = \(conjugate)
      """
  }

  /// `dam separate`'s work: reads the scores `θ` at `path` (a `.npy` vector), applies `map` (the
  /// `choice` given, with its `k` when it has one) to `β θ` and checks the result is finite.
  /// Errors name the input or option at fault (`--beta` when `β θ` overflows, `--k` when `k`
  /// exceeds the number of scores).
  package static func compute(
    _ choice: SeparationChoice, map: AnySeparationMap, scores path: String, beta: Double, k: Int?
  ) throws(CLIError) -> SeparationReport {
    let array = try attributing(path) { try InputFiles.npy(path) }
    guard array.shape.count == 1 else {
      throw CLIError(path, "expected a vector (N), got shape \(array.shape)")
    }
    guard array.shape[0] > 0 else { throw CLIError(path, "is empty") }
    let raw = array.doubles()
    let theta = raw.map { $0 * beta }
    for (i, (score, scaled)) in zip(raw, theta).enumerated() where score.isFinite && !scaled.isFinite {
      throw CLIError(
        "--beta",
        "beta x score overflows at index \(i) (\(beta) x \(score) = \(scaled)); lower --beta or scale \(path) down"
      )
    }
    if let k, k > theta.count {
      throw CLIError("--k", "is \(k), but \(path) holds only \(theta.count) scores")
    }
    let result = try attributingK(path) { try map.separate(theta) }
    // A map that returned a non-finite value must not print it with exit status 0.
    guard result.conjugate.isFinite, result.weights.allSatisfy(\.isFinite) else {
      throw CLIError(
        path,
        "the result is not finite (conjugate \(result.conjugate)); the scores are out of the range this map can take, scale them down"
      )
    }
    return SeparationReport(
      map: choice.rawValue, name: map.name, beta: beta, weights: result.weights,
      support: result.weights.indices.filter { result.weights[$0] != 0 }, conjugate: result.conjugate,
      scaledScores: theta)
  }
}

/// Runs `body`, attributing a library error about `k` (a subset larger than the memory) to `--k`
/// and any other to `fallback`.
package func attributingK<T>(_ fallback: String, _ body: () throws -> T) throws(CLIError) -> T {
  do {
    return try body()
  } catch let error as DAMError where error.argument == "k" {
    throw CLIError("--k", error.message)
  } catch let error as CLIError {
    throw error
  } catch {
    throw CLIError(fallback, error)
  }
}
