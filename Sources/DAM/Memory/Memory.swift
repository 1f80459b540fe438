import Dispatch

/// Stored patterns together with their cached, query-independent data for one divergence.
///
/// A memory is a value: appending returns nothing half-done (an append that throws leaves the
/// memory unchanged), and copies are cheap until mutated.
public struct Memory<D: Divergence>: Sendable {
  /// The divergence the caches were computed for.
  public let divergence: D
  /// The stored patterns, in insertion order.
  public private(set) var patterns: [D.Pattern]
  /// The cache of each pattern, computed by ``Divergence/prepare(_:)`` when it was stored.
  public private(set) var caches: [D.PatternCache]
  /// The memory-wide cache, computed on first use; a new box after every append.
  private var shared = _MemoryCacheBox<D.MemoryCache>()

  /// The divergence's memory-wide cache (``Divergence/prepareMemory(patterns:caches:)``),
  /// computed on first use and kept until the memory changes.
  public var memoryCache: D.MemoryCache {
    shared.value { divergence.prepareMemory(patterns: patterns, caches: caches) }
  }

  /// A memory holding `patterns`.
  ///
  /// - Throws: the first error of ``Divergence/prepare(_:)`` or
  ///   ``Divergence/checkCompatible(_:with:)``, with its argument renamed to `patterns[i]`.
  public init(divergence: D, patterns: [D.Pattern] = []) throws {
    self.divergence = divergence
    self.patterns = []
    self.caches = []
    try append(contentsOf: patterns)
  }

  /// The number of stored patterns.
  public var count: Int { patterns.count }

  /// Whether nothing is stored.
  public var isEmpty: Bool { patterns.isEmpty }

  /// Stores one more pattern.
  public mutating func append(_ pattern: D.Pattern) throws {
    try append(contentsOf: [pattern])
  }

  /// Stores several patterns, all or none. The caches are computed concurrently on up to
  /// `parallelism` threads (default: the active processors); each depends on its pattern only, so
  /// the result is the same as serial.
  public mutating func append(contentsOf newPatterns: [D.Pattern], parallelism: Int? = nil) throws {
    let reference = patterns.first ?? newPatterns.first
    let base = patterns.count
    func renamed(_ error: DAMError, _ index: Int) -> DAMError {
      error.renamingArgument { name in
        name == "pattern" ? "patterns[\(index)]" : "patterns[\(index)] (\(name))"
      }
    }
    if let reference {
      for (offset, pattern) in newPatterns.enumerated() {
        do {
          try divergence.checkCompatible(pattern, with: reference)
        } catch let error as DAMError {
          throw renamed(error, base + offset)
        }
      }
    }
    let box = _ResultsBox<D.PatternCache>(count: newPatterns.count)
    let divergence = divergence
    let workers = min(max(1, parallelism ?? _coreCount), newPatterns.count)
    let work: @Sendable (Int) -> Void = { offset in
      box.set(offset, Result { try divergence.prepare(newPatterns[offset]) })
    }
    if workers <= 1 {
      for offset in newPatterns.indices { work(offset) }
    } else {
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var offset = worker
        while offset < newPatterns.count {
          work(offset)
          offset += workers
        }
      }
    }
    let newCaches: [D.PatternCache]
    do {
      newCaches = try box.values()
    } catch let error as DAMError {
      throw renamed(error, base + (box.firstFailure() ?? 0))
    }
    patterns.append(contentsOf: newPatterns)
    caches.append(contentsOf: newCaches)
    shared = _MemoryCacheBox()
  }
}

/// A value computed once, on first use, by whichever thread asks first; the others wait for it.
final class _MemoryCacheBox<Value: Sendable>: Sendable {
  private let slot = _Lock<Value?>(nil)

  init() {}

  func value(_ build: () -> Value) -> Value {
    slot.withLock { slot in
      if let value = slot { return value }
      let value = build()
      slot = value
      return value
    }
  }
}
