/// The spherical Hellinger geometry on a fixed grid: the query's cells stay where they are and
/// their masses are reweighted multiplicatively (the Hellinger step of SHK, Docs/concepts.md
/// "Geometries", with `φ` from the grid potentials):
///
///     wⱼ ← wⱼ exp(-τ α (φⱼ - Σₖ wₖ φₖ)) / Z,     φ = Σᵢ λᵢ (fᵢ - p) / Σᵢ λᵢ
///
/// It is the Hellinger half of the SHK geometry; there is no transport half, because grid cells
/// do not move. A cell of mass zero keeps mass zero, so this geometry cannot fill in a region
/// missing from the query (``GridBarycentricGeometry`` can).
///
/// Step sizes: with the point-cloud SHK geometry the energy decreased along steps with
/// `τ α ≤ ε/20` in every test run; the potentials are in units of squared distance, like ε.
public struct GridHellingerGeometry: Geometry {
  /// The step size `τ > 0`.
  public let step: Double
  /// The Hellinger scale `α > 0`.
  public let hellingerScale: Double

  /// A spherical Hellinger geometry on the grid.
  ///
  /// - Throws: ``DAMError`` naming `step` or `hellingerScale` when not finite and positive.
  public init(step: Double = 0.5, hellingerScale: Double = 1) throws(DAMError) {
    try _requirePositive(step, "step")
    try _requirePositive(hellingerScale, "hellingerScale")
    self.step = step
    self.hellingerScale = hellingerScale
  }

  /// A spherical Hellinger geometry whose scale suits the grid Sinkhorn divergence at `epsilon`:
  /// `α = ε / (20 τ)`, as ``SHKGeometry/hellingerScale(epsilon:step:)`` chooses for point clouds.
  ///
  /// - Throws: ``DAMError`` naming `step` or `epsilon` when not finite and positive.
  public init(step: Double = 0.5, epsilon: Double) throws(DAMError) {
    try _requirePositive(step, "step")
    try _requirePositive(epsilon, "epsilon")
    try self.init(step: step, hellingerScale: SHKGeometry.hellingerScale(epsilon: epsilon, step: step))
  }

  /// One reweighting step.
  public func step(from state: GridHistogram, along variation: GridVariation) throws(DAMError)
    -> GridHistogram
  {
    let n = state.cellCount
    let scale = variation.totalWeight > 0 ? 1 / variation.totalWeight : 1
    let rate = step * hellingerScale * scale
    var mean = 0.0
    for j in 0..<n where state.masses[j] > 0 { mean += state.masses[j] * variation.potential[j] }
    var exponents = [Double](repeating: -.infinity, count: n)
    var largest = -Double.infinity
    for j in 0..<n where state.masses[j] > 0 {
      exponents[j] = _log(state.masses[j]) - rate * (variation.potential[j] - mean)
      largest = max(largest, exponents[j])
    }
    guard largest.isFinite else {
      throw DAMError(
        .numericalFailure, argument: "step", "the reweighting produced a non-finite mass; reduce the step")
    }
    let masses = exponents.map { $0 == -.infinity ? 0 : _exp($0 - largest) }
    return try GridHistogram(shape: state.shape, intensities: masses, spacing: state.spacing)
  }

  /// No position change; the largest change of a cell's mass.
  public func change(from old: GridHistogram, to new: GridHistogram) -> StateChange {
    gridChange(old, new)
  }
}

func gridChange(_ old: GridHistogram, _ new: GridHistogram) -> StateChange {
  var mass = 0.0
  for j in 0..<min(old.cellCount, new.cellCount) { mass = max(mass, abs(new.masses[j] - old.masses[j])) }
  return StateChange(position: 0, mass: mass)
}
