/// `log Σ exp(xᵢ)`, computed without overflow or underflow by shifting by the maximum.
///
/// Entries equal to `-∞` contribute nothing (they are masked); if every entry is `-∞`, or the
/// collection is empty, the result is `-∞`. An entry equal to `+∞` gives `+∞`. NaN propagates.
@inlinable
public func logSumExp<C: Collection>(_ values: C) -> Double where C.Element == Double {
  var largest = -Double.infinity
  for value in values {
    if value.isNaN { return .nan }
    if value > largest { largest = value }
  }
  guard largest.isFinite else { return largest }
  var sum = 0.0
  for value in values { sum += _exp(value - largest) }
  return largest + _log(sum)
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

@usableFromInline @inline(__always)
func _exp(_ x: Double) -> Double { exp(x) }

@usableFromInline @inline(__always)
func _log(_ x: Double) -> Double { log(x) }

@usableFromInline @inline(__always)
func _cos(_ x: Double) -> Double { cos(x) }

@usableFromInline @inline(__always)
func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

@usableFromInline @inline(__always)
func _expm1(_ x: Double) -> Double { expm1(x) }

@usableFromInline @inline(__always)
func _log1p(_ x: Double) -> Double { log1p(x) }
