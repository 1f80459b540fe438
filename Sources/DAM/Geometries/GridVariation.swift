/// The separation-weighted variation of grid divergences at a query histogram: the first
/// variation `φ = Σᵢ λᵢ (fᵢ - p)` on the cells (defined up to a constant) and the weighted
/// patterns themselves (a formal combination, for the barycentric geometry).
public struct GridVariation: Sendable, Hashable {
  /// `φ` on the cells, row-major.
  public var potential: [Double]
  /// `Σᵢ λᵢ`.
  public var totalWeight: Double
  /// The weights `λᵢ` of the patterns accumulated, in order.
  public var patternWeights: [Double]
  /// The patterns accumulated.
  public var patterns: [GridHistogram]

  /// The zero variation on a grid of `cells` cells.
  public init(cells: Int) {
    potential = [Double](repeating: 0, count: cells)
    totalWeight = 0
    patternWeights = []
    patterns = []
  }
}
