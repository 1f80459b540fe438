/// Numerical checks that any ``Divergence`` (the package's or yours) should pass.
///
/// The checks are generic: you say how to move a state along a direction (`displace`) and how a
/// variation pairs with that direction (`derivative`, the directional derivative it predicts).
/// For vector states, ``checkVectors(_:state:patterns:direction:nonNegative:step:tolerance:)``
/// fills both in. A differentiable divergence's gradients are checked the same way by
/// ``checkGradient(_:state:pattern:moveState:stateSlope:movePattern:patternSlope:step:tolerance:)``
/// (for vectors, ``checkVectorGradient(_:state:pattern:stateDirection:patternDirection:step:tolerance:)``).
public enum DivergenceConformance {
  /// Checks, for each pattern:
  /// - the value is finite (and non-negative when `nonNegative`);
  /// - `D(X, X) = 0` for each pair in `identicalPairs` (a state equal to a pattern);
  /// - the variation of one pattern predicts the central difference of `D` along the direction;
  /// - variations combine linearly: the weighted sum of two predicts the weighted sum of the
  ///   differences.
  public static func check<D: Divergence>(
    _ divergence: D, state: D.State, patterns: [D.Pattern], identicalPairs: [(D.State, D.Pattern)] = [],
    nonNegative: Bool = true, displace: (D.State, Double) -> D.State, derivative: (D.Variation) -> Double,
    step: Double = 1e-6, tolerance: Double = 1e-6
  ) -> [ConformanceFailure] {
    var failures: [ConformanceFailure] = []
    func fail(_ property: String, _ detail: String) {
      failures.append(ConformanceFailure(property: property, detail: detail))
    }
    func value(_ s: D.State, _ pattern: D.Pattern, _ cache: D.PatternCache) throws -> Double {
      divergence.value(
        of: try divergence.evaluate(s, query: try divergence.prepareQuery(s), pattern: pattern, cache: cache))
    }
    do {
      let caches = try patterns.map { try divergence.prepare($0) }
      let query = try divergence.prepareQuery(state)
      var predicted: [Double] = []
      var measured: [Double] = []
      var variations: [D.Variation] = []
      for (i, pattern) in patterns.enumerated() {
        let evaluation = try divergence.evaluate(state, query: query, pattern: pattern, cache: caches[i])
        let d = divergence.value(of: evaluation)
        if !d.isFinite { fail("finite", "D = \(d) at pattern \(i)") }
        if nonNegative && d < -tolerance { fail("non-negative", "D = \(d) at pattern \(i)") }
        var variation = divergence.zeroVariation(at: state)
        try divergence.accumulate(
          1, of: evaluation, at: state, query: query, pattern: pattern, cache: caches[i], into: &variation)
        variations.append(variation)
        let slope = derivative(variation)
        let central =
          (try value(displace(state, step), pattern, caches[i])
            - value(displace(state, -step), pattern, caches[i]))
          / (2 * step)
        predicted.append(slope)
        measured.append(central)
        if abs(slope - central) > tolerance * max(1, abs(central)) {
          fail("variation", "predicts \(slope), central difference gives \(central) at pattern \(i)")
        }
      }
      if patterns.count >= 2 {
        var combined = divergence.zeroVariation(at: state)
        for (i, w) in [(0, 0.3), (1, 0.7)] {
          let evaluation = try divergence.evaluate(
            state, query: query, pattern: patterns[i], cache: caches[i])
          try divergence.accumulate(
            w, of: evaluation, at: state, query: query, pattern: patterns[i], cache: caches[i],
            into: &combined)
        }
        let slope = derivative(combined)
        let expected = 0.3 * predicted[0] + 0.7 * predicted[1]
        if abs(slope - expected) > tolerance * max(1, abs(expected)) {
          fail("linearity", "0.3 v0 + 0.7 v1 predicts \(slope), expected \(expected)")
        }
      }
      for (k, (s, pattern)) in identicalPairs.enumerated() {
        let d = try value(s, pattern, try divergence.prepare(pattern))
        if abs(d) > tolerance { fail("identity", "D = \(d) for identical pair \(k)") }
      }
    } catch {
      fail("evaluation", "threw \(error)")
    }
    return failures
  }

  /// ``check(_:state:patterns:identicalPairs:nonNegative:displace:derivative:step:tolerance:)`` for
  /// divergences between vectors whose variation is an ``EuclideanVariation``; each pattern is also
  /// checked against itself when `nonNegative`.
  public static func checkVectors<D: Divergence>(
    _ divergence: D, state: [Double], patterns: [[Double]], direction: [Double], nonNegative: Bool = true,
    step: Double = 1e-6, tolerance: Double = 1e-6
  ) -> [ConformanceFailure]
  where D.State == [Double], D.Pattern == [Double], D.Variation == EuclideanVariation {
    check(
      divergence, state: state, patterns: patterns,
      identicalPairs: nonNegative ? patterns.map { ($0, $0) } : [], nonNegative: nonNegative,
      displace: { s, t in zip(s, direction).map { $0 + t * $1 } },
      derivative: { variation in zip(variation.gradient(at: state), direction).reduce(0) { $0 + $1.0 * $1.1 }
      },
      step: step, tolerance: tolerance)
  }

  /// Checks a differentiable divergence's ``Divergence/gradient(_:at:query:pattern:cache:)`` at
  /// one pair:
  /// - its value is the evaluation's;
  /// - the state gradient predicts the central difference of `D` along `moveState` (`moveState(t)`
  ///   is the state moved by `t` along a direction, `stateSlope` pairs a gradient with that
  ///   direction), and the pattern gradient along `movePattern` likewise.
  ///
  /// Differences are compared with `tolerance` relative to `max(1, |difference|)`.
  public static func checkGradient<D: Divergence>(
    _ divergence: D, state: D.State, pattern: D.Pattern, moveState: (Double) throws -> D.State,
    stateSlope: (D.StateGradient) -> Double, movePattern: (Double) throws -> D.Pattern,
    patternSlope: (D.PatternGradient) -> Double, step: Double = 1e-6, tolerance: Double = 1e-6
  ) -> [ConformanceFailure] {
    var failures: [ConformanceFailure] = []
    func fail(_ property: String, _ detail: String) {
      failures.append(ConformanceFailure(property: property, detail: detail))
    }
    func value(_ s: D.State, _ p: D.Pattern) throws -> Double {
      divergence.value(
        of: try divergence.evaluate(
          s, query: try divergence.prepareQuery(s), pattern: p, cache: try divergence.prepare(p)))
    }
    do {
      let gradient = try divergence.valueAndGradient(state, pattern)
      let d = try value(state, pattern)
      if abs(gradient.value - d) > tolerance * max(1, abs(d)) {
        fail("gradient value", "the gradient's value is \(gradient.value), the evaluation's \(d)")
      }
      let central = (try value(moveState(step), pattern) - value(moveState(-step), pattern)) / (2 * step)
      let slope = stateSlope(gradient.state)
      if abs(slope - central) > tolerance * max(1, abs(central)) {
        fail("state gradient", "predicts \(slope), central difference gives \(central)")
      }
      let patternCentral =
        (try value(state, movePattern(step)) - value(state, movePattern(-step))) / (2 * step)
      let patternPrediction = patternSlope(gradient.pattern)
      if abs(patternPrediction - patternCentral) > tolerance * max(1, abs(patternCentral)) {
        fail("pattern gradient", "predicts \(patternPrediction), central difference gives \(patternCentral)")
      }
    } catch {
      fail("gradient", "threw \(error)")
    }
    return failures
  }

  /// ``checkGradient(_:state:pattern:moveState:stateSlope:movePattern:patternSlope:step:tolerance:)``
  /// for divergences between vectors with `[Double]` gradients, along the given directions.
  public static func checkVectorGradient<D: Divergence>(
    _ divergence: D, state: [Double], pattern: [Double], stateDirection: [Double], patternDirection: [Double],
    step: Double = 1e-6, tolerance: Double = 1e-6
  ) -> [ConformanceFailure]
  where D.State == [Double], D.Pattern == [Double], D.StateGradient == [Double], D.PatternGradient == [Double]
  {
    func along(_ x: [Double], _ v: [Double]) -> (Double) -> [Double] {
      { t in zip(x, v).map { $0 + t * $1 } }
    }
    func pairing(_ v: [Double]) -> ([Double]) -> Double { { g in zip(g, v).reduce(0) { $0 + $1.0 * $1.1 } } }
    return checkGradient(
      divergence, state: state, pattern: pattern, moveState: along(state, stateDirection),
      stateSlope: pairing(stateDirection), movePattern: along(pattern, patternDirection),
      patternSlope: pairing(patternDirection), step: step, tolerance: tolerance)
  }
}
