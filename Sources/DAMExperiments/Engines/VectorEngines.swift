import DAM

/// The divergences available for vector memories.
package enum VectorDivergenceChoice: String, CaseIterable {
  case squaredEuclidean = "squared-euclidean"
  case dotProduct = "dot-product"
}

/// The geometries available for vector memories.
package enum VectorGeometryChoice: String, CaseIterable {
  case fixedPoint = "fixed-point"
  case gradient
}

/// The separation maps, by command-line name.
package enum SeparationChoice: String, CaseIterable {
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
  package func map(alpha: Double?, k: Int?, pairwise: Double?, choiceLabel: String) throws(CLIError)
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

/// Builds a vector retrieval engine from run-time choices.
package enum VectorEngines {
  package static func make(
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
