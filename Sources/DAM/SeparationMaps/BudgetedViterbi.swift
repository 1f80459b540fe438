/// The MAP oracle of sequential k-subsets: the best `y ∈ {0, 1}ᴺ` with exactly `k` ones for
///
///     Σᵢ uᵢ yᵢ + p Σᵢ yᵢ yᵢ₊₁,
///
/// by a budget-constrained Viterbi recursion over (position, ones so far, last bit). A unary
/// score of `-∞` forbids `yᵢ = 1`. Returns the indices of the ones (increasing) and the optimal
/// value, or `nil` if fewer than `k` positions are allowed. Ties go to the structure whose bits,
/// read from the end, prefer 0. Cost O(N k) time and O(N k) bytes of back-pointers.
func budgetedViterbi(unary u: [Double], pairwise p: Double, k: Int) -> (indices: [Int], value: Double)? {
  let n = u.count
  guard k >= 0, k <= n else { return nil }
  let width = k + 1
  // best0[c], best1[c]: the best score of a prefix with c ones whose last bit is 0 / 1.
  var best0 = [Double](repeating: -.infinity, count: width)
  var best1 = [Double](repeating: -.infinity, count: width)
  best0[0] = 0
  // fromOne[(i * width + c) * 2 + s]: whether state (i, c, s) came from a previous bit 1.
  var fromOne = [Bool](repeating: false, count: n * width * 2)
  var next0 = best0
  var next1 = best1
  for i in 0..<n {
    let allowed = u[i] != -.infinity
    for c in 0..<width {
      // Bit 0: the count does not change.
      let stay0 = best0[c]
      let stay1 = best1[c]
      if stay1 > stay0 {
        next0[c] = stay1
        fromOne[(i * width + c) * 2] = true
      } else {
        next0[c] = stay0
        fromOne[(i * width + c) * 2] = false
      }
      // Bit 1: one more one.
      if allowed && c > 0 {
        let after0 = best0[c - 1]
        let after1 = best1[c - 1] + p
        if after1 > after0 {
          next1[c] = after1 + u[i]
          fromOne[(i * width + c) * 2 + 1] = true
        } else {
          next1[c] = after0 + u[i]
          fromOne[(i * width + c) * 2 + 1] = false
        }
      } else {
        next1[c] = -.infinity
        fromOne[(i * width + c) * 2 + 1] = false
      }
    }
    swap(&best0, &next0)
    swap(&best1, &next1)
  }
  var bit = best1[k] > best0[k] ? 1 : 0
  let value = max(best0[k], best1[k])
  guard value > -.infinity else { return nil }
  var indices: [Int] = []
  indices.reserveCapacity(k)
  var count = k
  for i in stride(from: n - 1, through: 0, by: -1) {
    let previousIsOne = fromOne[(i * width + count) * 2 + bit]
    if bit == 1 {
      indices.append(i)
      count -= 1
    }
    bit = previousIsOne ? 1 : 0
  }
  indices.reverse()
  return (indices, value)
}
