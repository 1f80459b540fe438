/// The grid's soft-minimum by convolution, for the log-domain schemes: the kernel at each ε
/// (backend resolved per ε, shared through ``GridKernelCache``) and one solve's scratch. The
/// cost is symmetric, so rows and columns are updated alike. Not shared between threads.
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

  private func kernel(_ epsilon: Double) -> GridKernel {
    if let current, current.epsilon == epsilon { return current }
    let kernel = problem.kernel(epsilon, backend)
    current = kernel
    return kernel
  }

  func softminRows(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    kernel(epsilon).softmin(logWeights: logWeights, potential: potential, into: &out, workspace: workspace)
  }

  func softminColumns(epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double]) {
    softminRows(epsilon: epsilon, logWeights: logWeights, potential: potential, into: &out)
  }
}
