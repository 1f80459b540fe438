import DAM
import DAMTestSupport
import Foundation
import Testing

/// The gradients of `W₂²` in both Gaussians (``BuresWassersteinDivergence/gradient(_:at:query:pattern:cache:)``)
/// and the energy's gradient through them.
///
/// Tolerances: central finite differences with step `h = 1e-5` (relative to the entries' scale)
/// have truncation error `h² |D'''| / 6` and round-off `ulp |D| / h`, both below `1e-9` of the
/// gradient at the well-conditioned points used (covariance eigenvalues in [0.2, 2]); they are held
/// to `1e-6` relative, the issue's bound. Closed forms and the autograd fixture, which need no
/// differencing, are held to `1e-10` and `1e-8` (a few eigendecompositions of matrices with
/// condition number at most 100, each accurate to `κ · ulp`).
struct BuresWassersteinGradientTests {
  static let divergence = BuresWassersteinDivergence()

  /// Covariance eigenvalues log-uniform in [0.2, 2], a random basis; or a random diagonal.
  static func covariance(_ d: Int, seed: UInt64, diagonal: Bool) -> Gaussian.Covariance {
    var g = SeededGenerator(seed: seed)
    let eigenvalues = (0..<d).map { _ in 0.2 * exp(Double.random(in: 0...log(10), using: &g)) }
    return diagonal
      ? .diagonal(eigenvalues) : .full(TestData.spd(eigenvalues: eigenvalues, seed: seed + 1).matrix)
  }

  static func gaussian(_ mean: [Double], _ covariance: Gaussian.Covariance) -> Gaussian {
    switch covariance {
    case .full(let matrix): try! Gaussian(mean: mean, covariance: matrix)
    case .diagonal(let variances): try! Gaussian(mean: mean, variances: variances)
    }
  }

  static func randomGaussian(_ d: Int, seed: UInt64, diagonal: Bool) -> Gaussian {
    var g = SeededGenerator(seed: seed + 7)
    return gaussian(g.gaussians(d), covariance(d, seed: seed, diagonal: diagonal))
  }

  /// The same Gaussian with its covariance moved by `t × H` (promoted to full unless `H` is
  /// diagonal and the covariance is too), and its mean by `t × v`.
  static func moved(_ x: Gaussian, covariance h: Matrix? = nil, mean v: [Double]? = nil, by t: Double)
    -> Gaussian
  {
    let mean = v.map { zip(x.mean, $0).map { $0 + t * $1 } } ?? x.mean
    guard let h else { return gaussian(mean, x.covariance) }
    let d = x.dimension
    if case .diagonal(let w) = x.covariance,
      h.elements.enumerated().allSatisfy({ $0.offset % (d + 1) == 0 || $0.element == 0 })
    {
      return gaussian(mean, .diagonal((0..<d).map { w[$0] + t * h[$0, $0] }))
    }
    let elements = zip(x.covarianceMatrix.elements, h.elements).map { $0 + t * $1 }
    return gaussian(mean, .full(try! Matrix(rows: d, columns: d, elements: elements)))
  }

  /// The symmetric direction `E_ij + E_ji`, or `E_ii` on the diagonal.
  static func basis(_ d: Int, _ i: Int, _ j: Int) -> Matrix {
    var elements = [Double](repeating: 0, count: d * d)
    elements[i * d + j] = 1
    elements[j * d + i] = 1
    return try! Matrix(rows: d, columns: d, elements: elements)
  }

  /// `∂D/∂Σ` on symmetric matrices by central differences of `f`, entry by entry: the derivative
  /// along `E_ii` is `G_ii`, along `E_ij + E_ji` it is `2 G_ij`.
  static func differencedCovariance(_ x: Gaussian, step: Double, _ f: (Gaussian) throws -> Double) rethrows
    -> Matrix
  {
    let d = x.dimension
    var g = Matrix(rows: d, columns: d)
    for i in 0..<d {
      for j in i..<d {
        let h = basis(d, i, j)
        let slope =
          (try f(moved(x, covariance: h, by: step)) - f(moved(x, covariance: h, by: -step))) / (2 * step)
        g[i, j] = i == j ? slope : slope / 2
        g[j, i] = g[i, j]
      }
    }
    return g
  }

  static func differencedMean(_ x: Gaussian, step: Double, _ f: (Gaussian) throws -> Double) rethrows
    -> [Double]
  {
    try (0..<x.dimension).map { k in
      var v = [Double](repeating: 0, count: x.dimension)
      v[k] = 1
      return (try f(moved(x, mean: v, by: step)) - f(moved(x, mean: v, by: -step))) / (2 * step)
    }
  }

  static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    TestData.maxDifference(a, b) / max(b.map(abs).max() ?? 0, 1e-300)
  }

  // MARK: Finite differences

  /// Every entry of both gradients against central differences of `W₂²`
  /// (``BuresWasserstein/distanceSquared(_:_:)``, an independent code path), in dimensions 1, 2, 5
  /// and 10, with full, diagonal and mixed covariances.
  @Test(arguments: [1, 2, 5, 10])
  func matchesFiniteDifferences(dimension d: Int) throws {
    var worst = 0.0
    for (stateDiagonal, patternDiagonal) in [(false, false), (true, true), (true, false), (false, true)] {
      let state = Self.randomGaussian(d, seed: UInt64(100 + d), diagonal: stateDiagonal)
      let pattern = Self.randomGaussian(d, seed: UInt64(200 + d), diagonal: patternDiagonal)
      let gradient = try Self.divergence.valueAndGradient(state, pattern)
      let label = "d \(d), diagonal \(stateDiagonal)/\(patternDiagonal)"
      #expect(
        abs(gradient.value - (try BuresWasserstein.distanceSquared(state, pattern))) < 1e-12, "\(label)")
      let step = 1e-5
      let stateCovariance = try Self.differencedCovariance(state, step: step) {
        try BuresWasserstein.distanceSquared($0, pattern)
      }
      let patternCovariance = try Self.differencedCovariance(pattern, step: step) {
        try BuresWasserstein.distanceSquared(state, $0)
      }
      let stateMean = try Self.differencedMean(state, step: step) {
        try BuresWasserstein.distanceSquared($0, pattern)
      }
      let patternMean = try Self.differencedMean(pattern, step: step) {
        try BuresWasserstein.distanceSquared(state, $0)
      }
      let errors = [
        Self.relativeError(gradient.state.covariance.elements, stateCovariance.elements),
        Self.relativeError(gradient.pattern.covariance.elements, patternCovariance.elements),
        Self.relativeError(gradient.state.mean, stateMean),
        Self.relativeError(gradient.pattern.mean, patternMean),
      ]
      #expect(errors.allSatisfy { $0 < 1e-6 }, "\(label): relative errors \(errors)")
      #expect(gradient.epsilon == nil)
      worst = max(worst, errors.max()!)
    }
    print("BuresWassersteinGradientTests.matchesFiniteDifferences: d = \(d), worst relative error \(worst)")
  }

  /// Along a random symmetric direction `H`, `d/dt D(W + tH) = tr(∇_W H)`: the directional form
  /// of the contract on ``GaussianGradient/covariance``, on both sides at once.
  @Test func directionalDerivativeAlongARandomSymmetricDirection() throws {
    let d = 6
    let state = Self.randomGaussian(d, seed: 31, diagonal: false)
    let pattern = Self.randomGaussian(d, seed: 32, diagonal: false)
    var g = SeededGenerator(seed: 33)
    func symmetric() throws -> Matrix {
      let raw = try Matrix(rows: d, columns: d, elements: g.gaussians(d * d))
      return try Matrix(
        rows: d, columns: d, elements: zip(raw.elements, raw.transposed().elements).map { 0.5 * ($0 + $1) })
    }
    let h = try symmetric()
    let kSymmetric = try symmetric()
    let gradient = try Self.divergence.valueAndGradient(state, pattern)
    let step = 1e-5
    func along(_ t: Double) throws -> Double {
      try BuresWasserstein.distanceSquared(
        Self.moved(state, covariance: h, by: t), Self.moved(pattern, covariance: kSymmetric, by: t))
    }
    let differenced = (try along(step) - along(-step)) / (2 * step)
    let predicted =
      zip(gradient.state.covariance.elements, h.elements).reduce(0) { $0 + $1.0 * $1.1 }
      + zip(gradient.pattern.covariance.elements, kSymmetric.elements).reduce(0) { $0 + $1.0 * $1.1 }
    #expect(abs(differenced - predicted) < 1e-6 * abs(predicted), "\(differenced) vs \(predicted)")
  }

  // MARK: Closed forms

  /// Commuting covariances `W = U diag(a) Uᵀ`, `S = U diag(b) Uᵀ`: `∇_W = I - W^(-½) S^½ =
  /// U diag(1 - √(b/a)) Uᵀ` and `∇_S = U diag(1 - √(a/b)) Uᵀ`; means `±2 (m - μ)`.
  @Test func commutingCovariances() throws {
    let a = [0.3, 1, 2.5, 4, 9]
    let b = [1.2, 0.5, 2.5, 16, 0.1]
    let u = TestData.spd(eigenvalues: a, seed: 5)
    let v = TestData.spd(eigenvalues: b, seed: 5)
    let m1 = [1.0, 2, 3, 4, 5]
    let m2 = [0.5, 2, -1, 4, 6]
    let state = try Gaussian(mean: m1, covariance: u.matrix)
    let pattern = try Gaussian(mean: m2, covariance: v.matrix)
    let gradient = try Self.divergence.valueAndGradient(state, pattern)
    func conjugated(_ values: [Double]) throws -> Matrix {
      try u.basis.multiplied(by: Matrix(diagonal: values)).multiplied(by: u.basis.transposed())
    }
    let expectedState = try conjugated(zip(a, b).map { 1 - ($1 / $0).squareRoot() })
    let expectedPattern = try conjugated(zip(a, b).map { 1 - ($0 / $1).squareRoot() })
    #expect(Self.relativeError(gradient.state.covariance.elements, expectedState.elements) < 1e-10)
    #expect(Self.relativeError(gradient.pattern.covariance.elements, expectedPattern.elements) < 1e-10)
    let meanGradient = zip(m1, m2).map { 2 * ($0 - $1) }
    #expect(gradient.state.mean == meanGradient)
    #expect(gradient.pattern.mean == meanGradient.map { -$0 })
    // The diagonal forms of the same Gaussians in the eigenbasis: diagonal gradients, exactly.
    let diagonal = try Self.divergence.valueAndGradient(
      Gaussian(mean: m1, variances: a), Gaussian(mean: m2, variances: b))
    #expect(
      diagonal.state.covariance == Matrix(diagonal: zip(a, b).map { 1 - $1.squareRoot() / $0.squareRoot() }))
    #expect(
      diagonal.pattern.covariance == Matrix(diagonal: zip(a, b).map { 1 - $0.squareRoot() / $1.squareRoot() })
    )
  }

  /// `W₂²` is minimal (zero) at equal Gaussians: both gradients vanish.
  @Test func equalGaussiansHaveZeroGradient() throws {
    for diagonal in [false, true] {
      let x = Self.randomGaussian(7, seed: 41, diagonal: diagonal)
      let gradient = try Self.divergence.valueAndGradient(x, x)
      #expect(gradient.state.mean.allSatisfy { $0 == 0 })
      #expect(gradient.pattern.mean.allSatisfy { $0 == 0 })
      #expect(gradient.state.covariance.maxAbs < 1e-12)
      #expect(gradient.pattern.covariance.maxAbs < 1e-12)
    }
  }

  /// The covariance gradients are exactly symmetric, and `I - ∇_W` and `I - ∇_S` are the optimal
  /// maps there and back (``BuresWasserstein/map(from:to:)``), inverse to each other.
  @Test func covarianceGradientsAreSymmetricMapsThereAndBack() throws {
    for d in [2, 5, 10] {
      let state = Self.randomGaussian(d, seed: UInt64(50 + d), diagonal: false)
      let pattern = Self.randomGaussian(d, seed: UInt64(60 + d), diagonal: d == 5)
      let gradient = try Self.divergence.valueAndGradient(state, pattern)
      #expect(gradient.state.covariance.asymmetry == 0)
      #expect(gradient.pattern.covariance.asymmetry == 0)
      let identity = Matrix.identity(d)
      let there = identity.elements.enumerated().map {
        $0.element - gradient.state.covariance.elements[$0.offset]
      }
      let back = identity.elements.enumerated().map {
        $0.element - gradient.pattern.covariance.elements[$0.offset]
      }
      #expect(
        Self.relativeError(there, try BuresWasserstein.map(from: state, to: pattern).linear.elements) < 1e-12)
      #expect(
        Self.relativeError(back, try BuresWasserstein.map(from: pattern, to: state).linear.elements) < 1e-10)
      let product = try Matrix(rows: d, columns: d, elements: there).multiplied(
        by: Matrix(rows: d, columns: d, elements: back))
      #expect(TestData.maxDifference(product.elements, identity.elements) < 1e-10)
    }
  }

  // MARK: Singular covariances

  /// A singular covariance (accepted for a pattern) has no gradient: a `notPositiveDefinite` error
  /// naming the side, not an infinite or floored value.
  @Test func singularCovariancesAreRefused() throws {
    let d = 3
    let state = Self.randomGaussian(d, seed: 70, diagonal: false)
    let rankTwo = try Matrix(rowArrays: [[1, 1, 0], [1, 1, 0], [0, 0, 2]])
    let singular = try Gaussian(mean: [0, 1, 2], covariance: rankTwo)
    #expect(try BuresWasserstein.distanceSquared(state, singular).isFinite)
    do {
      _ = try Self.divergence.valueAndGradient(state, singular)
      Issue.record("a singular pattern gave a gradient")
    } catch let error as DAMError {
      #expect(error.kind == .notPositiveDefinite)
      #expect(error.argument == "pattern")
      #expect(error.message.contains("singular"))
      #expect(error.message.contains("not differentiable"))
    }
    // A state singular to double precision whose Cholesky factorisation still succeeds (an
    // eigenvalue 1e-17 of 1, below the floor 2 ulp): refused by the gradient, naming `state`.
    let nearlySingular = try Gaussian(mean: [0, 0], covariance: Matrix(diagonal: [1, 1e-17]))
    let other = Self.randomGaussian(2, seed: 71, diagonal: false)
    do {
      _ = try Self.divergence.valueAndGradient(nearlySingular, other)
      Issue.record("a singular state gave a gradient")
    } catch let error as DAMError {
      #expect(error.kind == .notPositiveDefinite)
      #expect(error.argument == "state")
      #expect(error.message.contains("not differentiable"))
    }
    // An exactly singular state is refused before, by the query's factorisation.
    #expect {
      try Self.divergence.valueAndGradient(singular, state)
    } throws: { ($0 as? DAMError)?.kind == .notPositiveDefinite }
    // Two covariances each invertible (condition 1e9) but singular together: S^½ W S^½ has
    // condition 1e18.
    let a = try Gaussian(mean: [0, 0], covariance: Matrix(diagonal: [1, 1e-9]))
    do {
      _ = try Self.divergence.valueAndGradient(a, a)
      Issue.record("an ill-conditioned pair gave a gradient")
    } catch let error as DAMError {
      #expect(error.kind == .notPositiveDefinite)
      #expect(error.argument == "state")
      #expect(error.message.contains("together"))
    }
    // Through the engine, a singular stored pattern of nonzero weight is named by its index.
    let engine = try RetrievalEngine(
      memory: Memory(divergence: Self.divergence, patterns: [state, singular]), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: 1)
    let error = try #require(throws: DAMError.self) { _ = try engine.energyGradient(at: state) }
    #expect(error.argument == "patterns[1]")
    #expect(error.kind == .notPositiveDefinite)
    // Diagonal pairs have exact gradients for any positive variances: no floor applies.
    let tiny = try Gaussian(mean: [0, 0], variances: [1, 1e-20])
    let diagonal = try Self.divergence.valueAndGradient(tiny, tiny)
    #expect(diagonal.state.covariance.maxAbs == 0)
  }

  // MARK: Peer fixture

  struct Fixture: Decodable {
    struct Case: Decodable {
      var name: String
      var mean1: [Double]
      var covariance1: [[Double]]
      var diagonal1: Bool
      var mean2: [Double]
      var covariance2: [[Double]]
      var diagonal2: Bool
      var w2Squared: Double
      var mean1Gradient: [Double]
      var covariance1Gradient: [[Double]]
      var mean2Gradient: [Double]
      var covariance2Gradient: [[Double]]
    }
    var cases: [Case]
  }

  static func fixtureGaussian(_ mean: [Double], _ rows: [[Double]], diagonal: Bool) throws -> Gaussian {
    diagonal
      ? try Gaussian(mean: mean, variances: rows.indices.map { rows[$0][$0] })
      : try Gaussian(mean: mean, covariance: Matrix(rowArrays: rows))
  }

  /// 12 cases by `scripts/fixtures/make_bures_gradient_fixtures.py`: torch autograd (float64)
  /// through `eigh`, which agrees with POT's torch backend to 4e-15. Held to `1e-8` relative to the
  /// largest gradient entry.
  @Test func agreesWithTorchAutograd() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gaussian/gradients.json")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let fixture = try decoder.decode(Fixture.self, from: Data(contentsOf: url))
    #expect(fixture.cases.count == 12)
    var worst = 0.0
    for item in fixture.cases {
      let state = try Self.fixtureGaussian(item.mean1, item.covariance1, diagonal: item.diagonal1)
      let pattern = try Self.fixtureGaussian(item.mean2, item.covariance2, diagonal: item.diagonal2)
      let gradient = try Self.divergence.valueAndGradient(state, pattern)
      let ours =
        gradient.state.mean + gradient.state.covariance.elements + gradient.pattern.mean
        + gradient.pattern.covariance.elements
      let theirs =
        item.mean1Gradient + item.covariance1Gradient.flatMap { $0 } + item.mean2Gradient
        + item.covariance2Gradient.flatMap { $0 }
      let error = Self.relativeError(ours, theirs)
      worst = max(worst, error)
      #expect(error < 1e-8, "\(item.name): relative error \(error)")
      #expect(abs(gradient.value - item.w2Squared) < 1e-10 * max(1, item.w2Squared), "\(item.name)")
    }
    print("BuresWassersteinGradientTests.agreesWithTorchAutograd: worst relative error \(worst)")
  }

  // MARK: The energy's gradient

  /// ``RetrievalEngine/energyGradient(at:)`` on a BW memory against central differences of
  /// ``RetrievalEngine/energy(at:)``: in the query's mean (every coordinate) and covariance (a
  /// random symmetric direction), in one stored pattern's mean and covariance (rebuilding the
  /// memory with the pattern moved), and in `β` (rebuilding the engine).
  static func checkEnergyGradient<S: SeparationMap>(_ separation: S, beta: Double, minimumSupport: Int) throws
  {
    let d = 3
    let patterns = (0..<6).map { Self.randomGaussian(d, seed: 300 + UInt64($0), diagonal: $0 % 3 == 2) }
    let query = Self.randomGaussian(d, seed: 399, diagonal: false)
    func engine(_ patterns: [Gaussian], beta: Double) throws -> RetrievalEngine<
      BuresWassersteinDivergence, S, BuresWassersteinGeometry
    > {
      try RetrievalEngine(
        memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: separation,
        geometry: BuresWassersteinGeometry(), beta: beta)
    }
    let base = try engine(patterns, beta: beta)
    let gradient = try base.energyGradient(at: query)
    #expect(gradient.energy == (try base.energy(at: query)))
    #expect(gradient.support == gradient.weights.indices.filter { gradient.weights[$0] > 0 })
    #expect(gradient.support.count >= minimumSupport, "support \(gradient.support)")
    #expect(gradient.epsilon == nil)
    let step = 1e-5
    var g = SeededGenerator(seed: 401)
    func symmetric() throws -> Matrix {
      let raw = try Matrix(rows: d, columns: d, elements: g.gaussians(d * d))
      return try Matrix(
        rows: d, columns: d, elements: zip(raw.elements, raw.transposed().elements).map { 0.5 * ($0 + $1) })
    }
    func inner(_ a: Matrix, _ b: Matrix) -> Double {
      zip(a.elements, b.elements).reduce(0) { $0 + $1.0 * $1.1 }
    }

    // The query.
    let stateMean = try Self.differencedMean(query, step: step) { try base.energy(at: $0) }
    #expect(
      Self.relativeError(gradient.state.mean, stateMean) < 1e-6,
      "state mean \(gradient.state.mean) vs \(stateMean)")
    let h = try symmetric()
    let stateSlope =
      (try base.energy(at: Self.moved(query, covariance: h, by: step))
        - base.energy(at: Self.moved(query, covariance: h, by: -step))) / (2 * step)
    let statePredicted = inner(gradient.state.covariance, h)
    #expect(
      abs(stateSlope - statePredicted) < 1e-6 * abs(statePredicted),
      "state covariance \(stateSlope) vs \(statePredicted)")

    // The heaviest pattern.
    let position = gradient.support.indices.max {
      gradient.weights[gradient.support[$0]] < gradient.weights[gradient.support[$1]]
    }!
    let i = gradient.support[position]
    func energy(withPattern moved: Gaussian) throws -> Double {
      var changed = patterns
      changed[i] = moved
      return try engine(changed, beta: beta).energy(at: query)
    }
    let patternMean = try Self.differencedMean(patterns[i], step: step) { try energy(withPattern: $0) }
    #expect(
      Self.relativeError(gradient.patterns[position].mean, patternMean) < 1e-6,
      "pattern \(i) mean \(gradient.patterns[position].mean) vs \(patternMean)")
    let k = try symmetric()
    let patternSlope =
      (try energy(withPattern: Self.moved(patterns[i], covariance: k, by: step))
        - energy(withPattern: Self.moved(patterns[i], covariance: k, by: -step))) / (2 * step)
    let patternPredicted = inner(gradient.patterns[position].covariance, k)
    #expect(
      abs(patternSlope - patternPredicted) < 1e-6 * abs(patternPredicted),
      "pattern \(i) covariance \(patternSlope) vs \(patternPredicted)")

    // The inverse temperature.
    let betaStep = step * beta
    let betaSlope =
      (try engine(patterns, beta: beta + betaStep).energy(at: query)
        - engine(patterns, beta: beta - betaStep).energy(at: query)) / (2 * betaStep)
    #expect(
      abs(betaSlope - gradient.beta) < 1e-6 * abs(gradient.beta), "beta \(betaSlope) vs \(gradient.beta)")
  }

  @Test func energyGradientWithSoftmax() throws {
    try Self.checkEnergyGradient(.softmax, beta: 1, minimumSupport: 6)
  }

  @Test func energyGradientWithSparsemax() throws {
    try Self.checkEnergyGradient(.sparsemax, beta: 0.5, minimumSupport: 2)
  }
}
