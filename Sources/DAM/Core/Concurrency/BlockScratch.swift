/// One scratch buffer of doubles that the steps of one batched retrieval share: the block
/// evaluations' inner products and the block accumulations' weight matrix (both `B × N`) take it
/// in turn, so a retrieval touches fresh pages for it once instead of twice per step. The engine
/// makes one per `retrieve(batch:)` call and drops it at the end, so nothing outlives the call
/// but what ``KernelStorage``'s pool keeps (huge-page blocks, at most 64 MiB in all).
///
/// A caller that finds the buffer taken (another thread of the same call) gets a buffer of its
/// own for the duration of `withBuffer`.
final class BlockScratch: Sendable {
  private let spare: Lock<KernelStorage?>

  init() { spare = Lock(nil) }

  /// Runs `body` on a buffer of `count` doubles (uninitialised).
  func withBuffer<R>(count: Int, _ body: (UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
    let bytes = max(1, count) * MemoryLayout<Double>.stride
    let taken = spare.withLock { slot -> KernelStorage? in
      guard let storage = slot, storage.capacity >= bytes else { return nil }
      slot = nil
      return storage
    }
    guard let storage = taken ?? KernelStorage.make(bytes: bytes) else {
      // The huge-page allocation failed: Swift's allocator, which reports exhaustion itself.
      let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
      defer { buffer.deallocate() }
      return try body(buffer)
    }
    defer {
      // Keep the larger of this buffer and one returned meanwhile.
      spare.withLock { slot in
        if slot == nil || slot!.capacity < storage.capacity { slot = storage }
      }
    }
    return try body(
      UnsafeMutableBufferPointer(
        start: storage.base.bindMemory(to: Double.self, capacity: count), count: count))
  }
}
