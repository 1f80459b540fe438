/// The indices of `keys` by increasing key, equal keys in index order (a stable argsort), the
/// order of `keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }`.
/// `keys` must not contain NaN; `-0.0` and `0.0` are equal keys.
///
/// Retrieval sorts a score or bound per stored pattern at every step; with 100,000 patterns the
/// standard library's merge sort through an index-comparing closure took about 40% of a pruned
/// step. Above a small size this is a least-significant-digit radix sort on the keys' bits,
/// mapped to unsigned integers that order as the doubles do: eight passes of one byte, a pass
/// skipped when every key has the same byte there. Radix sorting is stable, so ties keep index
/// order.
func _stableArgsort(_ keys: [Double]) -> [Int] {
  let n = keys.count
  if n < 512 {
    return keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
  }
  var bits = [UInt64](repeating: 0, count: n)
  var order = [Int](repeating: 0, count: n)
  keys.withUnsafeBufferPointer { keys in
    bits.withUnsafeMutableBufferPointer { bits in
      for i in 0..<n {
        // `+ 0` turns -0.0 into 0.0; then negative keys are flipped whole (larger magnitude,
        // smaller key) and non-negative ones get the top bit, above every negative key.
        let pattern = (keys[i] + 0).bitPattern
        bits[i] = pattern >> 63 == 1 ? ~pattern : pattern | (1 << 63)
      }
    }
  }
  for i in 0..<n { order[i] = i }
  var spareBits = [UInt64](repeating: 0, count: n)
  var spareOrder = [Int](repeating: 0, count: n)
  var counts = [Int](repeating: 0, count: 256)
  for pass in 0..<8 {
    let shift = UInt64(8 * pass)
    let moved: Bool = bits.withUnsafeMutableBufferPointer { bits in
      order.withUnsafeMutableBufferPointer { order in
        spareBits.withUnsafeMutableBufferPointer { spareBits in
          spareOrder.withUnsafeMutableBufferPointer { spareOrder in
            counts.withUnsafeMutableBufferPointer { counts in
              for digit in 0..<256 { counts[digit] = 0 }
              for i in 0..<n { counts[Int(truncatingIfNeeded: (bits[i] >> shift) & 255)] += 1 }
              for digit in 0..<256 where counts[digit] == n { return false }
              var offset = 0
              for digit in 0..<256 {
                let count = counts[digit]
                counts[digit] = offset
                offset += count
              }
              for i in 0..<n {
                let digit = Int(truncatingIfNeeded: (bits[i] >> shift) & 255)
                let position = counts[digit]
                counts[digit] = position + 1
                spareBits[position] = bits[i]
                spareOrder[position] = order[i]
              }
              return true
            }
          }
        }
      }
    }
    if moved {
      swap(&bits, &spareBits)
      swap(&order, &spareOrder)
    }
  }
  return order
}
