/// Stored patterns together with their cached, query-independent data for one divergence.
///
/// A memory is a value: appending returns nothing half-done (an append that throws leaves the
/// memory unchanged), and copies are cheap until mutated.
public struct Memory<D: Divergence>: Sendable {
  /// The divergence the caches were computed for.
  public let divergence: D
  /// The stored patterns, in insertion order. A memory built from a matrix
  /// (``init(divergence:matrix:columns:)``) makes its rows on first use: the matrix products of
  /// a batch never need them.
  public var patterns: [D.Pattern] { rows.all }
  /// The patterns, as given or as the rows of a matrix.
  private var rows: PatternRows<D.Pattern>
  /// The cache of each pattern, computed by ``Divergence/prepare(_:)`` when it was stored.
  public private(set) var caches: [D.PatternCache]
  /// The memory-wide cache, computed on first use; a new box after every append.
  private var shared = MemoryCacheBox<D.MemoryCache>()

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
    self.rows = PatternRows([])
    self.caches = []
    try append(contentsOf: patterns)
  }

  /// The number of stored patterns.
  public var count: Int { rows.count }

  /// Whether nothing is stored.
  public var isEmpty: Bool { rows.count == 0 }

  /// Pattern `index`, without making a matrix memory's other rows.
  func pattern(at index: Int) -> D.Pattern { rows.pattern(at: index) }

  /// Stores one more pattern.
  public mutating func append(_ pattern: D.Pattern) throws {
    try append(contentsOf: [pattern])
  }

  /// Stores several patterns, all or none. The caches are computed concurrently on up to
  /// `parallelism` threads (default: the active processors); each depends on its pattern only, so
  /// the result is the same as serial.
  public mutating func append(contentsOf newPatterns: [D.Pattern], parallelism: Int? = nil) throws {
    let reference = isEmpty ? newPatterns.first : pattern(at: 0)
    let base = count
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
    let divergence = divergence
    let prepared = concurrentMap(newPatterns.count, workers: max(1, parallelism ?? coreCount), run: 64) {
      offset in Result { try divergence.prepare(newPatterns[offset]) }
    }
    var newCaches: [D.PatternCache] = []
    newCaches.reserveCapacity(newPatterns.count)
    for (offset, result) in prepared.enumerated() {
      switch result {
      case .success(let cache): newCaches.append(cache)
      case .failure(let error as DAMError): throw renamed(error, base + offset)
      case .failure(let error): throw error
      }
    }
    rows = PatternRows(patterns + newPatterns)
    caches.append(contentsOf: newCaches)
    shared = MemoryCacheBox()
  }
}

extension Memory where D.Pattern == [Double], D.PatternCache == Void, D.MemoryCache == _PackedVectors {
  /// A memory holding the rows of a row-major matrix of `columns` columns (`matrix.count /
  /// columns` patterns), such as a NumPy `(N, D)` array's elements.
  ///
  /// The same memory as `Memory(divergence:patterns:)` with the rows as patterns (the vector
  /// divergences' checks: non-empty and finite), built with less work: the matrix is checked in
  /// one vectorised pass rather than row by row, and it becomes the memory-wide cache that the
  /// divergences multiply blocks of states with, where the row initialiser packs the rows into a
  /// new matrix on first use.
  ///
  /// - Throws: ``DAMError`` naming `columns` if it is not positive or does not divide the
  ///   matrix's length (an empty matrix is an empty memory), or naming `patterns[i]` for the first
  ///   row with a non-finite value.
  public init(divergence: D, matrix: [Double], columns: Int) throws {
    guard columns > 0, matrix.count % columns == 0 else {
      throw DAMError.invalid(
        "columns", "must be positive and divide the matrix's \(matrix.count) elements, got \(columns)")
    }
    let rows = matrix.count / columns
    // A row's squared norm is finite only if all its values are, so finite norms (the usual case)
    // spare the matrix a pass of its own; otherwise the values themselves decide.
    let packed = _PackedVectors(elements: matrix, rows: rows, columns: columns)
    if !packed.squaredNorms.withUnsafeBufferPointer(_allFinite),
      let first = matrix.firstIndex(where: { !$0.isFinite })
    {
      throw DAMError(
        .nonFinite, argument: "patterns[\(first / columns)]",
        "has a non-finite value (\(matrix[first])) at index \(first % columns)")
    }
    self.divergence = divergence
    self.rows = PatternRows(count: rows) { i in Array(matrix[(i * columns)..<((i + 1) * columns)]) }
    caches = [Void](repeating: (), count: rows)
    shared = MemoryCacheBox(packed)
  }
}
