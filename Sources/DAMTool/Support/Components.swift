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

  var map: AnySeparationMap {
    switch self {
    case .softmax: AnySeparationMap(Softmax())
    }
  }
}

/// Builds a vector retrieval engine from run-time choices.
enum VectorEngines {
  static func make(
    patterns: [[Double]], divergence: VectorDivergenceChoice, separation: SeparationChoice,
    geometry: VectorGeometryChoice, step: Double?, beta: Double, stopping: StoppingRule
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
      case .squaredEuclidean: AnyVectorMemory.squared(try Memory(divergence: .squaredEuclidean, patterns: patterns))
      case .dotProduct: AnyVectorMemory.dot(try Memory(divergence: .dotProduct, patterns: patterns))
      }
    }
    return try attributing("--beta") {
      switch memory {
      case .squared(let memory):
        AnyRetrievalEngine(
          try RetrievalEngine(
            memory: memory, separation: separation.map, geometry: geometry, beta: beta, stopping: stopping))
      case .dot(let memory):
        AnyRetrievalEngine(
          try RetrievalEngine(
            memory: memory, separation: separation.map, geometry: geometry, beta: beta, stopping: stopping))
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
    help: "Stop when no coordinate moves by more than this in one step (and the energy is stable).")
  var tolerance: Double = 1e-9

  @Option(
    parsing: .unconditional,
    help: "Stop only when the energy changes by at most this, relative to max(1, |E|).")
  var energyTolerance: Double = 1e-12

  func rule() throws(CLIError) -> StoppingRule {
    try attributing("--max-steps") {
      do {
        return try StoppingRule(
          maxSteps: maxSteps, energyTolerance: energyTolerance, positionTolerance: tolerance)
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
