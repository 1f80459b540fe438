import ArgumentParser
import DAM
import DAMExperiments

/// `--pruning none|exact|MASS` of `dam retrieve` and `dam compare`: which patterns a retrieval may
/// skip (``Pruning``; Docs/cli.md, `--pruning`).
///
/// - `none` (the default): every pattern is evaluated exactly at every state.
/// - `exact`: patterns whose weight is certified zero by a sparse separation map (sparsemax,
///   entmax, normmax, k-subsets) are skipped; results are those of `none`. Softmax evaluates
///   every pattern.
/// - a number `MASS` in `[0, 1)`: as `exact`, and with softmax the patterns whose total weight is
///   certified to be at most `MASS` are dropped (weight 0, the rest renormalised); the bound
///   reached is reported (`dropped_weight_bound`).
struct PruningChoice: ExpressibleByArgument, Sendable {
  let pruning: Pruning

  init(_ pruning: Pruning) { self.pruning = pruning }

  init?(argument: String) {
    switch argument.lowercased() {
    case "none": pruning = .none
    case "exact": pruning = .exact
    default:
      guard let mass = Double(argument), mass >= 0, mass < 1 else { return nil }
      pruning = .softmaxMass(mass)
    }
  }

  var defaultValueDescription: String { "none" }

  static var allValueStrings: [String] { ["none", "exact", "MASS in [0, 1)"] }

  /// A short label for reports.
  var label: String {
    switch pruning {
    case .none: "none"
    case .exact: "exact"
    case .softmaxMass(let mass): "softmax mass \(mass)"
    }
  }
}
