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
/// - The retrieval engine uses the batched forms instead. ``evaluateAll(_:query:patterns:caches:previous:)``
///   computes only values for full covariances (`W₂²` needs the eigenvalues of `Sᵢ^½ W Sᵢ^½`, not
///   its eigenvectors), and ``accumulateAll(_:of:at:query:patterns:caches:into:)`` computes maps
///   only for patterns whose weight can change the sum (see there). Both run patterns
///   concurrently in fixed chunks and reduce in pattern order, so results are identical for every
///   ``maximumConcurrency``.
///
/// The variation is a ``GaussianVariation``: the gradient of `W₂²` is `2 (m - μᵢ)` with respect to
/// the mean and `I - Aᵢ` with respect to the covariance, and ``BuresWassersteinGeometry`` turns the
/// weighted sums `(Σλμ, ΣλA, Σλ)` into the next state. See ``BuresWasserstein`` for the closed
/// forms and their numerical treatment.
public struct BuresWassersteinDivergence: Divergence {
  /// The largest number of threads the batched evaluation uses; `nil` lets Dispatch choose (one
  /// per core). Results do not depend on it.
  public let maximumConcurrency: Int?

  /// Patterns per chunk of the batched evaluation: fixed, so that the reduction order (and so the
  /// result) does not depend on the number of threads.
  static let chunkSize = 8

  /// The Bures-Wasserstein divergence.
  public init() { maximumConcurrency = nil }

  /// The Bures-Wasserstein divergence using at most `maximumConcurrency` threads per step.
  ///
  /// - Throws: ``DAMError`` naming `maximumConcurrency` if it is below 1.
  public init(maximumConcurrency: Int) throws(DAMError) {
    guard maximumConcurrency >= 1 else {
      throw DAMError.invalid("maximumConcurrency", "must be >= 1, got \(maximumConcurrency)")
    }
    self.maximumConcurrency = maximumConcurrency
  }

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
    /// evaluation left it to ``accumulateAll(_:of:at:query:patterns:caches:into:)``.
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
      _ = try _checkSemidefinite(eigen, .default, "pattern")
      return PatternCache(
        root: .full(eigen.reconstructed { $0 > 0 ? $0.squareRoot() : 0 }),
        largestEigenvalue: eigen.eigenvalues.last ?? 0,
        factor: _packedTriangularFactor(matrix.elements, matrix.rows, reversed: false))
    }
  }

  /// The triangular factors `W = L Lᵀ = U Uᵀ` (`L` lower, `U` upper) and the extreme eigenvalues
  /// of the state's covariance.
  ///
  /// - Throws: ``DAMError`` naming `query` if the covariance cannot be factorised.
  public func prepareQuery(_ state: Gaussian) throws(DAMError) -> QueryCache {
    switch state.covariance {
    case .diagonal(let variances):
      return QueryCache(
        factor: nil, reversedFactor: nil, smallestEigenvalue: variances.min() ?? 0,
        largestEigenvalue: variances.max() ?? 0)
    case .full(let matrix):
      let n = matrix.rows
      var lower = matrix.elements
      let eigenvalues = try _symmetricEigenvalues(&lower, n, argument: "query")
      return QueryCache(
        factor: try _choleskyFactor(matrix, argument: "query"),
        reversedFactor: _packedTriangularFactor(matrix.elements, n, reversed: true),
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
  public func evaluate(_ state: Gaussian, query: QueryCache, pattern: Gaussian, cache: PatternCache)
    throws(DAMError) -> Evaluation
  {
    try checkQuery(state, against: pattern)
    let result = try BuresWasserstein._evaluate(state: state, pattern: pattern, root: cache.root)
    return Evaluation(value: result.value, map: result.map)
  }

  /// `W₂²` at every pattern, concurrently. When the state and a pattern are both diagonal the map
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
  /// together so that their division chains overlap (`_sumsOfRootEigenvalues`).
  ///
  /// - Throws: ``DAMError`` naming `query` if the dimensions differ, or a numerical failure (the
  ///   first in pattern order).
  public func evaluateAll(
    _ state: Gaussian, query: QueryCache, patterns: [Gaussian], caches: [PatternCache],
    previous: [Evaluation]?
  ) throws(DAMError) -> [Evaluation] {
    let count = patterns.count
    guard count > 0 else { return [] }
    try checkQuery(state, against: patterns[0])
    let d = state.dimension
    let stateTrace = BuresWasserstein._trace(state.covariance)
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
        return _packedDiagonalFactor(w)
      }()
    let chunks = (count + Self.chunkSize - 1) / Self.chunkSize
    let slots = _Slots<Evaluation?>(count: count, initial: nil)
    let errors = _Slots<DAMError?>(count: chunks, initial: nil)
    _forEachChunk(chunks, workers: maximumConcurrency ?? chunks) { c in
      do throws(DAMError) {
        let range = (c * Self.chunkSize)..<min(count, (c + 1) * Self.chunkSize)
        for i in range where patterns[i].dimension != d {
          throw DAMError.mismatch("query", "has dimension \(d), pattern \(i) has \(patterns[i].dimension)")
        }
        var scratch = _EigenvalueScratch(d)
        var middle = [Double](repeating: 0, count: d * d)
        var product = [Double](repeating: 0, count: d * (d + 1) / 2)
        // The tridiagonal matrices of the chunk's full patterns, solved together at the end.
        var diagonals = [Double](repeating: 0, count: Self.chunkSize * d)
        var offDiagonals = [Double](repeating: 0, count: Self.chunkSize * d)
        var pending: [(index: Int, meanPart: Double)] = []
        for i in range {
          let pattern = patterns[i]
          if case .diagonal = state.covariance, case .diagonal = pattern.covariance {
            let result = try BuresWasserstein._evaluate(state: state, pattern: pattern, root: caches[i].root)
            slots[i] = Evaluation(value: result.value, map: result.map)
            continue
          }
          var meanPart = 0.0
          for (a, b) in zip(state.mean, pattern.mean) { meanPart += (a - b) * (a - b) }
          let patternFactor: [Double]? =
            caches[i].factor
            ?? {
              guard case .diagonal(let s) = pattern.covariance else { return nil }
              return _packedDiagonalFactor(s)
            }()
          if let reversedFactor, let patternFactor {
            reversedFactor.withUnsafeBufferPointer { g in
              patternFactor.withUnsafeBufferPointer { l in
                product.withUnsafeMutableBufferPointer { t in
                  middle.withUnsafeMutableBufferPointer { m in
                    _triangularMiddleMatrix(g, l, d, t: t, middle: m)
                  }
                }
              }
            }
          } else {
            middle = _middleMatrix(
              root: BuresWasserstein._fullMatrix(caches[i].root).elements, factor: factor!, d)
          }
          let lane = pending.count
          middle.withUnsafeMutableBufferPointer { a in
            diagonals.withUnsafeMutableBufferPointer { diagonal in
              offDiagonals.withUnsafeMutableBufferPointer { offDiagonal in
                scratch.v.withUnsafeMutableBufferPointer { v in
                  scratch.w.withUnsafeMutableBufferPointer { w in
                    _tridiagonalize(
                      a, d,
                      diagonal: UnsafeMutableBufferPointer(rebasing: diagonal[(lane * d)..<((lane + 1) * d)]),
                      offDiagonal: UnsafeMutableBufferPointer(
                        rebasing: offDiagonal[(lane * d)..<((lane + 1) * d)]), v: v, w: w)
                  }
                }
              }
            }
          }
          pending.append((i, meanPart))
        }
        guard !pending.isEmpty else { return }
        var sums = [Double](repeating: 0, count: pending.count)
        let info = diagonals.withUnsafeMutableBufferPointer { diagonal in
          offDiagonals.withUnsafeMutableBufferPointer { offDiagonal in
            sums.withUnsafeMutableBufferPointer {
              _sumsOfRootEigenvalues(
                diagonal.baseAddress!, offDiagonal.baseAddress!, d, count: pending.count,
                sums: $0.baseAddress!)
            }
          }
        }
        try _checkEigenvalueInfo(info, "state")
        for (lane, item) in pending.enumerated() {
          let bures = max(
            0, stateTrace + BuresWasserstein._trace(patterns[item.index].covariance) - 2 * sums[lane])
          slots[item.index] = Evaluation(value: item.meanPart + bures, map: nil)
        }
      } catch {
        errors[c] = error
      }
    }
    if let error = errors.values.lazy.compactMap({ $0 }).first { throw error }
    return slots.values.map { $0! }
  }

  /// `W₂²(ξ, Xᵢ)`.
  public func value(of evaluation: Evaluation) -> Double { evaluation.value }

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
      let map = try BuresWasserstein._evaluate(state: state, pattern: pattern, root: cache.root).map
      try variation.add(weight, mean: pattern.mean, map: map)
    }
  }

  /// The relative size, in spectral norm, of the map contributions the batched step may leave
  /// out: 2⁻⁵³, the unit round-off.
  public static let mapTruncation = 0x1p-53

  /// Adds `Σ λᵢ (μᵢ, Aᵢ, 1)` over the patterns with nonzero weight, computing the maps concurrently.
  ///
  /// Means and weights are summed over every pattern. A map is left out only when it cannot be
  /// seen in the sum: `A W A = S` gives `‖A‖ ≤ √(λmax(S) / λmin(W))` and `‖A‖ ≥ √(λmax(S) / λmax(W))`,
  /// and the maps are positive definite, so `‖Σλ A‖ ≥ λₖ ‖Aₖ‖` for the heaviest pattern `k`. The
  /// lightest patterns are left out while the sum of their bounds `λᵢ √(λmax(Sᵢ) / λmin(W))` stays
  /// within ``mapTruncation`` times `λₖ √(λmax(Sₖ) / λmax(W))`: the aggregated map then changes by
  /// at most the unit round-off relative to its norm. With softmax at the paper's β most of a
  /// large memory is left out; with spread weights nothing is.
  ///
  /// - Throws: ``DAMError`` if a map's eigendecomposition fails (the first in pattern order).
  public func accumulateAll(
    _ weights: [Double], of evaluations: [Evaluation], at state: Gaussian, query: QueryCache,
    patterns: [Gaussian],
    caches: [PatternCache], into variation: inout GaussianVariation
  ) throws(DAMError) {
    let active = weights.indices.filter { weights[$0] != 0 }
    guard !active.isEmpty else { return }
    // The maps that matter.
    let heaviest = active.max { (weights[$0], -$0) < (weights[$1], -$1) }!
    let budget =
      Self.mapTruncation * weights[heaviest]
      * (caches[heaviest].largestEigenvalue / query.largestEigenvalue).squareRoot()
    var dropped = Set<Int>()
    if query.smallestEigenvalue > 0, budget > 0, budget.isFinite {
      var spent = 0.0
      for i in active.sorted(by: { (weights[$0], $0) < (weights[$1], $1) }) where i != heaviest {
        spent += weights[i] * (caches[i].largestEigenvalue / query.smallestEigenvalue).squareRoot()
        guard spent <= budget else { break }
        dropped.insert(i)
      }
    }
    let kept = active.filter { !dropped.contains($0) }
    // Fixed chunks of the kept patterns, each summed in pattern order, then the chunks in order.
    let d = state.dimension
    let chunks = (kept.count + Self.chunkSize - 1) / Self.chunkSize
    let sums = _Slots<GaussianVariation?>(count: chunks, initial: nil)
    let errors = _Slots<DAMError?>(count: chunks, initial: nil)
    _forEachChunk(chunks, workers: maximumConcurrency ?? chunks) { c in
      do throws(DAMError) {
        var sum = GaussianVariation(dimension: d)
        for i in kept[(c * Self.chunkSize)..<min(kept.count, (c + 1) * Self.chunkSize)] {
          try accumulate(
            weights[i], of: evaluations[i], at: state, query: query, pattern: patterns[i], cache: caches[i],
            into: &sum)
        }
        sums[c] = sum
      } catch {
        errors[c] = error
      }
    }
    if let error = errors.values.lazy.compactMap({ $0 }).first { throw error }
    for sum in sums.values { try variation._add(sum!) }
    // The means and weights of the patterns whose maps were left out, in pattern order.
    for i in active where dropped.contains(i) {
      try variation._addMeanOnly(weights[i], mean: patterns[i].mean)
    }
  }
}
