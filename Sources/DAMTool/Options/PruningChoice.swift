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
      // Any number parses; its range is checked by `check(option:)`, so that `-0.1` is reported
      // as out of range rather than as a value that is not one.
      guard let mass = Double(argument) else { return nil }
      pruning = .softmaxMass(mass)
    }
  }

  /// Throws, naming `option`, when the dropped-mass bound is outside `[0, 1)`.
  func check(option: String = "--pruning") throws(CLIError) {
    if case .softmaxMass(let mass) = pruning, !(mass >= 0 && mass < 1) {
      throw CLIError(option, "the dropped softmax mass must be a number in [0, 1), got \(mass)")
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
