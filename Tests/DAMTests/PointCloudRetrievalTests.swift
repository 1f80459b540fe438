import DAM
import DAMTestSupport
import Foundation
import Testing

struct PointCloudRetrievalTests {
  /// Five clouds of 20 atoms from 2-D Gaussians with distinct means.
  static func memory(seed: UInt64 = 1, atoms: Int = 20) throws -> [PointCloud] {
    var g = SeededGenerator(seed: seed)
    let means = [[0.0, 0], [3, 0], [0, 3], [3, 3], [1.5, -2.5]]
    return try means.map { mean in
      try PointCloud(
        points: Matrix(rows: atoms, columns: 2, elements: (0..<(2 * atoms)).map { mean[$0 % 2] + 0.5 * g.nextGaussian() }))
    }
  }

  static func noisy(_ cloud: PointCloud, sd: Double, seed: UInt64, weights: [Double]? = nil) throws -> PointCloud {
    var g = SeededGenerator(seed: seed)
    return try PointCloud(
      points: Matrix(rows: cloud.count, columns: 2, elements: cloud.points.elements.map { $0 + sd * g.nextGaussian() }),
      weights: weights ?? cloud.weights)
  }

  static let divergence = SinkhornDivergence(
    options: try! SinkhornOptions(epsilon: 0.1, tolerance: 1e-12, maxIterations: 50_000))

  @Test func energyIsTheLogSumExpOfDivergences() throws {
    let patterns = try Self.memory()
    let query = try Self.noisy(patterns[1], sd: 0.4, seed: 2)
    let engine = try RetrievalEngine(
      memory: Memory(divergence: Self.divergence, patterns: patterns), separation: .softmax,
      geometry: SHKGeometry(), beta: 2)
    let s = try patterns.map { try Sinkhorn.divergence(query, $0, options: Self.divergence.options).value }
    let expected = -logSumExp(s.map { -2 * $0 }) / 2
    #expect(abs(try engine.energy(at: query) - expected) < 1e-12 * max(1, abs(expected)))
  }

  /// The transport direction is the energy's gradient in the atom positions (divided by the
  /// weights), and the Hellinger direction its gradient in the weights: both against central
  /// differences of the energy.
  @Test func stepDirectionsAreEnergyGradients() throws {
    let patterns = try Self.memory(atoms: 8)
    var g = SeededGenerator(seed: 3)
    let weights = (0..<8).map { _ in Double.random(in: 0.5...1.5, using: &g) }
    let total = weights.reduce(0, +)
    let query = try Self.noisy(patterns[2], sd: 0.5, seed: 4, weights: weights.map { $0 / total })
    let beta = 1.5
    let tau = 1e-3
    func engine(_ geometry: SHKGeometry) throws -> RetrievalEngine<SinkhornDivergence, Softmax, SHKGeometry> {
      try RetrievalEngine(
        memory: Memory(divergence: Self.divergence, patterns: patterns), separation: .softmax, geometry: geometry,
        beta: beta, stopping: StoppingRule(maxSteps: 1))
    }
    let transport = try engine(SHKGeometry.wasserstein(step: tau))
    let moved = try transport.retrieve(query).state
    // velocity_j = -(y'_j - y_j)/τ; ∂E/∂y_j = w_j velocity_j.
    let direction = g.gaussians(16)
    var predicted = 0.0
    for j in 0..<8 {
      for t in 0..<2 {
        let velocity = -(moved.points[j, t] - query.points[j, t]) / tau
        predicted += query.weights[j] * velocity * direction[j * 2 + t]
      }
    }
    let h = 1e-5
    func shifted(_ s: Double) throws -> PointCloud {
      try PointCloud(
        points: Matrix(rows: 8, columns: 2, elements: zip(query.points.elements, direction).map { $0 + s * $1 }),
        weights: query.weights)
    }
    let central = (try transport.energy(at: shifted(h)) - transport.energy(at: shifted(-h))) / (2 * h)
    #expect(abs(predicted - central) < 1e-6 * max(1, abs(central)), "\(predicted) vs \(central)")

    // Weights: log w' - log w = -τ α (φ - φ̄) + const, so φ - φ̄ is recovered from one step.
    let alpha = 1.0
    let hellinger = try engine(SHKGeometry(step: tau, hellingerScale: alpha))
    let reweighted = try hellinger.retrieve(query).state
    var phi = (0..<8).map { -(log(reweighted.weights[$0]) - log(query.weights[$0])) / (tau * alpha) }
    let mean = zip(phi, query.weights).reduce(0) { $0 + $1.0 * $1.1 }
    phi = phi.map { $0 - mean }
    // A direction on the tangent space of the simplex (sums to zero).
    var dw = g.gaussians(8)
    let average = dw.reduce(0, +) / 8
    dw = dw.map { $0 - average }
    let predictedWeights = zip(phi, dw).reduce(0) { $0 + $1.0 * $1.1 }
    func tilted(_ s: Double) throws -> PointCloud {
      try PointCloud(points: query.points, weights: zip(query.weights, dw).map { $0 + s * $1 })
    }
    let hw = 1e-6
    let centralWeights = (try transport.energy(at: tilted(hw)) - transport.energy(at: tilted(-hw))) / (2 * hw)
    // The multiplicative step is first-order exact in τ; τ = 1e-3 leaves an O(τ) relative error.
    #expect(abs(predictedWeights - centralWeights) < 1e-2 * max(1, abs(centralWeights)), "\(predictedWeights) vs \(centralWeights)")
  }

  /// Along steps at the documented sizes (transport τ = 1/2; Hellinger τα ≤ ε/20 with ε = 0.1)
  /// the energy does not increase and the weights stay on the simplex.
  @Test(arguments: [(0.5, 0.5, 0.0), (4, 0.5, 0.0), (20, 0.5, 0.0), (0.5, 0.5, 0.01), (4, 0.5, 0.01), (20, 0.5, 0.01)])
  func energyDecreasesAndWeightsStayOnTheSimplex(beta: Double, step: Double, hellingerScale: Double) throws {
    let patterns = try Self.memory()
    for seed in UInt64(10)..<14 {
      let query = try Self.noisy(patterns[Int(seed) % 5], sd: 0.6, seed: seed)
      let result = try RetrievalEngine(
        memory: Memory(divergence: Self.divergence, patterns: patterns), separation: .softmax,
        geometry: SHKGeometry(step: step, hellingerScale: hellingerScale), beta: beta,
        stopping: StoppingRule(maxSteps: 30, energyTolerance: nil, positionTolerance: 0, massTolerance: 0)
      ).retrieve(query, recordingTrajectory: true)
      for (before, after) in zip(result.energies, result.energies.dropFirst()) {
        #expect(after <= before + 1e-9 * max(1, abs(before)), "seed \(seed), beta \(beta): \(before) -> \(after)")
      }
      for state in result.trajectory ?? [] {
        let sum = state.weights.reduce(0, +)
        #expect(abs(sum - 1) < 1e-12)
        #expect(state.weights.allSatisfy { $0 >= 0 })
      }
    }
  }

  @Test func retrievesANoisyCloud() throws {
    let patterns = try Self.memory()
    let query = try Self.noisy(patterns[3], sd: 0.5, seed: 5)
    for geometry in [try SHKGeometry(), try SHKGeometry.wasserstein()] {
      let result = try RetrievalEngine(
        memory: Memory(divergence: Self.divergence, patterns: patterns), separation: .softmax, geometry: geometry,
        beta: 20
      ).retrieve(query)
      #expect(result.nearestPattern == 3)
      #expect(result.weights[3] > 0.999)
      #expect(result.divergences[3] < 0.05)
    }
  }
}

/// k-subsets over point clouds: the weights sum to k, and the SHK geometry divides the variation by
/// Σ λ, so τ = 1/2 is still the barycentric step and the k retrieved clouds include the target.
struct PointCloudKSubsetsTests {
  @Test func twoSubsetsRetrieveTheTargetAndANeighbour() throws {
    let patterns = try PointCloudRetrievalTests.memory()
    let query = try PointCloudRetrievalTests.noisy(patterns[2], sd: 0.4, seed: 21)
    let result = try RetrievalEngine(
      memory: Memory(divergence: PointCloudRetrievalTests.divergence, patterns: patterns),
      separation: KSubsets(k: 2), geometry: SHKGeometry.wasserstein(), beta: 2,
      stopping: StoppingRule(maxSteps: 60, energyTolerance: 1e-9, positionTolerance: nil, massTolerance: nil)
    ).retrieve(query, recordingTrajectory: true)
    #expect(abs(result.weights.reduce(0, +) - 2) < 1e-12)
    #expect(result.weights[2] > 0.5)
    #expect(result.nearestPattern == 2)
    for (before, after) in zip(result.energies, result.energies.dropFirst()) {
      #expect(after <= before + 1e-9 * max(1, abs(before)))
    }
  }
}
