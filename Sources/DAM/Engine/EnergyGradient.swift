/// The energy `E(ξ) = -(1/β) Ω*(-β D(ξ, X·))` at a state with its gradients: with respect to the
/// state, every stored pattern, the inverse temperature and (for an entropic divergence) `ε`.
///
/// By the envelope theorem (`ŷ = ∇Ω*`), `∇_ξ E = Σᵢ ŷᵢ ∇_ξ D(ξ, Xᵢ)` and
/// `∇_{Xᵢ} E = ŷᵢ ∇_X D(ξ, Xᵢ)`: only the patterns with nonzero weight contribute, so the pattern
/// gradients are given on the support only (every other pattern's gradient is zero).
public struct EnergyGradient<D: Divergence>: Sendable {
  /// `E(ξ)`.
  public var energy: Double
  /// The separation weights `ŷ` at the state, one per stored pattern.
  public var weights: [Double]
  /// `∇_ξ E = Σᵢ ŷᵢ ∇_ξ D(ξ, Xᵢ)`.
  public var state: D.StateGradient
  /// The patterns with nonzero weight, by increasing index.
  public var support: [Int]
  /// `∇_{Xᵢ} E = ŷᵢ ∇_X D(ξ, Xᵢ)` for each pattern of ``support``, in the same order.
  public var patterns: [D.PatternGradient]
  /// `∂E/∂β = -Ω(ŷ)/β²`: `E = ⟨ŷ, d⟩ + Ω(ŷ)/β` at the optimal `ŷ`, which the envelope theorem lets
  /// stay fixed.
  public var beta: Double
  /// `∂E/∂ε = Σᵢ ŷᵢ ∂D(ξ, Xᵢ)/∂ε` when the divergence has a regularisation `ε`
  /// (``DivergenceGradient/epsilon``), `nil` otherwise.
  public var epsilon: Double?
}

extension RetrievalEngine {
  /// The energy at `state` and its gradients (see ``EnergyGradient``), from one snapshot and the
  /// divergence's ``Divergence/gradient(_:at:query:pattern:cache:)`` at each pattern of the support.
  ///
  /// With ``Pruning/exact`` the skipped patterns have weight exactly zero and the gradients are
  /// exact; with ``Pruning/softmaxMass(_:)`` the skipped patterns' weight, at most the snapshot's
  /// ``Snapshot/droppedWeightBound``, is left out of them as it is of the energy.
  ///
  /// - Throws: ``DAMError`` if the state does not fit the memory, naming `divergence` if the
  ///   divergence is not differentiable, or naming `patterns[i]` if the divergence has no gradient
  ///   at a stored pattern of nonzero weight (a Gaussian with a singular covariance: the state's
  ///   gradient needs every pattern's, and is refused with it).
  public func energyGradient(at state: D.State) throws -> EnergyGradient<D> {
    let divergence = memory.divergence
    try divergence.checkQuery(state, against: memory.pattern(at: 0))
    let snapshot = try snapshot(at: state)
    let support = Array(snapshot.support)
    var stateGradient: D.StateGradient? = nil
    var patternGradients: [D.PatternGradient] = []
    patternGradients.reserveCapacity(support.count)
    var epsilon: Double? = 0
    for i in support {
      guard let evaluation = snapshot.evaluations[i] else {
        throw DAMError(.numericalFailure, argument: "state", "pattern \(i) has weight but no evaluation")
      }
      let weight = snapshot.weights[i]
      let gradient: DivergenceGradient<D.StateGradient, D.PatternGradient>
      do {
        gradient = try divergence.gradient(
          evaluation, at: state, query: snapshot.query, pattern: memory.pattern(at: i),
          cache: memory.caches[i])
      } catch let error as DAMError {
        // A stored pattern the gradient refuses (a singular covariance) is named by its index.
        throw error.renamingArgument { $0 == "pattern" ? "patterns[\(i)]" : $0 }
      }
      if stateGradient == nil {
        stateGradient = gradient.state.scaled(by: weight)
      } else {
        stateGradient!.add(weight, times: gradient.state)
      }
      patternGradients.append(gradient.pattern.scaled(by: weight))
      if let current = epsilon, let partial = gradient.epsilon {
        epsilon = current + weight * partial
      } else {
        epsilon = nil
      }
    }
    guard let stateGradient else {
      throw DAMError(.numericalFailure, argument: "state", "no pattern has nonzero weight")
    }
    let regularizer = try separation.regularizer(snapshot.weights)
    return EnergyGradient(
      energy: snapshot.energy, weights: snapshot.weights, state: stateGradient, support: support,
      patterns: patternGradients, beta: -regularizer / (beta * beta), epsilon: epsilon)
  }
}
