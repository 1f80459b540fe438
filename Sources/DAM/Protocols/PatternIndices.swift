/// Some patterns of a memory, by increasing index: every pattern (``all(_:)``, stored without an
/// index array), or the given ones. The patterns of an ``EvaluationBlock`` item, and the support
/// of an ``AccumulationBlock`` item.
public struct PatternIndices: RandomAccessCollection, Sendable, Hashable {
  /// `nil` for every pattern.
  let selected: [Int]?
  /// The number of patterns.
  public let count: Int

  /// Every pattern of a memory of `count` patterns.
  public static func all(_ count: Int) -> PatternIndices { PatternIndices(selected: nil, count: count) }

  /// The given patterns, in increasing order.
  public static func some(_ indices: [Int]) -> PatternIndices {
    PatternIndices(selected: indices, count: indices.count)
  }

  /// Whether these are every pattern of the memory, in order (`self[k] == k`).
  public var isAll: Bool { selected == nil }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  /// The pattern index at position `position`.
  public subscript(position: Int) -> Int { selected?[position] ?? position }
}
