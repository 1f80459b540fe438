/// The debiased Sinkhorn divergence between weighted point clouds,
/// `S_ε(μ, X) = OT_ε(μ, X) - OT_ε(μ, μ)/2 - OT_ε(X, X)/2`, as a divergence of the framework.
///
/// - Each pattern's self term `OT_ε(X, X)` is solved once, when the pattern is stored.
/// - The query's self problem (potential `p`, self barycentric map `T_s`) is solved once per
///   step and shared by every pattern.
/// - Each pattern's solve warm-starts from its potentials of the previous step.
///
/// The variation at the query's atoms `yⱼ` is the first variation `φ = f - p` (up to a constant)
/// and its gradient `∇φ(yⱼ) = 2 (T_s(yⱼ) - T(yⱼ))`, with `T` the barycentric map of the coupling
/// from `μ` to `X`, for the squared Euclidean cost; for another ``Cost``
/// `∇φ(yⱼ) = E_π[∇ₓc(yⱼ, ·)] - E_{π_s}[∇ₓc(yⱼ, ·)]` over the conditional laws of the cross and
/// self couplings (``Sinkhorn/potentialGradient(from:to:cost:transport:)``); see
/// ``MeasureVariation``. Pruning bounds (``lowerBound(_:query:pattern:cache:)``) are proven for
/// the squared Euclidean cost only: with another cost there are none, and every pattern is
/// evaluated.
///
/// As in ``Sinkhorn``, ε above 1e6 times the squared diameter of a problem's bounding box (a
/// pattern's own, in ``prepare(_:)``; the query's and the pattern's together, in the cross
/// problem) is refused, naming `epsilon`: the potentials would carry round-off of about `ε · 1e-16`.
public struct SinkhornDivergence: Divergence {
  /// The solver settings, ε included.
  public let options: SinkhornOptions
  /// The ground cost (``SquaredEuclideanCost`` by default).
  public let cost: any Cost
  /// Whether ``cost`` is the squared Euclidean one (maps and pruning bounds are its fast paths).
  private let squaredEuclidean: Bool

  /// A Sinkhorn divergence with the given solver settings and ground cost.
  public init(options: SinkhornOptions, cost: any Cost = SquaredEuclideanCost()) {
    self.options = options
    self.cost = cost
    squaredEuclidean = cost is SquaredEuclideanCost
  }

  /// A Sinkhorn divergence at `epsilon` with default solver settings (marginal tolerance 1e-9).
  public init(epsilon: Double, cost: any Cost = SquaredEuclideanCost()) throws(DAMError) {
    self.init(options: try SinkhornOptions(epsilon: epsilon), cost: cost)
  }

  /// Gradients in the query's positions and weights (``gradient(_:at:query:pattern:cache:)``).
  public typealias StateGradient = PointCloudGradient
  /// Gradients in the pattern's positions and weights.
  public typealias PatternGradient = PointCloudGradient

  /// The query's self problem and its barycentric map.
  public struct QueryCache: Sendable {
    /// `OT_ε(μ, μ)` and its symmetric potential.
    public let selfTransport: SelfTransport
    /// `T_s(yⱼ)`, one row per atom.
    public let selfMap: Matrix
    /// `∇p(yⱼ)`, one row per atom, for a cost other than the squared Euclidean one (which uses
    /// `2 (yⱼ - T_s(yⱼ))` through ``selfMap``).
    let selfGradient: Matrix?
    /// The mean, spread and (in one or two dimensions) covariance of the query's atoms, for
    /// ``lowerBound(_:query:pattern:cache:)``.
    let mean: [Double]
    let spread: Double
    let covariance: SIMD3<Double>
  }

  /// The cross problem at one pattern.
  public struct Evaluation: Sendable {
    /// `S_ε(μ, X)`.
    public let value: Double
    /// `OT_ε(μ, X)` with its potentials.
    public let transport: EntropicTransport
  }

  /// Solves the pattern's self problem.
  public func prepare(_ pattern: PointCloud) throws(DAMError) -> SelfTransport {
    try Sinkhorn.selfTransport(pattern, cost: cost, options: options, warmStart: nil, name: "pattern")
  }

  /// Checks the dimensions agree.
  public func checkCompatible(_ pattern: PointCloud, with reference: PointCloud) throws(DAMError) {
    guard pattern.dimension == reference.dimension else {
      throw DAMError.mismatch(
        "pattern",
        "has atoms of dimension \(pattern.dimension), the memory's patterns have \(reference.dimension)")
    }
    try cost.validate(dimension: pattern.dimension)
  }

  /// Checks the query's dimension.
  public func checkQuery(_ state: PointCloud, against reference: PointCloud) throws(DAMError) {
    guard state.dimension == reference.dimension else {
      throw DAMError.mismatch(
        "query",
        "has atoms of dimension \(state.dimension), the memory's patterns have \(reference.dimension)")
    }
  }

  /// Solves the query's self problem, warm-started from the previous step's potential.
  public func prepareQuery(_ state: PointCloud, previous: QueryCache?) throws(DAMError) -> QueryCache {
    try requireSymmetricCost(cost, state, name: "query")
    let matrix = CostMatrix(state.points, state.points, cost: cost)
    try requireFiniteCosts(state, state, matrix, names: ("query", "query"))
    let warm = previous.flatMap {
      $0.selfTransport.potential.count == state.count ? $0.selfTransport.potential : nil
    }
    let solved = try solveSelfTransport(matrix, state.weights, options, warm)
    let logWeights = state.weights.map(_log)
    let map = mapFromPotential(matrix, state, epsilon: options.epsilon, logB: logWeights, g: solved.potential)
    let gradient =
      squaredEuclidean
      ? nil
      : gradientFromPotential(
        cost, matrix, state, state, epsilon: options.epsilon, logB: logWeights, g: solved.potential)
    return QueryCache(
      selfTransport: solved, selfMap: map, selfGradient: gradient, mean: state.mean, spread: state.spread,
      covariance: state.planarCovariance)
  }

  /// Solves the cross problem, warm-started from the previous step's potentials.
  public func evaluate(
    _ state: PointCloud, query: QueryCache, pattern: PointCloud, cache: SelfTransport, previous: Evaluation?
  ) throws(DAMError) -> Evaluation {
    let matrix = CostMatrix(state.points, pattern.points, cost: cost)
    try requireTrustworthyEpsilon(options.epsilon, state, pattern, matrix, names: ("query", "pattern"))
    var warm: (f: [Double], g: [Double])? = nil
    if let previous, previous.transport.f.count == state.count, previous.transport.g.count == pattern.count {
      warm = (previous.transport.f, previous.transport.g)
    }
    let transport = try solveTransport(matrix, state.weights, pattern.weights, options, warm)
    let value = transport.value - 0.5 * query.selfTransport.value - 0.5 * cache.value
    return Evaluation(value: value, transport: transport)
  }

  /// `S_ε(μ, X)`.
  public func value(of evaluation: Evaluation) -> Double { evaluation.value }

  /// `‖m(μ) - m(X)‖² + G(μ, X) - OT_ε(μ, μ)/2 - OT_ε(X, X)/2`, with `G` Gelbrich's bound on the
  /// centred clouds' `W₂²` (the spread term above two dimensions; see
  /// ``SinkhornBounds/lowerBound(_:_:epsilon:)``) and the two self terms the very values the
  /// exact evaluation subtracts (the query's, solved once per state, and the pattern's, solved
  /// when it was stored; each at most `ε H` of its weights, the bound of
  /// ``SinkhornBounds/lowerBound(_:_:epsilon:)``). Since `OT_ε(μ, X) ≥ ‖Δm‖² + G`, only the cross
  /// term is bounded. Lowered by `tolerance × (1 + both squared gaps)`: a solve stopped at that
  /// L1 marginal error reports its value to about that accuracy, so the bound stays below the
  /// value the engine would compute.
  public func lowerBound(_ state: PointCloud, query: QueryCache, pattern: PointCloud, cache: SelfTransport)
    -> Double?
  {
    guard squaredEuclidean else { return nil }
    let d = query.mean.count
    guard pattern.mean.count == d else { return nil }
    var gap = 0.0
    for t in 0..<d { gap += (pattern.mean[t] - query.mean[t]) * (pattern.mean[t] - query.mean[t]) }
    let shape = shapeGap(
      query.covariance, spread: query.spread, pattern.planarCovariance, spread: pattern.spread, planar: d <= 2
    )
    return certified(gap: gap, shape: shape, querySelf: query.selfTransport.value, patternSelf: cache.value)
  }

  /// The bound from its parts: the squared mean gap, the centred term and the two self values,
  /// lowered by the solver tolerance (see ``lowerBound(_:query:pattern:cache:)``).
  @inline(__always)
  private func certified(gap: Double, shape: Double, querySelf: Double, patternSelf: Double) -> Double {
    gap + shape - 0.5 * (querySelf + patternSelf) - options.tolerance * (1 + gap + shape)
  }

  /// ``lowerBound(_:query:pattern:cache:)`` for a block of patterns, reading each pattern's
  /// summaries in place (in one and two dimensions no array is touched, so nothing is retained).
  public func lowerBounds(
    _ state: PointCloud, query: QueryCache, patterns: [PointCloud], caches: [SelfTransport],
    indices: Range<Int>
  ) -> [Double]? {
    guard squaredEuclidean else { return nil }
    let d = query.mean.count
    guard d <= 2 else {
      return lowerBoundsOneByOne(state, query: query, patterns: patterns, caches: caches, indices: indices)
    }
    let queryMean = d == 1 ? SIMD2(query.mean[0], 0) : SIMD2(query.mean[0], query.mean[1])
    let querySelf = query.selfTransport.value
    return patterns.withUnsafeBufferPointer { patternBuffer in
      caches.withUnsafeBufferPointer { cacheBuffer -> [Double]? in
        guard let pattern = patternBuffer.baseAddress, let cache = cacheBuffer.baseAddress else { return [] }
        var bounds = [Double](repeating: 0, count: indices.count)
        for i in indices {
          guard pattern[i].points.columns == d else { return nil }
          let difference = pattern[i].planarMean - queryMean
          let gap = (difference * difference).sum()
          let shape = shapeGap(
            query.covariance, spread: query.spread, pattern[i].planarCovariance, spread: pattern[i].spread,
            planar: true)
          bounds[i - indices.lowerBound] = certified(
            gap: gap, shape: shape, querySelf: querySelf, patternSelf: cache[i].value)
        }
        return bounds
      }
    }
  }

  /// The zero variation on the query's atoms.
  public func zeroVariation(at state: PointCloud) -> MeasureVariation {
    MeasureVariation(atoms: state.count, dimension: state.dimension)
  }

  /// Adds `weight × (∇φ, φ)` with `φ = f - p`: `2 (T_s(yⱼ) - T(yⱼ))` and `f(yⱼ) - p(yⱼ)`.
  public func accumulate(
    _ weight: Double, of evaluation: Evaluation, at state: PointCloud, query: QueryCache, pattern: PointCloud,
    cache: SelfTransport, into variation: inout MeasureVariation
  ) {
    add(
      weight, evaluation, crossMap(evaluation, at: state, pattern: pattern), query: query, into: &variation)
  }

  /// Each state's weighted variation over its support in pattern order, as
  /// ``accumulate(_:of:at:query:pattern:cache:into:)`` one after the other would, with the
  /// barycentric maps (the work: an `n x m` exponential each) of the whole block computed
  /// beforehand on the block's threads: the sums are the same whatever the thread count and the
  /// batch.
  public func accumulate(_ block: AccumulationBlock<Self>) throws -> [MeasureVariation] {
    let items = block.items
    var pairs: [(item: Int, pattern: Int)] = []
    for (k, item) in items.enumerated() {
      for i in item.support { pairs.append((k, i)) }
    }
    let chunks = min(pairs.count, block.parallelism == 1 ? 1 : block.parallelism * 8)
    let maps = Slots<Matrix?>(count: pairs.count, initial: nil)
    let patterns = block.memory.patterns
    let allPairs = pairs
    forEachChunk(chunks, workers: block.parallelism) { chunk in
      for position in blockRange(chunk, of: chunks, count: allPairs.count) {
        let (k, i) = allPairs[position]
        maps[position] = crossMap(items[k].evaluation(at: i), at: items[k].state, pattern: patterns[i])
      }
    }
    var variations = items.map { zeroVariation(at: $0.state) }
    for (position, (k, i)) in pairs.enumerated() {
      add(
        items[k].weights[i], items[k].evaluation(at: i), maps[position]!, query: items[k].query,
        into: &variations[k])
    }
    return variations
  }

  /// The barycentric map `T(yⱼ)` of the cross coupling from the query to the pattern, or for a
  /// cost other than the squared Euclidean one the gradient `∇f(yⱼ)` of its first potential.
  private func crossMap(_ evaluation: Evaluation, at state: PointCloud, pattern: PointCloud) -> Matrix {
    transportRows(
      cost, CostMatrix(state.points, pattern.points, cost: cost), state, pattern, epsilon: options.epsilon,
      g: evaluation.transport.g)
  }

  /// `S_ε(μ, X)` with its gradients in the query's and the pattern's positions and weights, and
  /// `∂S/∂ε`, from the potentials of the three problems
  /// (``Sinkhorn/divergenceGradient(_:_:cost:divergence:)`` gives the same for a divergence solved
  /// alone):
  ///
  /// - `∂S/∂yⱼ = aⱼ (∇f(yⱼ) - ∇p(yⱼ))` for the query's atoms `yⱼ` of weight `aⱼ`, `∇f(yⱼ) =
  ///   E_{π(·|yⱼ)}[∇ₓc(yⱼ, ·)]` over the cross coupling and `∇p` the same over the query's self
  ///   coupling: `2 aⱼ (T_s(yⱼ) - T(yⱼ))` for the squared Euclidean cost. The pattern's atoms
  ///   likewise, with the cross coupling read from the pattern to the query and the pattern's self
  ///   coupling (from its cached potential).
  /// - `∂S/∂a = f - p + s` and `∂S/∂b = g - q - s` (`q` the pattern's self potential): derivatives
  ///   in unnormalised weights, meaningful only up to a constant, so project them onto the
  ///   simplex's tangent space (subtract the mean) before use. `s` fixes the constant, the cross
  ///   potentials' `(f + s, g - s)`, so that `⟨a, ∂S/∂a⟩ = ⟨b, ∂S/∂b⟩`: the result does not
  ///   depend on the warm start.
  /// - `∂S/∂ε = KL(π | a ⊗ b) - KL(π_s | a ⊗ a)/2 - KL(π_X | b ⊗ b)/2`, the envelope theorem
  ///   (`∂OT_ε/∂ε` is the optimal coupling's relative entropy), in
  ///   ``DivergenceGradient/epsilon``.
  ///
  /// The gradients are exact for the potentials solved, so they are as accurate as the solves:
  /// use a tight tolerance; when ε is small against the gaps between groups of atoms the weight
  /// gradients' constant may differ between the groups (see
  /// ``Sinkhorn/divergenceGradient(_:_:cost:divergence:)``). The cost must be symmetric (the self
  /// terms and the pattern side use `∇_y c(x, y) = ∇ₓc(y, x)`); a cost other than the package's
  /// is checked on the atoms.
  ///
  /// - Throws: ``DAMError`` naming `cost` if it is not symmetric.
  public func gradient(
    _ evaluation: Evaluation, at state: PointCloud, query: QueryCache, pattern: PointCloud,
    cache: SelfTransport
  ) throws(DAMError) -> DivergenceGradient<PointCloudGradient, PointCloudGradient> {
    // Each cloud's own pairs were checked when it was prepared (prepare, prepareQuery).
    try requireSymmetricCostAcross(cost, state, pattern)
    return debiasedSinkhornGradient(
      cost, state, pattern, value: evaluation.value, cross: evaluation.transport, xSelf: query.selfTransport,
      ySelf: cache, xSelfRows: squaredEuclidean ? query.selfMap : query.selfGradient)
  }

  private func add(
    _ weight: Double, _ evaluation: Evaluation, _ map: Matrix, query: QueryCache,
    into variation: inout MeasureVariation
  ) {
    let d = map.columns
    let count = map.rows
    variation.totalWeight += weight
    if let selfGradient = query.selfGradient {
      // ∇φ = ∇f - ∇p, `map` holding ∇f.
      for i in 0..<(count * d) {
        variation.velocity[i] += weight * (map.elements[i] - selfGradient.elements[i])
      }
    } else {
      for i in 0..<(count * d) {
        variation.velocity[i] += weight * 2 * (query.selfMap.elements[i] - map.elements[i])
      }
    }
    for j in 0..<count {
      variation.potential[j] += weight * (evaluation.transport.f[j] - query.selfTransport.potential[j])
    }
  }
}
