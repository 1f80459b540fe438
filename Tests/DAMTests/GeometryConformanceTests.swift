import DAM
import DAMTestSupport
import Foundation
import Testing

/// ``GeometryConformance`` passes every built-in geometry, with the divergences it is built for,
/// and names the property that a broken geometry violates.
struct GeometryConformanceTests {
  static let vectorPatterns: [[Double]] = [[1, 0, 0.5], [-0.5, 1, 0], [0.2, -0.8, 1.2]]
  static let vectorStates: [[Double]] = [[0.3, 0.4, -0.2], [2, -1, 0.7]]

  /// Weighted clouds of `atoms` points in the plane around `centre`.
  static func clouds(count: Int, atoms: Int, seed: UInt64, centre: Double = 0) throws -> [PointCloud] {
    var generator = SeededGenerator(seed: seed)
    return try (0..<count).map { i in
      let rows = (0..<atoms).map { _ in
        [centre + Double(i) + generator.nextGaussian(), generator.nextGaussian()]
      }
      let weights = (0..<atoms).map { _ in 0.5 + Double.random(in: 0..<1, using: &generator) }
      let total = weights.reduce(0, +)
      return try PointCloud(points: Matrix(rowArrays: rows), weights: weights.map { $0 / total })
    }
  }

  /// Smooth bumps on a `side x side` grid, every cell with some mass.
  static func bumps(_ centres: [(Double, Double)], side: Int = 8, width: Double = 1.5) throws
    -> [GridHistogram]
  {
    try centres.map { (cx, cy) in
      let intensities = (0..<(side * side)).map { k in
        let (y, x) = (Double(k / side), Double(k % side))
        return 0.01 + exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * width * width))
      }
      return try GridHistogram(shape: [side, side], intensities: intensities)
    }
  }

  @Test func euclideanGeometriesConform() throws {
    let geometries = [try EuclideanGeometry(), try EuclideanGeometry(update: .gradient(step: 0.25))]
    for geometry in geometries {
      let squared = GeometryConformance.check(
        geometry, divergence: SquaredEuclideanDivergence(), states: Self.vectorStates,
        patterns: Self.vectorPatterns)
      #expect(squared.isEmpty, "\(geometry.update): \(squared)")
      let dot = GeometryConformance.check(
        geometry, divergence: DotProductDivergence(), states: Self.vectorStates, patterns: Self.vectorPatterns
      )
      #expect(dot.isEmpty, "\(geometry.update): \(dot)")
    }
    // Weights summing to k = 2 (k-subsets): the fixed point is the weighted mean whatever the total.
    let kSubsets = GeometryConformance.check(
      try EuclideanGeometry(), divergence: SquaredEuclideanDivergence(), states: Self.vectorStates,
      patterns: Self.vectorPatterns, weightSum: 2)
    #expect(kSubsets.isEmpty, "\(kSubsets)")
  }

  @Test func pointCloudGeometriesConform() throws {
    let divergence = try SinkhornDivergence(epsilon: 0.1)
    let patterns = try Self.clouds(count: 3, atoms: 4, seed: 1)
    let states = try Self.clouds(count: 2, atoms: 5, seed: 2, centre: 0.4)
    let geometries = [
      try SHKGeometry(epsilon: 0.1), try SHKGeometry.wasserstein(),
      try SHKGeometry(step: 0.25, hellingerScale: 0.2),
    ]
    for geometry in geometries {
      let failures = GeometryConformance.check(
        geometry, divergence: divergence, states: states, patterns: patterns)
      #expect(failures.isEmpty, "τ = \(geometry.step), α = \(geometry.hellingerScale): \(failures)")
    }
    let kSubsets = GeometryConformance.check(
      try SHKGeometry(epsilon: 0.1), divergence: divergence, states: states, patterns: patterns, weightSum: 2)
    #expect(kSubsets.isEmpty, "\(kSubsets)")
  }

  @Test func gaussianGeometriesConform() throws {
    let patterns = try [
      Gaussian(mean: [1, 0], variances: [0.5, 2]),
      Gaussian(mean: [-1, 1], covariance: TestData.spd(eigenvalues: [0.3, 1.5], seed: 3).matrix),
      Gaussian(mean: [0, -2], variances: [1, 1]),
    ]
    let states = try [
      Gaussian(mean: [0.2, 0.3], variances: [1.5, 0.4]),
      Gaussian(mean: [2, -1], covariance: TestData.spd(eigenvalues: [0.8, 3], seed: 4).matrix),
    ]
    for geometry in [try BuresWassersteinGeometry(), try BuresWassersteinGeometry(step: 0.25)] {
      let failures = GeometryConformance.check(
        geometry, divergence: BuresWassersteinDivergence(), states: states, patterns: patterns)
      #expect(failures.isEmpty, "τ = \(geometry.step): \(failures)")
    }
    let kSubsets = GeometryConformance.check(
      try BuresWassersteinGeometry(), divergence: BuresWassersteinDivergence(), states: states,
      patterns: patterns, weightSum: 2)
    #expect(kSubsets.isEmpty, "\(kSubsets)")
  }

  @Test func gridGeometriesConform() throws {
    let options = try GridSinkhornOptions(epsilon: 2)
    let divergence = GridSinkhornDivergence(options: options)
    let patterns = try Self.bumps([(2, 2), (5.5, 5), (2, 6)])
    let states = try Self.bumps([(4, 3.5), (6, 1.5)], width: 2.5)
    let hellinger = GeometryConformance.check(
      try GridHellingerGeometry(epsilon: 2), divergence: divergence, states: states, patterns: patterns)
    #expect(hellinger.isEmpty, "\(hellinger)")
    for geometry in [
      GridBarycentricGeometry(options: options),
      try GridBarycentricGeometry(options: options, weightThreshold: 0.2),
    ] {
      let failures = GeometryConformance.check(
        geometry, divergence: divergence, states: states, patterns: patterns)
      #expect(failures.isEmpty, "threshold \(geometry.weightThreshold): \(failures)")
    }
  }

  // MARK: Broken geometries, each caught by the property it violates

  /// The fixed-point step of ``EuclideanGeometry``, for the broken geometries to alter (the zero
  /// variation leaves the state alone).
  static func fixedPoint(_ state: [Double], _ variation: EuclideanVariation) -> [Double] {
    guard variation.curvature > 0 else { return state }
    return zip(state, variation.gradient(at: state)).map { $0 - $1 / variation.curvature }
  }

  static func largestMove(_ old: [Double], _ new: [Double]) -> Double {
    zip(old, new).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  static func failures<G: Geometry>(of geometry: G, weightSum: Double = 1) -> [ConformanceFailure]
  where G.State == [Double], G.Variation == EuclideanVariation {
    GeometryConformance.check(
      geometry, divergence: SquaredEuclideanDivergence(), states: vectorStates, patterns: vectorPatterns,
      weightSum: weightSum)
  }

  @Test func aStepToNaNIsCaught() {
    struct NaNStep: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        GeometryConformanceTests.fixedPoint(state, variation).map { $0 / 0 * 0 }
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: NaNStep())
    #expect(failures.contains { $0.property == "valid state" }, "\(failures)")
  }

  @Test func aNegativeChangeIsCaught() {
    struct NegativeChange: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        GeometryConformanceTests.fixedPoint(state, variation)
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: -GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: NegativeChange())
    #expect(Set(failures.map(\.property)) == ["change"], "\(failures)")
  }

  /// A change with a floor (as if it reported a resolution): the engine would never see a fixed point.
  @Test func aNonzeroChangeAtTheSameStateIsCaught() {
    struct Floored: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        GeometryConformanceTests.fixedPoint(state, variation)
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: max(1e-12, GeometryConformanceTests.largestMove(old, new)))
      }
    }
    let failures = Self.failures(of: Floored())
    #expect(failures.contains { $0.property == "zero change" }, "\(failures)")
  }

  /// A change that never sees a move: the engine would stop after one step at a false fixed point.
  @Test func aChangeThatIsAlwaysZeroIsCaught() {
    struct Blind: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        GeometryConformanceTests.fixedPoint(state, variation)
      }
      func change(from old: [Double], to new: [Double]) -> StateChange { StateChange(position: 0) }
    }
    let failures = Self.failures(of: Blind())
    #expect(Set(failures.map(\.property)) == ["change"], "\(failures)")
  }

  @Test func aGeometryThatIgnoresTheVariationIsCaught() {
    struct Ignores: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] { state }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: Ignores())
    #expect(Set(failures.map(\.property)) == ["progress"], "\(failures)")
  }

  /// A step that overshoots (three times the fixed-point step) raises the weighted divergence.
  @Test func anAscentIsCaught() {
    struct Overshoots: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        zip(state, variation.gradient(at: state)).map { $0 - 3 * $1 / variation.curvature }
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: Overshoots())
    #expect(failures.contains { $0.property == "descent" }, "\(failures)")
    #expect(
      !GeometryConformance.check(
        Overshoots(), divergence: SquaredEuclideanDivergence(), states: Self.vectorStates,
        patterns: Self.vectorPatterns, descent: false
      ).contains { $0.property == "descent" })
  }

  /// A step along the zero variation that moves anyway (toward the origin, whatever the variation).
  @Test func aDriftWithoutVariationIsCaught() {
    struct Drifts: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        guard variation.curvature > 0 else { return state.map { 0.5 * $0 } }
        return GeometryConformanceTests.fixedPoint(state, variation)
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: Drifts())
    #expect(Set(failures.map(\.property)) == ["zero variation"], "\(failures)")
  }

  /// A geometry written for the simplex: it refuses weights that sum to k.
  @Test func aStepThatThrowsOnValidWeightsIsCaught() {
    struct SimplexOnly: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) throws -> [Double] {
        guard abs(variation.curvature - 2) < 1e-12 else {
          throw DAMError(.invalidArgument, argument: "variation", "weights must sum to 1")
        }
        return GeometryConformanceTests.fixedPoint(state, variation)
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    #expect(Self.failures(of: SimplexOnly()).isEmpty)
    let failures = Self.failures(of: SimplexOnly(), weightSum: 2)
    #expect(Set(failures.map(\.property)) == ["step"], "\(failures)")
  }

  @Test func aNondeterministicStepIsCaught() {
    struct Jitters: Geometry {
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        var generator = SystemRandomNumberGenerator()
        return GeometryConformanceTests.fixedPoint(state, variation).map {
          $0 + 1e-12 * Double.random(in: -1..<1, using: &generator)
        }
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: Jitters())
    #expect(failures.contains { $0.property == "determinism" }, "\(failures)")
  }

  /// A geometry that keeps its result in a buffer shared by all calls (behind a lock, so memory
  /// stays safe): one step alone is right, steps on several threads read each other's results.
  @Test func aStepThatIsNotThreadSafeIsCaught() {
    final class SharedBuffer: Geometry, @unchecked Sendable {
      let lock = NSLock()
      var buffer: [Double] = []
      func step(from state: [Double], along variation: EuclideanVariation) -> [Double] {
        let next = GeometryConformanceTests.fixedPoint(state, variation)
        lock.withLock { buffer = next }
        Thread.sleep(forTimeInterval: 0.002)
        return lock.withLock { buffer }
      }
      func change(from old: [Double], to new: [Double]) -> StateChange {
        StateChange(position: GeometryConformanceTests.largestMove(old, new))
      }
    }
    let failures = Self.failures(of: SharedBuffer())
    #expect(Set(failures.map(\.property)) == ["thread safety"], "\(failures)")
    let alone = GeometryConformance.check(
      SharedBuffer(), divergence: SquaredEuclideanDivergence(), states: Self.vectorStates,
      patterns: Self.vectorPatterns, threads: 1)
    #expect(alone.isEmpty, "\(alone)")
  }

  /// Inputs the divergence rejects are reported as such, not blamed on the geometry.
  @Test func invalidInputsAreReported() throws {
    let failures = GeometryConformance.check(
      try EuclideanGeometry(), divergence: SquaredEuclideanDivergence(), states: [[1, 2]],
      patterns: Self.vectorPatterns)
    #expect(Set(failures.map(\.property)) == ["evaluation"], "\(failures)")
    let empty = GeometryConformance.check(
      try EuclideanGeometry(), divergence: SquaredEuclideanDivergence(), states: [],
      patterns: Self.vectorPatterns)
    #expect(empty.map(\.property) == ["input"])
  }
}
