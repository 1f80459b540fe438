/// The SparseMAP active-set solver (Niculae et al. 2018, Alg. 2; Nocedal & Wright 2006, §16.5)
/// for sequential k-subsets: maximise over the marginal polytope
///
///     ⟨θ_V, μ_V⟩ + p ⟨1, μ_F⟩ - ½‖μ_V‖²,
///
/// where a structure `s` is a k-subset of the positions, `μ = Σ_s α_s s` a convex combination, and
/// `μ_F` counts adjacent pairs both in the subset. Only the MAP oracle (``budgetedViterbi``) sees
/// the pairwise structure.
///
/// Each iteration solves the equality-constrained QP `max Σ α_s c_s - ½‖Σ α_s s‖²`, `Σ α_s = 1`,
/// over the current active set; when a coefficient would turn negative it steps to the boundary
/// and drops that structure; otherwise it asks the oracle for the best structure under the
/// linearised scores `θ_V - μ_V` and adds it if it beats the active ones.
///
/// The active structures are kept affinely independent; as they all lie on the hyperplane
/// `Σ sᵢ = k`, which misses the origin, they are then linearly independent and their Gram matrix
/// `G` (integer overlap counts) is positive definite. Its Cholesky factor is updated as
/// structures come and go (``GrowingCholesky``), so an iteration costs one O(N k) oracle call
/// plus O(|A|² + |A| k) for `|A|` active structures. A new structure in the affine hull of the
/// active ones (possible because the pairwise bits are a non-linear function of the unary ones)
/// is swapped in by a ratio test that keeps `μ_V` and strictly raises the objective.
///
/// It starts from the exact k-subsets solution (no pairwise scores), decomposed into structures.
/// Sparse solutions (the usual Hopfield regime, scores spread by more than the margin) then take
/// a few iterations. Near-uniform solutions need about N active structures, and with many
/// near-ties the method can crawl (gains of 1e-9 per iteration) and exceed the cap of
/// 1000 + 200 N iterations: a ``DAMError`` of kind `numericalFailure` (timings and how often:
/// Docs/performance.md, "Sequential k-subsets").
struct SparseMAPActiveSet {
  /// Unary scores, shifted (finite or `-∞` for masked entries).
  let unary: [Double]
  /// The score of two neighbours both in the subset.
  let pairwise: Double
  /// The subset size.
  let k: Int

  /// A solution: active structures (sorted index lists) with positive convex coefficients.
  struct Solution {
    var structures: [[Int]]
    var coefficients: [Double]
    /// `μ_V = Σ α_s s`.
    var marginals: [Double]
    /// The objective `Σ α_s c_s - ½‖μ_V‖²`, with `c_s = ⟨θ_V, s⟩ + p · pairs(s)`.
    var value: Double
  }

  /// `⟨θ_V, s⟩ + p · (number of adjacent pairs in s)`.
  func score(_ structure: [Int]) -> Double {
    var sum = 0.0
    for i in structure { sum += unary[i] }
    var pairs = 0
    for (a, b) in zip(structure, structure.dropFirst()) where b == a + 1 { pairs += 1 }
    return sum + pairwise * Double(pairs)
  }

  /// Throws (kind `resourceLimit`, naming `k`) unless the start from `projection` fits
  /// ``ResourceLimits/current``: its decomposition holds up to one k-subset of `k` indices per
  /// positive weight (plus one), and the active set that takes them in keeps the Cholesky factor
  /// of their Gram matrix, a triangle of that order. Near-uniform weights over many scores (10^5
  /// scores, k = 50,000: 40 GB of structures) would otherwise grow until the allocator fails.
  func requireStartFits(_ projection: [Double]) throws(DAMError) {
    var positive = 1
    for y in projection where y > 0 { positive += 1 }
    let remedy = "use a smaller k, a larger beta (sparser weights), or ksubsets (no pairwise scores)"
    let limits = ResourceLimits.current
    try limits.check(
      bytes: ResourceLimits.bytes([positive, k], elementSize: MemoryLayout<Int>.stride), for: "k",
      "the start of sequential k-subsets with k = \(k) over \(positive - 1) positive weights (up to \(positive) k-subsets of k indices)",
      remedy: remedy)
    try limits.check(
      bytes: ResourceLimits.bytes([positive, positive], elementSize: MemoryLayout<Double>.stride / 2),
      for: "k",
      "the active set of sequential k-subsets over \(positive - 1) positive weights (a Cholesky factor of order up to \(positive))",
      remedy: remedy)
  }

  /// Solves the QP, from `warmStart`'s structures and coefficients when given (they must be a
  /// feasible, affinely independent set, as a previous solution is).
  func solve(warmStart: Solution? = nil) throws(DAMError) -> Solution {
    let n = unary.count
    var active: [[Int]] = []
    var alpha: [Double] = []
    var scores: [Double] = []
    var factor = GrowingCholesky()
    func append(_ structure: [Int], weight: Double) -> Bool {
      let overlaps = active.map { overlap($0, structure) }
      guard factor.append(column: overlaps, diagonal: Double(k)) else { return false }
      active.append(structure)
      alpha.append(weight)
      scores.append(score(structure))
      return true
    }
    func remove(_ j: Int) {
      factor.remove(at: j)
      active.remove(at: j)
      alpha.remove(at: j)
      scores.remove(at: j)
    }
    if let warmStart {
      for (s, a) in zip(warmStart.structures, warmStart.coefficients) {
        guard append(s, weight: a) else {
          throw DAMError(
            .numericalFailure, argument: "scores", "the SparseMAP warm start is affinely dependent")
        }
      }
    } else {
      // Start from the exact solution without pairwise scores (the k-subsets projection),
      // written as a convex combination of k-subsets by systematic sampling and reduced to an
      // affinely independent set (Carathéodory). When the pairwise scores matter little this
      // is nearly optimal, and it saves the hundreds of add/drop iterations that near-uniform
      // solutions otherwise need from a single MAP structure.
      let projection = try cappedSimplexProjection(try ShiftedScores(unary, sorted: false), k: k)
      try requireStartFits(projection)
      let budget = currentBudget()
      for (position, (structure, weight)) in systematicDecomposition(projection, k: k).enumerated() {
        try budget?.check(iterations: 0) {
          "the start of a SparseMAP active-set solve (sequential k-subsets of \(n) scores, k = \(k)), structure \(position + 1)"
        }
        if append(structure, weight: weight) { continue }
        // structure = Σ λⱼ sⱼ: move weight along (λ, -1), which keeps the point, until the new
        // structure's weight or an active one reaches 0.
        let lambda = factor.solve(active.map { overlap($0, structure) })
        var step = weight
        var blocking = -1
        for j in lambda.indices where lambda[j] < -1e-12 {
          let ratio = alpha[j] / -lambda[j]
          if ratio < step {
            step = ratio
            blocking = j
          }
        }
        for j in alpha.indices { alpha[j] += step * lambda[j] }
        if blocking < 0 { continue }  // absorbed into the active structures
        alpha[blocking] = 0
        for j in alpha.indices.reversed() where alpha[j] <= 0 { remove(j) }
        if !append(structure, weight: weight - step) {
          throw DAMError(
            .numericalFailure, argument: "scores", "the SparseMAP start left a dependent active set")
        }
      }
      let total = alpha.reduce(0, +)
      alpha = alpha.map { $0 / total }
    }
    let maxIterations = 1000 + 200 * n
    // The work budget, if any, every `every` iterations (an iteration is an O(N k) oracle call).
    let budget = currentBudget()
    let every = WorkBudget.checkInterval(work: n * k)
    for iteration in 0..<maxIterations {
      if let budget, iteration % every == 0 {
        try budget.check(iterations: iteration == 0 ? 1 : every) {
          "a SparseMAP active-set solve (sequential k-subsets of \(n) scores, k = \(k)), iteration \(iteration + 1) of at most \(maxIterations), \(active.count) structures active"
        }
      }
      let target = equalityQP(factor, scores)
      if target.contains(where: { $0 <= 0 }) {
        // Step from α towards the target until the first coefficient reaches 0; drop it.
        // (A coefficient already at 0 blocks at once; one whose target is exactly 0 at step 1.)
        var step = Double.infinity
        var blocking = 0
        for j in target.indices where target[j] <= 0 {
          let ratio = alpha[j] / (alpha[j] - target[j])
          if ratio < step {
            step = ratio
            blocking = j
          }
        }
        for j in alpha.indices { alpha[j] += step * (target[j] - alpha[j]) }
        alpha[blocking] = 0
        for j in alpha.indices.reversed() where alpha[j] <= 0 { remove(j) }
        continue
      }
      alpha = target
      let marginals = weightedMarginals(active, alpha, n)
      // Linearised score of each active structure, c_s - ⟨μ_V, s⟩: equal (to τ) at the QP solution.
      var tau = -Double.infinity
      for (j, s) in active.enumerated() {
        var inner = 0.0
        for i in s { inner += marginals[i] }
        tau = max(tau, scores[j] - inner)
      }
      let linearised = zip(unary, marginals).map { $0 - $1 }
      guard let best = budgetedViterbi(unary: linearised, pairwise: pairwise, k: k) else {
        throw DAMError(.numericalFailure, argument: "scores", "the MAP oracle found no k-subset")
      }
      let tolerance = 1e-12 * (1 + abs(tau))
      if best.value <= tau + tolerance || active.contains(best.indices) {
        // Coefficients at round-off level belong to structures whose exact weight is 0 (a
        // degenerate QP); dropping them moves the marginals by < 1e-14 and keeps the support
        // of the weights exact.
        if alpha.contains(where: { $0 < 1e-14 }) {
          let keep = alpha.indices.filter { alpha[$0] >= 1e-14 }
          let total = keep.reduce(0.0) { $0 + alpha[$1] }
          active = keep.map { active[$0] }
          alpha = keep.map { alpha[$0] / total }
          scores = keep.map { scores[$0] }
        }
        let marginals = weightedMarginals(active, alpha, n)
        var value = 0.0
        for (a, c) in zip(alpha, scores) { value += a * c }
        var squares = 0.0
        for m in marginals { squares += m * m }
        return Solution(
          structures: active, coefficients: alpha, marginals: marginals, value: value - squares / 2)
      }
      if append(best.indices, weight: 0) { continue }
      // The oracle's structure is in the affine hull of the active ones: best = Σ λⱼ sⱼ with
      // Σ λⱼ = 1. Moving weight onto it keeps μ_V and gains c_best - Σ λⱼ cⱼ > 0 per unit;
      // move until an active coefficient hits 0, drop that one, and add the new structure.
      let lambda = factor.solve(active.map { overlap($0, best.indices) })
      var step = Double.infinity
      var blocking = -1
      for j in lambda.indices where lambda[j] > 1e-12 {
        let ratio = alpha[j] / lambda[j]
        if ratio < step {
          step = ratio
          blocking = j
        }
      }
      guard blocking >= 0 else {
        throw DAMError(
          .numericalFailure, argument: "scores", "the SparseMAP swap step found no blocking structure")
      }
      for j in alpha.indices { alpha[j] -= step * lambda[j] }
      alpha[blocking] = 0
      for j in alpha.indices.reversed() where alpha[j] <= 0 { remove(j) }
      guard append(best.indices, weight: step) else {
        throw DAMError(
          .numericalFailure, argument: "scores", "the SparseMAP swap step left a dependent active set")
      }
    }
    throw DAMError(
      .numericalFailure, argument: "scores",
      "the SparseMAP active-set solver did not converge in \(maxIterations) iterations; this happens "
        + "when the solution is nearly uniform over many patterns (scores spread far below 1): raise beta")
  }

  /// The Jacobian-vector product at a solution, assuming its active set is locally constant
  /// (true away from ties): `J v = Σ dα_s s` with `dα` the equality QP's response to scores
  /// moving by `⟨v, s⟩` (Niculae et al. 2018, §3.2).
  func jacobianVectorProduct(at solution: Solution, direction: [Double]) -> [Double] {
    var factor = GrowingCholesky()
    var active: [[Int]] = []
    for s in solution.structures {
      guard factor.append(column: active.map { overlap($0, s) }, diagonal: Double(k)) else { break }
      active.append(s)
    }
    var result = [Double](repeating: 0, count: unary.count)
    guard active.count == solution.structures.count, active.count > 1 else { return result }
    let changes = active.map { s in s.reduce(0.0) { $0 + direction[$1] } }
    // Shifting the changes by a constant changes only dτ, not dα.
    let (u, w) = (factor.solve(changes), factor.solve([Double](repeating: 1, count: active.count)))
    let shift = u.reduce(0, +) / w.reduce(0, +)
    for (j, s) in active.enumerated() {
      let change = u[j] - shift * w[j]
      for i in s { result[i] += change }
    }
    return result
  }

  // MARK: Helpers

  /// `|a ∩ b|` for sorted index lists.
  func overlap(_ a: [Int], _ b: [Int]) -> Double {
    var i = 0
    var j = 0
    var count = 0
    while i < a.count && j < b.count {
      if a[i] == b[j] {
        count += 1
        i += 1
        j += 1
      } else if a[i] < b[j] {
        i += 1
      } else {
        j += 1
      }
    }
    return Double(count)
  }

  func weightedMarginals(_ structures: [[Int]], _ alpha: [Double], _ n: Int) -> [Double] {
    var marginals = [Double](repeating: 0, count: n)
    for (s, a) in zip(structures, alpha) {
      for i in s { marginals[i] += a }
    }
    // Σ α = 1 to an ulp; keep the marginals inside [0, 1] exactly.
    return marginals.map { min($0, 1) }
  }

  /// The equality-constrained QP `min ½ αᵀ G α - ⟨c, α⟩` subject to `Σ α = 1`: with `u = G⁻¹ c`
  /// and `w = G⁻¹ 1`, `α = u - τ w` with `τ = (Σ u - 1)/Σ w`. The scores are first shifted by
  /// their maximum (which changes only τ), so that large scores (β = 1e4) do not swamp the
  /// O(1) coefficients; the result is renormalised to sum to 1, and one structure gets exactly 1.
  func equalityQP(_ factor: GrowingCholesky, _ scores: [Double]) -> [Double] {
    if scores.count == 1 { return [1] }
    let largest = scores.max() ?? 0
    let u = factor.solve(scores.map { $0 - largest })
    let w = factor.solve([Double](repeating: 1, count: scores.count))
    let tau = (u.reduce(0, +) - 1) / w.reduce(0, +)
    let alpha = zip(u, w).map { $0 - tau * $1 }
    let total = alpha.reduce(0, +)
    return alpha.map { $0 / total }
  }
}

/// A convex combination of k-subsets whose marginals are `y` (`0 ≤ yᵢ ≤ 1`, `Σ y = k`), by
/// systematic sampling: lay the `yᵢ` end to end on `[0, k)`; for `u ∈ [0, 1)` the subset of the
/// intervals that hold one of `u, u + 1, …, u + k - 1` has exactly `k` members, and it changes
/// only where `u` crosses the fractional part of a partial sum. At most N + 1 subsets, O(N²).
/// Pieces whose subset does not have k members (round-off at a boundary) are skipped.
func systematicDecomposition(_ y: [Double], k: Int) -> [(structure: [Int], weight: Double)] {
  var starts: [Double] = []
  var ends: [Double] = []
  var indices: [Int] = []
  var position = 0.0
  for (i, value) in y.enumerated() where value > 0 {
    indices.append(i)
    starts.append(position)
    position += value
    ends.append(position)
  }
  var breakpoints = starts.map { $0 - $0.rounded(.down) } + [0, 1]
  breakpoints.sort()
  var pieces: [(structure: [Int], weight: Double)] = []
  for (low, high) in zip(breakpoints, breakpoints.dropFirst()) where high > low {
    let u = 0.5 * (low + high)
    var structure: [Int] = []
    for (j, i) in indices.enumerated() {
      let lattice = (starts[j] - u).rounded(.up) + u  // the first u + m ≥ start
      if lattice < ends[j] { structure.append(i) }
    }
    if structure.count == k { pieces.append((structure, high - low)) }
  }
  let total = pieces.reduce(0.0) { $0 + $1.weight }
  return pieces.map { ($0.structure, $0.weight / total) }.sorted { $0.weight > $1.weight }
}
