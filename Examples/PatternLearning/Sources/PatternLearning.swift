import DAM
import Foundation

/// Learning the stored patterns of a vector memory by gradient descent, so that one retrieval
/// step from each training query lands on its target: the worked example of Docs/gradients.md,
/// built only on DAM's public API.
///
/// The memory holds patterns `X₁ … X_N` in `ℝᴰ` with the squared Euclidean divergence, a separation map
/// `ŷ` and inverse temperature `β`. One step of ``EuclideanGeometry`` from a query `q` is
/// `ξ(q) = Σᵢ ŷᵢ(θ) Xᵢ` with scores `θᵢ = -β D(q, Xᵢ)`. The loss over training pairs `(qₘ, tₘ)` is
///
///     L(X, β) = (1/M) Σₘ ‖ξ(qₘ) - tₘ‖²
///
/// and its gradient is the chain rule through the map and the divergence: with `g = 2 (ξ - t)/M`,
/// `s = (⟨Xᵢ, g⟩)ᵢ` and `u = Jᵀ s` (the map's
/// ``SeparationMap/vectorJacobianProduct(scores:weights:cotangent:)``),
///
///     ∂L/∂Xᵢ = Σₘ ŷᵢ g - β uᵢ ∇_X D(q, Xᵢ)        ∂L/∂β = Σₘ Σᵢ uᵢ (-D(q, Xᵢ))
///
/// with `∇_X D` from ``Divergence/valueAndGradient(_:_:)``. A sparse map's `u` is zero off its
/// support, so only patterns that take part in a query's retrieval move for it.
public struct PatternLearner<Map: SeparationMap>: Sendable {
  /// The separation map.
  public let separation: Map
  /// The training queries, all of one dimension.
  public let queries: [[Double]]
  /// The target of each query.
  public let targets: [[Double]]
  /// The first index of each distinct target.
  let distinctTargets: [Int]

  /// A learner for the training pairs `(queries[m], targets[m])`.
  ///
  /// - Throws: ``DAMError`` naming `queries` or `targets` if they are empty, of different counts,
  ///   or of different dimensions.
  public init(separation: Map, queries: [[Double]], targets: [[Double]]) throws(DAMError) {
    guard let dimension = queries.first?.count, dimension > 0 else {
      throw DAMError(.invalidArgument, argument: "queries", "is empty; give at least one query")
    }
    guard targets.count == queries.count else {
      throw DAMError(
        .dimensionMismatch, argument: "targets", "has \(targets.count) rows for \(queries.count) queries")
    }
    if let bad = queries.firstIndex(where: { $0.count != dimension }) {
      throw DAMError(
        .dimensionMismatch, argument: "queries[\(bad)]", "has \(queries[bad].count) entries, not \(dimension)"
      )
    }
    if let bad = targets.firstIndex(where: { $0.count != dimension }) {
      throw DAMError(
        .dimensionMismatch, argument: "targets[\(bad)]", "has \(targets[bad].count) entries, not \(dimension)"
      )
    }
    self.separation = separation
    self.queries = queries
    self.targets = targets
    var seen: [[Double]] = []
    distinctTargets = targets.indices.filter { m in
      guard !seen.contains(targets[m]) else { return false }
      seen.append(targets[m])
      return true
    }
  }

  /// The loss and its gradients at patterns `X` and inverse temperature `β`.
  public struct Evaluation: Sendable {
    /// `L(X, β)`.
    public var loss: Double
    /// `∂L/∂Xᵢ`, one row per pattern.
    public var patterns: [[Double]]
    /// `∂L/∂β`.
    public var beta: Double
    /// How many queries one step takes nearer to their own target than to any other target of
    /// the training set.
    public var correct: Int
  }

  /// The engine of one retrieval step at these patterns and `β`.
  func engine(_ patterns: [[Double]], beta: Double) throws -> RetrievalEngine<
    SquaredEuclideanDivergence, Map, EuclideanGeometry
  > {
    try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: separation,
      geometry: EuclideanGeometry(), beta: beta)
  }

  /// `L(X, β)` and its gradients.
  public func evaluate(patterns: [[Double]], beta: Double) throws -> Evaluation {
    let engine = try engine(patterns, beta: beta)
    let divergence = engine.memory.divergence
    let snapshots = try engine.snapshots(at: queries)
    let stepped = try engine.steps(from: snapshots)
    let scale = 1 / Double(queries.count)
    var loss = 0.0
    var patternGradients = patterns.map { [Double](repeating: 0, count: $0.count) }
    var betaGradient = 0.0
    var correct = 0
    for (m, snapshot) in snapshots.enumerated() {
      let residual = zip(stepped[m], targets[m]).map { $0 - $1 }
      loss += scale * residual.reduce(0) { $0 + $1 * $1 }
      let g = residual.map { 2 * scale * $0 }
      let scores = snapshot.divergences.map { -beta * $0 }
      let s = patterns.map { pattern in zip(pattern, g).reduce(0) { $0 + $1.0 * $1.1 } }
      let u = try separation.vectorJacobianProduct(scores: scores, weights: snapshot.weights, cotangent: s)
      for i in patterns.indices {
        patternGradients[i].add(snapshot.weights[i], times: g)
        guard u[i] != 0 else { continue }
        let partial = try divergence.valueAndGradient(queries[m], patterns[i])
        patternGradients[i].add(-beta * u[i], times: partial.pattern)
        betaGradient -= u[i] * partial.value
      }
      if targets[nearest(stepped[m], distinctTargets)] == targets[m] { correct += 1 }
    }
    return Evaluation(loss: loss, patterns: patternGradients, beta: betaGradient, correct: correct)
  }

  /// The index in ``targets`` of the nearest of the distinct targets to `state`.
  func nearest(_ state: [Double], _ candidates: [Int]) -> Int {
    var best = (index: candidates[0], distance: Double.infinity)
    for i in candidates {
      let distance = zip(state, targets[i]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      if distance < best.distance { best = (i, distance) }
    }
    return best.index
  }

  /// One record of ``train(patterns:beta:steps:learningRate:learnsBeta:)``.
  public struct Record: Sendable {
    /// The descent step (0 before the first).
    public var step: Int
    /// The loss at the start of the step.
    public var loss: Double
    /// `β` at the start of the step.
    public var beta: Double
    /// The queries stepping nearer to their own target than to any other.
    public var correct: Int
  }

  /// Gradient descent from `patterns` and `beta`: `X ← X - η ∂L/∂X` and, if `learnsBeta`,
  /// `log β ← log β - η β ∂L/∂β` (descent in `log β` keeps `β` positive).
  ///
  /// - Returns: the learned patterns and `β`, and one record per step plus one at the end.
  public func train(
    patterns initial: [[Double]], beta initialBeta: Double, steps: Int, learningRate: Double,
    learnsBeta: Bool = false
  ) throws -> (patterns: [[Double]], beta: Double, history: [Record]) {
    guard steps >= 0 else {
      throw DAMError(.invalidArgument, argument: "steps", "must be >= 0, got \(steps)")
    }
    guard learningRate > 0, learningRate.isFinite else {
      throw DAMError(
        .invalidArgument, argument: "learningRate", "must be a finite number > 0, got \(learningRate)")
    }
    var patterns = initial
    var beta = initialBeta
    var history: [Record] = []
    for step in 0...steps {
      let evaluation = try evaluate(patterns: patterns, beta: beta)
      history.append(Record(step: step, loss: evaluation.loss, beta: beta, correct: evaluation.correct))
      guard step < steps else { break }
      for i in patterns.indices { patterns[i].add(-learningRate, times: evaluation.patterns[i]) }
      if learnsBeta { beta *= exp(-learningRate * beta * evaluation.beta) }
    }
    return (patterns, beta, history)
  }
}
