import Dispatch

#if canImport(Synchronization)
  import Synchronization
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs `body(chunk)` once for every chunk in `0..<chunks`: serially when `workers <= 1`,
/// otherwise on up to `workers` threads, each taking the next chunk not yet taken. Callers write
/// each chunk's results into their own slots and reduce them in chunk order afterwards, so results
/// do not depend on `workers` or on scheduling.
///
/// The chunks are handed out one at a time rather than in fixed strides (worker `k` taking chunks
/// `k, k + workers, …`): on a machine shared with other jobs a worker whose core is busy with them
/// would otherwise hold up the whole loop with its fixed share.
///
/// The caller's ``WorkBudget`` is bound on the worker threads too, so the solvers they run check it.
package func forEachChunk(_ chunks: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
  let width = min(workers, chunks)
  if width <= 1 {
    for c in 0..<chunks { body(c) }
    return
  }
  let budget = currentBudget()
  // Runs `work` with the caller's budget bound on this worker thread (with none, as is).
  @Sendable func bound(_ work: () -> Void) {
    if let budget { WorkBudget.$current.withValue(budget, operation: work) } else { work() }
  }
  #if canImport(Synchronization)
    if #available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *) {
      let next = Atomic<Int>(0)
      DispatchQueue.concurrentPerform(iterations: width) { _ in
        bound {
          while true {
            let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard c < chunks else { return }
            body(c)
          }
        }
      }
      return
    }
  #endif
  DispatchQueue.concurrentPerform(iterations: width) { k in
    bound {
      var c = k
      while c < chunks {
        body(c)
        c += width
      }
    }
  }
}

/// `[body(0), body(1), …, body(count - 1)]`, computed on up to `workers` threads in runs of `run`
/// consecutive indices (`run` > 1 for cheap bodies, so that threads take work in pieces worth the
/// hand-out); the result does not depend on `workers`.
package func concurrentMap<T>(_ count: Int, workers: Int, run: Int = 1, _ body: @Sendable (Int) -> T) -> [T] {
  let slots = Slots<T?>(count: count, initial: nil)
  forEachChunk((count + run - 1) / run, workers: workers) { c in
    for i in (c * run)..<min(count, (c + 1) * run) { slots[i] = body(i) }
  }
  return slots.values.map { $0! }
}

/// The number of blocks to split `rows` rows into for `work` elementary operations: one per core
/// when the work is large enough to pay for the threads, else 1.
func parallelBlockCount(rows: Int, work: Int) -> Int {
  guard work >= 1 << 16 else { return 1 }
  return max(1, min(rows, coreCount))
}

/// The rows of block `block` of `blocks` over `count` rows (contiguous, as even as possible).
func blockRange(_ block: Int, of blocks: Int, count: Int) -> Range<Int> {
  let lower = count * block / blocks
  let upper = count * (block + 1) / blocks
  return lower..<upper
}

/// The number of active processors.
package let coreCount: Int = {
  max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}()
