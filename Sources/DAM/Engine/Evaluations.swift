/// One query's evaluations at one state, by pattern index: every pattern in order (an unpruned
/// snapshot, stored without an index array), or some patterns, in increasing index order once
/// sorted.
struct Evaluations<Evaluation: Sendable>: Sendable {
  /// The pattern indices, or `nil` for every pattern `0..<count` in order.
  private(set) var indices: [Int]?
  private(set) var evaluations: [Evaluation]
  /// The divergence of each evaluation.
  private(set) var values: [Double]

  /// No evaluation yet (to be appended to).
  init() {
    indices = []
    evaluations = []
    values = []
  }

  /// The evaluations of every pattern, in order.
  init(all evaluations: [Evaluation], values: [Double]) {
    indices = nil
    self.evaluations = evaluations
    self.values = values
  }

  var count: Int { evaluations.count }

  /// Whether every pattern is here, in order.
  var isAll: Bool { indices == nil }

  /// The pattern index of the `k`-th evaluation.
  func index(at k: Int) -> Int { indices?[k] ?? k }

  /// Adds evaluations of the given patterns (of a snapshot being pruned).
  mutating func append(_ newIndices: [Int], _ newEvaluations: [Evaluation], values newValues: [Double]) {
    if indices == nil { indices = Array(0..<evaluations.count) }
    indices! += newIndices
    evaluations += newEvaluations
    values += newValues
  }

  /// Puts the evaluations in index order (reductions over them run in pattern order).
  mutating func sortByIndex() {
    guard let indices, zip(indices, indices.dropFirst()).contains(where: { $0 > $1 }) else { return }
    let order = indices.indices.sorted { indices[$0] < indices[$1] }
    self.indices = order.map { indices[$0] }
    evaluations = order.map { evaluations[$0] }
    values = order.map { values[$0] }
  }

  /// The evaluation at a pattern index (after ``sortByIndex()``), or nil.
  subscript(index: Int) -> Evaluation? {
    guard let indices else { return index >= 0 && index < evaluations.count ? evaluations[index] : nil }
    let position = firstPosition(from: 0, to: indices.count) { indices[$0] >= index }
    return position < indices.count && indices[position] == index ? evaluations[position] : nil
  }
}
