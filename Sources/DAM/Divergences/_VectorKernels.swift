/// Dot product with four independent accumulators (lets the compiler vectorise).
@inlinable
func _dot(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) -> Double {
  let n = a.count
  var s0 = 0.0
  var s1 = 0.0
  var s2 = 0.0
  var s3 = 0.0
  var k = 0
  while k + 4 <= n {
    s0 += a[k] * b[k]
    s1 += a[k + 1] * b[k + 1]
    s2 += a[k + 2] * b[k + 2]
    s3 += a[k + 3] * b[k + 3]
    k += 4
  }
  while k < n {
    s0 += a[k] * b[k]
    k += 1
  }
  return (s0 + s1) + (s2 + s3)
}

/// `Σ (aₖ - bₖ)²` with four independent accumulators.
@inlinable
func _squaredDistance(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) -> Double {
  let n = a.count
  var s0 = 0.0
  var s1 = 0.0
  var s2 = 0.0
  var s3 = 0.0
  var k = 0
  while k + 4 <= n {
    let d0 = a[k] - b[k]
    let d1 = a[k + 1] - b[k + 1]
    let d2 = a[k + 2] - b[k + 2]
    let d3 = a[k + 3] - b[k + 3]
    s0 += d0 * d0
    s1 += d1 * d1
    s2 += d2 * d2
    s3 += d3 * d3
    k += 4
  }
  while k < n {
    let d = a[k] - b[k]
    s0 += d * d
    k += 1
  }
  return (s0 + s1) + (s2 + s3)
}
