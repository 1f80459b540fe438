import DAM
import DAMTestSupport
import Foundation
import Testing

/// Issue 19, classes 2 and 5 in the library: numbers that overflow (costs, results, reciprocals)
/// or lose every digit (ε far below the problem's scale) throw a `DAMError` naming the argument,
/// quickly (no annealing schedule of infinities, no "converged" flag on a wrong value); and a
/// positive semi-definite covariance is accepted, with the W₂² of POT and of a 60-digit reference.
struct NumericalRangeTests {
  struct Refusal: Sendable, CustomTestStringConvertible {
    var name: String
    var kind: DAMError.Kind
    var argument: String
    var message: String
    var body: @Sendable () throws -> Void
    var testDescription: String { name }
  }

  static func cloud(_ points: [Double]) throws -> PointCloud {
    try PointCloud(points: Matrix(rows: points.count, columns: 1, elements: points))
  }

  static func grid(_ spacing: [Double]) throws -> (GridHistogram, GridHistogram) {
    let h = (0..<16).map { Double($0 % 5 + 1) / 46 }
    return (
      try GridHistogram(shape: [4, 4], masses: h, spacing: spacing),
      try GridHistogram(shape: [4, 4], masses: h.reversed(), spacing: spacing)
    )
  }

  static let refusals: [Refusal] = [
    // Vectors.
    Refusal(name: "vectors: subnormal beta", kind: .invalidArgument, argument: "beta", message: "1/beta") {
      _ = try RetrievalEngine(
        memory: Memory(divergence: .squaredEuclidean, patterns: [[1, 0], [0, 1]]), separation: .softmax,
        geometry: EuclideanGeometry(), beta: Double.leastNonzeroMagnitude)
    },
    Refusal(
      name: "vectors: k-subsets conjugate overflows", kind: .numericalFailure, argument: "scores",
      message: "overflows"
    ) {
      _ = try KSubsets(k: 2).separate([1e308, -1e308, 1e308, 0])
    },
    // Point clouds.
    Refusal(
      name: "clouds: a cost overflows (atoms 1e200 apart)", kind: .numericalFailure, argument: "y",
      message: "overflows"
    ) {
      _ = try Sinkhorn.divergence(cloud([0, 1]), cloud([0, 1e200]), options: SinkhornOptions(epsilon: 1))
    },
    Refusal(
      name: "clouds: each fine, the two too far apart", kind: .numericalFailure, argument: "y",
      message: "between x and y overflow"
    ) {
      _ = try Sinkhorn.transport(
        from: cloud([-1e154, -1e154]), to: cloud([1e154, 1e154]), options: SinkhornOptions(epsilon: 1))
    },
    Refusal(
      name: "clouds: epsilon below 1e-14 D^2", kind: .invalidArgument, argument: "epsilon",
      message: "less than 1e-14"
    ) {
      _ = try Sinkhorn.divergence(
        cloud([0, 1e8]), cloud([0.5, 1e8]), options: SinkhornOptions(epsilon: 1e-3))
    },
    // Gaussians.
    Refusal(
      name: "Gaussians: W2^2 overflows (means 1e200 apart)", kind: .numericalFailure, argument: "b",
      message: "overflows"
    ) {
      _ = try BuresWasserstein.distanceSquared(
        Gaussian(mean: [0, 0], variances: [1, 1]), Gaussian(mean: [1e200, 0], variances: [1, 1]))
    },
    Refusal(
      name: "Gaussians: an indefinite covariance is still refused", kind: .notPositiveDefinite,
      argument: "covariance", message: "positive definite or semi-definite"
    ) {
      _ = try Gaussian(mean: [0, 0], covariance: Matrix(rowArrays: [[1, 2], [2, 1]]))
    },
    // Grids.
    Refusal(
      name: "grids: spacing 1e200 overflows the largest cost", kind: .numericalFailure, argument: "spacing",
      message: "overflow"
    ) {
      _ = try grid([1e200, 1])
    },
    Refusal(
      name: "grids: epsilon 1 at spacing 1e10", kind: .invalidArgument, argument: "epsilon",
      message: "less than 1e-14"
    ) {
      let (a, b) = try grid([1e10, 1e10])
      _ = try GridSinkhorn.divergence(a, b, options: GridSinkhornOptions(epsilon: 1))
    },
    Refusal(
      name: "grids: a barycenter at epsilon below 1e-14 D^2", kind: .invalidArgument, argument: "epsilon",
      message: "less than 1e-14"
    ) {
      let (a, b) = try grid([1, 1])
      _ = try GridSinkhorn.barycenter(of: [a, b], weights: nil, options: GridSinkhornOptions(epsilon: 1e-18))
    },
  ]

  @Test(arguments: refusals)
  func refused(_ refusal: Refusal) throws {
    let start = Date()
    let error = #expect(throws: DAMError.self) { try refusal.body() }
    #expect(error?.kind == refusal.kind, "\(refusal.name): \(String(describing: error))")
    #expect(error?.argument == refusal.argument, "\(refusal.name): \(String(describing: error))")
    #expect(error?.message.contains(refusal.message) == true, "\(refusal.name): \(String(describing: error))")
    // Refused before any iteration (the overflow used to anneal forever).
    #expect(Date().timeIntervalSince(start) < 5, "\(refusal.name)")
    if ProcessInfo.processInfo.environment["DAM_PRINT_TABLE"] != nil, let error {
      print("TABLE| \(refusal.name) | `\(error.kind)` | `\(error.description)` |")
    }
  }

  /// The boundary of the small-ε rule on a 4 x 4 grid: `0.99e-14 D²` is refused, `1.01e-14 D²`
  /// passes the rule (the solve may still stop on the stagnation check, naming `epsilon` for
  /// another reason; if it converges, its cross term is not below exact OT).
  @Test func smallEpsilonBoundary() throws {
    let (a, b) = try Self.grid([1, 1])
    let d2 = 18.0  // (3² + 3²) for a 4 x 4 grid of spacing 1
    let below = #expect(throws: DAMError.self) {
      _ = try GridSinkhorn.divergence(a, b, options: GridSinkhornOptions(epsilon: 0.99e-14 * d2))
    }
    #expect(below?.message.contains("less than 1e-14") == true)
    let justAbove = try GridSinkhornOptions(epsilon: 1.01e-14 * d2)
    do throws(DAMError) {
      // If it converges, the cross term is at least exact OT, 12/23 (POT's emd2 on these
      // histograms), as every OT_ε is; the marginal error bounds how far the dual value may lag.
      let value = try GridSinkhorn.divergence(a, b, options: justAbove)
      #expect(value.crossTerm.value >= 12.0 / 23 - 1e-6, "\(value.crossTerm.value)")
    } catch {
      #expect(!error.message.contains("less than 1e-14"), "\(error)")
    }
  }

  /// A step that moves a cloud's state so far that ε falls below the small-ε bound of the new
  /// scale is the step's fault: the error names `step`, not `epsilon` (Docs/reliability.md).
  @Test func hugeStepIsBlamedOnTheStep() throws {
    let memory = try Memory(
      divergence: SinkhornDivergence(epsilon: 0.1), patterns: [Self.cloud([0, 1]), Self.cloud([5, 6])])
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: try SHKGeometry(step: 1e10, hellingerScale: 0), beta: 1)
    let error = #expect(throws: DAMError.self) { _ = try engine.retrieve(try Self.cloud([0.1, 0.9])) }
    #expect(error?.argument == "step", "\(String(describing: error))")
    #expect(error?.message.contains("diverged at step 1") == true, "\(String(describing: error))")
  }

  struct Fixture: Decodable {
    struct Case: Decodable {
      var name: String
      var dimension: Int
      var mean1: [Double]
      var covariance1: [[Double]]
      var mean2: [Double]
      var covariance2: [[Double]]
      var w2Squared: Double
      var potW2Squared: Double?
    }
    var cases: [Case]
  }

  /// 8 cases of `scripts/fixtures/make_gaussian_psd_fixtures.py`: singular covariances
  /// `S = B Bᵀ` (B of small integers, exact in float64), a zero covariance and the example,
  /// against a 60-digit reference (POT's value where its square root does not return NaN).
  ///
  /// Tolerance `4 d √(d u tr S₁ tr S₂)` (u the unit round-off): the exact zero eigenvalues of a
  /// singular matrix come out of a backward-stable eigensolver as about `±d u λmax`, with
  /// `λmax ≤ tr S₁ tr S₂` for `S₁^½ S₂ S₁^½`, and their square roots, up to `√(d u λmax)` each (the
  /// square root is not Lipschitz at 0), enter the trace term twice for each of d eigenvalues,
  /// once in `S₁^½` and once in the middle matrix. Measured: at most 2.6e-8 relative.
  @Test func semidefiniteCovariancesMatchTheReference() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gaussian/psd_cases.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let fixture = try decoder.decode(Fixture.self, from: Data(contentsOf: url))
    #expect(fixture.cases.count == 8)
    for item in fixture.cases {
      let a = try Gaussian(mean: item.mean1, covariance: Matrix(rowArrays: item.covariance1))
      let b = try Gaussian(mean: item.mean2, covariance: Matrix(rowArrays: item.covariance2))
      let value = try BuresWasserstein.distanceSquared(a, b)
      let d = Double(item.dimension)
      let traces = a.covarianceMatrix.trace * b.covarianceMatrix.trace
      let tolerance = 4 * d * (d * Double.ulpOfOne / 2 * traces).squareRoot() + 1e-14 * max(item.w2Squared, 1)
      #expect(abs(value - item.w2Squared) <= tolerance, "\(item.name): \(value) vs \(item.w2Squared)")
      if let pot = item.potW2Squared {
        #expect(abs(value - pot) <= tolerance, "\(item.name): \(value) vs POT \(pot)")
      }
      // Symmetric in its arguments.
      let swapped = try BuresWasserstein.distanceSquared(b, a)
      #expect(abs(swapped - item.w2Squared) <= tolerance, "\(item.name): swapped \(swapped)")
      if ProcessInfo.processInfo.environment["DAM_PRINT_TABLE"] != nil {
        print(
          "PSD| \(item.name) | \(abs(value - item.w2Squared) / item.w2Squared) | \(tolerance / item.w2Squared)"
        )
      }
    }
  }
}
