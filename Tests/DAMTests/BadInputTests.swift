import DAM
import DAMTestSupport
import Foundation
import Testing

/// The library half of the bad-input table in Docs/reliability.md: every public entry point
/// refuses each input with a `DAMError` naming the argument (and the index where one applies),
/// never a crash, a hang or a NaN. The case names are the table's rows.
struct BadInputTests {
  struct Refusal: Sendable, CustomTestStringConvertible {
    var name: String
    /// A substring of the error's argument.
    var argument: String
    /// A substring of the error's message (the value or the index it names).
    var message: String
    var body: @Sendable () throws -> Void
    var testDescription: String { name }
  }

  static func cloud(_ points: [Double], d: Int = 1, weights: [Double]? = nil) throws -> PointCloud {
    try PointCloud(points: Matrix(rows: points.count / d, columns: d, elements: points), weights: weights)
  }

  static func vectorEngine(beta: Double = 1, patterns: [[Double]] = [[1, 0], [0, 1]]) throws
    -> RetrievalEngine<
      SquaredEuclideanDivergence, Softmax, EuclideanGeometry
    >
  {
    try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns), separation: .softmax,
      geometry: EuclideanGeometry(), beta: beta)
  }

  static let refusals: [Refusal] = [
    Refusal(name: "NaN in a matrix", argument: "elements", message: "nan") {
      _ = try Matrix(rows: 2, columns: 2, elements: [1, .nan, 0, 1])
    },
    Refusal(name: "matrix elements do not fit the shape", argument: "elements", message: "has 3 values") {
      _ = try Matrix(rows: 2, columns: 2, elements: [1, 0, 1])
    },
    Refusal(name: "negative weight", argument: "weights", message: "negative value (-0.25) at index 1") {
      _ = try cloud([0, 1, 2], weights: [0.75, -0.25, 0.5])
    },
    Refusal(name: "all-zero weights", argument: "weights", message: "all zero") {
      _ = try cloud([0, 1], weights: [0, 0])
    },
    Refusal(name: "weights summing to 0.9 (beyond 1e-6)", argument: "weights", message: "sum to 0.9") {
      _ = try cloud([0, 1], weights: [0.4, 0.5])
    },
    Refusal(name: "infinite weight", argument: "weights", message: "inf") {
      _ = try cloud([0, 1], weights: [.infinity, 0.5])
    },
    Refusal(name: "NaN atom", argument: "elements", message: "index 1") {
      _ = try cloud([0, .nan])
    },
    Refusal(name: "cloud with no atoms", argument: "points", message: "no atoms") {
      _ = try cloud([])
    },
    Refusal(name: "weights count differs from atoms", argument: "weights", message: "3 values for 2 atoms") {
      _ = try cloud([0, 1], weights: [0.2, 0.3, 0.5])
    },
    Refusal(name: "non-symmetric covariance", argument: "covariance", message: "symmetric") {
      _ = try Gaussian(mean: [0, 0], covariance: Matrix(rows: 2, columns: 2, elements: [1, 0.5, 0, 1]))
    },
    Refusal(name: "indefinite covariance", argument: "covariance", message: "positive definite") {
      _ = try Gaussian(mean: [0, 0], covariance: Matrix(rows: 2, columns: 2, elements: [1, 2, 2, 1]))
    },
    Refusal(name: "zero variance", argument: "variances", message: "got 0.0 at index 1") {
      _ = try Gaussian(mean: [0, 0], variances: [1, 0])
    },
    Refusal(
      name: "mean and covariance of different dimensions", argument: "covariance", message: "dimension 3"
    ) {
      _ = try Gaussian(mean: [0, 0, 0], covariance: Matrix.identity(2))
    },
    Refusal(name: "histogram with 4 axes", argument: "shape", message: "4") {
      _ = try GridHistogram(shape: [1, 1, 1, 2], masses: [0.5, 0.5])
    },
    Refusal(name: "histogram spacing 0", argument: "spacing[1]", message: "0.0") {
      _ = try GridHistogram(shape: [1, 2], masses: [0.5, 0.5], spacing: [1, 0])
    },
    Refusal(name: "patterns of different dimensions", argument: "patterns[2]", message: "1 coordinates") {
      _ = try Memory(divergence: .squaredEuclidean, patterns: [[1, 0], [0, 1], [1]])
    },
    Refusal(name: "NaN in a stored vector", argument: "patterns[1]", message: "nan") {
      _ = try Memory(divergence: .squaredEuclidean, patterns: [[1, 0], [0, .nan]])
    },
    Refusal(name: "clouds of different dimensions", argument: "patterns[1]", message: "dimension 2") {
      _ = try Memory(
        divergence: try SinkhornDivergence(epsilon: 0.1),
        patterns: [try cloud([0, 1]), try cloud([0, 1], d: 2)])
    },
    Refusal(name: "empty memory", argument: "memory", message: "empty") {
      _ = try RetrievalEngine(
        memory: Memory(divergence: .squaredEuclidean, patterns: []), separation: .softmax,
        geometry: EuclideanGeometry(), beta: 1)
    },
    Refusal(name: "beta = 0", argument: "beta", message: "0.0") { _ = try vectorEngine(beta: 0) },
    Refusal(name: "beta < 0", argument: "beta", message: "-2.0") { _ = try vectorEngine(beta: -2) },
    Refusal(name: "beta = NaN", argument: "beta", message: "nan") { _ = try vectorEngine(beta: .nan) },
    Refusal(name: "beta = infinity", argument: "beta", message: "inf") {
      _ = try vectorEngine(beta: .infinity)
    },
    Refusal(name: "query of the wrong dimension", argument: "query", message: "3 coordinates") {
      _ = try vectorEngine().retrieve([1, 0, 0])
    },
    Refusal(name: "NaN in the query", argument: "query", message: "nan") {
      _ = try vectorEngine().retrieve([.nan, 0])
    },
    Refusal(name: "entmax alpha < 1", argument: "alpha", message: "0.5") { _ = try Entmax(alpha: 0.5) },
    Refusal(name: "entmax alpha = NaN", argument: "alpha", message: "nan") { _ = try Entmax(alpha: .nan) },
    Refusal(name: "normmax alpha = 1", argument: "alpha", message: "1.0") { _ = try Normmax(alpha: 1) },
    Refusal(name: "k = 0", argument: "k", message: "0") { _ = try KSubsets(k: 0) },
    Refusal(name: "k above the number of scores", argument: "k", message: "3") {
      _ = try KSubsets(k: 3).separate([1, 2])
    },
    Refusal(name: "pairwise score NaN", argument: "pairwise", message: "nan") {
      _ = try SequentialKSubsets(k: 1, pairwise: .nan)
    },
    Refusal(name: "NaN score", argument: "scores", message: "nan") { _ = try Softmax().separate([0, .nan]) },
    Refusal(name: "every score masked", argument: "scores", message: "masked") {
      _ = try Sparsemax().separate([-.infinity, -.infinity])
    },
    Refusal(name: "epsilon = 0", argument: "epsilon", message: "0.0") {
      _ = try SinkhornDivergence(epsilon: 0)
    },
    Refusal(name: "epsilon < 0", argument: "epsilon", message: "-1.0") {
      _ = try SinkhornDivergence(epsilon: -1)
    },
    Refusal(name: "epsilon = infinity", argument: "epsilon", message: "inf") {
      _ = try SinkhornDivergence(epsilon: .infinity)
    },
    Refusal(
      name: "epsilon above 1e6 x the squared diameter, point clouds (1e300)", argument: "epsilon",
      message: "more than 1e6 times"
    ) {
      _ = try Sinkhorn.divergence(
        try cloud([0, 0, 1, 0], d: 2), try cloud([3, 1, 2, 2], d: 2),
        options: SinkhornOptions(epsilon: 1e300))
    },
    Refusal(
      name: "epsilon above 1e6 x the squared diameter, grid (1e300)", argument: "epsilon",
      message: "more than 1e6 times"
    ) {
      let (a, b) = try translatedGridPair()
      _ = try GridSinkhorn.divergence(a, b, options: GridSinkhornOptions(epsilon: 1e300))
    },
    Refusal(name: "SHK step tau = 0", argument: "step", message: "0.0") { _ = try SHKGeometry(step: 0) },
    Refusal(name: "SHK Hellinger scale alpha < 0", argument: "hellingerScale", message: "-1.0") {
      _ = try SHKGeometry(step: 0.5, hellingerScale: -1)
    },
    Refusal(name: "Bures-Wasserstein step = NaN", argument: "step", message: "nan") {
      _ = try BuresWassersteinGeometry(step: .nan)
    },
    Refusal(name: "gradient step < 0", argument: "step", message: "-0.1") {
      _ = try EuclideanGeometry(update: .gradient(step: -0.1))
    },
    Refusal(name: "maxSteps < 0", argument: "maxSteps", message: "-1") { _ = try StoppingRule(maxSteps: -1) },
    Refusal(name: "gradient step 1e3 (the dynamics diverge)", argument: "step", message: "diverged") {
      _ = try RetrievalEngine(
        memory: Memory(divergence: .squaredEuclidean, patterns: [[1, 0], [0, 1]]), separation: .softmax,
        geometry: EuclideanGeometry(update: .gradient(step: 1e3)), beta: 1
      ).retrieve([0.3, 0.2])
    },
    Refusal(name: "Bures-Wasserstein step 10 (the dynamics diverge)", argument: "step", message: "diverged") {
      _ = try RetrievalEngine(
        memory: Memory(
          divergence: BuresWassersteinDivergence(),
          patterns: [
            try Gaussian(mean: [0, 0], variances: [1, 2]), try Gaussian(mean: [1, 0], variances: [0.5, 3]),
          ]),
        separation: .softmax, geometry: BuresWassersteinGeometry(step: 10), beta: 1
      ).retrieve(try Gaussian(mean: [0.5, 0.5], variances: [1, 1]))
    },
    Refusal(name: "squared distance overflows (coordinates 1e200)", argument: "query", message: "inf") {
      _ = try vectorEngine(patterns: [[1e200, 0], [0, 1]]).retrieve([-1e200, 0])
    },
  ]

  @Test(arguments: refusals)
  func refused(_ refusal: Refusal) {
    do {
      try refusal.body()
      Issue.record("\(refusal.name): accepted")
    } catch let error as DAMError {
      // DAM_PRINT_TABLE=1 prints the rows of the table in Docs/reliability.md.
      if ProcessInfo.processInfo.environment["DAM_PRINT_TABLE"] != nil {
        print("TABLE| \(refusal.name) | `\(error.kind.rawValue)` | `\(error)` |")
      }
      #expect(error.argument.contains(refusal.argument), "\(refusal.name): \(error)")
      #expect(
        error.message.lowercased().contains(refusal.message.lowercased()), "\(refusal.name): \(error)")
    } catch {
      Issue.record("\(refusal.name): threw \(type(of: error)) \(error), not a DAMError")
    }
  }

  // MARK: Accepted edge cases give finite results

  @Test func weightsWithinToleranceAreRenormalised() throws {
    let c = try Self.cloud([0, 1, 2], weights: [0.5, 0.25, 0.25 + 5e-7])
    #expect(abs(c.weights.reduce(0, +) - 1) <= 4 * Double.ulpOfOne)
  }

  @Test func duplicateAtomsGiveFiniteDivergences() throws {
    // Duplicate atoms are a valid measure (two atoms at one place carry their summed weight):
    // the divergence must equal the one with the duplicates merged.
    let duplicated = try Self.cloud([0, 0, 0, 0, 1, 1, 2, 2], d: 2, weights: [0.25, 0.25, 0.25, 0.25])
    let merged = try Self.cloud([0, 0, 1, 1, 2, 2], d: 2, weights: [0.5, 0.25, 0.25])
    let other = try Self.cloud([0.5, 0, 1, 2], d: 2)
    let options = try SinkhornOptions(epsilon: 0.05)
    let a = try Sinkhorn.divergence(duplicated, other, options: options).value
    let b = try Sinkhorn.divergence(merged, other, options: options).value
    #expect(a.isFinite)
    #expect(abs(a - b) <= 1e-8 * max(1, abs(b)))  // the solver's tolerance 1e-9 on marginals
  }

  @Test(arguments: [1e3, 1e6])
  func hugeBetaGivesFiniteRetrieval(beta: Double) throws {
    let patterns = TestData.unitVectors(count: 30, dimension: 6, seed: 8)
    let engine = try Self.vectorEngine(beta: beta, patterns: patterns)
    let result = try engine.retrieve(patterns[4].map { $0 + 0.05 })
    #expect(result.weights.allSatisfy { $0.isFinite })
    #expect(result.energies.allSatisfy { $0.isFinite })
    #expect(result.nearestPattern == 4)
    // At beta = 1e6 the softmax is one-hot to round-off: the fixed point is the pattern itself.
    #expect(zip(result.state, patterns[4]).allSatisfy { abs($0 - $1) <= 1e-12 })
  }

  @Test func hugeBetaWithGaussiansIsFinite() throws {
    let patterns = [
      try Gaussian(mean: [0, 0], variances: [1, 2]), try Gaussian(mean: [3, 0], variances: [0.5, 0.5]),
    ]
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: 1e6)
    let result = try engine.retrieve(try Gaussian(mean: [2.5, 0.2], variances: [0.7, 0.6]))
    #expect(result.energies.allSatisfy { $0.isFinite })
    #expect(result.nearestPattern == 1)
  }

  /// eps = 1e-4 of the squared diameter and beta = 1e6: Sinkhorn in the log domain stays finite,
  /// and the divergence between well-separated clouds approaches the exact OT value.
  @Test func tinyEpsilonAndHugeBetaGiveFiniteCloudRetrieval() throws {
    let a = try Self.cloud([0, 0, 1, 0, 0, 1], d: 2)
    let b = try Self.cloud([4, 4, 5, 4, 4, 5], d: 2)
    let diameter2 = 50.0  // squared distance from (0, 0) to (5, 5)
    let epsilon = 1e-4 * diameter2
    let options = try SinkhornOptions(epsilon: epsilon)
    let s = try Sinkhorn.divergence(a, b, options: options).value
    // Exact W2^2 between the translated clouds is the squared translation 32; the debiased
    // divergence converges to it as eps -> 0, with an entropic error of order eps log n.
    #expect(s.isFinite)
    #expect(abs(s - 32) <= 10 * epsilon)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: SinkhornDivergence(options: options), patterns: [a, b]),
      separation: .softmax,
      geometry: try SHKGeometry.wasserstein(), beta: 1e6, stopping: try StoppingRule(maxSteps: 20))
    let result = try engine.retrieve(try Self.cloud([3.8, 4.1, 5.2, 3.9, 4.1, 5.1], d: 2))
    #expect(result.energies.allSatisfy { $0.isFinite })
    #expect(result.weights.allSatisfy { $0.isFinite })
    #expect(result.nearestPattern == 1)
    #expect(result.state.points.elements.allSatisfy { $0.isFinite })
  }

  /// A histogram on a 10 x 10 grid and its translate by (2, 1) cells: W2^2 = 5 exactly.
  static func translatedGridPair() throws -> (GridHistogram, GridHistogram) {
    var a = [Double](repeating: 0, count: 100)
    var b = a
    for (i, j, m) in [(2, 2, 0.4), (3, 2, 0.3), (2, 4, 0.2), (4, 3, 0.1)] {
      a[i * 10 + j] = m
      b[(i + 2) * 10 + j + 1] = m
    }
    return (try GridHistogram(shape: [10, 10], masses: a), try GridHistogram(shape: [10, 10], masses: b))
  }

  /// A compact blob on a 16 x 16 grid centred at `(ci, cj)`.
  static func blob(_ ci: Int, _ cj: Int) throws -> GridHistogram {
    var masses = [Double](repeating: 0, count: 256)
    for i in 0..<16 {
      for j in 0..<16 {
        let r2 = Double((i - ci) * (i - ci) + (j - cj) * (j - cj))
        if r2 <= 5 { masses[i * 16 + j] = exp(-r2 / 3) }
      }
    }
    let total = masses.reduce(0, +)
    return try GridHistogram(shape: [16, 16], masses: masses.map { $0 / total })
  }

  /// Grids at eps = 1e-4 of the squared diameter: the convolutional iterations stall there and
  /// the solve is finished by the dense solver (with Newton's method) on the cells of positive
  /// mass. The divergence between a histogram and its translate by t is exactly |t|^2 at every
  /// eps (the cross term of the cost integrates to zero), here (7, 6): 85.
  @Test func tinyEpsilonGivesFiniteGridDivergence() throws {
    let (a, b) = (try Self.blob(4, 4), try Self.blob(11, 10))
    let diameter2 = 2 * 15.0 * 15.0
    let options = try GridSinkhornOptions(epsilon: 1e-4 * diameter2)
    let s = try GridSinkhorn.divergence(a, b, options: options)
    #expect(abs(s.value - 85) <= 1e-6, "\(s.value)")
    #expect(s.crossTerm.converged && s.crossTerm.marginalError <= 1e-9)
    #expect(s.crossTerm.newtonSteps > 0)  // the dense fallback finished the solve
    #expect(s.crossTerm.f.allSatisfy { $0.isFinite } && s.crossTerm.g.allSatisfy { $0.isFinite })
    #expect(abs(s.firstSelfTerm.value - s.secondSelfTerm.value) <= 1e-8)
  }

  /// Grid retrieval at eps = 1e-4 of the squared diameter and beta = 1e6 stays finite.
  @Test func tinyEpsilonAndHugeBetaGiveFiniteGridRetrieval() throws {
    let (a, b) = try Self.translatedGridPair()
    let options = try GridSinkhornOptions(epsilon: 1e-4 * 162)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: GridSinkhornDivergence(options: options), patterns: [a, b]),
      separation: .softmax, geometry: try GridHellingerGeometry(step: 0.5, hellingerScale: 1e-3), beta: 1e6,
      stopping: try StoppingRule(maxSteps: 5))
    // The pattern b with its masses reweighted (0.4, 0.3 -> 0.35, 0.35).
    var masses = b.masses
    masses[4 * 10 + 3] = 0.35
    masses[5 * 10 + 3] = 0.35
    let result = try engine.retrieve(try GridHistogram(shape: [10, 10], masses: masses))
    #expect(result.energies.allSatisfy { $0.isFinite })
    #expect(result.weights.allSatisfy { $0.isFinite })
    #expect(result.state.masses.allSatisfy { $0.isFinite })
    #expect(result.nearestPattern == 1)
  }

  /// A kernel backend forced on clouds whose `n x m` kernel exceeds the machine's memory (here
  /// 8 TiB) is refused with an error naming the backend, not an abort in the allocator.
  @Test func kernelTooLargeForTheMachineIsAnError() throws {
    let n = 1 << 20
    let x = try PointCloud(
      points: Matrix(rows: n, columns: 1, elements: (0..<n).map { Double($0) / Double(n) }))
    let options = try SinkhornOptions(epsilon: 0.05, backend: .kernel)
    #expect {
      try Sinkhorn.transport(from: x, to: x, options: options)
    } throws: { error in
      guard let error = error as? DAMError else { return false }
      return error.argument == "backend" && error.message.contains("log-domain")
    }
    #expect(throws: DAMError.self) { try Sinkhorn.selfTransport(x, options: options) }
  }

  /// Far below 1e-4 of the squared diameter the solve cannot reach its tolerance: it stops once
  /// the error's pace shows that (here within half the budget), naming epsilon,
  /// instead of running all 10,000 iterations first.
  @Test func unreachableToleranceFailsFast() throws {
    var generator = SeededGenerator(seed: 11)
    let x = try PointCloud(
      points: Matrix(rows: 40, columns: 2, elements: (0..<80).map { _ in 2 * generator.nextGaussian() }))
    let y = try PointCloud(
      points: Matrix(rows: 30, columns: 2, elements: (0..<60).map { _ in 2 * generator.nextGaussian() + 1 }))
    for backend in [SinkhornBackend.kernel, .logDomain] {
      let options = try SinkhornOptions(epsilon: 1e-3, backend: backend)
      #expect {
        try Sinkhorn.transport(from: x, to: y, options: options)
      } throws: { error in
        guard let error = error as? DAMError, error.argument == "epsilon",
          let range = error.message.range(of: "stopped after ")
        else { return false }
        let iterations = Int(error.message[range.upperBound...].prefix { $0.isNumber }) ?? .max
        return error.kind == .numericalFailure && iterations <= 5_000
      }
      // With unconverged results allowed the whole budget is spent, as before.
      var loose = options
      loose.allowsUnconverged = true
      let spent = try Sinkhorn.transport(from: x, to: y, options: loose)
      #expect(!spent.converged)
      #expect(spent.iterations >= 10_000)
    }
  }

  // MARK: Large epsilon

  /// The mean and the covariance of weighted points (rows of `points`, dimension `d`).
  static func moments(_ points: [Double], _ weights: [Double], d: Int)
    -> (mean: [Double], covariance: [Double])
  {
    var mean = [Double](repeating: 0, count: d)
    for (j, w) in weights.enumerated() {
      for t in 0..<d { mean[t] += w * points[j * d + t] }
    }
    var covariance = [Double](repeating: 0, count: d * d)
    for (j, w) in weights.enumerated() {
      for s in 0..<d {
        for t in 0..<d {
          covariance[s * d + t] += w * (points[j * d + s] - mean[s]) * (points[j * d + t] - mean[t])
        }
      }
    }
    return (mean, covariance)
  }

  /// The limit of `S_ε` for large ε and its first correction: as ε grows, `OT_ε(a, b) =
  /// E_{a⊗b} C - ‖C̃‖²_{a⊗b}/(2ε) + O(ε⁻²)` with `C̃` the doubly centred cost (the coupling tends
  /// to `a ⊗ b`; Genevay et al. 2019, Feydy et al. 2019). For `C = ‖x - y‖²`, `C̃ = -2 ⟨x - m_a, y - m_b⟩`,
  /// so `S_ε = ‖m_a - m_b‖² + ‖Σ_a - Σ_b‖²_F / ε + O(ε⁻²)`. Independently of that expansion,
  /// `OT_ε` lies in `[E C - D⁴/(8ε), E C]` (Hoeffding's lemma), so `|S_ε - ‖m_a - m_b‖²| <= D⁴/(8ε)`.
  static func largeEpsilonReference(
    _ x: [Double], _ a: [Double], _ y: [Double], _ b: [Double], d: Int, epsilon: Double
  ) -> (limit: Double, expansion: Double) {
    let (ma, sa) = moments(x, a, d: d)
    let (mb, sb) = moments(y, b, d: d)
    let gap = zip(ma, mb).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let frobenius = zip(sa, sb).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    return (gap, gap + frobenius / epsilon)
  }

  /// Up to 1e6 times the squared diameter the divergences are accepted and right: from 1e3 D² on
  /// within 1e-9 D² of the two-term expansion above (round-off grows like ε · 1e-16), and
  /// everywhere within the rigorous D⁴/(8ε) of the limit. Just above 1e6 D² they are refused,
  /// naming epsilon. Every backend of both solvers.
  @Test(arguments: GridCases.runnable([GridKernelBackend.separableKernel, .fft, .logDomain]) { $0 })
  func largeEpsilonGridDivergenceApproachesTheMeanGap(backend: GridKernelBackend) throws {
    // An 8 x 8 grid with spacing (0.5, 2): D^2 = (3.5)^2 + 14^2.
    let spacing = [0.5, 2.0]
    let diameter2 = 3.5 * 3.5 + 14.0 * 14.0
    var aMasses = [Double](repeating: 0, count: 64)
    var bMasses = aMasses
    for (i, j, m) in [(2, 2, 0.5), (3, 2, 0.3), (3, 4, 0.2)] { aMasses[i * 8 + j] = m }
    for (i, j, m) in [(5, 5, 0.7), (5, 6, 0.2), (7, 1, 0.1)] { bMasses[i * 8 + j] = m }
    let a = try GridHistogram(shape: [8, 8], masses: aMasses, spacing: spacing)
    let b = try GridHistogram(shape: [8, 8], masses: bMasses, spacing: spacing)
    let centres = (0..<64).flatMap { [Double($0 / 8) * spacing[0], Double($0 % 8) * spacing[1]] }
    for ratio in [1e2, 1e3, 1e4, 1e6] {
      let epsilon = ratio * diameter2
      let s = try GridSinkhorn.divergence(
        a, b, options: GridSinkhornOptions(epsilon: epsilon, backend: backend))
      let reference = Self.largeEpsilonReference(centres, a.masses, centres, b.masses, d: 2, epsilon: epsilon)
      if ratio >= 1e3 {  // at 1e2 D² the expansion's O(ε⁻²) remainder is still 3.5e-6 (grid), 7e-8 (clouds)
        #expect(abs(s.value - reference.expansion) <= 1e-9 * diameter2, "\(backend) \(ratio): \(s.value)")
      }
      #expect(abs(s.value - reference.limit) <= diameter2 * diameter2 / (8 * epsilon) + 1e-9 * diameter2)
    }
    #expect {
      try GridSinkhorn.divergence(
        a, b, options: GridSinkhornOptions(epsilon: 1.01e6 * diameter2, backend: backend))
    } throws: { error in
      (error as? DAMError)?.argument == "epsilon" && (error as? DAMError)?.kind == .invalidArgument
    }
  }

  /// Grid barycenters follow the same rule: at 1e6 D² the plain barycenter is the uniform
  /// histogram (its limit) to within 1e-5 of each cell's mass (measured: 1.5e-7); just above, both the plain and the debiased one are refused
  /// naming epsilon (the debiased iterations had returned a uniform histogram there, whose mean
  /// is not the inputs' average, with exit 0).
  @Test func largeEpsilonGridBarycenterIsRefused() throws {
    var aMasses = [Double](repeating: 0, count: 64)
    var bMasses = aMasses
    for (i, j, m) in [(1, 1, 0.5), (2, 1, 0.5)] { aMasses[i * 8 + j] = m }
    for (i, j, m) in [(6, 5, 0.6), (6, 6, 0.4)] { bMasses[i * 8 + j] = m }
    let histograms = [
      try GridHistogram(shape: [8, 8], masses: aMasses), try GridHistogram(shape: [8, 8], masses: bMasses),
    ]
    let diameter2 = 2.0 * 7 * 7
    let plain = try GridSinkhorn.barycenter(
      of: histograms, options: GridSinkhornOptions(epsilon: 1e6 * diameter2))
    for m in plain.histogram.masses { #expect(abs(m - 1.0 / 64) <= 1e-5 / 64) }
    for debiased in [false, true] {
      #expect {
        try GridSinkhorn.barycenter(
          of: histograms, options: GridSinkhornOptions(epsilon: 1.01e6 * diameter2), debiased: debiased)
      } throws: { error in
        (error as? DAMError)?.argument == "epsilon" && (error as? DAMError)?.kind == .invalidArgument
      }
    }
  }

  /// As above for point clouds (D² the squared diameter of their bounding box).
  @Test(arguments: [SinkhornBackend.kernel, .logDomain])
  func largeEpsilonCloudDivergenceApproachesTheMeanGap(backend: SinkhornBackend) throws {
    let xPoints: [Double] = [0, 0, 1, 0.5, -0.5, 2, 0.3, -1]
    let yPoints: [Double] = [3, 1, 2.5, 2, 4, 0.5]
    let xWeights = [0.1, 0.4, 0.3, 0.2]
    let x = try Self.cloud(xPoints, d: 2, weights: xWeights)
    let y = try Self.cloud(yPoints, d: 2)
    let diameter2 = 4.5 * 4.5 + 3.0 * 3.0  // the box [-0.5, 4] x [-1, 2]
    for ratio in [1e2, 1e3, 1e4, 1e6] {
      let epsilon = ratio * diameter2
      let s = try Sinkhorn.divergence(x, y, options: SinkhornOptions(epsilon: epsilon, backend: backend))
      let reference = Self.largeEpsilonReference(
        xPoints, x.weights, yPoints, y.weights, d: 2, epsilon: epsilon)
      if ratio >= 1e3 {  // at 1e2 D² the expansion's O(ε⁻²) remainder is still 3.5e-6 (grid), 7e-8 (clouds)
        #expect(abs(s.value - reference.expansion) <= 1e-9 * diameter2, "\(backend) \(ratio): \(s.value)")
      }
      #expect(abs(s.value - reference.limit) <= diameter2 * diameter2 / (8 * epsilon) + 1e-9 * diameter2)
    }
    #expect {
      try Sinkhorn.divergence(x, y, options: SinkhornOptions(epsilon: 1.01e6 * diameter2, backend: backend))
    } throws: { error in
      (error as? DAMError)?.argument == "epsilon" && (error as? DAMError)?.kind == .invalidArgument
    }
  }

  // MARK: Hopeless barycenters fail fast

  /// A barycenter far below 1e-4 of the squared diameter cannot reach its tolerance: its
  /// iterations stop once the error's pace shows that (within half the budget), naming epsilon,
  /// as Sinkhorn's do, instead of running the whole budget first (both before the fix).
  @Test(arguments: [false, true])
  func hopelessBarycenterFailsFast(debiased: Bool) throws {
    let (a, b) = (try Self.blob(4, 4), try Self.blob(11, 10))
    let options = try GridSinkhornOptions(
      epsilon: 1e-5 * 2 * 15.0 * 15.0, maxIterations: 2_000, backend: .logDomain)
    #expect {
      try GridSinkhorn.barycenter(of: [a, b], options: options, debiased: debiased)
    } throws: { error in
      guard let error = error as? DAMError, error.argument == "epsilon",
        let range = error.message.range(of: "stopped after ")
      else { return false }
      let iterations = Int(error.message[range.upperBound...].prefix { $0.isNumber }) ?? .max
      return error.kind == .numericalFailure && iterations <= 1_000
    }
    var loose = options
    loose.allowsUnconverged = true
    let spent = try GridSinkhorn.barycenter(of: [a, b], options: loose, debiased: debiased)
    #expect(!spent.converged)
    #expect(spent.iterations >= 2_000)
  }
}
