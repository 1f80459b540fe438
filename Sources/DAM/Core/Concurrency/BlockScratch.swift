#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One scratch buffer of doubles that the steps of one batched retrieval share: the block
/// evaluations' inner products and the block accumulations' weight matrix (both `B × N`) take it
/// in turn, so a retrieval touches fresh pages for it once instead of twice per step. The engine
/// makes one per `retrieve(batch:)` call and drops it at the end, so nothing outlives the call.
///
/// A caller that finds the buffer taken (another thread of the same call) gets a buffer of its
/// own for the duration of `withBuffer`. Buffers of 2 MiB or more are aligned to 2 MiB and
/// offered to the kernel as transparent huge pages, which fault in 512 times fewer pieces.
final class BlockScratch: Sendable {
  private struct Buffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
    let capacity: Int
    /// From `posix_memalign` (released by `free`), or from Swift's allocator.
    let aligned: Bool
  }
  private let spare: Lock<Buffer?>

  init() { spare = Lock(nil) }

  deinit {
    if let buffer = spare.withLock({ $0 }) { Self.release(buffer) }
  }

  /// Runs `body` on a buffer of at least `capacity` doubles (uninitialised).
  func withBuffer<R>(capacity: Int, _ body: (UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
    let taken = spare.withLock { slot -> Buffer? in
      guard let buffer = slot, buffer.capacity >= capacity else { return nil }
      slot = nil
      return buffer
    }
    let buffer = taken ?? Self.allocate(capacity)
    defer {
      // Keep the larger of this buffer and one returned meanwhile.
      let dropped = spare.withLock { slot -> Buffer? in
        guard let kept = slot else {
          slot = buffer
          return nil
        }
        if kept.capacity >= buffer.capacity { return buffer }
        slot = buffer
        return kept
      }
      if let dropped { Self.release(dropped) }
    }
    return try body(UnsafeMutableBufferPointer(start: buffer.base, count: capacity))
  }

  private static let hugePage = 1 << 21

  private static func allocate(_ capacity: Int) -> Buffer {
    let bytes = max(1, capacity) * MemoryLayout<Double>.stride
    let huge = bytes >= hugePage
    let alignment = huge ? hugePage : 64
    let rounded = (bytes + alignment - 1) / alignment * alignment
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, alignment, rounded) == 0, let raw else {
      return Buffer(base: .allocate(capacity: max(1, capacity)), capacity: capacity, aligned: false)
    }
    #if os(Linux)
      if huge { _ = madvise(raw, rounded, MADV_HUGEPAGE) }
    #endif
    return Buffer(
      base: raw.bindMemory(to: Double.self, capacity: max(1, capacity)), capacity: capacity, aligned: true)
  }

  private static func release(_ buffer: Buffer) {
    if buffer.aligned {
      free(buffer.base)
    } else {
      buffer.base.deallocate()
    }
  }
}
