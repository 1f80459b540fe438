/// A gradient with respect to one argument of a divergence: an element of a vector space, so that
/// the energy's gradient can combine the gradients of several patterns linearly
/// (`∇_ξ E = Σᵢ ŷᵢ ∇_ξ D(ξ, Xᵢ)`, the envelope theorem).
///
/// The package's gradients: `[Double]` (vectors; the cells of a grid histogram),
/// ``GaussianGradient`` (a mean and a symmetric covariance gradient) and ``PointCloudGradient``
/// (positions and weights). `Never` is the gradient type of divergences that give none.
public protocol GradientVector: Sendable {
  /// Adds `weight × other` to `self`; both have the same shape.
  mutating func add(_ weight: Double, times other: Self)

  /// `weight × self`.
  func scaled(by weight: Double) -> Self
}

extension Array: GradientVector where Element == Double {
  /// Entry by entry; `other` has as many entries as `self`.
  public mutating func add(_ weight: Double, times other: [Double]) {
    for i in indices { self[i] += weight * other[i] }
  }

  /// Entry by entry.
  public func scaled(by weight: Double) -> [Double] { map { weight * $0 } }
}

extension Matrix: GradientVector {
  /// Entry by entry; `other` has the shape of `self`.
  public mutating func add(_ weight: Double, times other: Matrix) {
    _elements.add(weight, times: other._elements)
  }

  /// Entry by entry.
  public func scaled(by weight: Double) -> Matrix {
    var scaled = self
    scaled._elements = _elements.scaled(by: weight)
    return scaled
  }
}

/// The gradient type of a divergence without gradients: there is no value of it.
extension Never: GradientVector {
  public mutating func add(_ weight: Double, times other: Never) {}
  public func scaled(by weight: Double) -> Never { switch self {} }
}

/// The gradient of a divergence between Gaussians `N(m, Σ)` with respect to one of them.
public struct GaussianGradient: GradientVector, Hashable {
  /// `∂D/∂m`.
  public var mean: [Double]
  /// `∂D/∂Σ`, symmetric: the gradient on the space of symmetric matrices, so that
  /// `D(Σ + tH) = D(Σ) + t tr(∂D/∂Σ · H) + O(t²)` for every symmetric direction `H`.
  public var covariance: Matrix

  /// A gradient from its two parts.
  public init(mean: [Double], covariance: Matrix) {
    self.mean = mean
    self.covariance = covariance
  }

  /// Part by part.
  public mutating func add(_ weight: Double, times other: GaussianGradient) {
    mean.add(weight, times: other.mean)
    covariance.add(weight, times: other.covariance)
  }

  /// Part by part.
  public func scaled(by weight: Double) -> GaussianGradient {
    GaussianGradient(mean: mean.scaled(by: weight), covariance: covariance.scaled(by: weight))
  }
}

/// The gradient of a divergence between weighted point clouds `Σⱼ aⱼ δ_{xⱼ}` with respect to one
/// of them.
public struct PointCloudGradient: GradientVector, Hashable {
  /// `∂D/∂xⱼ`, one row per atom (the shape of the cloud's points).
  public var points: Matrix
  /// `∂D/∂aⱼ`, one entry per atom. On the probability simplex only the component orthogonal to
  /// `(1, …, 1)` is meaningful: a conformance states which constant it fixes.
  public var weights: [Double]

  /// A gradient from its two parts.
  public init(points: Matrix, weights: [Double]) {
    self.points = points
    self.weights = weights
  }

  /// Part by part.
  public mutating func add(_ weight: Double, times other: PointCloudGradient) {
    points.add(weight, times: other.points)
    weights.add(weight, times: other.weights)
  }

  /// Part by part.
  public func scaled(by weight: Double) -> PointCloudGradient {
    PointCloudGradient(points: points.scaled(by: weight), weights: weights.scaled(by: weight))
  }
}

/// A divergence's value `D(ξ, X)` with its gradients in both arguments.
public struct DivergenceGradient<StateGradient: GradientVector, PatternGradient: GradientVector>: Sendable {
  /// `D(ξ, X)`.
  public var value: Double
  /// `∇_ξ D(ξ, X)`.
  public var state: StateGradient
  /// `∇_X D(ξ, X)`.
  public var pattern: PatternGradient
  /// `∂D/∂ε` for a divergence with a regularisation `ε` (the entropic ones), `nil` otherwise.
  public var epsilon: Double?

  /// A gradient from its parts.
  public init(value: Double, state: StateGradient, pattern: PatternGradient, epsilon: Double? = nil) {
    self.value = value
    self.state = state
    self.pattern = pattern
    self.epsilon = epsilon
  }
}

extension Divergence where StateGradient == Never, PatternGradient == Never {
  /// Throws: the divergence gives no gradients.
  public func gradient(
    _ evaluation: Evaluation, at state: State, query: QueryCache, pattern: Pattern, cache: PatternCache
  ) throws -> DivergenceGradient<Never, Never> {
    throw DAMError.invalid(
      "divergence",
      "\(Self.self) is not differentiable: it does not implement gradient(_:at:query:pattern:cache:)")
  }
}

extension Divergence {
  /// `D(ξ, X)` and its gradients at one pair, from scratch: prepares the pattern and the query,
  /// evaluates and calls ``gradient(_:at:query:pattern:cache:)``.
  ///
  /// - Throws: ``DAMError`` if the pair is invalid or the divergence is not differentiable.
  public func valueAndGradient(_ state: State, _ pattern: Pattern) throws
    -> DivergenceGradient<StateGradient, PatternGradient>
  {
    let cache = try prepare(pattern)
    try checkCompatible(pattern, with: pattern)
    try checkQuery(state, against: pattern)
    let query = try prepareQuery(state)
    let evaluation = try evaluate(state, query: query, pattern: pattern, cache: cache)
    return try gradient(evaluation, at: state, query: query, pattern: pattern, cache: cache)
  }
}
