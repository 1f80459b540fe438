import DAM
import Testing

/// The findings of the `retrieval` fuzz target (scripts/fuzz.sh), each reproduced through the
/// public API from the values of the input that found it (Docs/reliability.md, "Fuzzing").
struct FuzzFindingTests {
  /// 2026-12-07, input `oom-5908ee06`: the raw doubles of a fuzzed input put atoms of a 1-D
  /// cloud 1e222 to 1e290 apart, so the largest squared cost overflowed to infinity and the
  /// annealing schedule, halving infinity towards the target epsilon, grew until memory ran out
  /// (libFuzzer's out-of-memory report at 1.4 GB). The solve must end in an error instead.
  @Test func overflowingCostEndsInAnErrorNotAnEndlessSchedule() throws {
    let values = [
      2.1614099518128682e-299, -1.2621459885267602e+222, 1.4732812549584962e-255, -9.81827534854104e+235,
      2.5385677068822145e-260, 1.0939724205797536e-192, -6.604830624164077e+289, 5.9899974542755714e-241,
    ]
    let x = try PointCloud(points: Matrix(rows: 5, columns: 1, elements: Array(values[0..<5])))
    let y = try PointCloud(points: Matrix(rows: 5, columns: 1, elements: Array(values[3..<8])))
    let options = try SinkhornOptions(epsilon: 0.31622776601683794, tolerance: 1e-6, maxIterations: 100)
    #expect(throws: DAMError.self) { _ = try Sinkhorn.divergence(x, y, options: options) }
    #expect(throws: DAMError.self) { _ = try Sinkhorn.transport(from: x, to: y, options: options) }
  }
}
