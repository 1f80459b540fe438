/// A probability histogram on a regular 1-D, 2-D or 3-D grid.
///
/// Cell `(i₀, i₁, i₂)` sits at coordinates `(i₀ h₀, i₁ h₁, i₂ h₂)` with the per-axis ``spacing``
/// `h` (1 by default, so squared distances, and hence `ε`, are in squared cells). Masses are
/// stored in row-major (C) order, the last axis varying fastest, as NumPy stores an `(H, W)` or
/// `(H, W, D)` array. Empty cells are allowed.
public struct GridHistogram: Sendable, Hashable {
  /// The number of cells along each axis (1 to 3 axes).
  public let shape: [Int]
  /// The distance between neighbouring cells along each axis.
  public let spacing: [Double]
  /// The masses in row-major order, non-negative and summing to 1.
  public let masses: [Double]

  /// A histogram with the given masses, which must sum to 1 within ``probabilitySumTolerance``.
  ///
  /// - Throws: ``DAMError`` naming `shape`, `masses` or `spacing` (also when the grid's squared
  ///   diameter `Σₐ (hₐ (nₐ - 1))²`, its largest cost, overflows).
  public init(shape: [Int], masses: [Double], spacing: [Double]? = nil) throws(DAMError) {
    try self.init(shape: shape, masses: masses, spacing: spacing, normalize: false)
  }

  /// A histogram whose masses are proportional to `intensities` (an image, a count volume).
  public init(shape: [Int], intensities: [Double], spacing: [Double]? = nil) throws(DAMError) {
    try self.init(shape: shape, masses: intensities, spacing: spacing, normalize: true)
  }

  private init(shape: [Int], masses: [Double], spacing: [Double]?, normalize: Bool) throws(DAMError) {
    guard (1...3).contains(shape.count) else {
      throw DAMError.invalid("shape", "must have 1, 2 or 3 axes, got \(shape.count)")
    }
    var cells = 1
    for (axis, size) in shape.enumerated() {
      guard size >= 1 else {
        throw DAMError.invalid("shape", "axis \(axis) has size \(size); sizes must be >= 1")
      }
      let (product, overflow) = cells.multipliedReportingOverflow(by: size)
      guard !overflow else { throw DAMError.invalid("shape", "\(shape) has too many cells") }
      cells = product
    }
    guard masses.count == cells else {
      throw DAMError.mismatch("masses", "has \(masses.count) values, shape \(shape) has \(cells) cells")
    }
    let spacing = spacing ?? [Double](repeating: 1, count: shape.count)
    guard spacing.count == shape.count else {
      throw DAMError.mismatch("spacing", "has \(spacing.count) values for \(shape.count) axes")
    }
    for (axis, h) in spacing.enumerated() { try _requirePositive(h, "spacing[\(axis)]") }
    // The largest cost on the grid, Σₐ (hₐ (nₐ - 1))², must be finite: every solve starts its ε
    // annealing there and its potentials are differences of costs.
    var squaredDiameter = 0.0
    for (h, n) in zip(spacing, shape) { squaredDiameter += (h * Double(n - 1)) * (h * Double(n - 1)) }
    guard squaredDiameter.isFinite else {
      throw DAMError(
        .numericalFailure, argument: "spacing",
        "\(spacing) on a grid of shape \(shape) makes the grid's squared diameter (its largest cost) overflow to \(squaredDiameter); use a smaller spacing (costs, and so epsilon, scale with its square)"
      )
    }
    self.masses = try probabilityWeights(masses, "masses", normalize: normalize)
    self.shape = shape
    self.spacing = spacing
  }

  /// The number of cells.
  public var cellCount: Int { masses.count }
}
