/// The debiased Sinkhorn divergence between histograms on one regular grid,
/// `S_ε(μ, X) = OT_ε(μ, X) - OT_ε(μ, μ)/2 - OT_ε(X, X)/2`, solved by convolution
/// (``GridSinkhorn``), as a divergence of the framework.
///
/// - Each pattern's self term is solved once, when the pattern is stored.
/// - The query's self problem (potential `p`) is solved once per step and shared.
/// - Each pattern's cross solve warm-starts from its potentials of the previous step.
///
/// The variation (``GridVariation``) holds the first variation `φ = f - p` on the grid cells
/// (for the spherical Hellinger geometry) and the pattern itself (for the barycentric geometry).
/// Solves of different patterns are independent, so the engine may run them concurrently.
public struct GridSinkhornDivergence: Divergence {
  /// The solver settings, ε included.
  public let options: GridSinkhornOptions

  /// Gradients in the query's cell masses (``gradient(_:at:query:pattern:cache:)``).
  public typealias StateGradient = [Double]
  /// Gradients in the pattern's cell masses.
  public typealias PatternGradient = [Double]

  /// A grid Sinkhorn divergence with the given solver settings.
  public init(options: GridSinkhornOptions) {
    self.options = options
  }

  /// A grid Sinkhorn divergence at `epsilon` with default settings (marginal tolerance 1e-9).
  public init(epsilon: Double) throws(DAMError) {
    options = try GridSinkhornOptions(epsilon: epsilon)
  }

  /// The cross problem at one pattern.
  public struct Evaluation: Sendable {
    /// `S_ε(μ, X)`.
    public let value: Double
    /// `OT_ε(μ, X)` with its potentials.
    public let transport: EntropicTransport
  }

  /// Solves the pattern's self problem.
  public func prepare(_ pattern: GridHistogram) throws(DAMError) -> SelfTransport {
    try GridSinkhorn.selfTransport(pattern, options: options)
  }

  /// Checks the grids agree.
  public func checkCompatible(_ pattern: GridHistogram, with reference: GridHistogram) throws(DAMError) {
    try checkSameGrid(reference, pattern, argument: "pattern")
  }

  /// Checks the query's grid.
  public func checkQuery(_ state: GridHistogram, against reference: GridHistogram) throws(DAMError) {
    try checkSameGrid(reference, state, argument: "query")
  }

  /// Solves the query's self problem.
  public func prepareQuery(_ state: GridHistogram) throws(DAMError) -> SelfTransport {
    try prepareQuery(state, previous: nil)
  }

  /// Solves the query's self problem, warm-started from the previous step's potential.
  public func prepareQuery(_ state: GridHistogram, previous: SelfTransport?) throws(DAMError) -> SelfTransport
  {
    let warm = previous.flatMap { $0.potential.count == state.cellCount ? $0.potential : nil }
    return try GridSinkhorn.selfTransport(state, options: options, warmStart: warm)
  }

  /// Solves the cross problem.
  public func evaluate(
    _ state: GridHistogram, query: SelfTransport, pattern: GridHistogram, cache: SelfTransport
  )
    throws(DAMError) -> Evaluation
  {
    try evaluate(state, query: query, pattern: pattern, cache: cache, previous: nil)
  }

  /// Solves the cross problem, warm-started from the previous step's potentials.
  public func evaluate(
    _ state: GridHistogram, query: SelfTransport, pattern: GridHistogram, cache: SelfTransport,
    previous: Evaluation?
  ) throws(DAMError) -> Evaluation {
    let warm = previous.map { (f: $0.transport.f, g: $0.transport.g) }
    let transport = try GridSinkhorn.transport(from: state, to: pattern, options: options, warmStart: warm)
    return Evaluation(value: transport.value - 0.5 * query.value - 0.5 * cache.value, transport: transport)
  }

  /// `S_ε(μ, X)`.
  public func value(of evaluation: Evaluation) -> Double { evaluation.value }

  /// `S_ε(μ, X)` with its gradients in the cell masses of the query (`a`) and of the pattern
  /// (`b`), each a `[Double]` in the cells' order (that of ``GridHistogram/masses``), and `∂S/∂ε`:
  ///
  /// - `∂S/∂a = f - p + s` and `∂S/∂b = g - q - s`, with `(f, g)` the cross potentials and `p`,
  ///   `q` the self potentials of the query and the pattern: derivatives in unnormalised masses,
  ///   meaningful only up to a constant, so project them onto the simplex's tangent space (subtract
  ///   the mean) before use. `s` fixes the constant, the cross potentials' `(f + s, g - s)`, so
  ///   that `⟨a, ∂S/∂a⟩ = ⟨b, ∂S/∂b⟩`. Empty cells get the derivative of putting mass there.
  /// - `∂S/∂ε = KL(π | a ⊗ b) - KL(π_a | a ⊗ a)/2 - KL(π_b | b ⊗ b)/2` (the envelope theorem),
  ///   each relative entropy from conditional expectations computed by convolution, in
  ///   ``DivergenceGradient/epsilon``.
  ///
  /// The gradients are exact for the potentials solved, so they are as accurate as the solves:
  /// use a tight tolerance; when ε is small against the gaps between groups of cells with mass the
  /// weight gradients' constant may differ between the groups (see
  /// ``Sinkhorn/divergenceGradient(_:_:cost:divergence:)``).
  ///
  /// - Throws: ``DAMError`` if the backend is not available in this build.
  public func gradient(
    _ evaluation: Evaluation, at state: GridHistogram, query: SelfTransport, pattern: GridHistogram,
    cache: SelfTransport
  ) throws(DAMError) -> DivergenceGradient<[Double], [Double]> {
    try gridDivergenceGradient(
      state, pattern, value: evaluation.value, transport: evaluation.transport, firstSelf: query,
      secondSelf: cache,
      options: options)
  }

  /// The zero variation on the query's grid.
  public func zeroVariation(at state: GridHistogram) -> GridVariation {
    GridVariation(cells: state.cellCount)
  }

  /// Adds `weight × (f - p)` to the potential and `(weight, pattern)` to the combination.
  public func accumulate(
    _ weight: Double, of evaluation: Evaluation, at state: GridHistogram, query: SelfTransport,
    pattern: GridHistogram, cache: SelfTransport, into variation: inout GridVariation
  ) {
    variation.totalWeight += weight
    for j in 0..<state.cellCount {
      variation.potential[j] += weight * (evaluation.transport.f[j] - query.potential[j])
    }
    variation.patternWeights.append(weight)
    variation.patterns.append(pattern)
  }
}
