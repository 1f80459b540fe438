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
@_spi(Testing) public func _stableArgsort(_ keys: [Double]) -> [Int] {
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

/// The first `count` indices of ``_stableArgsort(_:)``, without sorting the rest: the
/// `count`-th smallest key is found by quickselect on a copy, the indices up to it are gathered in
/// index order (the key's ties in index order too, until `count`), and only those are sorted.
///
/// A pruned retrieval step needs the patterns in bound order only up to where their bounds prove
/// the rest negligible, usually a few hundred of 100,000, so only those are sorted (what a full
/// sort cost a pruned step: Docs/performance.md, "No `O(N)` work that can be avoided").
@_spi(Testing) public func _stableArgsortPrefix(_ keys: [Double], count: Int) -> [Int] {
  let n = keys.count
  let count = min(max(count, 0), n)
  guard count > 0 else { return [] }
  // Sorting everything is as cheap for small inputs or long prefixes.
  guard n >= 4096, count <= n / 8 else { return Array(_stableArgsort(keys).prefix(count)) }
  let pivot = smallest(keys, rank: count - 1)
  var chosen: [Int] = []
  chosen.reserveCapacity(count)
  var ties = 0
  keys.withUnsafeBufferPointer { keys in
    for i in 0..<n where keys[i] < pivot { chosen.append(i) }
    ties = count - chosen.count
    for i in 0..<n where ties > 0 && keys[i] == pivot {
      chosen.append(i)
      ties -= 1
    }
  }
  // In index order but for the ties, which come last and are the largest keys: a stable sort of
  // the gathered keys keeps every tie in index order.
  let order = _stableArgsort(chosen.map { keys[$0] })
  return order.map { chosen[$0] }
}

/// The key of rank `rank` (0 = the smallest) of `keys`, which must not contain NaN: Hoare's
/// quickselect with a median-of-three pivot on a copy, falling back to sorting the remaining range
/// if the partitions shrink too slowly (so it never takes quadratic time).
func smallest(_ keys: [Double], rank: Int) -> Double {
  var values = keys
  return values.withUnsafeMutableBufferPointer { a -> Double in
    var low = 0
    var high = a.count - 1
    var rounds = 0
    let allowedRounds = 4 * (Int.bitWidth - a.count.leadingZeroBitCount) + 8
    while low < high {
      rounds += 1
      if rounds > allowedRounds {
        a[low...high].sort()
        return a[rank]
      }
      let middle = low + (high - low) / 2
      if a[middle] < a[low] { a.swapAt(middle, low) }
      if a[high] < a[low] { a.swapAt(high, low) }
      if a[high] < a[middle] { a.swapAt(high, middle) }
      let pivot = a[middle]
      var i = low
      var j = high
      while i <= j {
        while a[i] < pivot { i += 1 }
        while a[j] > pivot { j -= 1 }
        if i <= j {
          a.swapAt(i, j)
          i += 1
          j -= 1
        }
      }
      if rank <= j {
        high = j
      } else if rank >= i {
        low = i
      } else {
        return a[rank]
      }
    }
    return a[rank]
  }
}
