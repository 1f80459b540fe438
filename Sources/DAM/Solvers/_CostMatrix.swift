/// The squared-distance cost `Cⱼₖ = ‖xⱼ - yₖ‖²` between two sets of points, with its transpose,
/// both row-major, so that row and column soft-minima stream through contiguous memory.
struct _CostMatrix: Sendable {
  let rows: Int
  let columns: Int
  let cost: [Double]
  let transposed: [Double]
  let maximum: Double

  init(_ x: Matrix, _ y: Matrix) {
    let n = x.rows
    let m = y.rows
    let d = x.columns
    var cost = [Double](repeating: 0, count: n * m)
    var transposed = [Double](repeating: 0, count: n * m)
    var maximum = 0.0
    x.elements.withUnsafeBufferPointer { px in
      y.elements.withUnsafeBufferPointer { py in
        for j in 0..<n {
          let xj = UnsafeBufferPointer(rebasing: px[(j * d)..<((j + 1) * d)])
          for k in 0..<m {
            let c = _squaredDistance(xj, UnsafeBufferPointer(rebasing: py[(k * d)..<((k + 1) * d)]))
            cost[j * m + k] = c
            transposed[k * n + j] = c
            maximum = max(maximum, c)
          }
        }
      }
    }
    self.rows = n
    self.columns = m
    self.cost = cost
    self.transposed = transposed
    self.maximum = maximum
  }
}

/// `out[j] = -ε log Σₖ exp(logWeights[k] + (potential[k] - C[j, k]) / ε)` for every row `j` of a
/// row-major `rows x columns` cost: the soft-minimum (c-transform) of a potential.
func _softmin(
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
