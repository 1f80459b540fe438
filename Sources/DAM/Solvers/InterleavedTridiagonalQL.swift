import CLinearAlgebra

// Σ √max(λ, 0) over the eigenvalues of several symmetric tridiagonal matrices at once: the
// Bures term of W₂² needs this sum, not the eigenvalues one by one.
//
// The eigenvalues come from the Pal-Walker-Kahan root-free QL iteration, the algorithm of LAPACK
// `dsterf` (same shift, same deflation test, same 2 x 2 formula). One sweep of it is a chain of
// dependent divisions, so one matrix at a time keeps the divider waiting on latency (about half a
// distance at d = 50 went there). Here the sweeps of several independent matrices advance one
// element each in turn, and the processor overlaps their chains. The arithmetic of every matrix is
// exactly that of running it alone: the result does not depend on which matrices share a batch.

/// State of one matrix's QL iteration in ``sumsOfRootEigenvalues(_:_:_:count:sums:)``.
private struct QLLane {
  /// The first row not yet converged; the matrix is done when `l == n`.
  var l = 0
  /// The last row of the unreduced block of the current sweep.
  var m = 0
  /// The next row of the current sweep (it runs from `m - 1` down to `l`); `-1` between sweeps.
  var i = -1
  var sigma = 0.0
  var c = 0.0
  var s = 0.0
  var gamma = 0.0
  var p = 0.0
  var iterations = 0
  var finished = false
  var failed = false
}

/// For each of `count` symmetric tridiagonal `n x n` matrices, `Σ √max(λ, 0)` over its
/// eigenvalues, into `sums`. Matrix `k` has its diagonal at `diagonals[k n ..< (k + 1) n]` and its
/// off-diagonal at `offDiagonals[k n ..< k n + n - 1]`; both are overwritten.
///
/// A matrix the interleaved iteration does not handle (entries outside the range where squares
/// neither overflow nor underflow, which `dsterf` rescales; or no convergence in `30 n` sweeps)
/// is solved again from a copy of its input by LAPACK `dsterf`. Returns `dsterf`'s `info` for the
/// first matrix where it also fails, 0 otherwise.
func sumsOfRootEigenvalues(
  _ diagonals: UnsafeMutablePointer<Double>, _ offDiagonals: UnsafeMutablePointer<Double>, _ n: Int,
  count: Int, sums: UnsafeMutablePointer<Double>
) -> Int32 {
  guard n > 0, count > 0 else { return 0 }
  let originalDiagonals = Array(UnsafeBufferPointer(start: diagonals, count: count * n))
  let originalOffDiagonals = Array(UnsafeBufferPointer(start: offDiagonals, count: count * n))
  // dsterf's constants: eps the relative machine precision; squares of entries in
  // [safeMinimum, safeMaximum] neither overflow nor lose accuracy to underflow.
  let eps = Double.ulpOfOne / 2
  let eps2 = eps * eps
  let safeMinimum = Double.leastNormalMagnitude.squareRoot() / eps2
  let safeMaximum = Double.greatestFiniteMagnitude.squareRoot() / 3
  let maximumIterations = 30 * n
  var lanes = [QLLane](repeating: QLLane(), count: count)
  var remaining = 0
  for k in 0..<count {
    let d = diagonals + k * n
    let e = offDiagonals + k * n
    var norm = 0.0
    for r in 0..<n { norm = max(norm, abs(d[r])) }
    for r in 0..<(n - 1) { norm = max(norm, abs(e[r])) }
    if !(norm >= safeMinimum && norm <= safeMaximum) {
      lanes[k].failed = true
      continue
    }
    // The iteration works on squared off-diagonals.
    for r in 0..<(n - 1) { e[r] *= e[r] }
    remaining += 1
  }
  lanes.withUnsafeMutableBufferPointer { lanes in
    while remaining > 0 {
      for k in 0..<count where !lanes[k].finished && !lanes[k].failed {
        let d = diagonals + k * n
        let e = offDiagonals + k * n
        if lanes[k].i >= lanes[k].l {
          // One element of the sweep (dsterf's inner QL loop).
          var lane = lanes[k]
          let i = lane.i
          let bb = e[i]
          let r = lane.p + bb
          if i != lane.m - 1 { e[i + 1] = lane.s * r }
          let oldC = lane.c
          lane.c = lane.p / r
          lane.s = bb / r
          let oldGamma = lane.gamma
          let alpha = d[i]
          lane.gamma = lane.c * (alpha - lane.sigma) - lane.s * oldGamma
          d[i + 1] = oldGamma + (alpha - lane.gamma)
          lane.p = lane.c != 0 ? (lane.gamma * lane.gamma) / lane.c : oldC * bb
          lane.i = i - 1
          if lane.i < lane.l {
            e[lane.l] = lane.s * lane.p
            d[lane.l] = lane.sigma + lane.gamma
            lane.i = -1
          }
          lanes[k] = lane
          continue
        }
        // Between sweeps: deflate converged rows, solve 2 x 2 blocks, or start the next sweep.
        if startSweep(&lanes[k], d, e, n, eps2: eps2, maximumIterations: maximumIterations) {
          continue
        }
        remaining -= 1
      }
    }
  }
  var info: Int32 = 0
  for k in 0..<count {
    let d = diagonals + k * n
    if lanes[k].failed {
      var diagonal = Array(originalDiagonals[(k * n)..<((k + 1) * n)])
      var offDiagonal = Array(originalOffDiagonals[(k * n)..<((k + 1) * n)])
      let status = diagonal.withUnsafeMutableBufferPointer { dd in
        offDiagonal.withUnsafeMutableBufferPointer { ee in
          LAPACKE_dsterf(Int32(n), dd.baseAddress, ee.baseAddress)
        }
      }
      if status != 0 {
        if info == 0 { info = status }
        sums[k] = .nan
        continue
      }
      for r in 0..<n { d[r] = diagonal[r] }
    }
    var sum = 0.0
    for r in 0..<n where d[r] > 0 { sum += d[r].squareRoot() }
    sums[k] = sum
  }
  return info
}

/// dsterf's control between two QL sweeps, for one matrix: finds the unreduced block starting at
/// row `l`, takes converged 1 x 1 and 2 x 2 blocks off it, and sets up the shifted sweep of the
/// rest. Returns false when the matrix is finished or failed (too many sweeps).
private func startSweep(
  _ lane: inout QLLane, _ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, _ n: Int,
  eps2: Double, maximumIterations: Int
) -> Bool {
  let last = n - 1
  while lane.l <= last {
    let l = lane.l
    var m = last
    if l != last {
      for candidate in l..<last where abs(e[candidate]) <= eps2 * abs(d[candidate] * d[candidate + 1]) {
        m = candidate
        break
      }
    }
    if m < last { e[m] = 0 }
    let p = d[l]
    if m == l {
      lane.l = l + 1
      continue
    }
    if m == l + 1 {
      let (first, second) = symmetric2x2Eigenvalues(a: p, b: e[l].squareRoot(), c: d[l + 1])
      d[l] = first
      d[l + 1] = second
      e[l] = 0
      lane.l = l + 2
      continue
    }
    guard lane.iterations < maximumIterations else {
      lane.failed = true
      return false
    }
    lane.iterations += 1
    // The shift: the eigenvalue of the leading 2 x 2 block closer to d[l].
    let rte = e[l].squareRoot()
    var sigma = (d[l + 1] - p) / (2 * rte)
    let r = unitHypotenuse(sigma)
    sigma = p - rte / (sigma + (sigma >= 0 ? r : -r))
    lane.sigma = sigma
    lane.c = 1
    lane.s = 0
    lane.gamma = d[m] - sigma
    lane.p = lane.gamma * lane.gamma
    lane.m = m
    lane.i = m - 1
    return true
  }
  lane.finished = true
  return false
}

/// `√(x² + 1)` without overflow (LAPACK `dlapy2(x, 1)`).
@inline(__always)
private func unitHypotenuse(_ x: Double) -> Double {
  let magnitude = abs(x)
  if magnitude <= 1 { return (1 + magnitude * magnitude).squareRoot() }
  let ratio = 1 / magnitude
  return magnitude * (1 + ratio * ratio).squareRoot()
}

/// The eigenvalues of `[[a, b], [b, c]]`, larger in absolute value first (LAPACK `dlae2`).
func symmetric2x2Eigenvalues(a: Double, b: Double, c: Double) -> (Double, Double) {
  let sum = a + c
  let difference = a - c
  let absDifference = abs(difference)
  let twiceB = abs(b + b)
  let (larger, smaller) = abs(a) > abs(c) ? (a, c) : (c, a)
  let root: Double
  if absDifference > twiceB {
    let ratio = twiceB / absDifference
    root = absDifference * (1 + ratio * ratio).squareRoot()
  } else if absDifference < twiceB {
    let ratio = absDifference / twiceB
    root = twiceB * (1 + ratio * ratio).squareRoot()
  } else {
    root = twiceB * 2.0.squareRoot()
  }
  if sum < 0 {
    let first = 0.5 * (sum - root)
    return (first, (larger / first) * smaller - (b / first) * b)
  } else if sum > 0 {
    let first = 0.5 * (sum + root)
    return (first, (larger / first) * smaller - (b / first) * b)
  }
  return (0.5 * root, -0.5 * root)
}
