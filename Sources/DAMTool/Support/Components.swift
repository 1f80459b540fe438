import ArgumentParser
import DAM

/// The divergences available for vector memories.
enum VectorDivergenceChoice: String, CaseIterable, ExpressibleByArgument {
  case squaredEuclidean = "squared-euclidean"
  case dotProduct = "dot-product"
}

/// The geometries available for vector memories.
enum VectorGeometryChoice: String, CaseIterable, ExpressibleByArgument {
  case fixedPoint = "fixed-point"
  case gradient
}

/// The separation maps, by command-line name.
enum SeparationChoice: String, CaseIterable, ExpressibleByArgument {
  case softmax
  case sparsemax
  case entmax
  case normmax
  case ksubsets
  case sequentialKsubsets = "sequential-ksubsets"

  /// Builds the map from the options that parametrise it, refusing options that do not apply
  /// and missing ones that are required. `choiceLabel` names the choice in messages
  /// (`--separation ` for retrieve, empty for separate).
  ///
  /// Entmax at α = 1, 1.5 and 2 uses the exact algorithms (softmax, sort-based 1.5-entmax,
  /// sparsemax); other α use root finding.
  func map(alpha: Double?, k: Int?, pairwise: Double?, choiceLabel: String) throws(CLIError)
    -> AnySeparationMap
  {
    let takesAlpha = self == .entmax || self == .normmax
    let takesK = self == .ksubsets || self == .sequentialKsubsets
    if alpha != nil && !takesAlpha {
      throw CLIError("--alpha", "applies to entmax and normmax only, not \(choiceLabel)\(rawValue)")
    }
    if k != nil && !takesK {
      throw CLIError("--k", "applies to ksubsets and sequential-ksubsets only, not \(choiceLabel)\(rawValue)")
    }
    if pairwise != nil && self != .sequentialKsubsets {
      throw CLIError("--pairwise", "applies to sequential-ksubsets only, not \(choiceLabel)\(rawValue)")
    }
    switch self {
    case .softmax:
      return AnySeparationMap(Softmax())
    case .sparsemax:
      return AnySeparationMap(Sparsemax())
    case .entmax:
      let alpha = alpha ?? 1.5
      guard alpha.isFinite, alpha >= 1 else {
        throw CLIError("--alpha", "entmax needs a finite alpha >= 1 (1 is softmax), got \(alpha)")
      }
      switch alpha {
      case 1: return AnySeparationMap(Softmax())
      case 1.5: return AnySeparationMap(Entmax15())
      case 2: return AnySeparationMap(Sparsemax())
      default: return AnySeparationMap(try attributing("--alpha") { try Entmax(alpha: alpha) })
      }
    case .normmax:
      let alpha = alpha ?? 2
      guard alpha.isFinite, alpha > 1 else {
        throw CLIError("--alpha", "normmax needs a finite alpha > 1, got \(alpha)")
      }
      return AnySeparationMap(try attributing("--alpha") { try Normmax(alpha: alpha) })
    case .ksubsets, .sequentialKsubsets:
      guard let k else {
        throw CLIError(
          "--k", "is required by \(choiceLabel)\(rawValue): the number of patterns to retrieve together")
      }
      guard k >= 1 else { throw CLIError("--k", "must be at least 1, got \(k)") }
      if self == .ksubsets { return AnySeparationMap(try attributing("--k") { try KSubsets(k: k) }) }
      guard let pairwise else {
        throw CLIError(
          "--pairwise",
          "is required by \(choiceLabel)\(rawValue): the score of two neighbouring patterns both retrieved "
            + "(0 gives ksubsets)")
      }
      guard pairwise.isFinite else { throw CLIError("--pairwise", "must be finite, got \(pairwise)") }
      return AnySeparationMap(
        try attributing("--pairwise") { try SequentialKSubsets(k: k, pairwise: pairwise) })
    }
  }
}

/// The options that parametrise a separation map, shared by `retrieve` and `separate`.
struct SeparationOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: """
      entmax: the entropic index alpha >= 1 (default 1.5; 1 is softmax, 2 sparsemax); \
      normmax: the norm order alpha > 1 (default 2).
      """)
  var alpha: Double?

  @Option(
    parsing: .unconditional,
    help: """
      ksubsets, sequential-ksubsets: the number k of patterns retrieved together \
      (required; the weights sum to k).
      """)
  var k: Int?

  @Option(
    parsing: .unconditional,
    help: """
      sequential-ksubsets: the score of two neighbouring patterns both retrieved \
      (required; > 0 favours runs, 0 is ksubsets).
      """)
  var pairwise: Double?

  /// Rewrites a library error about `k` (a subset larger than the memory) as one about `--k`.
  static func attributingK<T>(_ fallback: String, _ body: () throws -> T) throws(CLIError) -> T {
    do {
      return try body()
    } catch let error as DAMError where error.argument == "k" {
      throw CLIError("--k", error.message)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError(fallback, error)
    }
  }
}

/// Builds a vector retrieval engine from run-time choices.
enum VectorEngines {
  static func make(
    patterns: VectorPatterns, divergence: VectorDivergenceChoice, separation: AnySeparationMap,
    geometry: VectorGeometryChoice, step: Double?, beta: Double, stopping: StoppingRule,
    pruning: Pruning = .none
  ) throws(CLIError) -> AnyRetrievalEngine<[Double]> {
    let geometry = try attributing("--step") {
      switch geometry {
      case .fixedPoint:
        if step != nil { throw CLIError("--step", "applies to --geometry gradient only") }
        return try EuclideanGeometry(update: .fixedPoint)
      case .gradient:
        return try EuclideanGeometry(update: .gradient(step: step ?? 0.5))
      }
    }
    let memory = try attributing("--memory") {
      switch divergence {
      case .squaredEuclidean: AnyVectorMemory.squared(try patterns.memory(SquaredEuclideanDivergence()))
      case .dotProduct: AnyVectorMemory.dot(try patterns.memory(DotProductDivergence()))
      }
    }
    return try attributing("--beta") {
      switch memory {
      case .squared(let memory):
        AnyRetrievalEngine(
          try RetrievalEngine(
            memory: memory, separation: separation, geometry: geometry, beta: beta, stopping: stopping,
            pruning: pruning))
      case .dot(let memory):
        AnyRetrievalEngine(
          try RetrievalEngine(
            memory: memory, separation: separation, geometry: geometry, beta: beta, stopping: stopping,
            pruning: pruning))
      }
    }
  }

  private enum AnyVectorMemory {
    case squared(Memory<SquaredEuclideanDivergence>)
    case dot(Memory<DotProductDivergence>)
  }
}

/// Options shared by commands that run retrieval.
struct StoppingOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "The largest number of retrieval steps.")
  var maxSteps: Int = 100

  @Option(
    parsing: .unconditional,
    help: """
      Also stop only when no coordinate (vectors) or atom (point clouds) moves by more than this in one \
      step. Default 1e-9 for vectors; not used for point clouds unless given (atoms can drift slowly \
      along nearly flat directions long after the energy has converged).
      """)
  var tolerance: Double?

  @Option(
    parsing: .unconditional,
    help:
      "Stop when the energy changes by at most this, relative to max(1, |E|) (default 1e-12 for vectors, 1e-7 for point clouds, where the energy converges slowly when eps is comparable to the atom spacing)."
  )
  var energyTolerance: Double?

  func rule(forClouds: Bool = false) throws(CLIError) -> StoppingRule {
    try attributing("--max-steps") {
      do {
        return try StoppingRule(
          maxSteps: maxSteps, energyTolerance: energyTolerance ?? (forClouds ? 1e-7 : 1e-12),
          positionTolerance: tolerance ?? (forClouds ? nil : 1e-9), massTolerance: forClouds ? nil : 1e-9,
          patience: forClouds ? 3 : 1)
      } catch let error as DAMError {
        let option =
          switch error.argument {
          case "maxSteps": "--max-steps"
          case "energyTolerance": "--energy-tolerance"
          default: "--tolerance"
          }
        throw CLIError(option, error.message)
      }
    }
  }
}

/// How `--json` reports each query's separation weights.
struct WeightOutputOptions: ParsableArguments {
  @Flag(help: "Report every pattern's weight in the JSON ('weights', N numbers per query).")
  var allWeights = false

  @Option(
    parsing: .unconditional,
    help:
      "Without --all-weights, the JSON's 'support' lists the patterns weighing more than this (in [0, 1)).")
  var weightThreshold = 1e-12

  func validate() throws {
    guard weightThreshold >= 0, weightThreshold < 1 else {
      throw CLIError("--weight-threshold", "must be a number in [0, 1), got \(weightThreshold)")
    }
  }
}

/// The patterns of one query whose weight exceeds a threshold, with what the rest weighs.
struct WeightSupport: Encodable {
  /// Pattern indices, increasing.
  var indices: [Int]
  /// Their weights.
  var weights: [Double]
  /// The threshold: patterns weighing at most this are left out.
  var threshold: Double
  /// The total weight of the patterns left out.
  var omittedWeight: Double

  init(_ all: [Double], threshold: Double) {
    indices = []
    weights = []
    self.threshold = threshold
    var omitted = 0.0
    for (i, w) in all.enumerated() {
      if w > threshold {
        indices.append(i)
        weights.append(w)
      } else {
        omitted += w
      }
    }
    omittedWeight = omitted
  }

  enum CodingKeys: String, CodingKey {
    case indices, weights, threshold
    case omittedWeight = "omitted_weight"
  }
}
