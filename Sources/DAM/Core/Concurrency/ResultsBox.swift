/// Results written by concurrent workers at disjoint positions.
final class _ResultsBox<Value: Sendable>: Sendable {
  private let slots: _Lock<[Result<Value, any Error>?]>

  init(count: Int) { slots = _Lock(Array(repeating: nil, count: count)) }

  func set(_ position: Int, _ result: Result<Value, any Error>) {
    slots.withLock { $0[position] = result }
  }

  /// The position of the first failure, if any.
  func firstFailure() -> Int? {
    slots.withLock { slots in
      slots.firstIndex { if case .failure = $0 { true } else { false } }
    }
  }

  /// The values in order, or the first error in order.
  func values() throws -> [Value] {
    let all = slots.withLock { $0 }
    return try all.map { try $0!.get() }
  }
}

