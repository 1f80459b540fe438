/// The squared 2-Wasserstein (Bures-Wasserstein) distance between Gaussians,
/// `D(ξ, Xᵢ) = W₂²(N(m, W), N(μᵢ, Sᵢ)) = ‖m - μᵢ‖² + tr(W + Sᵢ - 2 (Sᵢ^½ W Sᵢ^½)^½)`,
/// as a divergence of the framework (the BW-DAM).
///
/// - Each pattern's square root `Sᵢ^½`, Cholesky factor and largest eigenvalue are computed once,
///   when the pattern is stored; the state's two triangular factors and extreme eigenvalues once
///   per step (``prepareQuery(_:)``).
/// - ``evaluate(_:query:pattern:cache:)`` computes the value and the matrix
///   `Aᵢ = Sᵢ^½ (Sᵢ^½ W Sᵢ^½)^(-½) Sᵢ^½` of the optimal map `Tᵢ(x) = μᵢ + Aᵢ (x - m)` from the
///   state to the pattern: one symmetric eigendecomposition (O(d³)), or O(d) when the state and the
///   pattern are both diagonal. Mixed full and diagonal memories work: diagonal covariances are
///   promoted where they meet full ones.
/// - The retrieval engine uses the block forms instead. ``evaluate(_:)-(EvaluationBlock<BuresWassersteinDivergence>)``
///   computes only values for full covariances (`W₂²` needs the eigenvalues of `Sᵢ^½ W Sᵢ^½`, not
///   its eigenvectors), and ``accumulate(_:)-(AccumulationBlock<BuresWassersteinDivergence>)``
///   computes maps only for patterns whose weight can change the sum (see there). Both run the
///   block's states and patterns concurrently in fixed chunks and reduce in pattern order, so
///   results are identical for every thread count and batch.
///
/// The variation is a ``GaussianVariation``: the gradient of `W₂²` is `2 (m - μᵢ)` with respect to
/// the mean and `I - Aᵢ` with respect to the covariance, and ``BuresWassersteinGeometry`` turns the
/// weighted sums `(Σλμ, ΣλA, Σλ)` into the next state. See ``BuresWasserstein`` for the closed
/// forms and their numerical treatment.
///
/// ``gradient(_:at:query:pattern:cache:)`` gives `W₂²` with its gradients in both Gaussians (see
/// there); it throws at a singular covariance, where they do not exist.
public struct BuresWassersteinDivergence: Divergence {
  /// Patterns per chunk of the batched evaluation: fixed, so that the reduction order (and so the
  /// result) does not depend on the number of threads.
  static let chunkSize = 8

  /// The gradient with respect to the state: a mean and a covariance part.
  public typealias StateGradient = GaussianGradient
  /// The gradient with respect to a pattern: a mean and a covariance part.
  public typealias PatternGradient = GaussianGradient

  /// The Bures-Wasserstein divergence.
  public init() {}

  /// What is computed once per stored pattern `N(μ, S)`.
  public struct PatternCache: Sendable, Hashable {
    /// `S^½`: the square roots of the variances for a diagonal covariance, the symmetric square
    /// root for a full one.
    public let root: Gaussian.Covariance
    /// The largest eigenvalue of `S` (for the bound on `‖A‖` that lets the batched step skip maps).
    public let largestEigenvalue: Double
    /// The lower Cholesky factor `L` of a full `S = L Lᵀ`, packed by rows (`d (d + 1) / 2`
    /// values); `nil` for a diagonal `S` and for a singular one (then the batched values go
    /// through `S^½`).
    let factor: [Double]?
  }

  /// What is computed once per step for the state `N(m, W)`.
  public struct QueryCache: Sendable {
    /// The lower Cholesky factor `L` of a full `W = L Lᵀ` (row-major), `nil` for a diagonal `W`.
    let factor: [Double]?
    /// `Uᵀ` for the upper triangular `U` with `W = U Uᵀ`, lower triangular and packed by rows;
    /// `nil` for a diagonal `W`, or if the reversed factorisation fails (then only `factor` is used).
    let reversedFactor: [Double]?
    /// The smallest and the largest eigenvalue of `W`.
    let smallestEigenvalue: Double
    let largestEigenvalue: Double
  }

  /// The result of evaluating the divergence at one pattern.
  public struct Evaluation: Sendable, Hashable {
    /// `W₂²(ξ, Xᵢ)`.
    public let value: Double
    /// The matrix `Aᵢ` of the optimal map from the state to the pattern, symmetric positive
    /// definite; diagonal when the state and the pattern are both diagonal. `nil` when the batched
    /// evaluation left it to ``accumulate(_:)-(AccumulationBlock<BuresWassersteinDivergence>)``.
    public let map: Gaussian.Covariance?
  }

  /// Computes `S^½`, the Cholesky factor and the largest eigenvalue of `S`.
  ///
  /// - Throws: ``DAMError`` naming `pattern` if the eigendecomposition fails.
  public func prepare(_ pattern: Gaussian) throws(DAMError) -> PatternCache {
    switch pattern.covariance {
    case .diagonal(let variances):
      return PatternCache(
        root: .diagonal(variances.map { $0.squareRoot() }), largestEigenvalue: variances.max() ?? 0,
        factor: nil)
    case .full(let matrix):
      let eigen = try SymmetricEigendecomposition(matrix, argument: "pattern")
      _ = try checkSemidefinite(eigen, .default, "pattern")
      return PatternCache(
        root: .full(eigen.reconstructed { $0 > 0 ? $0.squareRoot() : 0 }),
        largestEigenvalue: eigen.eigenvalues.last ?? 0,
        factor: packedTriangularFactor(matrix.elements, matrix.rows, reversed: false))
    }
  }

  /// The triangular factors `W = L Lᵀ = U Uᵀ` (`L` lower, `U` upper) and the extreme eigenvalues
  /// of the state's covariance.
  ///
  /// - Throws: ``DAMError`` naming `query` if the covariance cannot be factorised.
  public func prepareQuery(_ state: Gaussian, previous: QueryCache?) throws(DAMError) -> QueryCache {
    switch state.covariance {
    case .diagonal(let variances):
      return QueryCache(
        factor: nil, reversedFactor: nil, smallestEigenvalue: variances.min() ?? 0,
        largestEigenvalue: variances.max() ?? 0)
    case .full(let matrix):
      let n = matrix.rows
      var lower = matrix.elements
      let eigenvalues = try symmetricEigenvalues(&lower, n, argument: "query")
      return QueryCache(
        factor: try choleskyFactor(matrix, argument: "query"),
        reversedFactor: packedTriangularFactor(matrix.elements, n, reversed: true),
        smallestEigenvalue: eigenvalues.first ?? 0, largestEigenvalue: eigenvalues.last ?? 0)
    }
  }

  /// Checks the dimensions agree.
  public func checkCompatible(_ pattern: Gaussian, with reference: Gaussian) throws(DAMError) {
    guard pattern.dimension == reference.dimension else {
      throw DAMError.mismatch(
        "pattern", "has dimension \(pattern.dimension), the memory's patterns have \(reference.dimension)")
    }
  }

  /// Checks the query's dimension.
  public func checkQuery(_ state: Gaussian, against reference: Gaussian) throws(DAMError) {
    guard state.dimension == reference.dimension else {
      throw DAMError.mismatch(
        "query", "has dimension \(state.dimension), the memory's patterns have \(reference.dimension)")
    }
  }

  /// `W₂²(ξ, Xᵢ)` and the map matrix `Aᵢ` (``Evaluation/map`` is never `nil` here).
  ///
  /// - Throws: ``DAMError`` naming `query` if the dimensions differ, or a numerical failure of the
  ///   eigendecomposition.
  public func evaluate(
    _ state: Gaussian, query: QueryCache, pattern: Gaussian, cache: PatternCache, previous: Evaluation?
  ) throws(DAMError) -> Evaluation {
    try checkQuery(state, against: pattern)
    let result = try BuresWasserstein.evaluate(state: state, pattern: pattern, root: cache.root)
    return Evaluation(value: result.value, map: result.map)
  }

  /// `W₂²` for every state of the block at its patterns, in fixed chunks on the block's threads. When the state and a pattern are both diagonal the map
  /// comes with the value (O(d)); otherwise only the value is computed, from the eigenvalues of a
  /// matrix similar to `Sᵢ^½ W Sᵢ^½`, without eigenvectors:
  /// - `M = Lᵢᵀ U Uᵀ Lᵢ = Tᵀ T` with `T = Uᵀ Lᵢ` (`Sᵢ = Lᵢ Lᵢᵀ` the pattern's Cholesky factor,
  ///   `W = U Uᵀ` with `U` upper triangular): two products of triangular matrices (`n³/3`
  ///   multiply-adds) written out, no BLAS call per pattern;
  /// - for a singular `Sᵢ` (no Cholesky factor), `M = (Sᵢ^½ L)(Sᵢ^½ L)ᵀ` (`W = L Lᵀ`): a
  ///   triangular product and a symmetric rank-k update through BLAS;
  ///
  /// then a Householder reduction to tridiagonal form and the sum of the square roots of its
  /// eigenvalues by the root-free QL iteration of LAPACK `dsterf`, run on the chunk's patterns
  /// together so that their division chains overlap (`sumsOfRootEigenvalues`).
  ///
  /// - Throws: ``DAMError`` naming `query` if the dimensions differ, or a numerical failure (the
  ///   first in pattern order).
  public func evaluate(_ block: EvaluationBlock<Self>) throws(DAMError) -> [[Evaluation]] {
    let items = block.items
    let patterns = block.memory.patterns
    let caches = block.memory.caches
    guard let reference = patterns.first else { return items.map { _ in [] } }
    for item in items { try checkQuery(item.state, against: reference) }
    // Fixed chunks of each item's patterns: the work units, run on the block's threads.
    var units: [(item: Int, positions: Range<Int>)] = []
    for (k, item) in items.enumerated() {
      var start = 0
      while start < item.indices.count {
        units.append((k, start..<min(item.indices.count, start + Self.chunkSize)))
        start += Self.chunkSize
      }
    }
    let slots = Slots<[Evaluation]?>(count: units.count, initial: nil)
    let errors = Slots<DAMError?>(count: units.count, initial: nil)
    let allUnits = units
    let budget = currentBudget()
    let dimension = reference.dimension
    forEachChunk(units.count, workers: block.parallelism) { u in
      do throws(DAMError) {
        let item = items[allUnits[u].item]
        try Self.checkBudget(budget, "evaluating", u, of: allUnits.count, dimension: dimension)
        slots[u] = try evaluateChunk(
          item.state, query: item.query, indices: allUnits[u].positions.map { item.indices[$0] },
          patterns: patterns,
          caches: caches)
      } catch {
        errors[u] = error
      }
    }
    if let error = errors.firstNonNil() { throw error }
    var results = items.map { _ -> [Evaluation] in [] }
    for (u, unit) in units.enumerated() { results[unit.item] += slots[u]! }
    return results
  }

  /// The evaluations of one state at up to ``chunkSize`` patterns (see
  /// ``evaluate(_:)-(EvaluationBlock<BuresWassersteinDivergence>)``).
  private func evaluateChunk(
    _ state: Gaussian, query: QueryCache, indices: [Int], patterns: [Gaussian], caches: [PatternCache]
  ) throws(DAMError) -> [Evaluation] {
    let d = state.dimension
    let stateTrace = BuresWasserstein.trace(state.covariance)
    let factor: [Double]? =
      query.factor
      ?? {
        guard case .diagonal(let w) = state.covariance else { return nil }
        return Matrix(diagonal: w.map { $0.squareRoot() }).elements
      }()
    let reversedFactor: [Double]? =
      query.reversedFactor
      ?? {
        guard case .diagonal(let w) = state.covariance else { return nil }
        return packedDiagonalFactor(w)
      }()
    for i in indices where patterns[i].dimension != d {
      throw DAMError.mismatch("query", "has dimension \(d), pattern \(i) has \(patterns[i].dimension)")
    }
    var results = [Evaluation?](repeating: nil, count: indices.count)
    var scratch = EigenvalueScratch(d)
    var middle = [Double](repeating: 0, count: d * d)
    var product = [Double](repeating: 0, count: d * (d + 1) / 2)
    // The tridiagonal matrices of the chunk's full patterns, solved together at the end.
    var diagonals = [Double](repeating: 0, count: Self.chunkSize * d)
    var offDiagonals = [Double](repeating: 0, count: Self.chunkSize * d)
    var pending: [(position: Int, index: Int, meanPart: Double)] = []
    for (position, i) in indices.enumerated() {
      let pattern = patterns[i]
      if case .diagonal = state.covariance, case .diagonal = pattern.covariance {
        let result = try BuresWasserstein.evaluate(state: state, pattern: pattern, root: caches[i].root)
        results[position] = Evaluation(value: result.value, map: result.map)
        continue
      }
      var meanPart = 0.0
      for (a, b) in zip(state.mean, pattern.mean) { meanPart += (a - b) * (a - b) }
      let patternFactor: [Double]? =
        caches[i].factor
        ?? {
          guard case .diagonal(let s) = pattern.covariance else { return nil }
          return packedDiagonalFactor(s)
        }()
      if let reversedFactor, let patternFactor {
        reversedFactor.withUnsafeBufferPointer { g in
          patternFactor.withUnsafeBufferPointer { l in
            product.withUnsafeMutableBufferPointer { t in
              middle.withUnsafeMutableBufferPointer { m in
                triangularMiddleMatrix(g, l, d, t: t, middle: m)
              }
            }
          }
        }
      } else {
        middle = middleMatrix(
          root: BuresWasserstein.fullMatrix(caches[i].root).elements, factor: factor!, d)
      }
      let lane = pending.count
      middle.withUnsafeMutableBufferPointer { a in
        diagonals.withUnsafeMutableBufferPointer { diagonal in
          offDiagonals.withUnsafeMutableBufferPointer { offDiagonal in
            scratch.v.withUnsafeMutableBufferPointer { v in
              scratch.w.withUnsafeMutableBufferPointer { w in
                tridiagonalize(
                  a, d,
                  diagonal: UnsafeMutableBufferPointer(rebasing: diagonal[(lane * d)..<((lane + 1) * d)]),
                  offDiagonal: UnsafeMutableBufferPointer(
                    rebasing: offDiagonal[(lane * d)..<((lane + 1) * d)]),
                  v: v, w: w)
              }
            }
          }
        }
      }
      pending.append((position, i, meanPart))
    }
    if !pending.isEmpty {
      var sums = [Double](repeating: 0, count: pending.count)
      let info = diagonals.withUnsafeMutableBufferPointer { diagonal in
        offDiagonals.withUnsafeMutableBufferPointer { offDiagonal in
          sums.withUnsafeMutableBufferPointer {
            sumsOfRootEigenvalues(
              diagonal.baseAddress!, offDiagonal.baseAddress!, d, count: pending.count, sums: $0.baseAddress!)
          }
        }
      }
      try checkEigenvalueInfo(info, "state")
      for (lane, item) in pending.enumerated() {
        let bures = max(
          0, stateTrace + BuresWasserstein.trace(patterns[item.index].covariance) - 2 * sums[lane])
        results[item.position] = Evaluation(value: item.meanPart + bures, map: nil)
      }
    }
    return results.map { $0! }
  }

  /// `W₂²(ξ, Xᵢ)`.
  public func value(of evaluation: Evaluation) -> Double { evaluation.value }

  /// No warm start: evaluations are closed forms.
  public var usesPreviousEvaluations: Bool { false }

  /// The zero variation in the state's dimension.
  public func zeroVariation(at state: Gaussian) -> GaussianVariation {
    GaussianVariation(dimension: state.dimension)
  }

  /// Adds `weight × (μᵢ, Aᵢ, 1)`, computing `Aᵢ` if the evaluation does not hold it.
  ///
  /// - Throws: ``DAMError`` if the map's eigendecomposition fails.
  public func accumulate(
    _ weight: Double, of evaluation: Evaluation, at state: Gaussian, query: QueryCache, pattern: Gaussian,
    cache: PatternCache, into variation: inout GaussianVariation
  ) throws(DAMError) {
    if let map = evaluation.map {
      try variation.add(weight, mean: pattern.mean, map: map)
    } else {
      let map = try BuresWasserstein.evaluate(state: state, pattern: pattern, root: cache.root).map
      try variation.add(weight, mean: pattern.mean, map: map)
    }
  }

  /// `Σ λᵢ (μᵢ, Aᵢ, 1)` over up to ``chunkSize`` patterns of one item, in order.
  ///
  /// Where the state has a factor `W = U Uᵀ` (`stateFactor`, `Uᵀ` packed) and the pattern a
  /// Cholesky factor `Sᵢ = Lᵢ Lᵢᵀ` (or a diagonal covariance), the map is taken in the state's
  /// frame: `Aᵢ = U⁻ᵀ Nᵢ^½ U⁻¹` with `Nᵢ = Uᵀ Sᵢ U = (Uᵀ Lᵢ)(Uᵀ Lᵢ)ᵀ`, so the chunk sums
  /// `Σ λᵢ Nᵢ^½` (one eigendecomposition of `Nᵢ` each, own code, see
  /// `addWeightedSquareRoots`) and applies the congruence by `U⁻¹` once. The other patterns
  /// (singular, or maps that came with the evaluation) go through
  /// ``accumulate(_:of:at:query:pattern:cache:into:)``. Means and weights are summed in pattern
  /// order either way.
  private func accumulateChunk(
    _ item: AccumulationBlock<Self>.Item, stateFactor: [Double]?, indices: ArraySlice<Int>,
    patterns: [Gaussian],
    caches: [PatternCache]
  ) throws(DAMError) -> GaussianVariation {
    let d = item.state.dimension
    // The chunk's patterns whose maps go through the state's frame, their Nᵢ in the scratch lanes.
    var lanes: [Int: Int] = [:]
    var frame: [Double]? = nil
    if let stateFactor {
      var scratch = SquareRootScratch(d, lanes: indices.count)
      var product = [Double](repeating: 0, count: d * (d + 1) / 2)
      var weights: [Double] = []
      for i in indices where item.evaluation(at: i).map == nil && patterns[i].dimension == d {
        let patternFactor: [Double]
        if let factor = caches[i].factor {
          patternFactor = factor
        } else if case .diagonal(let s) = patterns[i].covariance {
          patternFactor = packedDiagonalFactor(s)
        } else {
          continue
        }
        let lane = weights.count
        stateFactor.withUnsafeBufferPointer { g in
          patternFactor.withUnsafeBufferPointer { l in
            product.withUnsafeMutableBufferPointer { t in
              scratch.matrices.withUnsafeMutableBufferPointer { m in
                outerMiddleMatrix(
                  g.baseAddress!, l.baseAddress!, d, t: t.baseAddress!, middle: m.baseAddress! + lane * d * d)
              }
            }
          }
        }
        lanes[i] = lane
        weights.append(item.weights[i])
      }
      if !weights.isEmpty {
        var sum = [Double](repeating: 0, count: d * d)
        var succeeded = [Bool](repeating: false, count: weights.count)
        weights.withUnsafeBufferPointer { w in
          sum.withUnsafeMutableBufferPointer { f in
            succeeded.withUnsafeMutableBufferPointer { ok in
              addWeightedSquareRoots(
                count: w.count, weights: w.baseAddress!, into: f.baseAddress!, scratch: &scratch,
                succeeded: ok.baseAddress!)
            }
          }
        }
        for (i, lane) in lanes where !succeeded[lane] { lanes[i] = nil }
        frame = stateFactor.withUnsafeBufferPointer { g in
          sum.withUnsafeBufferPointer { f in inverseCongruence(g.baseAddress!, d, f.baseAddress!) }
        }
      }
    }
    // Means and weights in pattern order; the other patterns' maps one by one.
    var sum = GaussianVariation(dimension: d)
    for i in indices {
      if lanes[i] != nil {
        try sum.addMeanOnly(item.weights[i], mean: patterns[i].mean)
      } else {
        try accumulate(
          item.weights[i], of: item.evaluation(at: i), at: item.state, query: item.query,
          pattern: patterns[i],
          cache: caches[i], into: &sum)
      }
    }
    if let frame {
      // The frame's maps alone (means 0, total weight 0), added to the chunk's means and weights.
      var maps = GaussianVariation(dimension: d)
      let zero = [Double](repeating: 0, count: d)
      try maps.add(1, mean: zero, map: .full(try Matrix(rows: d, columns: d, elements: frame)))
      try maps.addMeanOnly(-1, mean: zero)
      try sum.add(maps)
    }
    return sum
  }

  /// The relative size, in spectral norm, of the map contributions the batched step may leave
  /// out: 2⁻⁵³, the unit round-off.
  public static let mapTruncation = 0x1p-53

  /// Each state's `Σ λᵢ (μᵢ, Aᵢ, 1)` over its support, the maps of the whole block computed on
  /// the block's threads in fixed chunks, each state's sum reduced in pattern order.
  ///
  /// Means and weights are summed over every pattern. A map is left out only when it cannot be
  /// seen in the sum: `A W A = S` gives `‖A‖ ≤ √(λmax(S) / λmin(W))` and `‖A‖ ≥ √(λmax(S) / λmax(W))`,
  /// and the maps are positive definite, so `‖Σλ A‖ ≥ λₖ ‖Aₖ‖` for the heaviest pattern `k`. The
  /// lightest patterns are left out while the sum of their bounds `λᵢ √(λmax(Sᵢ) / λmin(W))` stays
  /// within ``mapTruncation`` times `λₖ √(λmax(Sₖ) / λmax(W))`: the aggregated map then changes by
  /// at most the unit round-off relative to its norm. With softmax at the paper's β most of a
  /// large memory is left out; with spread weights nothing is.
  ///
  /// - Throws: ``DAMError`` if a map's eigendecomposition fails (the first in item, then pattern,
  ///   order).
  public func accumulate(_ block: AccumulationBlock<Self>) throws(DAMError) -> [GaussianVariation] {
    let items = block.items
    let caches = block.memory.caches
    let patterns = block.memory.patterns
    // The maps that matter, per item; then fixed chunks of each item's kept patterns as work units.
    var kept: [[Int]] = []
    var droppedPerItem: [[Int]] = []
    var units: [(item: Int, range: Range<Int>)] = []
    for (k, item) in items.enumerated() {
      let weights = item.weights
      let active = item.support
      var dropped = Set<Int>()
      if let heaviest = active.max(by: { (weights[$0], -$0) < (weights[$1], -$1) }) {
        let budget =
          Self.mapTruncation * weights[heaviest]
          * (caches[heaviest].largestEigenvalue / item.query.largestEigenvalue).squareRoot()
        if item.query.smallestEigenvalue > 0, budget > 0, budget.isFinite {
          var spent = 0.0
          for i in active.sorted(by: { (weights[$0], $0) < (weights[$1], $1) }) where i != heaviest {
            spent += weights[i] * (caches[i].largestEigenvalue / item.query.smallestEigenvalue).squareRoot()
            guard spent <= budget else { break }
            dropped.insert(i)
          }
        }
      }
      let keptHere = active.filter { !dropped.contains($0) }
      kept.append(keptHere)
      droppedPerItem.append(active.filter { dropped.contains($0) })
      var start = 0
      while start < keptHere.count {
        units.append((k, start..<min(keptHere.count, start + Self.chunkSize)))
        start += Self.chunkSize
      }
    }
    let sums = Slots<GaussianVariation?>(count: units.count, initial: nil)
    let errors = Slots<DAMError?>(count: units.count, initial: nil)
    let allUnits = units
    let allKept = kept
    // The state's factor `Uᵀ` (`W = U Uᵀ`), packed, per item: once per item, not per chunk.
    let stateFactors: [[Double]?] = items.map { item in
      if let factor = item.query.reversedFactor { return factor }
      if case .diagonal(let w) = item.state.covariance, w.allSatisfy({ $0 > 0 }) {
        return packedDiagonalFactor(w)
      }
      return nil
    }
    let budget = currentBudget()
    forEachChunk(units.count, workers: block.parallelism) { u in
      do throws(DAMError) {
        let item = items[allUnits[u].item]
        try Self.checkBudget(
          budget, "accumulating the maps of", u, of: allUnits.count, dimension: item.state.dimension)
        sums[u] = try accumulateChunk(
          item, stateFactor: stateFactors[allUnits[u].item],
          indices: allKept[allUnits[u].item][allUnits[u].range],
          patterns: patterns, caches: caches)
      } catch {
        errors[u] = error
      }
    }
    if let error = errors.firstNonNil() { throw error }
    var variations = items.map { GaussianVariation(dimension: $0.state.dimension) }
    for (u, unit) in units.enumerated() { try variations[unit.item].add(sums[u]!) }
    // The means and weights of the patterns whose maps were left out, in pattern order.
    for (k, item) in items.enumerated() {
      for i in droppedPerItem[k] { try variations[k].addMeanOnly(item.weights[i], mean: patterns[i].mean) }
    }
    return variations
  }
}

extension BuresWassersteinDivergence {
  /// Checks the work budget, if one is bound, before a work unit of a batch (up to ``chunkSize``
  /// eigendecompositions of `d x d` matrices): a batch over a large memory in high dimension can
  /// take minutes, and a retrieval step checks the budget only between steps. Counts no
  /// iterations (the step was counted).
  fileprivate static func checkBudget(
    _ budget: WorkBudget?, _ doing: String, _ unit: Int, of units: Int, dimension: Int
  ) throws(DAMError) {
    try budget?.check(iterations: 0) {
      "a Bures-Wasserstein batch, \(doing) chunk \(unit + 1) of \(units) (up to \(chunkSize) patterns each, dimension \(dimension))"
    }
  }

  /// `W₂²(ξ, Xᵢ)` with its gradients in both Gaussians, for the state `ξ = N(m, W)` and the
  /// pattern `Xᵢ = N(μ, S)`:
  /// - means: `∇_m = 2 (m - μ)` and `∇_μ = -2 (m - μ)`;
  /// - covariances, on the space of symmetric matrices (``GaussianGradient/covariance``):
  ///   `∇_W = I - A` and `∇_S = I - A⁻¹`, with `A = S^½ (S^½ W S^½)^(-½) S^½` the optimal map from
  ///   the state to the pattern (``Evaluation/map``) and `A⁻¹ = W^½ (W^½ S W^½)^(-½) W^½` the one
  ///   back. Both are symmetric; `D(W + tH) = D(W) + t tr(∇_W H) + O(t²)` for symmetric `H`.
  ///
  /// The covariance gradients are full matrices even for diagonal covariances (then they are
  /// diagonal, and their diagonals are the gradients in the variances). The map `A` is taken from
  /// the evaluation when it holds one; `A⁻¹` takes one eigendecomposition of `S^½ W S^½` and one of
  /// `S` (O(d³)), or O(d) when both covariances are diagonal.
  ///
  /// - Throws: ``DAMError`` of kind `notPositiveDefinite` naming `state` or `pattern` if that
  ///   covariance is singular (smallest eigenvalue at most `d · ulp` of the largest, the floor of
  ///   ``EigenvalueFloor``): `W₂²` is not differentiable there. Also naming `state` if the two
  ///   covariances are too ill-conditioned together (`S^½ W S^½` at its floor), and a numerical
  ///   failure if an eigendecomposition fails or a gradient overflows.
  public func gradient(
    _ evaluation: Evaluation, at state: Gaussian, query: QueryCache, pattern: Gaussian, cache: PatternCache
  ) throws(DAMError) -> DivergenceGradient<GaussianGradient, GaussianGradient> {
    try checkQuery(state, against: pattern)
    let covariances = try BuresWasserstein.covarianceGradients(
      state: state, stateSpectrum: (query.smallestEigenvalue, query.largestEigenvalue), pattern: pattern,
      root: cache.root, map: evaluation.map)
    let mean = zip(state.mean, pattern.mean).map { 2 * ($0 - $1) }
    return DivergenceGradient(
      value: evaluation.value, state: GaussianGradient(mean: mean, covariance: covariances.state),
      pattern: GaussianGradient(mean: mean.map { -$0 }, covariance: covariances.pattern))
  }
}
