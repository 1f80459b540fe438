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

  /// Stores several patterns, all or none.
  public mutating func append(contentsOf newPatterns: [D.Pattern]) throws {
    var newCaches: [D.PatternCache] = []
    newCaches.reserveCapacity(newPatterns.count)
    let reference = patterns.first ?? newPatterns.first
    for (offset, pattern) in newPatterns.enumerated() {
      let index = patterns.count + offset
      do {
        if let reference { try divergence.checkCompatible(pattern, with: reference) }
        newCaches.append(try divergence.prepare(pattern))
      } catch let error as DAMError {
        throw error.renamingArgument { name in
          name == "pattern" ? "patterns[\(index)]" : "patterns[\(index)] (\(name))"
        }
      }
    }
    patterns.append(contentsOf: newPatterns)
    caches.append(contentsOf: newCaches)
  }
}
