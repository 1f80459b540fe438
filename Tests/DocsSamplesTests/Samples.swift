// The Swift samples of Docs/*.md, compiled and run. DocsCoverageTests checks that every ```swift
// block of Docs/ appears verbatim (up to indentation) in this folder or in Examples/.

import DAM
import DAMDatasets
import Foundation
import KernelMMD
import NumPyFiles
import PeriodicCost
import Testing

// MARK: getting-started.md

/// Reads the point clouds of a NumPy `.npz` (`points` of shape (N, n, d)) into `PointCloud`s.
func readClouds(_ path: String) throws -> [PointCloud] {
  let archive = try NPZ.read(contentsOf: path)
  guard let points = archive["points"], points.shape.count == 3 else {
    throw DAMError(.invalidArgument, argument: path, "needs `points` of shape (N, n, d)")
  }
  let (count, atoms, dimension) = (points.shape[0], points.shape[1], points.shape[2])
  let values = points.doubles()
  let size = atoms * dimension
  return try (0..<count).map { i in
    try PointCloud(
      points: Matrix(rows: atoms, columns: dimension, elements: Array(values[(i * size)..<((i + 1) * size)])))
  }
}

/// Stores the clouds of `path`, makes a noisy copy of cloud `index` with its atoms shuffled, and
/// returns the index of the pattern the engine recalls.
func recallNoisyCopy(of index: Int, from path: String) throws -> Int {
  let clouds = try readClouds(path)
  let memory = try Memory(divergence: SinkhornDivergence(epsilon: 0.1), patterns: clouds)
  let engine = try RetrievalEngine(
    memory: memory, separation: .softmax, geometry: SHKGeometry.wasserstein(step: 0.5), beta: 20,
    stopping: StoppingRule(maxSteps: 30, energyTolerance: 1e-7, positionTolerance: nil, massTolerance: nil))

  var generator = SeededGenerator(seed: 42)
  let rows = clouds[index].points.rowArrays.shuffled(using: &generator)
  let noisy = try PointCloud(
    points: Matrix(rowArrays: rows.map { $0.map { $0 + 0.2 * generator.nextGaussian() } }))
  let result = try engine.retrieve(noisy)
  return result.nearestPattern
}

// MARK: custom-memory.md

struct CustomMemorySamples {
  @Test func sparseVectors() throws {
    let memory = try Memory(
      divergence: .squaredEuclidean,
      patterns: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    let engine = try RetrievalEngine(
      memory: memory, separation: .sparsemax, geometry: EuclideanGeometry(), beta: 4)
    let result = try engine.retrieve([0.9, 0.2, 0, 0.1])
    print(result.weights)  // [1.0, 0.0, 0.0]: the other patterns get exactly zero weight
    print(result.state)  // [1.0, 0.0, 0.0, 0.0]
    #expect(result.weights == [1, 0, 0])
    #expect(result.state == [1, 0, 0, 0])
  }

  @Test func pointClouds() throws {
    let clouds = try [
      PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0], [0, 1]])),
      PointCloud(points: Matrix(rowArrays: [[4, 4], [5, 4], [4, 5]]), weights: [0.5, 0.25, 0.25]),
    ]
    let memory = try Memory(divergence: SinkhornDivergence(epsilon: 0.05), patterns: clouds)
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax,
      geometry: SHKGeometry(step: 0.5, epsilon: 0.05),  // Hellinger scale: tau * alpha = eps / 20
      beta: 20,
      stopping: StoppingRule(
        maxSteps: 50, energyTolerance: 1e-7, positionTolerance: nil, massTolerance: nil, patience: 3))
    let noisy = try PointCloud(points: Matrix(rowArrays: [[4.2, 3.9], [3.9, 4.1], [5.1, 4.0]]))
    let recalled = try engine.retrieve(noisy)
    print(recalled.nearestPattern, recalled.state.weights)  // 1, weights moving toward (0.5, 0.25, 0.25)
    #expect(recalled.nearestPattern == 1)
    #expect(recalled.divergences[1] < (try engine.snapshot(at: noisy).divergences[1]))
  }

  @Test func stackedBaseline() throws {
    let clouds = try [
      PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0], [0, 1]])),
      PointCloud(points: Matrix(rowArrays: [[4, 4], [5, 4], [4, 5]]), weights: [0.5, 0.25, 0.25]),
    ]
    let noisy = try PointCloud(points: Matrix(rowArrays: [[4.2, 3.9], [3.9, 4.1], [5.1, 4.0]]))
    let stacking = Stacking<PointCloud>.atoms(count: 3, dimension: 2)
    let vectors = try RetrievalEngine(
      memory: Memory(divergence: .dotProduct, patterns: try clouds.map(stacking.stack)),
      separation: Softmax(), geometry: EuclideanGeometry(), beta: 20)
    let baseline = StackedRetrievalEngine(AnyRetrievalEngine(vectors), stacking: stacking)
    let stacked = try baseline.retrieve(noisy)
    print(stacked.nearestPattern, stacked.state.points)  // 1; the atoms stay in the query's order
    #expect(stacked.nearestPattern == 1)
    #expect(stacked.state.weights == noisy.weights)
  }

  @Test func gaussians() throws {
    let gaussians = try [
      Gaussian(mean: [0, 0], covariance: Matrix(rowArrays: [[1, 0.3], [0.3, 0.5]])),
      Gaussian(mean: [3, 0], variances: [0.5, 2]),
    ]
    let memory = try Memory(divergence: BuresWassersteinDivergence(), patterns: gaussians)
    let engine = try RetrievalEngine(
      memory: memory, separation: .sparsemax, geometry: BuresWassersteinGeometry(step: 0.5), beta: 2)
    let query = try Gaussian(mean: [2.6, 0.3], variances: [0.7, 1.5])
    let result = try engine.retrieve(query)
    print(result.nearestPattern, result.state.mean)  // 1, [3.0, 0.0]
    #expect(result.nearestPattern == 1)
    // The damped step contracts at least by half per step and stops once a step moves <= 1e-9.
    for (a, b) in zip(result.state.mean, [3.0, 0.0]) { #expect(abs(a - b) < 1e-8) }
  }

  @Test func runtimeChoice() throws {
    let patterns: [[Double]] = [[1, 0], [0, 1], [-1, 0]]
    let maps: [String: AnySeparationMap] = [
      "softmax": AnySeparationMap(Softmax()),
      "entmax": AnySeparationMap(Entmax15()),
      "normmax": AnySeparationMap(try Normmax(alpha: 2)),
    ]
    let memory = try Memory(divergence: .squaredEuclidean, patterns: patterns)
    var engines: [String: AnyRetrievalEngine<[Double]>] = [:]
    for (name, map) in maps {
      engines[name] = AnyRetrievalEngine(
        try RetrievalEngine(memory: memory, separation: map, geometry: EuclideanGeometry(), beta: 5))
    }
    let recalled = try engines["entmax"]!.retrieve([0.8, 0.3])
    #expect(recalled.nearestPattern == 0)
    #expect(engines.count == 3)
  }

  @Test func growingMemory() throws {
    var memory = try Memory(divergence: .squaredEuclidean, patterns: [[1, 0], [0, 1]])
    try memory.append([-1, 0])
    // A pattern of the wrong dimension is refused and the memory is left as it was.
    #expect(throws: DAMError.self) { try memory.append([1, 2, 3]) }
    #expect(memory.count == 3)
  }

  @Test func separationMapsAlone() throws {
    let scores = [2.0, 1.5, -1.0]
    let soft = try Softmax().separate(scores)
    let sparse = try Sparsemax().separate(scores)
    print(soft.weights)  // [0.60, 0.36, 0.03]: every pattern keeps some weight
    print(sparse.weights)  // [0.75, 0.25, 0.0]: the Euclidean projection onto the simplex
    #expect(sparse.weights == [0.75, 0.25, 0])
    #expect(soft.weights.allSatisfy { $0 > 0 })
  }
}

// MARK: extending.md

struct ExtendingSamples {
  @Test func externalDivergenceInTheEngine() throws {
    let clouds = try [
      PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0], [0, 1], [1, 1]])),
      PointCloud(points: Matrix(rowArrays: [[4, 4], [5, 4], [4, 5], [5, 5]])),
    ]
    let memory = try Memory(divergence: GaussianKernelMMD(bandwidth: 1), patterns: clouds)
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: SHKGeometry.wasserstein(step: 0.5), beta: 20,
      stopping: StoppingRule(
        maxSteps: 200, energyTolerance: 1e-12, positionTolerance: nil, massTolerance: nil))
    let noisy = try PointCloud(
      points: Matrix(rowArrays: [[4.3, 3.8], [5.2, 4.1], [3.9, 5.2], [4.8, 5.1]]))
    let result = try engine.retrieve(noisy)
    print(result.nearestPattern, result.energies.first!, result.energy)  // 1, then a lower energy
    #expect(result.nearestPattern == 1)
    #expect(result.energy < result.energies[0])
  }

  @Test func conformanceOfTheExternalDivergence() throws {
    let state = try PointCloud(points: Matrix(rowArrays: [[0.1, 0.2], [0.9, -0.1], [0.4, 0.8]]))
    let patterns = try [
      PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0]])),
      PointCloud(points: Matrix(rowArrays: [[0.5, 1], [1, 1], [0, 1]])),
    ]
    let direction: [Double] = [1, 0, -0.5, 0.3, 0.2, -1]
    let divergence = try GaussianKernelMMD(bandwidth: 0.7)
    // How to move a state along the direction, and the slope a variation predicts along it.
    let displace: (PointCloud, Double) -> PointCloud = { cloud, t in
      let moved = zip(cloud.points.elements, direction).map { $0 + t * $1 }
      return try! PointCloud(points: Matrix(rows: 3, columns: 2, elements: moved))
    }
    let derivative: (MeasureVariation) -> Double = { variation in
      var slope = 0.0  // the sum over atoms j of w_j <grad phi(y_j), direction_j>
      for j in 0..<3 {
        for t in 0..<2 { slope += state.weights[j] * variation.velocity[2 * j + t] * direction[2 * j + t] }
      }
      return slope
    }
    let failures = DivergenceConformance.check(
      divergence, state: state, patterns: patterns, identicalPairs: patterns.map { ($0, $0) },
      displace: displace, derivative: derivative, step: 1e-5, tolerance: 1e-8)
    print(failures)  // []: value, identity, finite differences and linearity all hold
    #expect(failures.isEmpty, "\(failures)")
  }
}

// MARK: getting-started.md, run

struct GettingStartedSamples {
  @Test func numpyCloudsRoundTrip() throws {
    // Five clouds of 30 points around distinct centres, written as NumPy's np.savez would.
    var generator = SeededGenerator(seed: 5)
    var values: [Double] = []
    for i in 0..<5 {
      for _ in 0..<30 {
        values += [3 * Double(i) + 0.6 * generator.nextGaussian(), 0.6 * generator.nextGaussian()]
      }
    }
    var archive = NumPyArchive()
    archive["points"] = try NumPyArray(shape: [5, 30, 2], doubles: values)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "docs-clouds-\(UUID().uuidString).npz"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try NPZ.write(archive, to: path)
    #expect(try readClouds(path).count == 5)
    for index in 0..<5 { #expect(try recallNoisyCopy(of: index, from: path) == index) }
  }
}

// MARK: grids.md

/// A filled disc of radius `r` centred at column `cx`, row `cy` of a `side x side` image.
func disc(side: Int, cx: Double, cy: Double, r: Double) -> [Double] {
  (0..<(side * side)).map { k in
    let (y, x) = (Double(k / side), Double(k % side))
    return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r ? 1 : 0
  }
}

/// Stores three discs as histograms on a 16 x 16 grid and recalls the second one from a copy with
/// its right half masked; returns the index of the recalled pattern.
func recallMaskedDisc() throws -> Int {
  let side = 16
  let patterns = try [(4.0, 4.0), (11.0, 11.0), (4.0, 11.0)].map { (cx, cy) in
    try GridHistogram(shape: [side, side], intensities: disc(side: side, cx: cx, cy: cy, r: 3))
  }
  let options = try GridSinkhornOptions(epsilon: 2)  // in squared pixels
  let engine = try RetrievalEngine(
    memory: Memory(divergence: GridSinkhornDivergence(options: options), patterns: patterns),
    separation: Sparsemax(), geometry: GridBarycentricGeometry(options: options), beta: 1)

  var masked = disc(side: side, cx: 11, cy: 11, r: 3)
  for k in masked.indices where k % side > 11 { masked[k] = 0 }
  let result = try engine.retrieve(GridHistogram(shape: [side, side], intensities: masked))
  return result.nearestPattern  // 1: the final state is the stored disc itself
}

struct GridSamples {
  @Test func maskedDiscIsRecalled() throws {
    #expect(try recallMaskedDisc() == 1)
  }
}

// MARK: costs.md

@Suite struct CostsGuideSamples {
  @Test func builtInCosts() throws {
    var generator = SeededGenerator(seed: 7)
    func cloud(_ count: Int, _ shift: Double) throws -> PointCloud {
      try PointCloud(
        points: Matrix(
          rowArrays: (0..<count).map { _ in [generator.nextGaussian() + shift, generator.nextGaussian()] }))
    }
    let x = try cloud(40, 0)
    let y = try cloud(50, 1)
    let options = try SinkhornOptions(epsilon: 0.05, tolerance: 1e-9)
    let squared = try Sinkhorn.divergence(x, y, options: options)  // ‖x - y‖², the default
    let distance = try Sinkhorn.divergence(x, y, cost: PowerCost(power: 1), options: options)
    let metric = try MahalanobisCost(metric: Matrix(rowArrays: [[4, 0], [0, 1]]))
    let stretched = try Sinkhorn.divergence(x, y, cost: metric, options: options)
    // A retrieval memory with another cost: every pattern is evaluated (no pruning bound).
    let divergence = try SinkhornDivergence(epsilon: 0.05, cost: PowerCost(power: 1.5))
    #expect(squared.value > 0 && distance.value > 0 && stretched.value > squared.value)
    #expect(divergence.cost.description == "power(1.5)")
  }

  @Test func closureCost() throws {
    let manhattan = ClosureCost(name: "manhattan") { x, y in
      var sum = 0.0
      for t in 0..<x.count { sum += abs(x[t] - y[t]) }
      return sum
    } gradient: { x, y, gradient in
      for t in 0..<x.count { gradient[t] = x[t] > y[t] ? 1 : (x[t] < y[t] ? -1 : 0) }
    }
    let x = try PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0]]))
    let y = try PointCloud(points: Matrix(rowArrays: [[0, 2], [1, 2]]))
    let options = try SinkhornOptions(epsilon: 0.01)
    let transport = try Sinkhorn.transport(from: x, to: y, cost: manhattan, options: options)
    let gradient = try Sinkhorn.potentialGradient(from: x, to: y, cost: manhattan, transport: transport)
    #expect(abs(transport.value - 2) < 0.05)
    #expect(gradient[0, 1] == -1)
  }

  @Test func torusCostFromAnotherPackage() throws {
    let torus = try TorusCost(periods: [1, 1])
    let x = try PointCloud(points: Matrix(rowArrays: [[0.02, 0.5], [0.98, 0.5]]))
    let y = try PointCloud(points: Matrix(rowArrays: [[0.0, 0.5]]))
    let options = try SinkhornOptions(epsilon: 0.001)
    let onTheTorus = try Sinkhorn.divergence(x, y, cost: torus, options: options).value
    let inThePlane = try Sinkhorn.divergence(x, y, options: options).value
    #expect(onTheTorus < 0.001 && inThePlane > 0.2)
  }
}

// MARK: gradients.md

/// `Σₜ sₜ (ξₜ - Xₜ)²`: a squared distance with a positive scale per coordinate.
struct ScaledSquaredDistance: Divergence {
  var scales: [Double]

  func evaluate(_ state: [Double], query: Void, pattern: [Double], cache: Void, previous: Double?) -> Double {
    zip(scales, zip(state, pattern)).reduce(0) { $0 + $1.0 * ($1.1.0 - $1.1.1) * ($1.1.0 - $1.1.1) }
  }

  func zeroVariation(at state: [Double]) -> EuclideanVariation { EuclideanVariation(dimension: state.count) }

  func accumulate(
    _ weight: Double, of evaluation: Double, at state: [Double], query: Void, pattern: [Double], cache: Void,
    into variation: inout EuclideanVariation
  ) {
    variation.addTarget(pattern, weight: weight, curvature: 2)
  }

  func gradient(_ evaluation: Double, at state: [Double], query: Void, pattern: [Double], cache: Void)
    -> DivergenceGradient<[Double], [Double]>
  {
    let g = zip(scales, zip(state, pattern)).map { 2 * $0 * ($1.0 - $1.1) }
    return DivergenceGradient(value: evaluation, state: g, pattern: g.map { -$0 })
  }
}

struct GradientSamples {
  @Test func sinkhornGradient() throws {
    let divergence = try SinkhornDivergence(epsilon: 0.1)
    let x = try PointCloud(points: Matrix(rowArrays: [[0, 0], [1, 0], [0, 1]]))
    let y = try PointCloud(points: Matrix(rowArrays: [[0.5, 0.2], [1.2, 0.9]]))
    let gradient = try divergence.valueAndGradient(x, y)
    print(gradient.value)  // S_ε(x, y)
    print(gradient.state.points)  // ∂S/∂xⱼ, one row per atom of x
    print(gradient.state.weights)  // ∂S/∂aⱼ, one entry per atom of x
    print(gradient.epsilon ?? 0)  // ∂S/∂ε

    // The position gradient predicts a small move of the first atom.
    let h = 1e-5
    func moved(_ t: Double) throws -> Double {
      let points = try Matrix(rowArrays: [[t, 0], [1, 0], [0, 1]])
      return try divergence.valueAndGradient(try PointCloud(points: points), y).value
    }
    let slope = (try moved(h) - moved(-h)) / (2 * h)
    #expect(abs(slope - gradient.state.points[0, 0]) < 1e-5 * max(1, abs(slope)))
    #expect(gradient.epsilon != nil)
  }

  @Test func energyGradient() throws {
    let memory = try Memory(divergence: .squaredEuclidean, patterns: [[1, 0], [0, 1], [1, 1]])
    let engine = try RetrievalEngine(
      memory: memory, separation: .sparsemax, geometry: EuclideanGeometry(), beta: 2)
    let gradient = try engine.energyGradient(at: [0.8, 0.1])
    print(gradient.support)  // the patterns with nonzero weight
    print(gradient.state)  // ∇_ξ E
    print(gradient.patterns)  // ∇_{Xᵢ} E for the patterns of the support, in order
    print(gradient.beta)  // ∂E/∂β

    // Independently: Σᵢ ŷᵢ 2 (ξ - Xᵢ) over the weights the engine reports.
    let weights = try engine.snapshot(at: [0.8, 0.1]).weights
    let patterns: [[Double]] = [[1, 0], [0, 1], [1, 1]]
    var expected = [0.0, 0.0]
    for (w, x) in zip(weights, patterns) {
      expected = zip(expected, zip([0.8, 0.1], x)).map { $0 + w * 2 * ($1.0 - $1.1) }
    }
    #expect(gradient.support == weights.indices.filter { weights[$0] > 0 })
    #expect(zip(gradient.state, expected).allSatisfy { abs($0 - $1) < 1e-12 })
  }

  /// The scaled distance's gradient against central differences, and through the engine.
  @Test func gradientOfYourOwnDivergence() throws {
    let divergence = ScaledSquaredDistance(scales: [1, 4, 0.5])
    let (x, y, v) = ([0.3, -1.0, 2.0], [1.0, 0.5, -0.5], [0.2, -0.7, 0.4])
    let gradient = try divergence.valueAndGradient(x, y)
    let h = 1e-6
    let plus = try divergence.valueAndGradient(zip(x, v).map { $0 + h * $1 }, y).value
    let minus = try divergence.valueAndGradient(zip(x, v).map { $0 - h * $1 }, y).value
    let slope = zip(gradient.state, v).reduce(0) { $0 + $1.0 * $1.1 }
    #expect(abs((plus - minus) / (2 * h) - slope) < 1e-8 * abs(slope))
    let engine = try RetrievalEngine(
      memory: Memory(divergence: divergence, patterns: [y, x]), separation: .softmax,
      geometry: EuclideanGeometry(), beta: 1)
    #expect(try engine.energyGradient(at: [0, 0, 0]).support == [0, 1])
  }
}
