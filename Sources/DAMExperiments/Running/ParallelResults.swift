import Foundation

/// Results written by concurrent workers, one slot each, behind a lock (slots are written once,
/// so the lock is uncontended in practice); the order of the slots, not of completion, is kept, so
/// reports are identical whatever the thread count.
package final class ParallelResults<Value>: @unchecked Sendable {
  private var storage: [Value]
  private var firstFailure: String?
  private var firstFailureOption: String?
  private var firstFailureIndex = Int.max
  private let lock = NSLock()

  package init(count: Int, initial: Value) {
    storage = Array(repeating: initial, count: count)
  }

  package func set(_ index: Int, _ value: Value) {
    lock.lock()
    storage[index] = value
    lock.unlock()
  }

  /// Records the failure of slot `index`, with the command-line option it is about, if known.
  /// The failure of the lowest slot is kept, not the first to arrive, so that the error reported
  /// does not depend on thread timing (it did: a sanitizer-slowed run reported query 1, not 0).
  package func fail(at index: Int, _ message: String, option: String? = nil) {
    lock.lock()
    if index < firstFailureIndex {
      firstFailureIndex = index
      firstFailure = message
      firstFailureOption = option
    }
    lock.unlock()
  }

  /// The option the first failure is about, when the worker knew it.
  package var failureOption: String? {
    lock.lock()
    defer { lock.unlock() }
    return firstFailureOption
  }

  package var values: [Value] {
    lock.lock()
    defer { lock.unlock() }
    return storage
  }

  package var failure: String? {
    lock.lock()
    defer { lock.unlock() }
    return firstFailure
  }
}
