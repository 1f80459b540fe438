#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A value behind a POSIX mutex, with the `withLock` of `Synchronization.Mutex`.
///
/// Used instead of `Mutex` for state that threads hand to each other (the pool of kernel blocks,
/// the FFT plan and grid kernel caches, a memory's patterns and shared cache built on first use).
/// On Linux, `Mutex` hands a contended lock over through the kernel (`FUTEX_LOCK_PI` in the
/// standard library's uninstrumented slow path), so ThreadSanitizer sees no happens-before edge
/// between two critical sections and reports the data they protect as racing. The sanitizer
/// intercepts `pthread_mutex_lock`, so with this lock it sees the ordering and needs no
/// suppression (Docs/reliability.md, the thread-sanitizer runs).
final class Lock<Value>: @unchecked Sendable {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var value: Value

  init(_ value: Value) {
    self.value = value
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deinitialize(count: 1)
    mutex.deallocate()
  }

  /// Runs `body` on the value with the lock held.
  func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
