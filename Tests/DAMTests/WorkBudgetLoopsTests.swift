import DAM
import DAMTestSupport
import Foundation
import Testing

/// The long loops inside one iteration or one step, which the checks between iterations and
/// steps (`WorkBudgetTests`) do not reach in time: Newton steps, the construction of Gibbs and
/// grid kernels, the grid's log-domain passes, the Bures-Wasserstein batch and the SparseMAP
/// active set. Each ends under a budget that has run out with the budget's error naming what was
/// running there, rather than finishing; a budget that does not run out changes no result.
struct WorkBudgetLoopsTests {
  /// A 1-D histogram of `cells` cells (an axis of at least 256 makes the grid poll the budget).
  static func line(_ cells: Int, shift: Int) throws -> GridHistogram {
    try GridHistogram(shape: [cells], intensities: (0..<cells).map { Double(($0 + shift) % 11 + 1) })
  }

  /// A budget's error must name the limit and `activity`.
  static func expectSpent(_ error: DAMError, _ activity: String, limit: String = "timeLimit") {
    #expect(error.kind == .budgetExceeded, "\(error)")
    #expect(error.argument.contains(limit), "\(error)")
    #expect(error.message.contains(activity), "\(error)")
  }

  /// Newton's method counts its steps as iterations and checks the budget before each: with the
  /// limit one below what the converged solve counted (its Sinkhorn iterations and its Newton
  /// steps), the solve ends in its last Newton step; with the limit equal, it finishes with the
  /// same result as without a budget.
  @Test func newtonStepsCheckTheBudget() throws {
    let clouds = try WorkBudgetTests.clouds(2, atoms: 60, seed: 11)
    let options = try SinkhornOptions(epsilon: 0.002, tolerance: 1e-10, maxIterations: 100_000)
    let plain = try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options)
    #expect(plain.newtonSteps > 0 && plain.converged)
    let counted = plain.iterations + plain.newtonSteps
    let error = try WorkBudgetTests.spentError(iterationLimit: counted - 1) {
      _ = try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options)
    }
    Self.expectSpent(error, "Newton step \(plain.newtonSteps) of at most 60", limit: "iterationLimit")
    let budget = try WorkBudget(iterationLimit: counted)
    let bounded = try budget.run { try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options) }
    #expect(budget.exceeded == nil)
    #expect(bounded.value == plain.value && bounded.f == plain.f && bounded.g == plain.g)
  }

  /// The kernel backend's `n x m` kernel (here 300 x 300, `n m` exponentials) polls the time
  /// limit while it is built and the solve ends there.
  @Test func gibbsKernelConstructionChecksTheBudget() throws {
    let clouds = try WorkBudgetTests.clouds(2, atoms: 300, seed: 12)
    let options = try SinkhornOptions(epsilon: 0.05, backend: .kernel)
    let error = try WorkBudgetTests.spentError {
      _ = try Sinkhorn.transport(from: clouds[0], to: clouds[1], options: options)
    }
    Self.expectSpent(error, "building the 300 x 300 Gibbs kernel")
    let symmetric = try WorkBudgetTests.spentError {
      _ = try Sinkhorn.selfTransport(clouds[0], options: options)
    }
    Self.expectSpent(symmetric, "building the 300 x 300 Gibbs kernel")
  }

  /// A grid kernel's 1-D matrices (`n²` exponentials per axis) poll the time limit while they
  /// are built; the kernel that gave up is not cached (a later solve without a budget, which
  /// would use it, converges and gives the divergence of a histogram with itself, 0). With the
  /// kernels built, the log-domain passes of a soft-minimum poll it too.
  @Test func gridKernelsAndPassesCheckTheBudget() throws {
    let a = try Self.line(300, shift: 0)
    let b = try Self.line(300, shift: 4)
    let options = try GridSinkhornOptions(epsilon: 0.0137 * 299 * 299, backend: .logDomain)
    let building = try WorkBudgetTests.spentError {
      _ = try GridSinkhorn.transport(from: a, to: b, options: options)
    }
    Self.expectSpent(building, "building the kernel of a grid of 300 cells at epsilon")
    let barycenter = try WorkBudgetTests.spentError {
      _ = try GridSinkhorn.barycenter(of: [a, b], options: options)
    }
    Self.expectSpent(barycenter, "building the kernel of a grid of 300 cells")
    let zero = try GridSinkhorn.divergence(a, a, options: options)
    #expect(zero.crossTerm.converged && abs(zero.value) <= 1e-9)
    // Every kernel of the solve is cached now: the passes are what polls.
    let passes = try WorkBudgetTests.spentError { _ = try GridSinkhorn.divergence(a, a, options: options) }
    Self.expectSpent(passes, "a log-domain convolution")
    let budget = try WorkBudget(timeLimit: 600)
    let bounded = try budget.run { try GridSinkhorn.divergence(a, a, options: options) }
    #expect(bounded.value == zero.value)
  }

  /// The Bures-Wasserstein batch checks the budget before each chunk of eigendecompositions.
  /// (The maps' batch, `accumulate(_:)`, checks through the same function; its block cannot be
  /// made outside the library, and in a retrieval the step's own check comes first.)
  @Test func buresWassersteinBatchChecksTheBudget() throws {
    var generator = SeededGenerator(seed: 13)
    let d = 4
    let gaussians = try (0..<20).map { _ -> Gaussian in
      let a = (0..<(d * d)).map { _ in generator.nextGaussian() }
      var s = [Double](repeating: 0, count: d * d)
      for i in 0..<d {
        for j in 0..<d {
          for k in 0..<d { s[i * d + j] += a[i * d + k] * a[j * d + k] }
          if i == j { s[i * d + j] += 1 }
        }
      }
      return try Gaussian(
        mean: (0..<d).map { _ in generator.nextGaussian() },
        covariance: Matrix(rows: d, columns: d, elements: s))
    }
    let divergence = BuresWassersteinDivergence()
    let memory = try Memory(divergence: divergence, patterns: gaussians)
    let state = gaussians[3]
    let query = try divergence.prepareQuery(state, previous: nil)
    let block = EvaluationBlock(
      memory: memory, items: [.init(state: state, query: query, indices: .all(memory.count))], parallelism: 2)
    let unbounded = try divergence.evaluate(block)
    let error = try WorkBudgetTests.spentError { _ = try divergence.evaluate(block) }
    Self.expectSpent(error, "a Bures-Wasserstein batch, evaluating chunk ")
    #expect(error.message.contains("of 3 (up to 8 patterns each, dimension 4)"), "\(error)")
    let budget = try WorkBudget(timeLimit: 600)
    let bounded = try budget.run { try divergence.evaluate(block) }
    #expect(bounded.map { $0.map(\.value) } == unbounded.map { $0.map(\.value) })
  }

  /// The SparseMAP active set (sequential k-subsets) checks the budget at its iterations, and
  /// counts them: under an iteration limit of 0 the first one ends it.
  @Test func sparseMAPActiveSetChecksTheBudget() throws {
    let map = try SequentialKSubsets(k: 3, pairwise: 0.4)
    let scores = (0..<40).map { Double(($0 * 7) % 13) / 10 }
    let unbounded = try map.separate(scores)
    // The start (the k-subsets of the projection, taken in one by one) checks the time first.
    let error = try WorkBudgetTests.spentError { _ = try map.separate(scores) }
    Self.expectSpent(
      error,
      "the start of a SparseMAP active-set solve (sequential k-subsets of 40 scores, k = 3), structure 1")
    // It counts no iterations; the first iteration does.
    let counted = try WorkBudgetTests.spentError(iterationLimit: 0) { _ = try map.separate(scores) }
    Self.expectSpent(
      counted, "a SparseMAP active-set solve (sequential k-subsets of 40 scores, k = 3), iteration 1",
      limit: "iterationLimit")
    let budget = try WorkBudget(timeLimit: 600)
    let bounded = try budget.run { try map.separate(scores) }
    #expect(bounded.weights == unbounded.weights && bounded.conjugate == unbounded.conjugate)
  }
}
