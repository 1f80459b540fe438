/// The variation of a divergence between probability measures, on the atoms `yⱼ` of the query
/// `μ = Σⱼ wⱼ δ_{yⱼ}`: the first variation `φ` (a potential, defined up to a constant) at each
/// atom and its spatial gradient `∇φ(yⱼ)`, the Wasserstein gradient.
///
/// The gradient of the energy with respect to the position of atom `j` is `wⱼ ∇φ(yⱼ)`, and with
/// respect to its weight (on the simplex) `φ(yⱼ) - Σₖ wₖ φ(yₖ)`.
public struct MeasureVariation: Sendable, Hashable {
  /// `∇φ(yⱼ)`, row-major `atoms x dimension`.
  public var velocity: [Double]
  /// `φ(yⱼ)`.
  public var potential: [Double]
  /// The total separation weight accumulated, `Σᵢ λᵢ` (1 on the simplex, k for k-subsets).
  public var totalWeight: Double
  /// The number of atoms.
  public let atoms: Int
  /// The dimension of the space.
  public let dimension: Int

  /// The zero variation.
  public init(atoms: Int, dimension: Int) {
    self.atoms = atoms
    self.dimension = dimension
    velocity = [Double](repeating: 0, count: atoms * dimension)
    potential = [Double](repeating: 0, count: atoms)
    totalWeight = 0
  }
}
