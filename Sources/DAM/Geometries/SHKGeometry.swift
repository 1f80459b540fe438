/// The spherical Hellinger-Kantorovich geometry on weighted point clouds: a transport
/// (Kantorovich) step that moves the atoms along `-∇φ`, and a spherical Hellinger step that
/// reweights them multiplicatively by `exp(-τ α (φ - φ̄))` and renormalises:
///
///     yⱼ ← yⱼ - τ ∇φ(yⱼ)
///     wⱼ ← wⱼ exp(-τ α (φ(yⱼ) - Σₖ wₖ φ(yₖ))) / Z
///
/// With the Sinkhorn divergence, `∇φ = 2 (T_s - Σᵢ λᵢ Tᵢ)`, so `τ = 1/2` is the barycentric fixed
/// point `yⱼ ← Σᵢ λᵢ Tᵢ(yⱼ)` (plus the self-map correction). `α = 0` is the Wasserstein
/// (transport-only) geometry; weights then never change.
///
/// The variation is divided by its total separation weight `Σᵢ λᵢ` before the step, so step sizes
/// mean the same on every polytope: `τ = 1/2` is the barycentric step whether the weights sum to 1
/// (softmax, sparse maps) or to k (k-subsets, whose fixed point is the barycenter of the k
/// retrieved patterns, as the vector fixed-point update returns their mean).
///
/// Step sizes (measured, not proved): with the Sinkhorn divergence, the energy did not increase
/// along transport steps with `τ ≤ 1/2` (α = 0), nor along SHK steps with `τ ≤ 1/2` and
/// `τ α ≤ ε/20`, in every test run. With `τ α` of order ε (for example `τ = 1/2`, `α = 1`,
/// `ε = 0.1`) the dynamics still retrieve, but the energy can oscillate slightly near its minimum:
/// the curvature of `OT_ε` in the weights grows like `1/ε`.
public struct SHKGeometry: Geometry {
  /// The step size `τ > 0`.
  public let step: Double
  /// The Hellinger scale `α ≥ 0`.
  public let hellingerScale: Double

  /// An SHK geometry.
  ///
  /// - Throws: ``DAMError`` naming `step` or `hellingerScale` when out of range.
  public init(step: Double = 0.5, hellingerScale: Double = 1) throws(DAMError) {
    try _requirePositive(step, "step")
    guard hellingerScale >= 0, hellingerScale.isFinite else {
      throw DAMError.invalid("hellingerScale", "must be a finite number >= 0, got \(hellingerScale)")
    }
    self.step = step
    self.hellingerScale = hellingerScale
  }

  /// An SHK geometry whose Hellinger scale suits the Sinkhorn divergence at `epsilon`:
  /// `α = ``hellingerScale(epsilon:step:)```, so that `τ α = ε / 20`.
  ///
  /// - Throws: ``DAMError`` naming `step` or `epsilon` when not finite and positive.
  public init(step: Double = 0.5, epsilon: Double) throws(DAMError) {
    try _requirePositive(step, "step")
    try _requirePositive(epsilon, "epsilon")
    try self.init(step: step, hellingerScale: Self.hellingerScale(epsilon: epsilon, step: step))
  }

  /// The default Hellinger scale for the Sinkhorn divergence at `epsilon` and step `τ`:
  /// `α = ε / (20 τ)`, the largest `τ α` at which the energy did not increase in the tests (see
  /// the type's discussion). Larger scales reweight faster but can make the energy oscillate.
  public static func hellingerScale(epsilon: Double, step: Double) -> Double {
    epsilon / (20 * step)
  }

  /// The Wasserstein (transport-only) geometry with step `τ`.
  public static func wasserstein(step: Double = 0.5) throws(DAMError) -> SHKGeometry {
    try SHKGeometry(step: step, hellingerScale: 0)
  }

  /// One SHK step.
  public func step(from state: PointCloud, along variation: MeasureVariation) throws(DAMError) -> PointCloud {
    let n = state.count
    let d = state.dimension
    let scale = variation.totalWeight > 0 ? 1 / variation.totalWeight : 1
    let tau = step * scale
    var points = state.points.elements
    for i in 0..<(n * d) { points[i] -= tau * variation.velocity[i] }
    var weights = state.weights
    if hellingerScale > 0 {
      var mean = 0.0
      for j in 0..<n { mean += weights[j] * variation.potential[j] }
      // Multiplicative update in the log domain, normalised by the largest exponent.
      var exponents = [Double](repeating: -.infinity, count: n)
      var largest = -Double.infinity
      for j in 0..<n where weights[j] > 0 {
        exponents[j] = _log(weights[j]) - tau * hellingerScale * (variation.potential[j] - mean)
        largest = max(largest, exponents[j])
      }
      var total = 0.0
      for j in 0..<n {
        weights[j] = exponents[j] == -.infinity ? 0 : _exp(exponents[j] - largest)
        total += weights[j]
      }
      for j in 0..<n { weights[j] /= total }
    }
    for value in points where !value.isFinite {
      throw DAMError(
        .numericalFailure, argument: "step", "the transport step produced a non-finite atom; reduce the step")
    }
    return try PointCloud(points: Matrix(rows: n, columns: d, elements: points), weights: weights)
  }

  /// The largest atom move (Euclidean norm) and the largest weight change.
  public func change(from old: PointCloud, to new: PointCloud) -> StateChange {
    let d = old.dimension
    var move = 0.0
    for j in 0..<old.count {
      var squared = 0.0
      for t in 0..<d {
        let delta = new.points[j, t] - old.points[j, t]
        squared += delta * delta
      }
      move = max(move, squared.squareRoot())
    }
    var mass = 0.0
    for j in 0..<old.count { mass = max(mass, abs(new.weights[j] - old.weights[j])) }
    return StateChange(position: move, mass: mass)
  }
}
