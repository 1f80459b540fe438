import DAM

/// The results of a parallel loop over `count` items (DAM's `forEachChunk`), one slot each, and
/// the failure of the lowest failing item: DAM's `Slots` for the values and for the failures, so
/// the values and the failure reported are the same whatever the thread count or the order in
/// which the workers finished.
///
/// Item `i`'s slot and failure are written only by the worker that runs item `i`, and read after
/// the loop.
package final class ParallelResults<Value>: Sendable {
  private struct Failure {
    let message: String
    let option: String?
  }

  private let slots: Slots<Value>
  private let failures: Slots<Failure?>

  package init(count: Int, initial: Value) {
    slots = Slots(count: count, initial: initial)
    failures = Slots(count: count, initial: nil)
  }

  package func set(_ index: Int, _ value: Value) {
    slots[index] = value
  }

  /// Records the failure of item `index`, with the command-line option it is about, if known.
  package func fail(at index: Int, _ message: String, option: String? = nil) {
    failures[index] = Failure(message: message, option: option)
  }

  /// The option the first failure is about, when the worker knew it.
  package var failureOption: String? { failures.firstNonNil()?.option }

  package var values: [Value] { slots.values }

  /// The message of the failure of the lowest failing item.
  package var failure: String? { failures.firstNonNil()?.message }
}
