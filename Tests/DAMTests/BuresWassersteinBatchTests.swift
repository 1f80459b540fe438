import DAM
import DAMDatasets
import DAMTestSupport
import Foundation
import Testing

/// The batched BW-DAM step used by the engine (values from eigenvalues only, maps only where they
/// can matter, patterns in parallel) against the per-pattern path, and its independence of the
/// number of threads.
///
/// Tolerances: values to 1e-12 relative (the two paths form `S^½ W S^½` by different products of
/// well-conditioned 6 x 6 matrices, each accurate to a few ulps, then the same eigenvalue solver);
/// the next state to 1e-11 relative (one more eigendecomposition and three products).
struct BuresWassersteinBatchTests {
  static func patterns(_ count: Int, d: Int, seed: UInt64, diagonalEvery: Int = 0) throws -> [Gaussian] {
    var g = SeededGenerator(seed: seed)
    return try (0..<count).map { i in
      let eigenvalues = (0..<d).map { _ in Double.random(in: 0.3...3, using: &g) }
      let mean = g.gaussians(d).map { 2 * $0 }
      if diagonalEvery > 0, i % diagonalEvery == 0 { return try Gaussian(mean: mean, variances: eigenvalues) }
      return try Gaussian(
        mean: mean, covariance: TestData.spd(eigenvalues: eigenvalues, seed: seed &+ 1000 &+ UInt64(i)).matrix
      )
    }
  }

  /// The per-pattern path: `evaluate` then `accumulate` for every nonzero weight, in order.
  static func perPatternStep(
    _ state: Gaussian, _ patterns: [Gaussian], beta: Double
  ) throws -> (values: [Double], next: Gaussian) {
    let divergence = BuresWassersteinDivergence()
    let caches = try patterns.map { try divergence.prepare($0) }
    let query = try divergence.prepareQuery(state)
    let evaluations = try patterns.indices.map {
      try divergence.evaluate(state, query: query, pattern: patterns[$0], cache: caches[$0])
    }
    let weights = try Softmax().separate(evaluations.map { -beta * $0.value }).weights
    var variation = divergence.zeroVariation(at: state)
    for i in patterns.indices where weights[i] != 0 {
      try divergence.accumulate(
        weights[i], of: evaluations[i], at: state, query: query, pattern: patterns[i], cache: caches[i],
        into: &variation)
    }
    return (evaluations.map(\.value), try BuresWassersteinGeometry().step(from: state, along: variation))
  }

  /// The divergence's block evaluation of one state at every pattern.
  static func blockValues(
    _ state: Gaussian, _ patterns: [Gaussian], parallelism: Int = 2
  ) throws -> [Double] {
    let divergence = BuresWassersteinDivergence()
    let memory = try Memory(divergence: divergence, patterns: patterns)
    let item = EvaluationBlock<BuresWassersteinDivergence>.Item(
      state: state, query: try divergence.prepareQuery(state), indices: .all(patterns.count))
    return try divergence.evaluate(EvaluationBlock(memory: memory, items: [item], parallelism: parallelism))[
      0
    ]
    .map(\.value)
  }

  static func relative(_ a: [Double], _ b: [Double]) -> Double {
    let scale = b.map(abs).max() ?? 0
    return TestData.maxDifference(a, b) / max(scale, 1e-300)
  }

  /// One engine step from `state` against ``perPatternStep(_:_:beta:)``: the divergences to 1e-12
  /// relative, the next covariance to 1e-11 and the next mean to 1e-12.
  static func expectStepAgreesWithPerPatternPath(
    _ state: Gaussian, _ patterns: [Gaussian], beta: Double, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let engine = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: beta)
    let snapshot = try engine.snapshot(at: state)
    let next = try engine.step(from: state, snapshot: snapshot)
    let reference = try perPatternStep(state, patterns, beta: beta)
    #expect(relative(snapshot.divergences, reference.values) < 1e-12, sourceLocation: sourceLocation)
    #expect(
      relative(next.covarianceMatrix.elements, reference.next.covarianceMatrix.elements) < 1e-11,
      sourceLocation: sourceLocation)
    #expect(relative(next.mean, reference.next.mean) < 1e-12, sourceLocation: sourceLocation)
  }

  /// β = 0.05 spreads the weights over all 60 patterns (nothing can be left out); β = 2 is the
  /// paper's; β = 50 leaves almost every map out as below round-off. Full, diagonal and mixed
  /// memories, full and diagonal states.
  @Test(arguments: [0.05, 2, 50], [0, 3])
  func batchedStepAgreesWithPerPatternPath(beta: Double, diagonalEvery: Int) throws {
    let patterns = try Self.patterns(60, d: 6, seed: 11, diagonalEvery: diagonalEvery)
    var g = SeededGenerator(seed: 12)
    for state in [
      try GaussianSampling.perturbation(of: patterns[1], distance: 0.7, using: &g),
      try Gaussian(mean: patterns[3].mean, variances: [0.5, 1, 1.5, 2, 0.7, 1.2]),
    ] {
      try Self.expectStepAgreesWithPerPatternPath(state, patterns, beta: beta)
    }
  }

  /// The maps of the batched step taken in the state's frame (`A = U⁻ᵀ N^½ U⁻¹`, own eigensolver
  /// with vectors, chunk lanes interleaved) against the per-pattern path (LAPACK `dsyevd` on
  /// `S^½ W S^½`), at β = 0.05 so that every map is computed: dimensions 1 and 2 (the smallest
  /// reductions) and 17 and 40 (longer sweeps, a last chunk of fewer lanes), full and diagonal
  /// states, full and diagonal patterns. Same tolerances as above.
  @Test(arguments: [1, 2, 17, 40])
  func frameMapsAgreeWithPerPatternPath(d: Int) throws {
    let patterns = try Self.patterns(43, d: d, seed: 31 &+ UInt64(d), diagonalEvery: 5)
    var g = SeededGenerator(seed: 32)
    for state in [
      try GaussianSampling.perturbation(of: patterns[1], distance: 0.5, using: &g),
      try Gaussian(mean: patterns[2].mean, variances: (0..<d).map { 0.5 + Double($0 % 3) }),
    ] {
      try Self.expectStepAgreesWithPerPatternPath(state, patterns, beta: 0.05)
    }
  }

  /// Repeated eigenvalues, where the tridiagonal reduction meets zero columns (no reflector) and
  /// the QL iteration deflates at once: multiples of the identity stored as full covariances, a
  /// pattern equal to the state, and a state and patterns with eigenvalues of multiplicity 3.
  @Test func frameMapsWithRepeatedEigenvalues() throws {
    let d = 6
    func identity(_ scale: Double) throws -> Matrix {
      try Matrix(rows: d, columns: d, elements: (0..<(d * d)).map { $0 % (d + 1) == 0 ? scale : 0 })
    }
    let repeated = TestData.spd(eigenvalues: [1, 1, 1, 2, 2, 3], seed: 41).matrix
    let state = try Gaussian(mean: [Double](repeating: 0.1, count: d), covariance: repeated)
    var patterns = try [0.5, 1, 2].map {
      try Gaussian(mean: [Double](repeating: $0, count: d), covariance: identity($0))
    }
    patterns.append(state)
    patterns.append(
      try Gaussian(
        mean: [Double](repeating: -0.3, count: d),
        covariance: TestData.spd(eigenvalues: [0.5, 0.5, 0.5, 4, 4, 4], seed: 42).matrix))
    for query in [state, try Gaussian(mean: state.mean, covariance: identity(1.5))] {
      try Self.expectStepAgreesWithPerPatternPath(query, patterns, beta: 0.05)
    }
  }

  /// The same retrieval with 1, 2, 3 and 8 threads and with Dispatch's choice gives bit-identical
  /// states, weights and energies: chunks are fixed and reduced in order.
  @Test(arguments: [0.3, 2])
  func resultsDoNotDependOnThreadCount(beta: Double) throws {
    let patterns = try Self.patterns(90, d: 5, seed: 21, diagonalEvery: 4)
    var g = SeededGenerator(seed: 22)
    let query = try GaussianSampling.perturbation(of: patterns[7], distance: 0.8, using: &g)
    let stopping = try StoppingRule(
      maxSteps: 6, energyTolerance: nil, positionTolerance: nil, massTolerance: nil)
    func run(_ parallelism: Int?) throws -> RetrievalResult<Gaussian> {
      try RetrievalEngine(
        memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
        geometry: BuresWassersteinGeometry(), beta: beta, stopping: stopping, parallelism: parallelism
      ).retrieve(query)
    }
    let reference = try run(1)
    for parallelism in [2, 3, 8, nil] {
      let result = try run(parallelism)
      #expect(result.state == reference.state)
      #expect(result.weights == reference.weights)
      #expect(result.energies == reference.energies)
    }
  }

  /// The batched values (own tridiagonal reduction of `(R L)(R L)ᵀ`) on the 45 reference cases,
  /// with the tolerances of `BuresWassersteinTests.agreesWithFixtures`: 1e-10 relative for
  /// condition numbers up to 1e4, 1e-6 up to 1e10 (cancellation in the trace term), always finite
  /// and non-negative.
  @Test func batchedValuesAgreeWithFixtures() throws {
    for item in BuresWassersteinTests.fixture.cases {
      let a = try Gaussian(mean: item.mean1, covariance: Matrix(rowArrays: item.covariance1))
      let b = try Gaussian(mean: item.mean2, covariance: Matrix(rowArrays: item.covariance2))
      let value = try Self.blockValues(a, [b])[0]
      #expect(value.isFinite && value >= 0, "\(item.name): \(value)")
      let tolerance = item.wellConditioned ? 1e-10 : 1e-6
      if item.w2Squared < 1e-20 {
        #expect(value < 1e-12, "\(item.name): \(value)")
      } else {
        #expect(
          abs(value - item.w2Squared) / item.w2Squared < tolerance,
          "\(item.name): \(value) vs \(item.w2Squared)")
      }
    }
  }

  /// Commuting covariances (one eigenbasis) in d = 50 have the closed form
  /// `‖m₁ - m₂‖² + Σₖ (√aₖ - √bₖ)²`. Twenty patterns (three chunks of the interleaved QL
  /// iteration), eigenvalues log-uniform over six decades so that the tridiagonal matrices of one
  /// chunk differ in scale and in the number of sweeps they need. Tolerance 1e-10 relative: the
  /// contract's bound for condition numbers up to 1e4; here the errors are ε‖M‖ in eigenvalues of size
  /// down to 1e-3, whose square roots enter the sum with weight ≤ 1.
  @Test func batchedValuesMatchCommutingClosedForm() throws {
    let d = 50
    var g = SeededGenerator(seed: 31)
    func spectrum() -> [Double] { (0..<d).map { _ in pow(10, Double.random(in: -3...3, using: &g)) } }
    let stateSpectrum = spectrum()
    let state = try Gaussian(
      mean: g.gaussians(d), covariance: TestData.spd(eigenvalues: stateSpectrum, seed: 7).matrix)
    var patterns: [Gaussian] = []
    var expected: [Double] = []
    for _ in 0..<20 {
      let values = spectrum()
      let mean = g.gaussians(d)
      patterns.append(try Gaussian(mean: mean, covariance: TestData.spd(eigenvalues: values, seed: 7).matrix))
      expected.append(
        zip(stateSpectrum, values).reduce(0) { $0 + pow($1.0.squareRoot() - $1.1.squareRoot(), 2) }
          + zip(state.mean, mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
    }
    let values = try Self.blockValues(state, patterns)
    for (value, reference) in zip(values, expected) {
      #expect(abs(value - reference) / reference < 1e-10, "\(value) vs \(reference)")
    }
  }

  /// The interleaved QL iteration runs every matrix with its own arithmetic: a pattern evaluated
  /// alone gives the same bits as in a chunk with others, of scales from 1e-4 to 1e4 (and a
  /// rank-deficient one). And the values agree with the per-pattern path (LAPACK `dsyevd` on
  /// `S^½ W S^½`) to 1e-10 relative.
  @Test func batchedValuesDoNotDependOnTheirChunk() throws {
    let d = 12
    var g = SeededGenerator(seed: 41)
    var patterns: [Gaussian] = []
    for i in 0..<19 {
      let scale = [1e-4, 1, 1e4][i % 3]
      var values = (0..<d).map { _ in scale * Double.random(in: 0.2...5, using: &g) }
      if i == 5 { values[0] = 0 }  // singular
      patterns.append(
        try Gaussian(
          mean: g.gaussians(d), covariance: TestData.spd(eigenvalues: values, seed: 100 + UInt64(i)).matrix))
    }
    let state = try GaussianSampling.perturbation(of: patterns[4], distance: 0.5, using: &g)
    let divergence = BuresWassersteinDivergence()
    let query = try divergence.prepareQuery(state)
    let caches = try patterns.map { try divergence.prepare($0) }
    let together = try Self.blockValues(state, patterns, parallelism: 1)
    for i in patterns.indices {
      let alone = try Self.blockValues(state, [patterns[i]], parallelism: 1)[0]
      #expect(alone == together[i], "pattern \(i)")
      let reference = try divergence.evaluate(state, query: query, pattern: patterns[i], cache: caches[i])
        .value
      #expect(
        abs(together[i] - reference) / reference < 1e-10, "pattern \(i): \(together[i]) vs \(reference)")
    }
  }

  /// Tridiagonal entries below the range where their squares keep full precision (about 1e-122)
  /// go to LAPACK `dsterf`, which rescales: covariances scaled by 1e-62 (entries of `M` near
  /// 1e-124) and means by 1e-31 scale `W₂²` by exactly 1e-62 (to 1e-10 relative).
  @Test func tinyCovariancesFallBackToLAPACK() throws {
    let patterns = try Self.patterns(10, d: 7, seed: 51)
    var g = SeededGenerator(seed: 52)
    let state = try GaussianSampling.perturbation(of: patterns[2], distance: 0.6, using: &g)
    func scaled(_ x: Gaussian) throws -> Gaussian {
      try Gaussian(
        mean: x.mean.map { $0 * 1e-31 },
        covariance: Matrix(rows: 7, columns: 7, elements: x.covarianceMatrix.elements.map { $0 * 1e-62 }))
    }
    func values(_ state: Gaussian, _ patterns: [Gaussian]) throws -> [Double] {
      try Self.blockValues(state, patterns)
    }
    let reference = try values(state, patterns)
    let tiny = try values(scaled(state), patterns.map(scaled))
    for (value, expected) in zip(tiny, reference) {
      #expect(abs(value / 1e-62 - expected) / expected < 1e-10, "\(value) vs \(expected) x 1e-62")
    }
  }

  @Test func validatesConcurrency() throws {
    let patterns = try Self.patterns(3, d: 2, seed: 1)
    let error = #expect(throws: DAMError.self) {
      try RetrievalEngine(
        memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
        geometry: BuresWassersteinGeometry(), beta: 1, parallelism: 0)
    }
    #expect(error?.argument == "parallelism")
  }
}
