/// The sufficient conditions for *exact* retrieval in one step of the sparse and structured
/// Hopfield networks paper (Santos et al.), Propositions 2 and 5, for the update
/// `q ← Xᵀ ŷ(β X q)` of the dot-product energy.
///
/// - Proposition 2 (a map with margin `m`, such as ``Sparsemax`` with `m = 1`, ``Entmax`` with
///   `1/(α-1)` or ``Normmax`` with 1): if the separation `Δᵢ = ⟨xᵢ, xᵢ⟩ - max_{j≠i} ⟨xᵢ, xⱼ⟩` is at
///   least `m/β`, then `ŷ(β X xᵢ) = eᵢ` and `xᵢ` is a fixed point (``patternCondition(patterns:index:beta:margin:)``);
///   if a query satisfies `min_{j≠i} ⟨q, xᵢ - xⱼ⟩ ≥ m/β`, one update lands on `xᵢ`
///   (``queryCondition(query:patterns:index:beta:margin:)``).
/// - Proposition 5 (SparseMAP over k-subsets, ``KSubsets``): for a subset `S` with indicator
///   `y`, if `Δ = yᵀXXᵀy - max_{y'≠y} yᵀXXᵀy'` is at least `D²/(2β)`, with
///   `D² = max_{y'} ‖y - y'‖² = 2 min(k, N - k)`, the association `Xᵀy` is a fixed point of the
///   paper's update; if a query satisfies `min_{y'≠y} ⟨q, Xᵀ(y - y')⟩ ≥ D²/(2β)`, one update
///   returns the weights `y` exactly.
///
/// In ``RetrievalEngine`` with ``DotProductDivergence`` and ``EuclideanGeometry``'s fixed-point
/// update, a one-hot weight vector moves the state to the pattern bit for bit (the update divides
/// `Σ wᵢ Xᵢ` by `Σ wᵢ = 1`). For k-subsets the engine's update is `Xᵀŷ/k` (see ``KSubsets``):
/// the query condition is the same (the first step's scores are `β X q` in both), but the engine's
/// fixed point is `Xᵀy/k`, whose scores are `(β/k) XXᵀy`, so pass `β/k` to
/// ``subsetCondition(patterns:subset:beta:)`` to test that the engine stays there.
///
/// Every function checks its arguments and costs O(N D) (plus O(N log N) for subsets).
public enum ExactRetrieval {
  /// A separation compared with the threshold it must reach.
  public struct Condition: Sendable, Hashable {
    /// The separation `Δ` (or, for a query, `min_{j≠i} ⟨q, xᵢ - xⱼ⟩`); `+∞` when there is no
    /// other pattern (or subset) to separate from.
    public var separation: Double
    /// The threshold: `m/β` (Proposition 2) or `D²/(2β)` (Proposition 5).
    public var threshold: Double
    /// Whether `separation ≥ threshold`: the sufficient condition holds.
    public var holds: Bool { separation >= threshold }

    /// A separation and its threshold.
    public init(separation: Double, threshold: Double) {
      self.separation = separation
      self.threshold = threshold
    }
  }

  /// Proposition 2, stationarity: `Δᵢ = ⟨xᵢ, xᵢ⟩ - max_{j≠i} ⟨xᵢ, xⱼ⟩ ≥ m/β`.
  ///
  /// - Parameters:
  ///   - patterns: the stored patterns `xⱼ`, all of one dimension.
  ///   - index: the pattern `i`.
  ///   - beta: the inverse temperature `β > 0`.
  ///   - margin: the map's margin `m ≥ 0` (see ``SeparationMap/margin``).
  /// - Throws: ``DAMError`` naming the bad argument.
  public static func patternCondition(patterns: [[Double]], index: Int, beta: Double, margin: Double)
    throws(DAMError) -> Condition
  {
    try checkPatterns(patterns)
    try checkIndex(index, count: patterns.count, argument: "index")
    try checkBetaAndMargin(beta: beta, margin: margin)
    return Condition(separation: separation(patterns[index], patterns, index), threshold: margin / beta)
  }

  /// Proposition 2, stationarity, with the margin of `map`.
  ///
  /// - Throws: ``DAMError`` naming `map` if it has no margin (softmax), or any error of
  ///   ``patternCondition(patterns:index:beta:margin:)``.
  public static func patternCondition(
    patterns: [[Double]], index: Int, beta: Double, map: some SeparationMap
  ) throws(DAMError) -> Condition {
    guard let margin = map.margin else {
      throw DAMError.invalid("map", "\(map.name) has no margin, so retrieval is never exact")
    }
    return try patternCondition(patterns: patterns, index: index, beta: beta, margin: margin)
  }

  /// Proposition 2, one-step retrieval: `min_{j≠i} ⟨q, xᵢ - xⱼ⟩ ≥ m/β`.
  ///
  /// - Throws: ``DAMError`` naming the bad argument (`query` if its dimension differs).
  public static func queryCondition(
    query: [Double], patterns: [[Double]], index: Int, beta: Double, margin: Double
  ) throws(DAMError) -> Condition {
    try checkPatterns(patterns)
    try checkQuery(query, patterns)
    try checkIndex(index, count: patterns.count, argument: "index")
    try checkBetaAndMargin(beta: beta, margin: margin)
    return Condition(separation: separation(query, patterns, index), threshold: margin / beta)
  }

  /// Proposition 5 for k-subsets, stationarity of `Xᵀy` for the subset `S` (`k = |S|`):
  /// `Δ = yᵀXXᵀy - max_{y'≠y} yᵀXXᵀy' ≥ D²/(2β)` with `D² = 2 min(k, N - k)`.
  ///
  /// - Parameters:
  ///   - patterns: the stored patterns, as rows of `X`.
  ///   - subset: distinct pattern indices, `1 ≤ k ≤ N` of them.
  ///   - beta: the paper's β (pass β/k for the engine's fixed point `Xᵀy/k`; see the type).
  /// - Throws: ``DAMError`` naming the bad argument.
  public static func subsetCondition(patterns: [[Double]], subset: [Int], beta: Double) throws(DAMError)
    -> Condition
  {
    try checkPatterns(patterns)
    try checkSubset(subset, patterns.count)
    try checkBetaAndMargin(beta: beta, margin: 1)
    var association = [Double](repeating: 0, count: patterns[0].count)
    for i in subset {
      for d in association.indices { association[d] += patterns[i][d] }
    }
    return Condition(
      separation: subsetSeparation(association, patterns, subset),
      threshold: Double(min(subset.count, patterns.count - subset.count)) / beta)
  }

  /// Proposition 5 for k-subsets, one-step retrieval of the weights `y` (the indicator of
  /// `subset`): `min_{y'≠y} ⟨q, Xᵀ(y - y')⟩ ≥ D²/(2β)`.
  ///
  /// - Throws: ``DAMError`` naming the bad argument.
  public static func subsetQueryCondition(query: [Double], patterns: [[Double]], subset: [Int], beta: Double)
    throws(DAMError) -> Condition
  {
    try checkPatterns(patterns)
    try checkQuery(query, patterns)
    try checkSubset(subset, patterns.count)
    try checkBetaAndMargin(beta: beta, margin: 1)
    return Condition(
      separation: subsetSeparation(query, patterns, subset),
      threshold: Double(min(subset.count, patterns.count - subset.count)) / beta)
  }

  // MARK: Internals

  /// `⟨v, xᵢ⟩ - max_{j≠i} ⟨v, xⱼ⟩`.
  static func separation(_ v: [Double], _ patterns: [[Double]], _ index: Int) -> Double {
    let own = dotProduct(v, patterns[index])
    var best = -Double.infinity
    for (j, x) in patterns.enumerated() where j != index { best = max(best, dotProduct(v, x)) }
    return best == -.infinity ? .infinity : own - best
  }

  /// `Σ_{a∈S} gₐ - max_{S'≠S, |S'|=k} Σ_{a∈S'} gₐ` with `gₐ = ⟨v, xₐ⟩`: if `S` is a top-k set
  /// the best other set swaps its smallest member for the largest outsider, otherwise it is a
  /// top-k set.
  static func subsetSeparation(_ v: [Double], _ patterns: [[Double]], _ subset: [Int]) -> Double {
    let n = patterns.count
    let k = subset.count
    guard k < n else { return .infinity }
    let g = patterns.map { dotProduct(v, $0) }
    let members = Set(subset)
    var own = 0.0
    var smallestMember = Double.infinity
    var largestOutsider = -Double.infinity
    for (a, value) in g.enumerated() {
      if members.contains(a) {
        own += value
        smallestMember = min(smallestMember, value)
      } else {
        largestOutsider = max(largestOutsider, value)
      }
    }
    if smallestMember >= largestOutsider {
      return smallestMember - largestOutsider
    }
    let top = g.sorted(by: >).prefix(k).reduce(0, +)
    return own - top
  }

  static func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for (x, y) in zip(a, b) { sum += x * y }
    return sum
  }

  static func checkPatterns(_ patterns: [[Double]]) throws(DAMError) {
    guard let first = patterns.first else { throw DAMError.invalid("patterns", "is empty") }
    guard !first.isEmpty else { throw DAMError.invalid("patterns[0]", "is empty") }
    for (i, x) in patterns.enumerated() {
      guard x.count == first.count else {
        throw DAMError.mismatch("patterns[\(i)]", "has dimension \(x.count), patterns[0] has \(first.count)")
      }
      try _requireFinite(x, "patterns[\(i)]")
    }
  }

  static func checkQuery(_ query: [Double], _ patterns: [[Double]]) throws(DAMError) {
    guard query.count == patterns[0].count else {
      throw DAMError.mismatch("query", "has dimension \(query.count), the patterns have \(patterns[0].count)")
    }
    try _requireFinite(query, "query")
  }

  static func checkIndex(_ index: Int, count: Int, argument: String) throws(DAMError) {
    guard index >= 0, index < count else {
      throw DAMError.invalid(argument, "must be in 0..<\(count), got \(index)")
    }
  }

  static func checkSubset(_ subset: [Int], _ count: Int) throws(DAMError) {
    guard !subset.isEmpty else {
      throw DAMError.invalid("subset", "is empty; it needs 1 to \(count) indices")
    }
    for i in subset { try checkIndex(i, count: count, argument: "subset") }
    guard Set(subset).count == subset.count else {
      throw DAMError.invalid("subset", "repeats an index: \(subset)")
    }
  }

  static func checkBetaAndMargin(beta: Double, margin: Double) throws(DAMError) {
    try _requireInverseTemperature(beta)
    guard margin.isFinite, margin >= 0 else {
      throw DAMError.invalid("margin", "must be a finite number >= 0, got \(margin)")
    }
  }
}
