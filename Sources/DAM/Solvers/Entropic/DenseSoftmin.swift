/// The dense cost between two point sets, formed on the fly a block of rows at a time.
struct DenseSoftmin: SoftminOperator {
  let cost: CostMatrix
  /// The cost from the columns to the rows, for the column updates (`nil` for a symmetric problem,
  /// which only updates rows).
  let transposed: CostMatrix?

  /// The work budget of a large problem, whose single iteration can take minutes: a soft-minimum
  /// stops taking blocks of rows once its time limit has passed, leaving the rest of its output
  /// as it was, and the loop's check after the iteration throws (``SinkhornLoop`` checks every
  /// iteration from this size on). Nil below `2^16` cost entries and without a budget.
  let budget: WorkBudget?

  init(_ cost: CostMatrix, symmetric: Bool = false) {
    self.cost = cost
    transposed = symmetric ? nil : cost.transposed()
    budget = cost.rows * cost.columns >= 1 << 16 ? currentBudget() : nil
  }

  var rows: Int { cost.rows }
  var columns: Int { cost.columns }

  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    cTransform(
      cost, epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out, budget: budget)
  }

  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    cTransform(
      transposed ?? cost, epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out,
      budget: budget)
  }
}
