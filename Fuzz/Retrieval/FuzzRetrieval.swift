// libFuzzer target for the library past decoding: arrays through validation into a small solve
// and one retrieval. Compiled by scripts/fuzz.sh against the DAM and NumPyFiles modules (built
// with the same sanitizers), so it reaches the library only through its public API, as a user's
// program would.
//
// An input is 32 parameter bytes followed by the arrays' values: an `.npy` file if the rest
// decodes as one, otherwise the rest read as raw little-endian doubles (parameter byte 1, odd)
// or as signed bytes divided by 16 (even; small values that pass validation more often). The
// parameters choose the family (vectors, point clouds, Gaussians, grids), the sizes (within small
// limits, so each input runs in milliseconds), the separation map and the numbers a user passes:
// beta, epsilon, step, tolerances, iteration caps, pruning, backends. Patterns, queries and
// parameters are taken as they come, hostile values included (NaN, infinities, subnormals,
// 1e300): validation must refuse them with an error or the library must compute.
//
// Every input must end in a result or a thrown error: a trap (overflow, index out of range,
// `fatalError`, `precondition`), an address-sanitizer report or a timeout is a finding.

import DAM
import Glibc
import NumPyFiles

/// Reads the parameter bytes, giving 0 once they run out.
struct Parameters {
  var bytes: [UInt8]
  var next = 0

  mutating func byte() -> UInt8 {
    defer { next += 1 }
    return next < bytes.count ? bytes[next] : 0
  }

  /// An integer in `1...limit`.
  mutating func size(_ limit: Int) -> Int { 1 + Int(byte()) % limit }

  /// A positive scale over 10^-16 ... 10^16, or one of the hostile values at the ends of the
  /// byte range (0, the smallest subnormal, infinity, NaN, a negative number).
  mutating func scale() -> Double {
    switch byte() {
    case 0: 0
    case 1: .leastNonzeroMagnitude
    case 2: -1
    case 253: 1e300
    case 254: .infinity
    case 255: .nan
    case let b: pow(10, (Double(b) - 128) / 8)
    }
  }

  /// A step size in (0, 2], or a hostile value for the top bytes.
  mutating func step() -> Double {
    switch byte() {
    case 0: 0
    case 255: .nan
    case 254: -0.5
    case let b: Double(b) / 128
    }
  }
}

/// The values the patterns and queries are built from, taken cyclically.
struct Values {
  var values: [Double]
  var next = 0

  mutating func take(_ count: Int) -> [Double] {
    (0..<count).map { _ in
      defer { next += 1 }
      return values[next % values.count]
    }
  }
}

func values(from bytes: ArraySlice<UInt8>, raw: Bool) -> [Double] {
  if let array = try? NPY.decode(Array(bytes)) { return array.doubles() }
  if raw {
    return stride(from: bytes.startIndex, to: bytes.endIndex - 7, by: 8).map { start in
      var bits: UInt64 = 0
      for k in 0..<8 { bits |= UInt64(bytes[start + k]) << (8 * UInt64(k)) }
      return Double(bitPattern: bits)
    }
  }
  return bytes.map { Double(Int8(bitPattern: $0)) / 16 }
}

func separationMap(_ parameters: inout Parameters) throws -> AnySeparationMap {
  switch parameters.byte() % 8 {
  case 0: AnySeparationMap(Softmax())
  case 1: AnySeparationMap(Sparsemax())
  case 2: AnySeparationMap(Entmax15())
  case 3: AnySeparationMap(try Entmax(alpha: 1 + parameters.scale()))
  case 4: AnySeparationMap(try Normmax(alpha: 1 + parameters.scale()))
  case 5: AnySeparationMap(try KSubsets(k: Int(parameters.byte() % 8)))
  case 6:
    AnySeparationMap(try SequentialKSubsets(k: Int(parameters.byte() % 8), pairwise: parameters.scale() - 1))
  default: AnySeparationMap(try Entmax(alpha: Double(parameters.byte()) / 64))
  }
}

func pruning(_ parameters: inout Parameters) -> Pruning {
  switch parameters.byte() % 4 {
  case 0, 1: .none
  case 2: .exact
  default: .softmaxMass(Double(parameters.byte()) / 200)
  }
}

func stopping(_ parameters: inout Parameters) throws -> StoppingRule {
  try StoppingRule(
    maxSteps: Int(parameters.byte() % 4), energyTolerance: 1e-9, positionTolerance: nil, massTolerance: nil,
    patience: 1 + Int(parameters.byte() % 2))
}

/// Vectors: a small matrix of patterns, a query, one map applied to scores directly (the small
/// solve) and one retrieval.
func fuzzVectors(_ parameters: inout Parameters, _ values: inout Values) throws {
  let count = parameters.size(6)
  let dimension = parameters.size(8)
  let separation = try separationMap(&parameters)
  let scores = values.take(count)
  let separated = try separation.separate(scores)
  _ = try separation.regularizer(separated.weights)
  _ = try separation.jacobianVectorProduct(
    scores: scores, weights: separated.weights, direction: values.take(count))
  let patterns = (0..<count).map { _ in values.take(dimension) }
  let query = values.take(dimension)
  let geometry =
    parameters.byte() % 2 == 0
    ? try EuclideanGeometry() : try EuclideanGeometry(update: .gradient(step: parameters.step()))
  let beta = parameters.scale()
  let rule = try stopping(&parameters)
  let prune = pruning(&parameters)
  if parameters.byte() % 2 == 0 {
    let memory = try Memory(divergence: SquaredEuclideanDivergence(), patterns: patterns)
    let engine = try RetrievalEngine(
      memory: memory, separation: separation, geometry: geometry, beta: beta, stopping: rule, pruning: prune,
      parallelism: 1)
    _ = try engine.retrieve(query)
  } else {
    let memory = try Memory(
      divergence: DotProductDivergence(), matrix: patterns.flatMap { $0 }, columns: dimension)
    let engine = try RetrievalEngine(
      memory: memory, separation: separation, geometry: geometry, beta: beta, stopping: rule, pruning: prune,
      parallelism: 1)
    _ = try engine.retrieve(batch: [query, patterns[0]])
  }
}

/// A cloud with uniform weights (`weighting` 0), the given weights (1) or normalised masses (2).
func cloud(_ atoms: Int, _ dimension: Int, weighting: UInt8, _ values: inout Values) throws -> PointCloud {
  let points = try Matrix(rows: atoms, columns: dimension, elements: values.take(atoms * dimension))
  switch weighting {
  case 0: return try PointCloud(points: points)
  case 1: return try PointCloud(points: points, weights: values.take(atoms))
  default: return try PointCloud(points: points, masses: values.take(atoms))
  }
}

/// Point clouds: a Sinkhorn divergence between two of them (the small solve) and one retrieval
/// with the Sinkhorn divergence and the SHK geometry.
func fuzzClouds(_ parameters: inout Parameters, _ values: inout Values) throws {
  let count = parameters.size(4)
  let atoms = parameters.size(6)
  let dimension = parameters.size(3)
  let weighting = parameters.byte() % 3
  let patterns = try (0..<count).map { _ in try cloud(atoms, dimension, weighting: weighting, &values) }
  let query = try cloud(parameters.size(6), dimension, weighting: weighting, &values)
  let backends: [SinkhornBackend] = [.automatic, .kernel, .logDomain]
  let relaxations: [Relaxation] = [.adaptive, .none, .fixed(1 + Double(parameters.byte()) / 128)]
  let options = try SinkhornOptions(
    epsilon: parameters.scale(), tolerance: [1e-9, 1e-6, 0][Int(parameters.byte() % 3)],
    maxIterations: 1 + Int(parameters.byte()), epsilonScaling: parameters.byte() % 2 == 0 ? 0.5 : nil,
    relaxation: relaxations[Int(parameters.byte() % 3)], newton: parameters.byte() % 2 == 0,
    allowsUnconverged: parameters.byte() % 2 == 0, backend: backends[Int(parameters.byte() % 3)])
  _ = try? Sinkhorn.divergence(patterns[0], query, options: options)
  let geometry =
    parameters.byte() % 2 == 0
    ? try SHKGeometry(step: parameters.step(), epsilon: options.epsilon)
    : try SHKGeometry.wasserstein(step: parameters.step())
  let engine = try RetrievalEngine(
    memory: Memory(divergence: SinkhornDivergence(options: options), patterns: patterns),
    separation: try separationMap(&parameters), geometry: geometry, beta: parameters.scale(),
    stopping: try stopping(&parameters), pruning: pruning(&parameters), parallelism: 1)
  _ = try engine.retrieve(query)
}

func gaussian(_ dimension: Int, full: Bool, _ values: inout Values) throws -> Gaussian {
  let mean = values.take(dimension)
  if full {
    return try Gaussian(
      mean: mean,
      covariance: Matrix(rows: dimension, columns: dimension, elements: values.take(dimension * dimension)))
  }
  return try Gaussian(mean: mean, variances: values.take(dimension))
}

/// Gaussians: a Bures-Wasserstein distance and map (the small solve) and one retrieval.
func fuzzGaussians(_ parameters: inout Parameters, _ values: inout Values) throws {
  let count = parameters.size(5)
  let dimension = parameters.size(4)
  let full = parameters.byte() % 2 == 1
  let patterns = try (0..<count).map { _ in try gaussian(dimension, full: full, &values) }
  let query = try gaussian(dimension, full: parameters.byte() % 2 == 1, &values)
  _ = try? BuresWasserstein.distanceSquared(patterns[0], query)
  _ = try? BuresWasserstein.map(from: query, to: patterns[0])
  let engine = try RetrievalEngine(
    memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns),
    separation: try separationMap(&parameters),
    geometry: try BuresWassersteinGeometry(step: parameters.step()),
    beta: parameters.scale(), stopping: try stopping(&parameters), pruning: pruning(&parameters),
    parallelism: 1)
  _ = try engine.retrieve(query)
}

/// Grids: a grid Sinkhorn divergence and a two-histogram barycenter (the small solves) and one
/// retrieval with the barycentric or the Hellinger geometry.
func fuzzGrids(_ parameters: inout Parameters, _ values: inout Values) throws {
  let count = parameters.size(3)
  let axes = parameters.size(2)
  let shape = (0..<axes).map { _ in parameters.size(6) }
  let cells = shape.reduce(1, *)
  let spacing = parameters.byte() % 2 == 0 ? nil : values.take(axes)
  let asMasses = parameters.byte() % 2 == 0
  func histogram() throws -> GridHistogram {
    asMasses
      ? try GridHistogram(shape: shape, masses: values.take(cells), spacing: spacing)
      : try GridHistogram(shape: shape, intensities: values.take(cells), spacing: spacing)
  }
  let patterns = try (0..<count).map { _ in try histogram() }
  let query = try histogram()
  let backends: [GridKernelBackend] = [.automatic, .logDomain, .separableKernel, .fft]
  let options = try GridSinkhornOptions(
    epsilon: parameters.scale(), tolerance: [1e-9, 1e-6, 0][Int(parameters.byte() % 3)],
    maxIterations: 1 + Int(parameters.byte()), epsilonScaling: parameters.byte() % 2 == 0 ? 0.5 : nil,
    backend: backends[Int(parameters.byte() % 4)], allowsUnconverged: parameters.byte() % 2 == 0)
  _ = try? GridSinkhorn.divergence(patterns[0], query, options: options)
  _ = try? GridSinkhorn.barycenter(
    of: [patterns[0], query], options: options, debiased: parameters.byte() % 2 == 0)
  let separation = try separationMap(&parameters)
  let memory = try Memory(divergence: GridSinkhornDivergence(options: options), patterns: patterns)
  let beta = parameters.scale()
  let rule = try stopping(&parameters)
  if parameters.byte() % 2 == 0 {
    let engine = try RetrievalEngine(
      memory: memory, separation: separation, geometry: GridBarycentricGeometry(options: options), beta: beta,
      stopping: rule, parallelism: 1)
    _ = try engine.retrieve(query)
  } else {
    let engine = try RetrievalEngine(
      memory: memory, separation: separation,
      geometry: try GridHellingerGeometry(step: parameters.step(), epsilon: options.epsilon), beta: beta,
      stopping: rule, parallelism: 1)
    _ = try engine.retrieve(query)
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRetrieval(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
  guard bytes.count > 32 else { return 0 }
  var parameters = Parameters(bytes: Array(bytes[0..<32]))
  let family = parameters.byte() % 4
  let numbers = values(from: bytes[32...], raw: parameters.byte() % 2 == 1)
  guard !numbers.isEmpty else { return 0 }
  var source = Values(values: numbers)
  do {
    switch family {
    case 0: try fuzzVectors(&parameters, &source)
    case 1: try fuzzClouds(&parameters, &source)
    case 2: try fuzzGaussians(&parameters, &source)
    default: try fuzzGrids(&parameters, &source)
    }
  } catch {
    // A refusal is the expected outcome for most inputs; only traps and sanitizer reports count.
    // DAM_FUZZ_VERBOSE=1 prints it, to see how far a given input gets.
    if getenv("DAM_FUZZ_VERBOSE") != nil { print("family \(family): \(error)") }
    return 0
  }
  if getenv("DAM_FUZZ_VERBOSE") != nil { print("family \(family): retrieved") }
  return 0
}
