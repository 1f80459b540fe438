import Dispatch

/// Numerical checks that any ``Geometry`` (the package's or yours) should pass, driven through a
/// divergence whose state and variation types it shares, the way ``RetrievalEngine`` drives it.
///
/// The engine builds each step's variation with the divergence's
/// ``Divergence/accumulate(_:of:at:query:pattern:cache:into:)`` over the patterns whose separation
/// weight is nonzero (weights that are non-negative and sum to a positive total: 1 on the simplex,
/// k for k-subsets), calls ``Geometry/step(from:along:)`` for the states of a batch on several
/// threads at once, evaluates the divergence at the new states, and stops when
/// ``Geometry/change(from:to:)`` is exactly zero (a fixed point) or within the ``StoppingRule``'s
/// tolerances. Its energy `E = -(1/β) Ω*(-β D)` is concave in the divergences `D`, so
/// `E(ξ') ≤ E(ξ) + Σᵢ λᵢ (D(ξ', Xᵢ) - D(ξ, Xᵢ))` with `λ` the separation weights at `ξ`: a step that
/// does not increase the weighted divergence does not increase the energy, which is what makes
/// retrieval a descent.
///
/// Run it in your tests with a few states and patterns; an empty result means every property held.
///
/// ```swift
/// let failures = GeometryConformance.check(
///   MyGeometry(), divergence: SquaredEuclideanDivergence(), states: [[0.2, -1, 0.5]],
///   patterns: [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
/// #expect(failures.isEmpty, "\(failures)")
/// ```
public enum GeometryConformance {
  /// Checks the geometry at each state, along the variations of the patterns with several
  /// weightings: one-hot on each pattern, uniform, and random weights on the simplex, each scaled
  /// to sum to `weightSum`. Each failure names its property:
  /// - `step`: the step threw (the weights are valid separation weights);
  /// - `valid state`: the new state is rejected by the divergence (its `checkQuery` against the
  ///   first pattern, `prepareQuery` or `evaluate` throws) or has a non-finite divergence to a
  ///   pattern;
  /// - `change`: ``Geometry/change(from:to:)`` from the state to the new one is negative or not
  ///   finite, or is zero although the divergences to the patterns moved (the engine would stop
  ///   at a false fixed point);
  /// - `zero change`: the change from a state to itself is not exactly zero (the engine would
  ///   never recognise a fixed point);
  /// - `zero variation`: a step along the divergence's ``Divergence/zeroVariation(at:)`` moved
  ///   the state by more than `tolerance` (throwing instead is accepted: the engine never passes
  ///   a zero variation);
  /// - `descent` (when `descent`): the weighted divergence `Σᵢ λᵢ D(ξ', Xᵢ)` rose above its value
  ///   at `ξ` by more than `tolerance × max(1, |Σᵢ λᵢ D(ξ, Xᵢ)|)`;
  /// - `progress`: a one-hot step toward a pattern did not strictly lower the divergence to it
  ///   (a geometry that ignores its variation); fixed-point geometries land on the pattern;
  /// - `determinism`: the same step taken twice gave different states;
  /// - `thread safety`: a step taken while others run on `threads` threads differs from the same
  ///   step taken alone.
  ///
  /// Two states are the same when the change between them is zero both ways and their
  /// divergences to every pattern are equal, bit for bit. `evaluation` reports that the divergence
  /// itself threw on the given states or patterns (the inputs, not the geometry, are at fault),
  /// `input` that there is no state or pattern or that `weightSum` is not finite and positive.
  /// The variations are built pattern by pattern (the divergence's per-pair `accumulate`); `seed`
  /// fixes the random weights.
  ///
  /// Give states that are not stationary for any pattern (none equal to a pattern, and able to
  /// move toward each: a point cloud with one atom cannot be reweighted), and a step size for
  /// which the geometry is meant to descend.
  public static func check<G: Geometry, D: Divergence>(
    _ geometry: G, divergence: D, states: [G.State], patterns: [D.Pattern], weightSum: Double = 1,
    descent: Bool = true, tolerance: Double = 1e-8, threads: Int = 4, seed: UInt64 = 0
  ) -> [ConformanceFailure] where D.State == G.State, D.Variation == G.Variation {
    var failures: [ConformanceFailure] = []
    func fail(_ property: String, _ detail: String) {
      failures.append(ConformanceFailure(property: property, detail: detail))
    }
    guard !states.isEmpty, !patterns.isEmpty, weightSum > 0, weightSum.isFinite else {
      fail("input", "needs a state, a pattern and a finite weightSum > 0")
      return failures
    }
    let caches: [D.PatternCache]
    do {
      caches = try patterns.map { try divergence.prepare($0) }
    } catch {
      fail("evaluation", "prepare threw \(error)")
      return failures
    }
    /// `D(state, Xᵢ)` for every pattern, as the engine would compute it for a new state.
    func values(_ state: G.State) throws -> [Double] {
      try divergence.checkQuery(state, against: patterns[0])
      let query = try divergence.prepareQuery(state)
      return try patterns.indices.map { i in
        divergence.value(
          of: try divergence.evaluate(state, query: query, pattern: patterns[i], cache: caches[i]))
      }
    }
    func same(_ a: G.State, _ b: G.State) -> Bool {
      guard geometry.change(from: a, to: b).isZero, geometry.change(from: b, to: a).isZero else {
        return false
      }
      switch (Result { try values(a) }, Result { try values(b) }) {
      case (.success(let x), .success(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
      case (.failure, .failure): return true
      default: return false
      }
    }

    let count = patterns.count
    var weightings: [(label: String, weights: [Double], target: Int?)] = (0..<count).map { i in
      ("one-hot on pattern \(i)", (0..<count).map { $0 == i ? weightSum : 0 }, i)
    }
    if count >= 2 {
      weightings.append(
        ("uniform weights", [Double](repeating: weightSum / Double(count), count: count), nil))
      // A uniformly random point of the simplex (normalised exponential samples), scaled.
      var generator = SeededGenerator(seed: seed)
      let draws = (0..<count).map { _ in -_log(Double.random(in: Double.ulpOfOne..<1, using: &generator)) }
      let total = draws.reduce(0, +)
      weightings.append(("random weights", draws.map { weightSum * $0 / total }, nil))
    }

    var jobs: [(state: G.State, variation: G.Variation, expected: G.State, label: String)] = []
    for (a, state) in states.enumerated() {
      let query: D.QueryCache
      let evaluations: [D.Evaluation]
      let before: [Double]
      do {
        try divergence.checkQuery(state, against: patterns[0])
        query = try divergence.prepareQuery(state)
        evaluations = try patterns.indices.map { i in
          try divergence.evaluate(state, query: query, pattern: patterns[i], cache: caches[i])
        }
        before = evaluations.map { divergence.value(of: $0) }
      } catch {
        fail("evaluation", "the divergence threw at state \(a): \(error)")
        continue
      }
      guard before.allSatisfy(\.isFinite) else {
        fail("evaluation", "the divergences of state \(a) are not finite: \(before)")
        continue
      }

      let itself = geometry.change(from: state, to: state)
      if !itself.isZero { fail("zero change", "the change from state \(a) to itself is \(itself), not 0") }

      if let still = try? geometry.step(from: state, along: divergence.zeroVariation(at: state)) {
        let moved = geometry.change(from: state, to: still)
        let after = try? values(still)
        let drift = after.map { zip($0, before).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0 }
        if !(moved.position <= tolerance && moved.mass <= tolerance) || !((drift ?? .nan) <= tolerance) {
          fail(
            "zero variation",
            "a step along the zero variation moved state \(a) by \(moved), its divergences from \(before) to \(after.map { "\($0)" } ?? "an error")"
          )
        }
      }

      for (label, weights, target) in weightings {
        let place = "at state \(a), \(label)"
        var variation = divergence.zeroVariation(at: state)
        do {
          for i in 0..<count where weights[i] > 0 {
            try divergence.accumulate(
              weights[i], of: evaluations[i], at: state, query: query, pattern: patterns[i], cache: caches[i],
              into: &variation)
          }
        } catch {
          fail("evaluation", "accumulate threw \(error) \(place)")
          continue
        }
        let next: G.State
        do {
          next = try geometry.step(from: state, along: variation)
        } catch {
          fail("step", "threw \(error) \(place)")
          continue
        }
        jobs.append((state, variation, next, place))

        let change = geometry.change(from: state, to: next)
        let changeValid =
          change.position >= 0 && change.position.isFinite && change.mass >= 0 && change.mass.isFinite
        if !changeValid { fail("change", "\(change) is negative or not finite \(place)") }
        do {
          let after = try values(next)
          if !after.allSatisfy(\.isFinite) {
            fail("valid state", "the divergences of the new state are \(after) \(place)")
          } else {
            let moved = zip(after, before).contains { abs($0 - $1) > tolerance * max(1, abs($1)) }
            if moved && changeValid && change.isZero {
              fail("change", "is zero, but the divergences moved from \(before) to \(after) \(place)")
            }
            let weightedBefore = zip(weights, before).reduce(0) { $0 + $1.0 * $1.1 }
            let weightedAfter = zip(weights, after).reduce(0) { $0 + $1.0 * $1.1 }
            if descent && weightedAfter > weightedBefore + tolerance * max(1, abs(weightedBefore)) {
              fail("descent", "Σ λᵢ D rose from \(weightedBefore) to \(weightedAfter) \(place)")
            }
            if let i = target, !(after[i] < before[i]) {
              fail("progress", "D(·, X\(i)) went from \(before[i]) to \(after[i]) \(place)")
            }
          }
        } catch {
          fail("valid state", "the divergence rejects the new state: \(error) \(place)")
        }

        do {
          let again = try geometry.step(from: state, along: variation)
          if !same(again, next) { fail("determinism", "the same step gave two different states \(place)") }
        } catch {
          fail("determinism", "the same step threw the second time: \(error) \(place)")
        }
      }
    }

    // Every step again, each job twice, on several threads at once; compared with the step alone.
    if threads > 1 && !jobs.isEmpty {
      let rounds = 2
      let steps = jobs
      let results = _onThreads(steps.count * rounds, threads: threads) { k in
        let job = steps[k % steps.count]
        return Result { try geometry.step(from: job.state, along: job.variation) }
      }
      var reported = Set<Int>()
      for (k, result) in results.enumerated() where !reported.contains(k % jobs.count) {
        let job = jobs[k % jobs.count]
        switch result {
        case .success(let state) where same(state, job.expected): continue
        case .success:
          fail(
            "thread safety",
            "a step taken alongside others differs from the same step taken alone \(job.label)")
        case .failure(let error):
          fail("thread safety", "a step taken alongside others threw \(error) \(job.label)")
        }
        reported.insert(k % jobs.count)
      }
    }
    return failures
  }
}

/// `[body(0), …, body(count - 1)]`, computed on `threads` threads at once: index `k` on thread
/// `k mod threads`. Each thread is a serial queue of its own, which the system runs on a thread
/// it creates when none is idle; a pool of one thread per core (`concurrentPerform`) runs the
/// work on the calling thread alone when its threads are busy (tests running in parallel), and
/// would then test nothing.
private func _onThreads<T>(_ count: Int, threads: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
  let slots = Slots<T?>(count: count, initial: nil)
  let group = DispatchGroup()
  for t in 0..<max(1, threads) {
    DispatchQueue(label: "GeometryConformance.thread\(t)").async(group: group) {
      for k in stride(from: t, to: count, by: max(1, threads)) { slots[k] = body(k) }
    }
  }
  group.wait()
  return slots.values.map { $0! }
}
