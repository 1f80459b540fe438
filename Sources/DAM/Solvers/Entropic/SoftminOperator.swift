/// The soft-minimum (c-transform) of a potential through a cost `C` between `rows` and `columns`
/// atoms, the operator of the log-domain schemes: implemented by the dense cost formed on the fly
/// (``CostMatrix``) and by the grid's convolutions (``GridSoftmin``).
protocol SoftminOperator {
  var rows: Int { get }
  var columns: Int { get }
  /// `out_j = -ε log Σₖ exp(logWeights_k + (potential_k - C_jk)/ε)` for every row `j`: the row
  /// potential's update from the column potential. Atoms of weight zero (`logWeights = -∞`)
  /// contribute nothing. Throws only the work budget's error (see ``GridSoftmin``).
  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double])
    throws(DAMError)
  /// The same over the rows, for every column `k`: the column potential's update.
  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double])
    throws(DAMError)
}
