/// A value computed once, on first use, by whichever thread asks first; the others wait for it.
final class MemoryCacheBox<Value: Sendable>: Sendable {
  private let slot: Lock<Value?>

  init() { slot = Lock(nil) }

  /// A box holding `value` already.
  init(_ value: Value) { slot = Lock(value) }

  func value(_ build: () -> Value) -> Value {
    slot.withLock { slot in
      if let value = slot { return value }
      let value = build()
      slot = value
      return value
    }
  }
}
