/// The first position `p` in `start..<end` where `holds(p)` is true, or `end`; `holds` must be
/// false then true along the range (a binary search).
func firstPosition(from start: Int, to end: Int, where holds: (Int) -> Bool) -> Int {
  var low = start
  var high = end
  while low < high {
    let middle = low + (high - low) / 2
    if holds(middle) { high = middle } else { low = middle + 1 }
  }
  return low
}
