/// The solution of an entropic optimal transport problem between two weighted point clouds
/// `μ = Σⱼ aⱼ δ_{xⱼ}` and `ν = Σₖ bₖ δ_{yₖ}`:
///
///     OT_ε(μ, ν) = min over couplings π of ⟨C, π⟩ + ε KL(π | a ⊗ b),   Cⱼₖ = ‖xⱼ - yₖ‖²
///
/// The coupling is `πⱼₖ = aⱼ bₖ exp((fⱼ + gₖ - Cⱼₖ)/ε)` for the dual potentials ``f`` (on the
/// atoms of `μ`) and ``g`` (on the atoms of `ν`); they are unique up to `(f + c, g - c)`.
public struct EntropicTransport: Sendable, Hashable {
  /// The regularisation ε of the problem.
  public let epsilon: Double
  /// `OT_ε(μ, ν)`, as the dual objective `⟨a, f⟩ + ⟨b, g⟩ - ε (Σ π - 1)` at the final potentials
  /// (the last term vanishes at convergence; keeping it makes the value exact for the returned
  /// potentials).
  public let value: Double
  /// The potential on the atoms of the first cloud.
  public let f: [Double]
  /// The potential on the atoms of the second cloud.
  public let g: [Double]
  /// Sinkhorn iterations performed, annealing included (one iteration updates both potentials).
  public let iterations: Int
  /// Newton steps performed after the Sinkhorn iterations (0 when Sinkhorn converged alone).
  public let newtonSteps: Int
  /// The L1 error of both marginals at the returned potentials.
  public let marginalError: Double
  /// Whether the marginal error met the tolerance.
  public let converged: Bool
}

/// The solution of the symmetric problem `OT_ε(μ, μ)`, whose optimal potentials are equal:
/// `f = g = p`.
public struct SelfTransport: Sendable, Hashable {
  /// The regularisation ε of the problem.
  public let epsilon: Double
  /// `OT_ε(μ, μ) = 2 ⟨a, p⟩ - ε (Σ π - 1)`.
  public let value: Double
  /// The symmetric potential on the atoms.
  public let potential: [Double]
  /// Iterations performed, annealing included.
  public let iterations: Int
  /// The L1 error of both marginals.
  public let marginalError: Double
  /// Whether the marginal error met the tolerance.
  public let converged: Bool
}

/// The debiased Sinkhorn divergence `S_ε(μ, ν) = OT_ε(μ, ν) - OT_ε(μ, μ)/2 - OT_ε(ν, ν)/2`, which
/// is non-negative and zero exactly when `μ = ν`.
public struct SinkhornDivergenceValue: Sendable, Hashable {
  /// `S_ε(μ, ν)`.
  public var value: Double { crossTerm.value - 0.5 * firstSelfTerm.value - 0.5 * secondSelfTerm.value }
  /// `OT_ε(μ, ν)`.
  public let crossTerm: EntropicTransport
  /// `OT_ε(μ, μ)`.
  public let firstSelfTerm: SelfTransport
  /// `OT_ε(ν, ν)`.
  public let secondSelfTerm: SelfTransport

  /// Iterations of the three solves together.
  public var iterations: Int { crossTerm.iterations + firstSelfTerm.iterations + secondSelfTerm.iterations }
  /// The largest marginal error of the three solves.
  public var marginalError: Double {
    max(crossTerm.marginalError, firstSelfTerm.marginalError, secondSelfTerm.marginalError)
  }
}
