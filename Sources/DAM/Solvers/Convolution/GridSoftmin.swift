/// The grid's soft-minimum by convolution, for the log-domain schemes: the kernel at each ε
/// (backend resolved per ε, shared through ``GridKernelCache``) and one solve's scratch. The
/// cost is symmetric, so rows and columns are updated alike. Not shared between threads.
///
/// Under a work budget, building a large kernel and the log-domain passes of a large grid poll
/// its time limit and give up their rest once it has passed; the soft-minimum then throws the
/// budget's error instead of returning values built from skipped work.
final class GridSoftmin: SoftminOperator {
  private let problem: GridProblem
  private let backend: GridKernelBackend
  private let workspace: GridKernel.Workspace
  private var current: GridKernel?

  init(_ problem: GridProblem, backend: GridKernelBackend) {
    self.problem = problem
    self.backend = backend
    workspace = GridKernel.Workspace(cells: problem.cells)
  }

  var rows: Int { problem.cells }
  var columns: Int { problem.cells }

  private func kernel(_ epsilon: Double) throws(DAMError) -> GridKernel {
    if let current, current.epsilon == epsilon { return current }
    let kernel = try problem.kernel(epsilon, backend)
    current = kernel
    return kernel
  }

  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double])
    throws(DAMError)
  {
    let kernel = try kernel(epsilon)
    let budget = problem.pollingBudget()
    guard
      kernel.softmin(
        logWeights: logWeights, potential: potential, into: &out, workspace: workspace, budget: budget)
    else {
      try problem.budgetRanOut(budget, "a log-domain convolution at epsilon \(epsilon)")
    }
  }

  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double])
    throws(DAMError)
  {
    try softminRows(epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out)
  }
}
