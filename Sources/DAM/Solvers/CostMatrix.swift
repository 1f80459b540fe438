import CDAMKernels
import CLinearAlgebra

/// The cost matrix `Cⱼₖ = c(xⱼ, yₖ)` between two sets of points, computed on demand row block by
/// row block, so that solvers need not hold an `n x m` matrix.
///
/// For the squared Euclidean cost (the default) up to ``directCostDimension`` coordinates the
/// differences are formed explicitly (exact to round-off in each term). Above it, a block is
/// `‖xⱼ‖² + ‖yₖ‖² - 2 xⱼ·yₖ` with the products from one BLAS `dgemm` (as POT, GeomLoss and
/// OTT-JAX compute it): `O(n m d)` at matrix-product speed, with an absolute error of a few ulps
/// of `‖xⱼ‖² + ‖yₖ‖²`; negative results of the cancellation are clamped to 0. Any other
/// ``Cost`` fills blocks with its own ``Cost/costs(from:rows:to:into:)``.
struct CostMatrix: Sendable {
  let rows: Int
  let columns: Int
  let dimension: Int
  /// An upper bound of the largest cost (from the bounding boxes of the two sets), the start of
  /// the ε annealing.
  let maximum: Double
  /// The ground cost when it is not the squared Euclidean one (whose paths are built in), and
  /// whether the matrix is its transpose (rows are the cost's second argument).
  let ground: (cost: any Cost, swapped: Bool)?
  /// For the built-in paths, the power `p` of `‖x - y‖ᵖ` (2 for the squared Euclidean cost): a
  /// block's squared distances are raised to `p/2`.
  let power: Double
  /// `x`, row-major `rows x dimension`.
  private let x: [Double]
  /// `y`, row-major `columns x dimension` (for the products) or coordinate-major
  /// `dimension x columns` (for the explicit differences, so that a row streams over `k`).
  private let y: [Double]
  private let xNorms: [Double]
  private let yNorms: [Double]
  /// The two point sets as given, for ``transposed()``.
  private let xPoints: Matrix
  private let yPoints: Matrix

  /// The cost `cost` from the rows of `xPoints` to those of `yPoints`.
  init(_ xPoints: Matrix, _ yPoints: Matrix, cost: any Cost = SquaredEuclideanCost()) {
    if cost is SquaredEuclideanCost {
      self.init(xPoints, yPoints, ground: nil, power: 2, maximum: nil)
    } else if let power = cost as? PowerCost {
      self.init(xPoints, yPoints, ground: nil, power: power.power, maximum: nil)
    } else {
      self.init(xPoints, yPoints, ground: (cost, false), power: 2, maximum: nil)
    }
  }

  /// `maximum`, when given, is the bound already found for the same pairs (the transpose's): a
  /// cost without a closed-form bound (``Cost/largestCost(_:_:)``'s default) pays a pass over
  /// every pair for it.
  private init(
    _ xPoints: Matrix, _ yPoints: Matrix, ground: (cost: any Cost, swapped: Bool)?, power: Double,
    maximum known: Double?
  ) {
    let n = xPoints.rows
    let m = yPoints.rows
    let d = xPoints.columns
    rows = n
    columns = m
    dimension = d
    self.xPoints = xPoints
    self.yPoints = yPoints
    self.ground = ground
    self.power = power
    x = xPoints.elements
    if let ground {
      maximum =
        known
        ?? (ground.swapped
          ? ground.cost.largestCost(yPoints, xPoints) : ground.cost.largestCost(xPoints, yPoints))
      y = []
      xNorms = []
      yNorms = []
      return
    }
    maximum = known ?? Self.raise(squaredReach(xPoints, yPoints), power: power)
    if d > directCostDimension {
      y = yPoints.elements
      xNorms = (0..<n).map { j in
        (0..<d).reduce(0.0) { $0 + xPoints.elements[j * d + $1] * xPoints.elements[j * d + $1] }
      }
      yNorms = (0..<m).map { k in
        (0..<d).reduce(0.0) { $0 + yPoints.elements[k * d + $1] * yPoints.elements[k * d + $1] }
      }
    } else {
      var coordinates = [Double](repeating: 0, count: d * m)
      for k in 0..<m {
        for t in 0..<d { coordinates[t * m + k] = yPoints.elements[k * d + t] }
      }
      y = coordinates
      xNorms = []
      yNorms = []
    }
  }

  /// `s^(p/2)` for a squared distance `s` (exact for `p = 1` and `p = 2`).
  @inline(__always)
  static func raise(_ s: Double, power: Double) -> Double {
    switch power {
    case 2: s
    case 1: s.squareRoot()
    default: _pow(s, power / 2)
    }
  }

  /// Writes the rows `range` of the cost, row-major (`range.count x columns`), to `out`.
  func fill(rows range: Range<Int>, into out: UnsafeMutablePointer<Double>) {
    fillSquaredOrGround(rows: range, into: out)
    guard ground == nil, power != 2 else { return }
    for i in 0..<(range.count * columns) { out[i] = Self.raise(out[i], power: power) }
  }

  private func fillSquaredOrGround(rows range: Range<Int>, into out: UnsafeMutablePointer<Double>) {
    let m = columns
    let d = dimension
    guard !range.isEmpty, m > 0 else { return }
    if let ground {
      guard ground.swapped else {
        ground.cost.costs(from: xPoints, rows: range, to: yPoints, into: out)
        return
      }
      // Rows are the cost's second argument: Cᵀ[k, j] = c(y_j, x_k) for the sets as given.
      xPoints._elements.withUnsafeBufferPointer { px in
        yPoints._elements.withUnsafeBufferPointer { py in
          for (row, k) in range.enumerated() {
            let xk = UnsafeBufferPointer(rebasing: px[(k * d)..<((k + 1) * d)])
            for j in 0..<m {
              out[row * m + j] = ground.cost.cost(
                UnsafeBufferPointer(rebasing: py[(j * d)..<((j + 1) * d)]), xk)
            }
          }
        }
      }
      return
    }
    if d > directCostDimension {
      x.withUnsafeBufferPointer { px in
        y.withUnsafeBufferPointer { py in
          cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(range.count), Int32(m), Int32(d), -2,
            px.baseAddress! + range.lowerBound * d, Int32(d), py.baseAddress, Int32(d), 0, out, Int32(m))
        }
      }
      yNorms.withUnsafeBufferPointer { yn in
        for (row, j) in range.enumerated() {
          let xj = xNorms[j]
          let line = out + row * m
          for k in 0..<m { line[k] = max(0, line[k] + xj + yn[k]) }
        }
      }
      return
    }
    x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        for (row, j) in range.enumerated() {
          let line = out + row * m
          for k in 0..<m { line[k] = 0 }
          for t in 0..<d {
            let xjt = px[j * d + t]
            let coordinate = py.baseAddress! + t * m
            for k in 0..<m {
              let difference = xjt - coordinate[k]
              line[k] += difference * difference
            }
          }
        }
      }
    }
  }

  /// The soft-minimum of the rows `range` (see ``cTransform(_:epsilon:logWeights:potential:into:)``)
  /// into `out[0 ..< range.count]`, in the vectorised C kernels: up to ``directCostDimension``
  /// the cost is formed inside the kernel, above it a block is filled by `dgemm` first. `scratch`
  /// holds `range.count x columns` doubles.
  func softmin(
    rows range: Range<Int>, logWeights: [Double], potential: [Double], epsilon: Double,
    into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
  ) {
    guard !range.isEmpty else { return }
    guard columns > 0 else {
      for j in 0..<range.count { out[j] = .infinity }
      return
    }
    if ground != nil || power != 2 || dimension > directCostDimension {
      fill(rows: range, into: scratch)
      dam_softmin_cost(scratch, range.count, columns, logWeights, potential, epsilon, out)
    } else {
      x.withUnsafeBufferPointer { px in
        y.withUnsafeBufferPointer { py in
          dam_softmin_points(
            px.baseAddress! + range.lowerBound * dimension, dimension, py.baseAddress!, range.count, columns,
            logWeights, potential, epsilon, out, scratch)
        }
      }
    }
  }

  /// The transpose, `Cᵀ[k, j] = c(xⱼ, yₖ)`, rows over `y`.
  func transposed() -> CostMatrix {
    CostMatrix(
      yPoints, xPoints, ground: ground.map { ($0.cost, !$0.swapped) }, power: power, maximum: maximum)
  }

  /// The whole cost, row-major `rows x columns`.
  func materialized() -> [Double] {
    var cost = [Double](repeating: 0, count: rows * columns)
    cost.withUnsafeMutableBufferPointer { fill(rows: 0..<rows, into: $0.baseAddress!) }
    return cost
  }
}

/// Up to this dimension costs are formed from explicit differences; above it through a matrix
/// product (see ``CostMatrix``).
let directCostDimension = 8

/// `out[j] = -ε log Σₖ exp(logWeights[k] + (potential[k] - C[j, k]) / ε)` for every row `j`,
/// with the cost formed on the fly a block of rows at a time (memory `O(rows + columns)` plus one
/// block per core), rows spread over the cores. Each row is computed by one thread in a fixed
/// order, so the result does not depend on the thread count. With a `budget` whose time limit has
/// passed, the remaining blocks are skipped (their rows keep their old values); only a caller that
/// checks the budget right after may pass one (``DenseSoftmin``).
func cTransform(
  _ cost: CostMatrix, epsilon: Double, logWeights: [Double], potential: [Double], into out: inout [Double],
  budget: WorkBudget? = nil
) {
  let n = cost.rows
  let m = cost.columns
  let blockRows = max(1, min(64, (1 << 16) / max(m, 1)))
  let blockCount = (n + blockRows - 1) / blockRows
  let workers = parallelBlockCount(rows: blockCount, work: n * m)
  out.withUnsafeMutableBufferPointer { result in
    let result = SendablePointer(result)
    forEachChunk(workers, workers: workers) { worker in
      var scratch = [Double](repeating: 0, count: blockRows * max(m, 1))
      scratch.withUnsafeMutableBufferPointer { scratch in
        var block = worker
        while block < blockCount {
          if let budget, budget.pastDeadline() { return }
          let lower = block * blockRows
          let upper = min(lower + blockRows, n)
          cost.softmin(
            rows: lower..<upper, logWeights: logWeights, potential: potential, epsilon: epsilon,
            into: result.base.baseAddress! + lower, scratch: scratch.baseAddress!)
          block += workers
        }
      }
    }
  }
}

/// `out[j] = -ε log Σₖ exp(logWeights[k] + (potential[k] - C[j, k]) / ε)` for every row `j` of a
/// row-major `rows x columns` cost: the soft-minimum (c-transform) of a potential.
func cTransform(
  _ cost: [Double], rows: Int, columns: Int, epsilon: Double, logWeights: [Double], potential: [Double],
  into out: inout [Double]
) {
  let inverse = 1 / epsilon
  var h = [Double](repeating: 0, count: columns)
  cost.withUnsafeBufferPointer { c in
    logWeights.withUnsafeBufferPointer { lw in
      potential.withUnsafeBufferPointer { p in
        h.withUnsafeMutableBufferPointer { h in
          for j in 0..<rows {
            let row = j * columns
            var largest = -Double.infinity
            for k in 0..<columns {
              let value = lw[k] + (p[k] - c[row + k]) * inverse
              h[k] = value
              if value > largest { largest = value }
            }
            var sum = 0.0
            for k in 0..<columns { sum += _exp(h[k] - largest) }
            out[j] = -epsilon * (largest + _log(sum))
          }
        }
      }
    }
  }
}
