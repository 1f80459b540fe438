import Foundation

/// Results written by concurrent workers, one slot each, behind a lock (slots are written once,
/// so the lock is uncontended in practice); the order of the slots, not of completion, is kept, so
/// reports are identical whatever the thread count.
final class ParallelResults<Value>: @unchecked Sendable {
  private var storage: [Value]
  private var firstFailure: String?
  private var firstFailureOption: String?
  private let lock = NSLock()

  init(count: Int, initial: Value) {
    storage = Array(repeating: initial, count: count)
  }

  func set(_ index: Int, _ value: Value) {
    lock.lock()
    storage[index] = value
    lock.unlock()
  }

  /// Records a failure (the first one is kept), with the command-line option it is about, if known.
  func fail(_ message: String, option: String? = nil) {
    lock.lock()
    if firstFailure == nil {
      firstFailure = message
      firstFailureOption = option
    }
    lock.unlock()
  }

  /// The option the first failure is about, when the worker knew it.
  var failureOption: String? {
    lock.lock()
    defer { lock.unlock() }
    return firstFailureOption
  }

  var values: [Value] {
    lock.lock()
    defer { lock.unlock() }
    return storage
  }

  var failure: String? {
    lock.lock()
    defer { lock.unlock() }
    return firstFailure
  }
}
