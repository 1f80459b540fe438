/// The dense cost between two point sets, formed on the fly a block of rows at a time.
struct DenseSoftmin: SoftminOperator {
  let cost: CostMatrix
  /// The cost from the columns to the rows, for the column updates (`nil` for a symmetric problem,
  /// which only updates rows).
  let transposed: CostMatrix?

  init(_ cost: CostMatrix, symmetric: Bool = false) {
    self.cost = cost
    transposed = symmetric ? nil : cost.transposed()
  }

  var rows: Int { cost.rows }
  var columns: Int { cost.columns }

  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    cTransform(cost, epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out)
  }

  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    cTransform(transposed ?? cost, epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out)
  }
}
