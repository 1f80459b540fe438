import DAM
import DAMTestSupport
import Testing

/// Exact (sort-based) and iterative (root finding, active set) solvers of the same map agree to
/// 1e-12, on many random score vectors of several sizes and scales, with ties and masks.
struct SolverAgreementTests {
  /// Random scores: Gaussian, scaled by `scale`, some rounded to create ties, some masked.
  static func scores(seed: UInt64, count: Int, scale: Double) -> [Double] {
    var generator = SeededGenerator(seed: seed)
    var theta = generator.gaussians(count).map { $0 * scale }
    if seed % 4 == 1 { theta = theta.map { ($0 * 4).rounded() / 4 } }  // ties
    if seed % 5 == 2 { theta[Int(seed) % count] = -.infinity }
    return theta
  }

  static let scales = [0.1, 1, 10, 1e3]

  /// Compares two maps on 200 score vectors; the conjugates may differ by a known constant.
  func expectAgreement(
    _ a: some SeparationMap, _ b: some SeparationMap, conjugateOffset: Double = 0, count: Int = 12
  ) throws {
    for seed in UInt64(0)..<200 {
      let theta = Self.scores(seed: seed, count: 1 + Int(seed) % count, scale: Self.scales[Int(seed) % 4])
      guard theta.contains(where: { $0 > -.infinity }) else { continue }
      let x = try a.separate(theta)
      let y = try b.separate(theta)
      // Both are accurate to a few ulps of O(1) weights: measured worst 3.9e-16 (sparsemax vs
      // entmax(2)), 2.2e-16 (1.5-entmax), 5.6e-17 (1-subsets).
      #expect(TestData.maxDifference(x.weights, y.weights) < 1e-12, "\(a.name) vs \(b.name) at \(theta)")
      // Conjugates are O(scale); measured worst relative difference 5.7e-16.
      let gap = abs(x.conjugate - y.conjugate - conjugateOffset)
      #expect(gap < 1e-12 * max(1, abs(x.conjugate)), "\(a.name) vs \(b.name) at \(theta)")
    }
  }

  @Test func sparsemaxMatchesEntmaxRootFindingAtAlpha2() throws {
    try expectAgreement(Sparsemax(), Entmax(alpha: 2))
  }

  @Test func entmax15SortMatchesRootFinding() throws {
    try expectAgreement(Entmax15(), Entmax(alpha: 1.5))
  }

  /// k = 1 subsets are sparsemax; the regularisers differ by the constant ½ (`½‖y‖²` against
  /// the Tsallis `(‖y‖² - 1)/2`), so the conjugates differ by -½.
  @Test func oneSubsetsAreSparsemax() throws {
    try expectAgreement(KSubsets(k: 1), Sparsemax(), conjugateOffset: -0.5)
  }

  /// Sequential k-subsets with no pairwise score is k-subsets: the active-set solver with the
  /// Viterbi oracle against the exact sorting projection.
  @Test(arguments: [1, 2, 3, 5])
  func sequentialWithoutPairwiseIsKSubsets(k: Int) throws {
    for seed in UInt64(0)..<100 {
      let theta = Self.scores(seed: seed, count: k + Int(seed) % 10, scale: Self.scales[Int(seed) % 4])
      guard theta.filter({ $0 > -.infinity }).count >= k else { continue }
      let exact = try KSubsets(k: k).separate(theta)
      let active = try SequentialKSubsets(k: k, pairwise: 0).separate(theta)
      // Measured worst: 3.9e-16 (k = 2), 2.0e-15 (k = 3), 5.1e-15 (k = 5): the active set sums
      // up to N structures' coefficients.
      #expect(TestData.maxDifference(exact.weights, active.weights) < 1e-12, "\(theta)")
      #expect(abs(exact.conjugate - active.conjugate) < 1e-12 * max(1, abs(exact.conjugate)), "\(theta)")
    }
  }
}

/// The sequential k-subsets map and its oracle.
struct SequentialKSubsetsTests {
  /// Every k-subset of 0..<n, as sorted index lists.
  static func subsets(_ n: Int, _ k: Int) -> [[Int]] {
    if k == 0 { return [[]] }
    if n < k { return [] }
    return subsets(n - 1, k) + subsets(n - 1, k - 1).map { $0 + [n - 1] }
  }

  static func pairs(_ s: [Int]) -> Int { zip(s, s.dropFirst()).filter { $1 == $0 + 1 }.count }

  /// The map at large β returns the MAP structure, which brute force finds among all k-subsets.
  /// β = 1e4 on O(1) scores with an O(1) pairwise score scaled by β as well makes every
  /// structure gap ≥ 1 (the structured margin) unless two structures tie, which these random
  /// scores avoid.
  @Test(arguments: [(6, 2, 0.7), (7, 3, -0.5), (8, 4, 1.3), (5, 1, 2.0), (6, 6, 0.4)])
  func largeBetaIsTheBruteForceMAP(n: Int, k: Int, pairwise: Double) throws {
    for seed in UInt64(0)..<20 {
      var generator = SeededGenerator(seed: 900 + seed)
      let theta = generator.gaussians(n)
      let beta = 1e4
      let best = Self.subsets(n, k).max { a, b in
        a.reduce(0) { $0 + theta[$1] } + pairwise * Double(Self.pairs(a))
          < b.reduce(0) { $0 + theta[$1] } + pairwise * Double(Self.pairs(b))
      }!
      let map = try SequentialKSubsets(k: k, pairwise: beta * pairwise)
      let y = try map.separate(theta.map { beta * $0 }).weights
      #expect(y == (0..<n).map { best.contains($0) ? 1 : 0 }, "seed \(seed): \(y) vs \(best)")
    }
  }

  /// Attractive pairwise scores pull mass onto the neighbours of the peaks; repulsive ones push
  /// it onto separated patterns. Scores: peaks at 1 and 4, a bump at 2. Plain k-subsets gives
  /// [0, .8, .4, 0, .8, 0]; p = 2 gives [0, .6, .6, .2, .4, .2]; p = -2 gives [0, .7, .3, 0, 1, 0].
  @Test func pairwiseScoresShapeTheSupport() throws {
    let theta = [0.0, 1, 0.6, 0, 1, 0]
    let plain = try KSubsets(k: 2).separate(theta).weights
    let attractive = try SequentialKSubsets(k: 2, pairwise: 2).separate(theta).weights
    let repulsive = try SequentialKSubsets(k: 2, pairwise: -2).separate(theta).weights
    #expect(attractive[2] > plain[2] + 0.1 && attractive[3] > 0.1 && attractive[5] > 0.1, "\(attractive)")
    #expect(repulsive[2] < plain[2] - 0.05 && repulsive[4] > plain[4] + 0.1, "\(repulsive)")
    #expect(abs(attractive.reduce(0, +) - 2) < 1e-12 && abs(repulsive.reduce(0, +) - 2) < 1e-12)
    // The exact values (the QP's solution is rational here), to round-off.
    #expect(TestData.maxDifference(attractive, [0, 0.6, 0.6, 0.2, 0.4, 0.2]) < 1e-12)
    #expect(TestData.maxDifference(repulsive, [0, 0.7, 0.3, 0, 1, 0]) < 1e-12)
  }

  /// A masked pattern is never retrieved and breaks the chain: no pair through it scores.
  @Test func maskedPatternsBreakTheChain() throws {
    let theta = [0.5, 0.5, -.infinity, 0.5, 0.5]
    let y = try SequentialKSubsets(k: 2, pairwise: 3).separate(theta.map { 10 * $0 }).weights
    #expect(y[2] == 0)
    // The two runs {0, 1} and {3, 4} tie; each gets half.
    #expect(TestData.maxDifference(y, [0.5, 0.5, 0, 0.5, 0.5]) < 1e-12, "\(y)")
  }

  /// The regulariser on the weights is `½‖y‖² - g(y)` with `g` the best pairwise score of a
  /// distribution with marginals `y`: at a vertex it is `½ k - p · pairs`; with `p = 0` it is
  /// `½‖y‖²`.
  @Test func regularizerAtVerticesAndWithoutPairwise() throws {
    let map = try SequentialKSubsets(k: 3, pairwise: 0.8)
    // The run {1, 2, 3} has two pairs: Ω = 3/2 - 1.6; tolerance: the proximal iteration stops
    // at marginals within 1e-13, giving Ω to ~1e-12.
    #expect(abs(try map.regularizer([0, 1, 1, 1, 0]) - (1.5 - 1.6)) < 1e-12)
    #expect(abs(try map.regularizer([1, 0, 1, 0, 1]) - 1.5) < 1e-12)
    let y = [0.5, 0.5, 1, 0.25, 0.75]
    #expect(try SequentialKSubsets(k: 3, pairwise: 0).regularizer(y) == 0.5 * y.reduce(0) { $0 + $1 * $1 })
  }

  /// The oracle and the solver never fail on many random problems (no cycling, no loss of
  /// affine independence), and the solution is optimal: no structure beats the active ones
  /// under the linearised scores (checked by brute force, to 1e-9).
  @Test func activeSetIsOptimalOnRandomProblems() throws {
    for seed in UInt64(0)..<150 {
      var generator = SeededGenerator(seed: 5000 + seed)
      let n = 4 + Int(seed % 5)
      let k = 1 + Int(seed % UInt64(n - 1))
      let pairwise = 2 * generator.nextGaussian()
      let theta = generator.gaussians(n).map { $0 * [0.2, 1, 3][Int(seed % 3)] }
      let map = try SequentialKSubsets(k: k, pairwise: pairwise)
      let result = try map.separate(theta)
      let y = result.weights
      // Fenchel-Young optimality: Ω*(θ) = max over structures of the linearised objective
      // ⟨θ - y, s⟩ + p·pairs(s) + ½‖y‖² ... equivalently every structure s satisfies
      // ⟨θ - y, s⟩ + p·pairs(s) ≤ τ, and the value of the QP equals Ω*.
      let linearised = Self.subsets(n, k).map { s in
        s.reduce(0) { $0 + theta[$1] - y[$1] } + pairwise * Double(Self.pairs(s))
      }
      let tau = linearised.max()!
      // Ω*(θ) = τ + ½‖y‖² ... from Σ α_s c_s = τ + ⟨y, y⟩ on the active set, so
      // Ω* = τ + ‖y‖² - ½‖y‖².
      let squares = y.reduce(0) { $0 + $1 * $1 }
      #expect(
        abs(result.conjugate - (tau + squares / 2)) < 1e-9 * max(1, abs(result.conjugate)), "seed \(seed)")
    }
  }
}
