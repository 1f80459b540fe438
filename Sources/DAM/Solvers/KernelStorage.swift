#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Uninitialised storage for a dense kernel matrix, aligned for huge pages and recycled between
/// solves.
///
/// A Sinkhorn divergence solves three problems of the same size one after the other, and a
/// retrieval step many more. Each needs an `n x m` kernel (8 MiB at n = m = 1024). Allocated as a
/// fresh array, every one costs a zero-fill, a page fault per 4 KiB page on first touch and an
/// `munmap` at the end (what that cost a 1024-point divergence: Docs/performance.md, "Start-up,
/// kernel storage").
/// Blocks of 4 MiB and more are aligned to 2 MiB and advised as huge pages (Linux), so a first
/// touch faults once per 2 MiB; released blocks are kept in a small pool (at most
/// ``KernelStorage/poolLimit`` blocks, ``KernelStorage/poolBytesLimit`` bytes in all) and
/// handed to the next solve that fits, without clearing them: every user writes all entries
/// before reading any. Larger kernels (n = m = 4096 takes 128 MiB) are allocated and freed each
/// time: their solves are long enough for that not to matter, and a process should not keep them.
final class KernelStorage: @unchecked Sendable {
  /// The number of bytes the block holds (at least the number asked for).
  let capacity: Int
  /// The block, aligned to at least 64 bytes; callers bind it to the element type they store.
  let base: UnsafeMutableRawPointer

  private init(capacity: Int, base: UnsafeMutableRawPointer) {
    self.capacity = capacity
    self.base = base
  }

  /// The released blocks awaiting reuse, most recent last.
  private static let pool = Lock<[KernelStorage.Block]>([])
  /// The most blocks the pool keeps.
  static let poolLimit = 4
  /// The most bytes the pool keeps in all (64 MiB: two kernels of n = m = 2048).
  static let poolBytesLimit = 1 << 26

  private struct Block: @unchecked Sendable {
    let capacity: Int
    let base: UnsafeMutableRawPointer
  }

  /// A block of at least `bytes` bytes, from the pool when one fits, else freshly allocated;
  /// `nil` when the allocation fails.
  static func make(bytes: Int) -> KernelStorage? {
    let count = max(bytes, 64)
    let reused = pool.withLock { blocks -> Block? in
      // The smallest block that fits, so that a small solve does not hold on to a large block.
      var best: Int? = nil
      for (index, block) in blocks.enumerated() where block.capacity >= count {
        if best == nil || block.capacity < blocks[best!].capacity { best = index }
      }
      guard let best else { return nil }
      return blocks.remove(at: best)
    }
    if let reused { return KernelStorage(capacity: reused.capacity, base: reused.base) }
    guard let base = allocate(count) else { return nil }
    return KernelStorage(capacity: count, base: base)
  }

  deinit {
    let bytes = capacity
    let block = Block(capacity: capacity, base: base)
    let kept =
      bytes <= Self.poolBytesLimit
      && Self.pool.withLock { blocks -> Bool in
        // Make room by dropping the oldest blocks.
        var held = blocks.reduce(0) { $0 + $1.capacity }
        while !blocks.isEmpty && (blocks.count >= Self.poolLimit || held + bytes > Self.poolBytesLimit) {
          let dropped = blocks.removeFirst()
          held -= dropped.capacity
          free(dropped.base)
        }
        blocks.append(block)
        return true
      }
    if !kept { free(base) }
  }

  private static let hugePage = 1 << 21

  /// The machine's physical memory in bytes (`Int.max` when unknown): a kernel larger than this
  /// is refused without asking the allocator, which under overcommit could hand out address
  /// space that faults later, and under AddressSanitizer aborts instead of returning null.
  /// (``ResourceLimits/current`` is checked first; this holds when the limit is raised above it.)
  static let physicalMemory: Int = ResourceLimits.physicalMemory ?? Int.max

  private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    guard bytes <= physicalMemory else { return nil }
    let alignment = bytes >= 2 * hugePage ? hugePage : 64
    // Whole huge pages: a block that ends inside one would share it with the heap, and a size of
    // 32 MiB or more is its own mapping (the heap's top cannot be given huge pages as readily).
    let size = (bytes + alignment - 1) / alignment * alignment
    var raw: UnsafeMutableRawPointer? = nil
    let status = posix_memalign(&raw, alignment, size)
    // Out of memory (a kernel of the size asked for cannot be held): the caller reports it.
    guard status == 0, let raw else { return nil }
    #if os(Linux)
      if alignment == hugePage { _ = madvise(raw, size, MADV_HUGEPAGE) }
    #endif
    return raw
  }
}
