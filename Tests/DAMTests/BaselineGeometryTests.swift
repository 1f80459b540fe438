import DAM
import DAMTestSupport
import Foundation
import Testing

/// The stacked-coordinate baselines (``StackedRetrievalEngine``), the barycentric geometry's
/// weight threshold and the default Hellinger scales.
struct StackedRetrievalTests {
  /// The baseline is the vector engine on the stacked queries: the same weights, energies, steps
  /// and stop reason, bit for bit, and states that stack back to the vector engine's states.
  @Test(arguments: [1, 3])
  func cloudBaselineIsTheVectorEngineOnStackedAtoms(batch: Int) throws {
    let patterns = try PointCloudRetrievalTests.memory(atoms: 12)
    let queries = try (0..<batch).map {
      try PointCloudRetrievalTests.noisy(
        patterns[$0 + 1], sd: 0.3, seed: UInt64(7 + $0), weights: (0..<12).map { Double($0 + 1) / 78 })
    }
    let stacking = Stacking<PointCloud>.atoms(count: 12, dimension: 2)
    let vectors = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: try patterns.map(stacking.stack)),
      separation: Softmax(), geometry: EuclideanGeometry(), beta: 0.5)
    let baseline = StackedRetrievalEngine(AnyRetrievalEngine(vectors), stacking: stacking)
    let results = try baseline.retrieve(batch: queries, recordingTrajectory: true)
    // Against the vector engine's batch: a batch of vectors equals one-by-one to round-off only.
    let batchExpected = try vectors.retrieve(batch: queries.map(\.points.elements), recordingTrajectory: true)
    for (query, (result, expected)) in zip(queries, zip(results, batchExpected)) {
      #expect(result.weights == expected.weights)
      #expect(result.energies == expected.energies)
      #expect(result.steps == expected.steps)
      #expect(result.stopReason == expected.stopReason)
      #expect(result.state.points.elements == expected.state)
      #expect(result.state.weights == query.weights)
      #expect(result.trajectory?.map(\.points.elements) == expected.trajectory)
    }
    let one = try baseline.retrieve(queries[0])
    #expect(one.state.points.elements == (try vectors.retrieve(queries[0].points.elements)).state)
  }

  /// A cloud with another number of atoms, or another dimension, is refused by name.
  @Test func cloudOfAnotherShapeIsRefused() throws {
    let stacking = Stacking<PointCloud>.atoms(count: 12, dimension: 2)
    let short = try PointCloudRetrievalTests.memory(atoms: 11)[0]
    #expect(throws: DAMError.self) { try stacking.stack(short) }
    do {
      _ = try stacking.stack(short)
    } catch let error as DAMError {
      #expect(error.argument == "cloud")
      #expect(error.kind == .dimensionMismatch)
    }
  }

  /// Gaussians stack as `(m, vec S)` and come back unchanged; the baseline retrieves a noisy
  /// copy of a stored Gaussian as the vector engine does.
  @Test func gaussianBaselineIsTheVectorEngineOnMeanAndCovariance() throws {
    let stacking = Stacking<Gaussian>.meanAndCovariance
    let patterns = try [
      Gaussian(mean: [0, 0], covariance: Matrix(rows: 2, columns: 2, elements: [1, 0.2, 0.2, 0.5])),
      Gaussian(mean: [3, 1], covariance: Matrix(rows: 2, columns: 2, elements: [0.4, 0, 0, 2])),
      Gaussian(mean: [-2, 2], variances: [0.3, 0.7]),
    ]
    for pattern in patterns {
      let back = try stacking.unstack(try stacking.stack(pattern), pattern)
      #expect(back.mean == pattern.mean)
      #expect(back.covarianceMatrix.elements == pattern.covarianceMatrix.elements)
    }
    let query = try Gaussian(
      mean: [2.8, 1.1], covariance: Matrix(rows: 2, columns: 2, elements: [0.5, 0.05, 0.05, 1.8]))
    let vectors = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: try patterns.map(stacking.stack)),
      separation: Softmax(), geometry: EuclideanGeometry(), beta: 4)
    let result = try StackedRetrievalEngine(AnyRetrievalEngine(vectors), stacking: stacking).retrieve(query)
    let expected = try vectors.retrieve(query.stacked)
    #expect(result.weights == expected.weights)
    #expect(result.energies == expected.energies)
    #expect(result.state.stacked == expected.state)
    #expect(result.nearestPattern == 1)
  }
}

struct GridBarycentricThresholdTests {
  static func variation(_ patterns: [GridHistogram], _ weights: [Double]) -> GridVariation {
    var variation = GridVariation(cells: patterns[0].cellCount)
    variation.patternWeights = weights
    variation.patterns = patterns
    variation.totalWeight = weights.reduce(0, +)
    return variation
  }

  /// Threshold 0 is the plain barycentric geometry; a threshold leaves out exactly the patterns
  /// below it, as if they had never been accumulated; the heaviest pattern is always kept.
  @Test func thresholdLeavesOutLightPatternsOnly() throws {
    let (memory, patterns) = try GridRetrievalTests.memory(2)
    let options = memory.divergence.options
    let plain = GridBarycentricGeometry(options: options)
    let all = Self.variation(patterns, [0.6, 0.3995, 0.0005])
    #expect(
      try GridBarycentricGeometry(options: options, weightThreshold: 0).step(from: patterns[0], along: all)
        == (try plain.step(from: patterns[0], along: all)))
    let truncated = try GridBarycentricGeometry(options: options, weightThreshold: 1e-3)
    let kept = Self.variation(Array(patterns[0..<2]), [0.6, 0.3995])
    let expected = try plain.step(from: patterns[2], along: kept)
    #expect(try truncated.step(from: patterns[2], along: all) == expected)
    // The light pattern does move the untruncated barycenter: the test above can fail.
    #expect(try plain.step(from: patterns[2], along: all) != expected)
    let even = Self.variation(patterns, [0.3, 0.4, 0.3])
    #expect(
      try GridBarycentricGeometry(options: options, weightThreshold: 0.5).step(from: patterns[0], along: even)
        == patterns[1])
  }

  @Test(arguments: [-0.1, 1, .nan])
  func thresholdOutsideTheUnitIntervalIsRefused(threshold: Double) throws {
    let (memory, _) = try GridRetrievalTests.memory(2)
    do {
      _ = try GridBarycentricGeometry(options: memory.divergence.options, weightThreshold: threshold)
      Issue.record("accepted \(threshold)")
    } catch {
      #expect(error.argument == "weightThreshold")
    }
  }
}

struct DefaultHellingerScaleTests {
  /// `τ α = ε / 20` for both Hellinger geometries; a bad ε is refused by name.
  @Test func scaleIsEpsilonOverTwentySteps() throws {
    for (epsilon, step) in [(0.1, 0.5), (0.02, 0.25), (3.0, 1.0)] {
      let clouds = try SHKGeometry(step: step, epsilon: epsilon)
      #expect(clouds.hellingerScale == epsilon / (20 * step))
      #expect(abs(clouds.step * clouds.hellingerScale - epsilon / 20) <= 1e-15 * epsilon)
      let grids = try GridHellingerGeometry(step: step, epsilon: epsilon)
      #expect(grids.hellingerScale == clouds.hellingerScale)
    }
    for bad in [0.0, -1, .infinity, .nan] {
      #expect(throws: DAMError.self) { try SHKGeometry(epsilon: bad) }
      do {
        _ = try GridHellingerGeometry(epsilon: bad)
      } catch {
        #expect(error.argument == "epsilon")
      }
    }
  }
}
