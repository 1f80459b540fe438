extension GridProblem {
  /// `KL(π | a ⊗ b)` for the coupling `πⱼₖ = aⱼ wⱼₖ` with the conditional laws
  /// `wⱼₖ = bₖ exp((gₖ - Cⱼₖ + g̃ⱼ)/ε)`, `g̃ = softmin(log b, g)` normalising each row (the grid's
  /// form of ``relativeEntropyFromPotential(_:a:epsilon:logB:g:)``): at the optimum `∂OT_ε/∂ε`.
  ///
  /// `log(wⱼₖ/bₖ) = (g̃ⱼ + gₖ - Cⱼₖ)/ε`, so the entropy is `Σⱼ aⱼ (g̃ⱼ + E_{wⱼ}[g] - E_{wⱼ}[Cⱼ·])/ε`
  /// and needs conditional expectations only, each a convolution: `E_{wⱼ}[h] =
  /// exp((g̃ⱼ - softmin(log b + log h, g)ⱼ)/ε)` for `h ≥ 0` (`g` split into its positive and
  /// negative parts; `Cⱼₖ = Σ_axes (zⱼ - zₖ)²` expanded into the first two moments of each
  /// coordinate `z ≥ 0`). The expansion loses about `1e-16 × (grid extent)² / ε` absolutely.
  ///
  /// - Throws: only the work budget's error (the convolutions poll it; see ``GridSoftmin``).
  func relativeEntropy(
    _ a: [Double], _ b: [Double], g: [Double], epsilon: Double, backend: GridKernelBackend
  ) throws(DAMError) -> Double {
    let softmin = GridSoftmin(self, backend: backend)
    let logB = b.map(_log)
    var normaliser = [Double](repeating: 0, count: cells)
    try softmin.softminRows(epsilon: epsilon, logWeights: logB, potential: g, into: &normaliser)
    var scratch = [Double](repeating: 0, count: cells)
    func expectation(_ h: (Int) -> Double) throws(DAMError) -> [Double] {
      let logWeights = (0..<cells).map { k in
        let value = h(k)
        return value > 0 && b[k] > 0 ? logB[k] + _log(value) : -.infinity
      }
      try softmin.softminRows(epsilon: epsilon, logWeights: logWeights, potential: g, into: &scratch)
      return (0..<cells).map { j in _exp((normaliser[j] - scratch[j]) / epsilon) }
    }
    let positive = try expectation { max(g[$0], 0) }
    let negative = try expectation { max(-g[$0], 0) }
    var cost = [Double](repeating: 0, count: cells)
    let strides = [shape3[1] * shape3[2], shape3[2], 1]
    for axis in 0..<3 where shape3[axis] > 1 {
      let z = (0..<cells).map { Double(($0 / strides[axis]) % shape3[axis]) * spacing3[axis] }
      let first = try expectation { z[$0] }
      let second = try expectation { z[$0] * z[$0] }
      for j in 0..<cells { cost[j] += z[j] * z[j] - 2 * z[j] * first[j] + second[j] }
    }
    var total = 0.0
    for j in 0..<cells where a[j] > 0 {
      total += a[j] * (normaliser[j] + positive[j] - negative[j] - cost[j])
    }
    return total / epsilon
  }
}

extension GridSinkhorn {
  /// The gradients of `S_ε(a, b)` in both histograms' cell masses and in ε, from a solved
  /// ``divergence(_:_:options:)`` at the same `options`: what
  /// ``GridSinkhornDivergence/gradient(_:at:query:pattern:cache:)`` gives, without solving again.
  ///
  /// - Throws: ``DAMError`` naming `b` if the grids differ, or `backend` if it is not available in
  ///   this build.
  public static func divergenceGradient(
    _ a: GridHistogram, _ b: GridHistogram, options: GridSinkhornOptions, divergence: SinkhornDivergenceValue
  ) throws(DAMError) -> DivergenceGradient<[Double], [Double]> {
    try checkSameGrid(a, b)
    return try gridDivergenceGradient(
      a, b, value: divergence.value, transport: divergence.crossTerm, firstSelf: divergence.firstSelfTerm,
      secondSelf: divergence.secondSelfTerm, options: options)
  }
}

/// The gradients of `S_ε(a, b)` from the three solved problems (see
/// ``GridSinkhornDivergence/gradient(_:at:query:pattern:cache:)`` for the formulas).
func gridDivergenceGradient(
  _ firstHistogram: GridHistogram, _ secondHistogram: GridHistogram, value: Double,
  transport: EntropicTransport,
  firstSelf: SelfTransport, secondSelf: SelfTransport, options: GridSinkhornOptions
) throws(DAMError) -> DivergenceGradient<[Double], [Double]> {
  try options.backend.checkAvailable()
  let (a, b) = (firstHistogram.masses, secondHistogram.masses)
  let (first, second) = debiasedWeightGradients(
    a: a, b: b, f: transport.f, g: transport.g, p: firstSelf.potential, q: secondSelf.potential)
  let problem = GridProblem(firstHistogram)
  let epsilon = options.epsilon
  let backend = options.backend
  let cross = try problem.relativeEntropy(a, b, g: transport.g, epsilon: epsilon, backend: backend)
  let own = try problem.relativeEntropy(a, a, g: firstSelf.potential, epsilon: epsilon, backend: backend)
  let other = try problem.relativeEntropy(b, b, g: secondSelf.potential, epsilon: epsilon, backend: backend)
  return DivergenceGradient(
    value: value, state: first, pattern: second, epsilon: cross - 0.5 * own - 0.5 * other)
}
