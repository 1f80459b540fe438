/// Slots written by concurrent chunks, each slot by exactly one chunk, and read after they all
/// finished.
///
/// The slots are one allocation written through a pointer, not a Swift array property: writing
/// `values[c] = ...` to an array from every chunk is a modifying access of the whole array
/// (uniqueness check, then the element), so two chunks writing different slots at once would be
/// overlapping accesses, a data race in Swift's memory model (ThreadSanitizer's "Swift access
/// race").
package final class Slots<Value>: @unchecked Sendable {
  private let storage: UnsafeMutablePointer<Value>
  package let count: Int

  package init(count: Int, initial: Value) {
    self.count = count
    storage = .allocate(capacity: count)
    storage.initialize(repeating: initial, count: count)
  }

  deinit {
    storage.deinitialize(count: count)
    storage.deallocate()
  }

  /// Slot `index`; concurrent writers must write different slots.
  package subscript(index: Int) -> Value {
    get { storage[index] }
    set { storage[index] = newValue }
  }

  /// Every slot, in order.
  package var values: [Value] { Array(UnsafeBufferPointer(start: storage, count: count)) }

  /// The value of the lowest slot that holds one, or nil: with a slot per chunk or item for its
  /// failure, the failure to report, the same whatever order the workers finished in.
  package func firstNonNil<Wrapped>() -> Wrapped? where Value == Wrapped? {
    for index in 0..<count { if let value = storage[index] { return value } }
    return nil
  }
}
