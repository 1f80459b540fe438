/// The Gibbs kernel of a regular grid in the log domain, as separable 1-D passes:
///
///     out_j = log Σₖ exp(hₖ - ‖zⱼ - zₖ‖²/ε)
///
/// computed as one 1-D log-sum-exp convolution per axis (the cost is a sum over axes, so the
/// kernel is a product). No value is ever exponentiated outside `[-660, 0]` relative to its line's
/// maximum, so nothing under- or overflows at any ε.
///
/// Each line (the cells along one axis with the other coordinates fixed) is done in one of two
/// ways, both exact up to round-off:
/// - *scaled*: if the finite values of the line span at most ``scaledRange`` (660), the line is
///   shifted by its maximum, exponentiated once per cell (every value then lies in
///   `[e^-660, 1]`, normal doubles) and multiplied by the 1-D kernel matrix. All terms are
///   non-negative, so every output keeps its relative accuracy (about `n × 1e-16`); kernel entries
///   that underflow (below `e^-708`) drop terms at most `e^-48` times the output, which is
///   at least the diagonal term `e^-660`. Outputs below `e^-650` (cells without mass far from all
///   mass) are recomputed exactly.
/// - *exact*: otherwise, every output is a shifted log-sum-exp over the line (one `exp` per term).
struct SeparableLogConvolution: Sendable {
  let shape: [Int]
  /// Per axis, `(h d)²/ε` for `d = 0 ..< n`.
  let exponents: [[Double]]
  /// Per axis, the `n x n` kernel matrix `exp(-(h (i - i'))²/ε)`, row-major.
  let kernels: [[Double]]
  /// False when the construction gave up under its budget (the matrices are incomplete).
  let complete: Bool

  /// The kernel; with a `budget`, its construction polls the time limit every `2^14` entries
  /// or so and gives up once it has passed (``complete`` false).
  init(shape: [Int], spacing: [Double], epsilon: Double, budget: WorkBudget? = nil) {
    self.shape = shape
    var exponents: [[Double]] = []
    var kernels: [[Double]] = []
    var complete = true
    axes: for axis in 0..<3 {
      let n = shape[axis]
      let h = spacing[axis]
      let e = (0..<n).map { d -> Double in
        let x = h * Double(d)
        return x * x / epsilon
      }
      // Rows are written as they are computed (no zero-fill first: at n = 20,000 that alone is
      // 3.2 GB of page faults, seconds before the first poll); a construction that gives up
      // leaves a shorter array, never used.
      let pollRows = max(1, (1 << 14) / max(n, 1))
      let k = [Double](unsafeUninitializedCapacity: n * n) { k, count in
        for i in 0..<n {
          if let budget, i % pollRows == 0, budget.pastDeadline() {
            complete = false
            return
          }
          for j in 0..<n { (k.baseAddress! + i * n + j).initialize(to: _exp(-e[abs(i - j)])) }
          count = (i + 1) * n
        }
      }
      guard complete else { break axes }
      exponents.append(e)
      kernels.append(k)
    }
    self.exponents = exponents
    self.kernels = kernels
    self.complete = complete
  }

  /// `output_j = log Σₖ exp(input_k - C_jk/ε)`; `-∞` inputs are masked cells. `buffer` is
  /// scratch of at least `shape` cells. With a `budget`, the passes poll its time limit every
  /// `2^14` terms or so and give up once it has passed: the result is then false and `output`
  /// unspecified.
  @discardableResult
  func apply(
    _ input: [Double], into output: inout [Double], buffer: inout [Double], budget: WorkBudget? = nil
  )
    -> Bool
  {
    output = input
    for axis in (0..<3).reversed() where shape[axis] > 1 {
      guard pass(axis: axis, &output, scratch: &buffer, budget: budget) else { return false }
    }
    return true
  }

  private func pass(axis: Int, _ values: inout [Double], scratch: inout [Double], budget: WorkBudget?) -> Bool
  {
    let n = shape[axis]
    let stride = shape[(axis + 1)...].reduce(1, *)
    let outer = shape[..<axis].reduce(1, *)
    var line = [Double](repeating: 0, count: n)
    var scaled = [Double](repeating: 0, count: n)
    var result = [Double](repeating: 0, count: n)
    let kernel = kernels[axis]
    let exponent = exponents[axis]
    // Lines between two polls of the budget: about 2^14 terms (a line is up to n² terms).
    let pollLines = max(1, (1 << 14) / max(n * n, 1))
    for o in 0..<outer {
      for s in 0..<stride {
        if let budget, (o * stride + s) % pollLines == 0, budget.pastDeadline() { return false }
        let base = o * n * stride + s
        var largest = -Double.infinity
        var smallest = Double.infinity
        for i in 0..<n {
          let v = values[base + i * stride]
          line[i] = v
          if v > largest { largest = v }
          if v > -.infinity && v < smallest { smallest = v }
        }
        if largest == -.infinity { continue }  // a line without mass stays -inf
        if largest - smallest <= scaledRange {
          for i in 0..<n { scaled[i] = _exp(line[i] - largest) }
          kernel.withUnsafeBufferPointer { k in
            for i in 0..<n {
              var sum = 0.0
              let row = k.baseAddress! + i * n
              for j in 0..<n { sum += row[j] * scaled[j] }
              result[i] = sum
            }
          }
          for i in 0..<n {
            if result[i] > scaledFloor {
              result[i] = largest + _log(result[i])
            } else {
              result[i] = exactLine(line, i, exponent)
            }
          }
        } else {
          for i in 0..<n { result[i] = exactLine(line, i, exponent) }
        }
        for i in 0..<n { values[base + i * stride] = result[i] }
      }
    }
    return true
  }
}

/// The largest span of finite log-values in a line for which the scaled (exponentiated) pass is
/// used: `e^-660` is a normal double with room for the kernel's factors; see
/// ``SeparableLogConvolution``.
let scaledRange = 660.0

/// Scaled outputs below this (`e^-650`) are recomputed exactly.
let scaledFloor = 1e-282

/// `log Σ_{i'} exp(line[i'] - exponent[|i - i'|])`, shifted by its largest term.
@inline(__always)
func exactLine(_ line: [Double], _ i: Int, _ exponent: [Double]) -> Double {
  let n = line.count
  var largest = -Double.infinity
  for j in 0..<n {
    let t = line[j] - exponent[abs(i - j)]
    if t > largest { largest = t }
  }
  if largest == -.infinity { return largest }
  var sum = 0.0
  for j in 0..<n { sum += _exp(line[j] - exponent[abs(i - j)] - largest) }
  return largest + _log(sum)
}
