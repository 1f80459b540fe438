import DAM
import DAMTestSupport
import Foundation
import Testing

/// The gradients of the vector divergences and of the energy, against central finite differences.
struct VectorGradientTests {
  /// The central difference of `f` at 0 with step `h`.
  static func slope(_ h: Double = 1e-6, _ f: (Double) throws -> Double) rethrows -> Double {
    (try f(h) - f(-h)) / (2 * h)
  }

  static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

  static func moved(_ x: [Double], _ t: Double, _ v: [Double]) -> [Double] { zip(x, v).map { $0 + t * $1 } }

  /// `|a - b| ≤ 1e-6 (|a| + |b|) + floor`: relative, with a floor for values that are zero.
  static func close(_ a: Double, _ b: Double, floor: Double = 1e-9) -> Bool {
    abs(a - b) <= 1e-6 * (abs(a) + abs(b)) + floor
  }

  @Test(arguments: ["squaredEuclidean", "dotProduct"])
  func divergenceGradientsMatchDifferences(_ name: String) throws {
    var generator = SeededGenerator(seed: 41)
    let x = generator.gaussians(5)
    let y = generator.gaussians(5)
    let (u, v) = (generator.gaussians(5), generator.gaussians(5))
    func check<D: Divergence>(_ divergence: D) throws
    where
      D.State == [Double], D.Pattern == [Double], D.StateGradient == [Double], D.PatternGradient == [Double]
    {
      let gradient = try divergence.valueAndGradient(x, y)
      let value = { (a: [Double], b: [Double]) in try divergence.valueAndGradient(a, b).value }
      #expect(try Self.close(gradient.value, value(x, y)))
      let stateSlope = try Self.slope { t in try value(Self.moved(x, t, u), y) }
      let patternSlope = try Self.slope { t in try value(x, Self.moved(y, t, v)) }
      #expect(Self.close(Self.dot(gradient.state, u), stateSlope), "\(name) state")
      #expect(Self.close(Self.dot(gradient.pattern, v), patternSlope), "\(name) pattern")
      #expect(gradient.epsilon == nil)
    }
    if name == "dotProduct" {
      try check(DotProductDivergence())
    } else {
      try check(SquaredEuclideanDivergence())
    }
  }

  /// The conformance check passes the vector divergences and the documentation's scaled distance
  /// idea, and catches a gradient off by a factor in either argument.
  @Test func conformanceChecksGradients() throws {
    var generator = SeededGenerator(seed: 43)
    let (x, y) = (generator.gaussians(4), generator.gaussians(4))
    let (u, v) = (generator.gaussians(4), generator.gaussians(4))
    #expect(
      DivergenceConformance.checkVectorGradient(
        SquaredEuclideanDivergence(), state: x, pattern: y, stateDirection: u, patternDirection: v
      ).isEmpty)
    #expect(
      DivergenceConformance.checkVectorGradient(
        DotProductDivergence(), state: x, pattern: y, stateDirection: u, patternDirection: v
      ).isEmpty)
    struct HalvedPatternGradient: Divergence {
      func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void, previous: Double?)
        -> Double
      {
        zip(state, pattern).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      }
      func zeroVariation(at state: [Double]) -> EuclideanVariation {
        EuclideanVariation(dimension: state.count)
      }
      func accumulate(
        _ weight: Double, of evaluation: Double, at state: [Double], query: Void, pattern: [Double],
        cache: Void,
        into variation: inout EuclideanVariation
      ) {
        variation.addTarget(pattern, weight: weight, curvature: 2)
      }
      func gradient(_ evaluation: Double, at state: [Double], query: Void, pattern: [Double], cache: Void)
        -> DivergenceGradient<[Double], [Double]>
      {
        let g = zip(state, pattern).map { 2 * ($0 - $1) }
        return DivergenceGradient(value: evaluation, state: g, pattern: g.map { -0.5 * $0 })
      }
    }
    let failures = DivergenceConformance.checkVectorGradient(
      HalvedPatternGradient(), state: x, pattern: y, stateDirection: u, patternDirection: v)
    #expect(failures.map(\.property) == ["pattern gradient"])
  }

  /// A divergence that implements no gradient says so, naming `divergence`, in the library and
  /// through the engine.
  @Test func divergenceWithoutGradientsIsAClearError() throws {
    struct Manhattan: Divergence {
      func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void, previous: Double?)
        -> Double
      {
        zip(state, pattern).reduce(0) { $0 + abs($1.0 - $1.1) }
      }
      func zeroVariation(at state: [Double]) -> EuclideanVariation {
        EuclideanVariation(dimension: state.count)
      }
      func accumulate(
        _ weight: Double, of evaluation: Double, at state: [Double], query: Void, pattern: [Double],
        cache: Void,
        into variation: inout EuclideanVariation
      ) {
        variation.addTarget(pattern, weight: weight, curvature: 1)
      }
    }
    #expect {
      try Manhattan().valueAndGradient([0, 1], [1, 1])
    } throws: { error in
      let error = error as? DAMError
      return error?.argument == "divergence" && error?.message.contains("not differentiable") == true
    }
    let engine = try RetrievalEngine(
      memory: Memory(divergence: Manhattan(), patterns: [[0, 1], [1, 0]]), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 1)
    #expect(throws: DAMError.self) { try engine.energyGradient(at: [0.5, 0.5]) }
  }

  /// Every separation map: `∇_ξ E`, `∇_{Xᵢ} E` (for every pattern, zero off the support) and
  /// `∂E/∂β` against central differences of the engine's own energy.
  @Test(arguments: ["softmax"] + SparseMapCase.allCases.map(\.rawValue))
  func energyGradientMatchesDifferences(_ mapName: String) throws {
    let map: any SeparationMap = SparseMapCase(rawValue: mapName)?.map ?? Softmax()
    let scale = SparseMapCase(rawValue: mapName)?.genericScale ?? 1
    var generator = SeededGenerator(seed: 7)
    let patterns = (0..<6).map { _ in generator.gaussians(4) }
    let query = generator.gaussians(4)
    let beta = 0.7 * scale
    for divergence in ["squaredEuclidean", "dotProduct"] {
      func energy(_ patterns: [[Double]], _ state: [Double], beta: Double = beta) throws -> Double {
        try Self.engine(divergence, map, patterns, beta: beta).energy(at: state)
      }
      let gradient = try Self.engine(divergence, map, patterns, beta: beta).energyGradient(at: query)
      #expect(Self.close(gradient.energy, try energy(patterns, query)))
      let label = "\(mapName) \(divergence)"
      let u = generator.gaussians(4)
      let stateSlope = try Self.slope { t in try energy(patterns, Self.moved(query, t, u)) }
      #expect(Self.close(Self.dot(gradient.state, u), stateSlope), "\(label) state")
      for i in patterns.indices {
        let v = generator.gaussians(4)
        let patternSlope = try Self.slope { t in
          var moved = patterns
          moved[i] = Self.moved(patterns[i], t, v)
          return try energy(moved, query)
        }
        let analytic = gradient.support.firstIndex(of: i).map { Self.dot(gradient.patterns[$0], v) } ?? 0
        #expect(Self.close(analytic, patternSlope), "\(label) pattern \(i)")
      }
      let betaSlope = try Self.slope(1e-6 * beta) { t in try energy(patterns, query, beta: beta + t) }
      #expect(Self.close(gradient.beta, betaSlope), "\(label) beta")
      #expect(gradient.epsilon == nil)
    }
  }

  /// Exact pruning skips only patterns of weight zero: the gradient is the unpruned one.
  @Test func exactPruningKeepsTheGradient() throws {
    let patterns = TestData.unitVectors(count: 200, dimension: 8, seed: 3)
    var generator = SeededGenerator(seed: 4)
    let query = zip(patterns[5], generator.gaussians(8)).map { $0 + 0.1 * $1 }
    let memory = try Memory(divergence: .squaredEuclidean, patterns: patterns)
    let plain = try RetrievalEngine(
      memory: memory, separation: Sparsemax(), geometry: EuclideanGeometry(), beta: 4)
    let pruned = try RetrievalEngine(
      memory: memory, separation: Sparsemax(), geometry: EuclideanGeometry(), beta: 4, pruning: .exact)
    let a = try plain.energyGradient(at: query)
    let b = try pruned.energyGradient(at: query)
    #expect(a.support == b.support)
    #expect(a.support.count < 200)
    #expect(TestData.maxDifference(a.state, b.state) < 1e-12)
    for (x, y) in zip(a.patterns, b.patterns) { #expect(TestData.maxDifference(x, y) < 1e-12) }
    #expect(abs(a.beta - b.beta) < 1e-12)
  }

  static func engine(_ divergence: String, _ map: any SeparationMap, _ patterns: [[Double]], beta: Double)
    throws
    -> AnyVectorEngine
  {
    divergence == "dotProduct"
      ? .dot(
        try RetrievalEngine(
          memory: Memory(divergence: .dotProduct, patterns: patterns), separation: AnySeparationMap(map),
          geometry: EuclideanGeometry(), beta: beta))
      : .squared(
        try RetrievalEngine(
          memory: Memory(divergence: .squaredEuclidean, patterns: patterns),
          separation: AnySeparationMap(map),
          geometry: EuclideanGeometry(), beta: beta))
  }

  /// One of the two vector engines, for tests that run both.
  enum AnyVectorEngine {
    case dot(RetrievalEngine<DotProductDivergence, AnySeparationMap, EuclideanGeometry>)
    case squared(RetrievalEngine<SquaredEuclideanDivergence, AnySeparationMap, EuclideanGeometry>)

    func energy(at state: [Double]) throws -> Double {
      switch self {
      case .dot(let engine): try engine.energy(at: state)
      case .squared(let engine): try engine.energy(at: state)
      }
    }

    func energyGradient(at state: [Double]) throws
      -> (
        energy: Double, state: [Double], support: [Int], patterns: [[Double]], beta: Double, epsilon: Double?
      )
    {
      switch self {
      case .dot(let engine):
        let g = try engine.energyGradient(at: state)
        return (g.energy, g.state, g.support, g.patterns, g.beta, g.epsilon)
      case .squared(let engine):
        let g = try engine.energyGradient(at: state)
        return (g.energy, g.state, g.support, g.patterns, g.beta, g.epsilon)
      }
    }
  }
}
