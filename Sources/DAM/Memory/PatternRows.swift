/// A memory's patterns: an array as given, or the rows of a matrix, copied into an array on first
/// use (on all cores: the copies' page faults are most of the cost) by whichever thread asks
/// first.
final class PatternRows<Pattern: Sendable>: Sendable {
  let count: Int
  private let all_: Lock<[Pattern]?>
  private let row: @Sendable (Int) -> Pattern

  /// The patterns as given.
  init(_ patterns: [Pattern]) {
    count = patterns.count
    all_ = Lock(patterns)
    row = { patterns[$0] }
  }

  /// `count` patterns made by `row(i)` when first needed.
  init(count: Int, row: @escaping @Sendable (Int) -> Pattern) {
    self.count = count
    all_ = Lock(nil)
    self.row = row
  }

  /// Every pattern, in order.
  var all: [Pattern] {
    all_.withLock { made in
      if let made { return made }
      let rows = concurrentMap(count, workers: coreCount, run: 64, row)
      made = rows
      return rows
    }
  }

  /// Pattern `index` (from the array when made, else made alone).
  func pattern(at index: Int) -> Pattern {
    if let made = all_.withLock({ $0 }) { return made[index] }
    return row(index)
  }
}
