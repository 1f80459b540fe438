/// When a retrieval stops.
///
/// Retrieval stops at the first step after which *every* enabled tolerance holds:
/// - the energy changed by at most `energyTolerance × max(1, |E|)` (relative above 1, absolute
///   below);
/// - no point of the state moved by more than `positionTolerance` (in the state's own units);
/// - no mass changed by more than `massTolerance`;
///
/// or when a step leaves the state exactly unchanged (a fixed point, as sparse maps reach in
/// finitely many steps), or after `maxSteps` steps. A tolerance of `nil` is not tested; with all
/// three `nil`, retrieval runs to `maxSteps` (or an exact fixed point). When
/// `patience` is above 1, the tolerances must hold for that many consecutive steps, which guards
/// against stopping on a momentary pause of a slow tail.
public struct StoppingRule: Sendable, Hashable {
  /// The largest number of steps.
  public var maxSteps: Int
  /// The largest relative energy change accepted as converged; `nil` to ignore the energy.
  public var energyTolerance: Double?
  /// The largest move of a point accepted as converged; `nil` to ignore positions.
  public var positionTolerance: Double?
  /// The largest change of a mass accepted as converged; `nil` to ignore masses.
  public var massTolerance: Double?
  /// How many consecutive steps the tolerances must hold.
  public var patience: Int

  /// A stopping rule. The defaults suit unit-scale data: at most 100 steps, energy to `1e-12`
  /// relative, positions and masses to `1e-9`, one step of patience.
  public init(
    maxSteps: Int = 100, energyTolerance: Double? = 1e-12, positionTolerance: Double? = 1e-9,
    massTolerance: Double? = 1e-9, patience: Int = 1
  ) throws(DAMError) {
    guard maxSteps >= 0 else { throw DAMError.invalid("maxSteps", "must be >= 0, got \(maxSteps)") }
    guard patience >= 1 else { throw DAMError.invalid("patience", "must be >= 1, got \(patience)") }
    for (name, value) in [
      ("energyTolerance", energyTolerance), ("positionTolerance", positionTolerance),
      ("massTolerance", massTolerance),
    ] {
      if let value, !(value >= 0 && value.isFinite) {
        throw DAMError.invalid(name, "must be a finite number >= 0, got \(value)")
      }
    }
    self.maxSteps = maxSteps
    self.energyTolerance = energyTolerance
    self.positionTolerance = positionTolerance
    self.massTolerance = massTolerance
    self.patience = patience
  }

  /// The default rule.
  public static let `default` = try! StoppingRule()

  /// Whether a step with these changes meets every enabled tolerance.
  func isConverged(energyChange: Double, energy: Double, change: StateChange) -> Bool {
    // With every tolerance disabled the rule runs to the step limit (or an exact fixed point).
    if energyTolerance == nil && positionTolerance == nil && massTolerance == nil { return false }
    if let tolerance = energyTolerance, !(abs(energyChange) <= tolerance * max(1, abs(energy))) {
      return false
    }
    if let tolerance = positionTolerance, !(change.position <= tolerance) { return false }
    if let tolerance = massTolerance, !(change.mass <= tolerance) { return false }
    return true
  }
}

/// Why a retrieval stopped.
public enum StopReason: String, Sendable, Hashable, Codable {
  /// Every enabled tolerance of the ``StoppingRule`` held.
  case converged
  /// A step left the state exactly unchanged.
  case fixedPoint = "fixed_point"
  /// The step limit was reached before convergence.
  case stepLimit = "step_limit"
}
