// The README's library sample, verbatim (DocsCoverageTests checks that it is here, as it checks
// the guides' samples); ReadmeExampleTests in DAMTests checks the same calls' results in detail.
// Not run through `swift format`, which would re-wrap the README's lines.

import DAM
import Testing

/// The README's sample as a function: what it prints, returned for the test below.
func readmeSample() throws -> (nearest: Int, stop: StopReason, energies: [Double], batch: [Int]) {
  // Three stored patterns in R^3 and a noisy copy of the second.
  let memory = try Memory(divergence: .squaredEuclidean, patterns: [
    [1, 0, 0], [0, 1, 0], [0, 0, 1],
  ])
  let engine = try RetrievalEngine(
    memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: 8)
  let result = try engine.retrieve([0.1, 0.8, 0.05])
  print(result.nearestPattern)  // 1
  print(result.stopReason)      // converged
  print(result.energies)        // the initial energy, then one per step, never increasing

  // A batch moves together (one matrix product per step for all queries); each result is the one
  // its query gets alone.
  let results = try engine.retrieve(batch: [[0.9, 0.1, 0], [0, 0.2, 0.7]])
  print(results.map(\.nearestPattern))  // [0, 2]
  return (result.nearestPattern, result.stopReason, result.energies, results.map(\.nearestPattern))
}

struct ReadmeSampleTests {
  /// The values the sample's comments state: pattern 1, converged, the initial energy and one per
  /// step never increasing, and the batch's patterns [0, 2].
  @Test func readmeSamplePrintsWhatItsCommentsSay() throws {
    let sample = try readmeSample()
    #expect(sample.nearest == 1)
    #expect(sample.stop == .converged)
    #expect(sample.energies.count >= 2)
    for (before, after) in zip(sample.energies, sample.energies.dropFirst()) {
      #expect(after <= before + 1e-12)
    }
    #expect(sample.batch == [0, 2])
  }
}
