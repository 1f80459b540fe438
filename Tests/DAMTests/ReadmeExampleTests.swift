import DAM
import Testing

/// The README's library example, compiled and checked here so that it cannot rot.
struct ReadmeExampleTests {
  @Test func readmeExampleWorksAsPrinted() throws {
    // Three stored patterns in R^3 and a noisy copy of the second.
    let memory = try Memory(
      divergence: .squaredEuclidean,
      patterns: [
        [1, 0, 0], [0, 1, 0], [0, 0, 1],
      ])
    let engine = try RetrievalEngine(
      memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: 8)
    let result = try engine.retrieve([0.1, 0.8, 0.05])
    #expect(result.nearestPattern == 1)
    #expect(result.stopReason == .converged)
    // The initial energy, then one per step.
    #expect(result.energies.count == result.steps + 1)
    for (before, after) in zip(result.energies, result.energies.dropFirst()) {
      #expect(after <= before + 1e-12)
    }

    // A batch moves together; each result is the one its query gets alone.
    let results = try engine.retrieve(batch: [[0.9, 0.1, 0], [0, 0.2, 0.7]])
    #expect(results.map(\.nearestPattern) == [0, 2])
    let alone = try engine.retrieve([0, 0.2, 0.7])
    #expect(zip(results[1].state, alone.state).allSatisfy { abs($0 - $1) <= 1e-12 })
  }
}
