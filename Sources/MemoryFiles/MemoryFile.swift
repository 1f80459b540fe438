import DAM
import NumPyFiles

/// A memory file: stored patterns of one kind, the divergence parameters their cached data
/// depend on, and checksums, in one `.npz` that NumPy can open.
///
/// ```swift
/// let file = try MemoryFile(patterns: .vectors([[1, 0], [0, 1]]))
/// try file.write(to: "memory.npz")
/// try MemoryFile.append(.vectors([[1, 1]]), to: "memory.npz")  // atomic: all or nothing
/// let memory = try MemoryFile.read(contentsOf: "memory.npz").memory(SquaredEuclideanDivergence())
/// ```
///
/// Layout (format version 2): the member `manifest` is a `uint8` array of UTF-8 JSON
/// (``MemoryFileManifest``: format, version, kind, count, divergence, epsilon, the other
/// parameters the prepared data depend on, and the dtype, shape and CRC-32 of every data
/// array); the data arrays are float64 (offsets int64):
/// - vectors: `patterns` (N, D);
/// - point clouds: `points` (total, d), `weights` (total), `offsets` (N + 1), cloud `i` being
///   rows `offsets[i] ..< offsets[i + 1]`;
/// - Gaussians: `means` (N, d) with `covariances` (N, d, d) or `variances` (N, d);
/// - histograms: `histograms` (N, H[, W[, D]]) of masses and `spacing` (one per grid axis).
///
/// The per-pattern caches (for instance the Sinkhorn self-transport of each cloud at the stored
/// epsilon) are not stored: they are recomputed from the patterns and the recorded parameters when
/// a `Memory` of the DAM module is built. A memory built with a Sinkhorn divergence whose
/// epsilon differs from the recorded one is refused (`memory(_:)`): the file's patterns
/// were prepared for its epsilon, and a different one is a different memory.
public struct MemoryFile: Sendable {
  /// Patterns of one kind.
  public enum Patterns: Sendable {
    /// Vectors in R^D.
    case vectors([[Double]])
    /// Weighted point clouds in R^d, of any sizes.
    case pointClouds([PointCloud])
    /// Gaussians in R^d, all with full or all with diagonal covariances.
    case gaussians([Gaussian])
    /// Histograms on one grid (same shape and spacing).
    case histograms([GridHistogram])

    /// The kind of these patterns.
    public var kind: MemoryFileKind {
      switch self {
      case .vectors: .vectors
      case .pointClouds: .pointClouds
      case .gaussians: .gaussians
      case .histograms: .histograms
      }
    }

    /// The number of patterns.
    public var count: Int {
      switch self {
      case .vectors(let v): v.count
      case .pointClouds(let c): c.count
      case .gaussians(let g): g.count
      case .histograms(let h): h.count
      }
    }
  }

  /// The stored patterns.
  public let patterns: Patterns
  /// The divergence the patterns are stored for: `squared-euclidean` or `dot-product` (vectors),
  /// `sinkhorn` (point clouds, histograms), `bures-wasserstein` (Gaussians).
  public let divergence: String
  /// The entropic regularisation of `sinkhorn`; `nil` for the other divergences.
  public let epsilon: Double?
  /// The other parameters the data prepared for `sinkhorn` depend on (cost, solver tolerance and
  /// iteration cap, grid spacing); `nil` for the other divergences, and for `sinkhorn` files of
  /// format version 1, which recorded epsilon only (the library's defaults then apply).
  public let parameters: MemoryFileManifest.Parameters?

  /// The kind of the stored patterns.
  public var kind: MemoryFileKind { patterns.kind }
  /// The number of stored patterns.
  public var count: Int { patterns.count }

  /// A memory file holding `patterns` for `divergence` (by default `squared-euclidean` for vectors,
  /// `sinkhorn` for point clouds and histograms, `bures-wasserstein` for Gaussians).
  ///
  /// For `sinkhorn` the file records, besides `epsilon`, the cost (`squared-euclidean`), the
  /// marginal tolerance and iteration cap of `SinkhornOptions(epsilon:)` (the solver settings the
  /// patterns are prepared with when a memory is built) and, for histograms, the grid spacing.
  ///
  /// - Throws: ``MemoryFileError`` if there are no patterns, a vector is not finite, dimensions
  ///   (or covariance forms, or grids) differ between patterns, the divergence does not apply to
  ///   the kind, or `epsilon` is missing or not a finite number > 0 for `sinkhorn`.
  public init(patterns: Patterns, divergence: String? = nil, epsilon: Double? = nil) throws(MemoryFileError) {
    try self.init(patterns: patterns, divergence: divergence, epsilon: epsilon, parameters: .default)
  }

  /// Where the preparation parameters of a new file come from.
  enum ParameterSource {
    /// The library's defaults (`SinkhornOptions(epsilon:)`) and the patterns' grid spacing.
    case `default`
    /// As recorded in a file (`nil` for version 1 files and the other divergences).
    case recorded(MemoryFileManifest.Parameters?)
  }

  init(patterns: Patterns, divergence: String?, epsilon: Double?, parameters: ParameterSource)
    throws(MemoryFileError)
  {
    guard patterns.count > 0 else {
      throw MemoryFileError("patterns: a memory file holds at least one pattern")
    }
    let divergence = divergence ?? Self.defaultDivergence(patterns.kind)
    try MemoryFileContents.checkParameters(kind: patterns.kind, divergence: divergence, epsilon: epsilon)
    try Self.checkConsistent(patterns)
    self.patterns = patterns
    self.divergence = divergence
    self.epsilon = epsilon
    switch parameters {
    case .recorded(let recorded): self.parameters = recorded
    case .default:
      if divergence == "sinkhorn", let epsilon, let options = try? SinkhornOptions(epsilon: epsilon) {
        var spacing: [Double]? = nil
        if case .histograms(let h) = patterns { spacing = h[0].spacing }
        self.parameters = MemoryFileManifest.Parameters(
          cost: MemoryFileManifest.Parameters.squaredEuclidean, tolerance: options.tolerance,
          maxIterations: options.maxIterations, spacing: spacing)
      } else {
        self.parameters = nil
      }
    }
  }

  /// The patterns of verified `contents`, each checked by the library's validating initialiser.
  ///
  /// - Throws: ``MemoryFileError`` naming the pattern and what is wrong with it, for example
  ///   `"pattern 3: weights: must sum to 1 ..."`.
  public init(contents: MemoryFileContents) throws(MemoryFileError) {
    let arrays = contents.arrays
    let n = contents.count
    func pattern<T>(_ i: Int, _ make: () throws(DAMError) -> T) throws(MemoryFileError) -> T {
      do throws(DAMError) { return try make() } catch {
        throw MemoryFileError("pattern \(i): \(error.description)")
      }
    }
    let patterns: Patterns
    switch contents.kind {
    case .vectors:
      let array = arrays["patterns"]!
      let d = array.shape[1]
      let values = array.doubles()
      for (index, value) in values.enumerated() where !value.isFinite {
        throw MemoryFileError("pattern \(index / d): non-finite value (\(value)) at index \(index % d)")
      }
      patterns = .vectors((0..<n).map { Array(values[($0 * d)..<(($0 + 1) * d)]) })
    case .pointClouds:
      let points = arrays["points"]!.doubles()
      let weights = arrays["weights"]!.doubles()
      let d = arrays["points"]!.shape[1]
      let offsets = try MemoryFileContents.integers(arrays["offsets"]!, "offsets")
      var clouds: [PointCloud] = []
      for i in 0..<n {
        let (start, end) = (offsets[i], offsets[i + 1])
        clouds.append(
          try pattern(i) { () throws(DAMError) in
            try PointCloud(
              points: Matrix(rows: end - start, columns: d, elements: Array(points[(start * d)..<(end * d)])),
              weights: Array(weights[start..<end]))
          })
      }
      patterns = .pointClouds(clouds)
    case .gaussians:
      let means = arrays["means"]!.doubles()
      let d = arrays["means"]!.shape[1]
      var gaussians: [Gaussian] = []
      if let covariances = arrays["covariances"]?.doubles() {
        for i in 0..<n {
          gaussians.append(
            try pattern(i) { () throws(DAMError) in
              try Gaussian(
                mean: Array(means[(i * d)..<((i + 1) * d)]),
                covariance: Matrix(
                  rows: d, columns: d, elements: Array(covariances[(i * d * d)..<((i + 1) * d * d)])))
            })
        }
      } else {
        let variances = arrays["variances"]!.doubles()
        for i in 0..<n {
          gaussians.append(
            try pattern(i) { () throws(DAMError) in
              try Gaussian(
                mean: Array(means[(i * d)..<((i + 1) * d)]),
                variances: Array(variances[(i * d)..<((i + 1) * d)]))
            })
        }
      }
      patterns = .gaussians(gaussians)
    case .histograms:
      let array = arrays["histograms"]!
      let shape = Array(array.shape.dropFirst())
      let cells = shape.reduce(1, *)
      let values = array.doubles()
      let spacing = arrays["spacing"]!.doubles()
      var histograms: [GridHistogram] = []
      for i in 0..<n {
        histograms.append(
          try pattern(i) { () throws(DAMError) in
            try GridHistogram(
              shape: shape, masses: Array(values[(i * cells)..<((i + 1) * cells)]), spacing: spacing)
          })
      }
      patterns = .histograms(histograms)
    }
    try self.init(
      patterns: patterns, divergence: contents.manifest.divergence, epsilon: contents.manifest.epsilon,
      parameters: .recorded(contents.manifest.parameters))
  }

  /// Reads, verifies and decodes the memory file at `path`.
  ///
  /// Only a regular file is read (a device such as `/dev/zero` or a FIFO is refused by name), and
  /// none larger than `ResourceLimits.current`'s `maximumBytes` or whose members would inflate
  /// to more: checked before the file is read or a member inflated.
  ///
  /// - Throws: ``MemoryFileError`` whose message starts with `path` and says exactly what is
  ///   wrong (a damaged archive, a checksum or shape mismatch, an invalid pattern, a file over
  ///   the limit: then ``MemoryFileError/exceededLimit`` is set and the message ends with the
  ///   limit's advice).
  public static func read(contentsOf path: String) throws(MemoryFileError) -> MemoryFile {
    let contents = try readLimited(path)
    do throws(MemoryFileError) {
      return try MemoryFile(contents: contents)
    } catch {
      throw error.prefixed(path)
    }
  }

  /// The contents of the file at `path`, read within `ResourceLimits.current`; a refusal by the
  /// limit ends with the limit's advice.
  package static func readLimited(_ path: String) throws(MemoryFileError) -> MemoryFileContents {
    let limits = ResourceLimits.current
    do throws(MemoryFileError) {
      return try MemoryFileContents.read(contentsOf: path, maximumBytes: limits.maximumBytes)
    } catch {
      guard error.exceededLimit != nil else { throw error }
      var advised = error
      advised.message += "; " + limits.advice
      throw advised
    }
  }

  /// The file's contents: manifest and arrays.
  public func contents() throws(MemoryFileError) -> MemoryFileContents {
    let arrays: [(name: String, array: NumPyArray)]
    do throws(NumPyError) {
      arrays = try Self.arrays(patterns)
    } catch {
      throw MemoryFileError(error.message)
    }
    return try MemoryFileContents(
      kind: kind, divergence: divergence, epsilon: epsilon, parameters: parameters, arrays: arrays)
  }

  /// Writes the file to `path` atomically, as the only writer of `path`; without `overwrite`,
  /// only if `path` does not exist (see ``MemoryFileContents/write(to:overwrite:lockTimeout:)``).
  public func write(to path: String, overwrite: Bool = true, lockTimeout: Duration = .seconds(600))
    throws(MemoryFileError)
  {
    try contents().write(to: path, overwrite: overwrite, lockTimeout: lockTimeout)
  }

  /// Appends `newPatterns` to the memory file at `path`, all or nothing.
  ///
  /// The file is read and verified, the new patterns are checked against the stored ones (kind,
  /// dimension, covariance form, grid), and the whole new file is written atomically: if this
  /// fails or the process is killed at any moment, `path` keeps its previous, loadable contents.
  /// The recorded divergence and parameters are kept (a version 1 file gets the library's
  /// defaults, as it was prepared with them, and is written as version 2).
  ///
  /// The read, the checks and the write happen under the lock of `path` (see
  /// ``MemoryFileContents/write(to:overwrite:lockTimeout:)``), so concurrent appends from processes
  /// or threads take turns and each one lands: none reads a file that another is about to
  /// replace. An append waits at most `lockTimeout` for another writer's lock.
  ///
  /// - Returns: the memory file as written.
  /// - Throws: ``MemoryFileError``: the file's, starting with `path` (missing, damaged, read-only,
  ///   not a regular file, cannot be locked within `lockTimeout` or written), or, starting with `new patterns: `, what
  ///   is wrong with `newPatterns`.
  @discardableResult
  public static func append(_ newPatterns: Patterns, to path: String, lockTimeout: Duration = .seconds(600))
    throws(MemoryFileError) -> MemoryFile
  {
    try MemoryFileWriter.locked(path, lockTimeout: lockTimeout) { () throws(MemoryFileError) -> MemoryFile in
      let existing = try readLimited(path)
      let current = try MemoryFile(contents: existing)
      let combined: Patterns
      switch (current.patterns, newPatterns) {
      case (.vectors(let a), .vectors(let b)): combined = .vectors(a + b)
      case (.pointClouds(let a), .pointClouds(let b)): combined = .pointClouds(a + b)
      case (.gaussians(let a), .gaussians(let b)): combined = .gaussians(a + b)
      case (.histograms(let a), .histograms(let b)): combined = .histograms(a + b)
      default:
        throw MemoryFileError(
          "\(path): holds \(current.kind.rawValue); cannot append \(newPatterns.kind.rawValue)")
      }
      let result: MemoryFile
      do throws(MemoryFileError) {
        guard newPatterns.count > 0 else { throw MemoryFileError("no patterns to append") }
        result = try MemoryFile(
          patterns: combined, divergence: current.divergence, epsilon: current.epsilon,
          parameters: current.parameters.map { .recorded($0) } ?? .default)
      } catch {
        throw MemoryFileError("new patterns: \(error.message)")
      }
      try MemoryFileWriter.writeFile(try result.contents().encode(), to: path, overwrite: true)
      return result
    }
  }

  // MARK: Memories

  /// A memory of the stored vectors for `divergence`.
  public func memory<D: Divergence>(_ divergence: D) throws -> Memory<D> where D.Pattern == [Double] {
    guard case .vectors(let vectors) = patterns else { throw kindError("vectors") }
    return try Memory(divergence: divergence, patterns: vectors)
  }

  /// A memory of the stored point clouds for `divergence`.
  ///
  /// - Throws: ``MemoryFileError`` if the file holds another kind, or `divergence` is a
  ///   `SinkhornDivergence` whose epsilon is not the recorded one (the patterns were prepared for
  ///   the file's epsilon: use ``sinkhornDivergence()``, or make a file for the other epsilon)
  ///   or cost (files record the squared Euclidean cost); the library's errors for invalid
  ///   patterns.
  public func memory<D: Divergence>(_ divergence: D) throws -> Memory<D> where D.Pattern == PointCloud {
    guard case .pointClouds(let clouds) = patterns else { throw kindError("point clouds") }
    if let sinkhorn = divergence as? SinkhornDivergence {
      try checkPrepared(epsilon: sinkhorn.options.epsilon)
      guard sinkhorn.cost is SquaredEuclideanCost else {
        throw MemoryFileError(
          "cost: the memory file was prepared for the squared-euclidean cost, not \(sinkhorn.cost); memory files record the squared Euclidean cost only"
        )
      }
    }
    return try Memory(divergence: divergence, patterns: clouds)
  }

  /// A memory of the stored histograms for `divergence`.
  ///
  /// - Throws: ``MemoryFileError`` if the file holds another kind, or `divergence` is a
  ///   `GridSinkhornDivergence` whose epsilon is not the recorded one (see
  ///   ``gridSinkhornDivergence()``); the library's errors for invalid patterns.
  public func memory<D: Divergence>(_ divergence: D) throws -> Memory<D> where D.Pattern == GridHistogram {
    guard case .histograms(let histograms) = patterns else { throw kindError("histograms") }
    if let grid = divergence as? GridSinkhornDivergence { try checkPrepared(epsilon: grid.options.epsilon) }
    return try Memory(divergence: divergence, patterns: histograms)
  }

  /// Throws unless `epsilon` is the one the file's patterns were prepared for.
  ///
  /// - Throws: ``MemoryFileError`` naming both values, for example `"epsilon: the memory file was
  ///   prepared for epsilon 0.1, not 0.2; ..."`.
  public func checkPrepared(epsilon: Double) throws(MemoryFileError) {
    guard let recorded = self.epsilon else {
      throw MemoryFileError("epsilon: the memory file records no epsilon (divergence \(divergence))")
    }
    guard recorded == epsilon else {
      throw MemoryFileError(
        "epsilon: the memory file was prepared for epsilon \(recorded), not \(epsilon); use the file's epsilon, or create a memory file for \(epsilon) from the same patterns"
      )
    }
  }

  /// A memory of the stored Gaussians for `divergence`.
  public func memory<D: Divergence>(_ divergence: D) throws -> Memory<D> where D.Pattern == Gaussian {
    guard case .gaussians(let gaussians) = patterns else { throw kindError("Gaussians") }
    return try Memory(divergence: divergence, patterns: gaussians)
  }

  /// The Sinkhorn solver settings recorded in the file: its epsilon, tolerance and iteration cap
  /// (the library's defaults for what a version 1 file did not record).
  public func sinkhornOptions() throws(MemoryFileError) -> SinkhornOptions {
    guard let epsilon else { throw MemoryFileError("divergence \(divergence) records no epsilon") }
    do throws(DAMError) {
      let defaults = try SinkhornOptions(epsilon: epsilon)
      return try SinkhornOptions(
        epsilon: epsilon, tolerance: parameters?.tolerance ?? defaults.tolerance,
        maxIterations: parameters?.maxIterations ?? defaults.maxIterations)
    } catch {
      throw MemoryFileError("\(error.argument): \(error.message)")
    }
  }

  /// The Sinkhorn divergence with the recorded settings (point clouds).
  public func sinkhornDivergence() throws(MemoryFileError) -> SinkhornDivergence {
    SinkhornDivergence(options: try sinkhornOptions())
  }

  /// The grid Sinkhorn divergence with the recorded settings (histograms).
  public func gridSinkhornDivergence() throws(MemoryFileError) -> GridSinkhornDivergence {
    let options = try sinkhornOptions()
    do throws(DAMError) {
      return GridSinkhornDivergence(
        options: try GridSinkhornOptions(
          epsilon: options.epsilon, tolerance: options.tolerance, maxIterations: options.maxIterations))
    } catch {
      throw MemoryFileError("\(error.argument): \(error.message)")
    }
  }

  // MARK: Internals

  private func kindError(_ wanted: String) -> MemoryFileError {
    MemoryFileError("the file holds \(kind.rawValue), not \(wanted)")
  }

  static func defaultDivergence(_ kind: MemoryFileKind) -> String {
    switch kind {
    case .vectors: "squared-euclidean"
    case .pointClouds, .histograms: "sinkhorn"
    case .gaussians: "bures-wasserstein"
    }
  }

  static func checkConsistent(_ patterns: Patterns) throws(MemoryFileError) {
    try checkShape(patterns)
    try checkRange(patterns)
  }

  /// Refuses patterns so far apart that a divergence between two of them overflows: the squared
  /// diameter of the bounding box of every pattern's coordinates (vectors), atoms (point clouds) or
  /// means (Gaussians, plus four times the largest covariance trace, which bounds the covariance
  /// part of `W₂²`) must be finite. A retrieval from such a file could only fail (a cost that
  /// overflows starts the Sinkhorn ε annealing at infinity), so the file is refused when it is
  /// made and when it is read. Histograms are checked by `GridHistogram` (the grid's diameter).
  static func checkRange(_ patterns: Patterns) throws(MemoryFileError) {
    var low: [Double] = []
    var high: [Double] = []
    func include(_ point: UnsafeBufferPointer<Double>) {
      if low.isEmpty {
        low = [Double](repeating: .infinity, count: point.count)
        high = [Double](repeating: -.infinity, count: point.count)
      }
      for t in 0..<min(point.count, low.count) {
        low[t] = min(low[t], point[t])
        high[t] = max(high[t], point[t])
      }
    }
    var extra = 0.0
    let what: String
    switch patterns {
    case .vectors(let vectors):
      what = "the vectors' coordinates"
      for v in vectors { v.withUnsafeBufferPointer(include) }
    case .pointClouds(let clouds):
      what = "the clouds' atoms"
      for c in clouds {
        let d = c.dimension
        c.points.elements.withUnsafeBufferPointer { all in
          for j in 0..<c.count { include(UnsafeBufferPointer(rebasing: all[(j * d)..<((j + 1) * d)])) }
        }
      }
    case .gaussians(let gaussians):
      what = "the Gaussians' means (and covariance traces)"
      for g in gaussians {
        g.mean.withUnsafeBufferPointer(include)
        switch g.covariance {
        case .diagonal(let v): extra = max(extra, 4 * v.reduce(0, +))
        case .full(let m): extra = max(extra, 4 * m.trace)
        }
      }
    case .histograms:
      return
    }
    var squared = extra
    for (a, b) in zip(low, high) { squared += (b - a) * (b - a) }
    guard squared.isFinite else {
      throw MemoryFileError(
        "patterns: the squared diameter of \(what) overflows (\(squared)): a divergence between two patterns, or a Sinkhorn cost, would be infinite; rescale the patterns"
      )
    }
  }

  private static func checkShape(_ patterns: Patterns) throws(MemoryFileError) {
    switch patterns {
    case .vectors(let vectors):
      let d = vectors[0].count
      guard d > 0 else { throw MemoryFileError("patterns[0]: has dimension 0") }
      for (i, v) in vectors.enumerated() {
        guard v.count == d else {
          throw MemoryFileError("patterns[\(i)]: has dimension \(v.count), patterns[0] has \(d)")
        }
        for (j, x) in v.enumerated() where !x.isFinite {
          throw MemoryFileError("patterns[\(i)]: non-finite value (\(x)) at index \(j)")
        }
      }
    case .pointClouds(let clouds):
      let d = clouds[0].dimension
      for (i, c) in clouds.enumerated() where c.dimension != d {
        throw MemoryFileError("patterns[\(i)]: atoms have dimension \(c.dimension), patterns[0]'s have \(d)")
      }
    case .gaussians(let gaussians):
      let d = gaussians[0].dimension
      let diagonal = Self.isDiagonal(gaussians[0])
      for (i, g) in gaussians.enumerated() {
        guard g.dimension == d else {
          throw MemoryFileError("patterns[\(i)]: has dimension \(g.dimension), patterns[0] has \(d)")
        }
        guard Self.isDiagonal(g) == diagonal else {
          throw MemoryFileError(
            "patterns[\(i)]: has a \(diagonal ? "full" : "diagonal") covariance, patterns[0] a \(diagonal ? "diagonal" : "full") one; a file stores one form"
          )
        }
      }
    case .histograms(let histograms):
      let (shape, spacing) = (histograms[0].shape, histograms[0].spacing)
      for (i, h) in histograms.enumerated() where h.shape != shape || h.spacing != spacing {
        throw MemoryFileError(
          "patterns[\(i)]: grid \(h.shape) with spacing \(h.spacing), patterns[0] has \(shape) with spacing \(spacing)"
        )
      }
    }
  }

  private static func isDiagonal(_ g: Gaussian) -> Bool {
    if case .diagonal = g.covariance { return true }
    return false
  }

  static func arrays(_ patterns: Patterns) throws(NumPyError) -> [(name: String, array: NumPyArray)] {
    switch patterns {
    case .vectors(let v):
      return [("patterns", try NumPyArray(shape: [v.count, v[0].count], doubles: v.flatMap { $0 }))]
    case .pointClouds(let clouds):
      var offsets = [0]
      for cloud in clouds { offsets.append(offsets.last! + cloud.count) }
      return [
        (
          "points",
          try NumPyArray(
            shape: [offsets.last!, clouds[0].dimension], doubles: clouds.flatMap(\.points.elements))
        ),
        ("weights", try NumPyArray(shape: [offsets.last!], doubles: clouds.flatMap(\.weights))),
        ("offsets", try NumPyArray(shape: [offsets.count], integers: offsets)),
      ]
    case .gaussians(let gaussians):
      let d = gaussians[0].dimension
      let means = try NumPyArray(shape: [gaussians.count, d], doubles: gaussians.flatMap(\.mean))
      if isDiagonal(gaussians[0]) {
        let variances = gaussians.flatMap { g -> [Double] in
          if case .diagonal(let v) = g.covariance { return v }
          return []
        }
        return [
          ("means", means), ("variances", try NumPyArray(shape: [gaussians.count, d], doubles: variances)),
        ]
      }
      return [
        ("means", means),
        (
          "covariances",
          try NumPyArray(
            shape: [gaussians.count, d, d], doubles: gaussians.flatMap(\.covarianceMatrix.elements))
        ),
      ]
    case .histograms(let histograms):
      return [
        (
          "histograms",
          try NumPyArray(
            shape: [histograms.count] + histograms[0].shape, doubles: histograms.flatMap(\.masses))
        ),
        ("spacing", try NumPyArray(shape: [histograms[0].shape.count], doubles: histograms[0].spacing)),
      ]
    }
  }
}
