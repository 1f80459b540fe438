#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Named limits on what one computation may allocate, checked before the allocation.
///
/// A size taken from a file or an argument (the atoms of a cloud, the cells of a grid, a subset
/// size `k`) can imply far more memory than the machine has: a 1-D grid of 300,000 cells needs
/// 1-D kernel matrices of 300,000² doubles (720 GB). Solvers work out what a size implies and
/// compare it with ``current`` before allocating, so that such a request is a ``DAMError`` of kind
/// ``DAMError/Kind/resourceLimit`` that names the argument, the size and the limit, never a
/// process killed by the allocator. What is checked:
///
/// - the dense kernel matrix of point-cloud Sinkhorn (`n × m` doubles, ``SinkhornBackend/kernel``);
/// - the 1-D kernel matrices of grid Sinkhorn and grid barycenters (`Σₐ nₐ²` doubles per kernel,
///   every backend but ``GridKernelBackend/fft``);
/// - the back-pointers of ``SequentialKSubsets``' oracle (`2 N (k + 1)` bytes).
///
/// Readers built on the library apply the same ``maximumBytes`` to files they read (NumPyFiles'
/// `maximumBytes` arguments; the memory-file reader passes ``current``'s).
///
/// The default, ``machineDefault``, is half the physical memory. A program that knows better (it
/// runs alone on a large machine, or must stay small) sets ``current`` once at start-up; the `dam`
/// tool sets it from the environment variable `DAM_MEMORY_LIMIT`.
public struct ResourceLimits: Sendable, Hashable {
  /// The most bytes one array that a computation allocates may take.
  public var maximumBytes: Int

  /// How a person raises the limit, appended to the message of every error the limit causes
  /// (the `dam` tool names its environment variable here).
  public var advice: String

  /// Limits of `maximumBytes` bytes.
  ///
  /// - Throws: ``DAMError`` naming `maximumBytes` unless it is at least 1.
  public init(
    maximumBytes: Int,
    advice: String = "raise ResourceLimits.current.maximumBytes if the machine has the memory"
  ) throws(DAMError) {
    guard maximumBytes >= 1 else {
      throw DAMError.invalid("maximumBytes", "must be at least 1 byte, got \(maximumBytes)")
    }
    self.maximumBytes = maximumBytes
    self.advice = advice
  }

  /// The machine's physical memory in bytes (`sysconf(_SC_PHYS_PAGES) × sysconf(_SC_PAGESIZE)`),
  /// `nil` where it cannot be read.
  public static let physicalMemory: Int? = {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let size = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, size > 0 else { return nil }
    let (bytes, overflow) = pages.multipliedReportingOverflow(by: size)
    return overflow ? nil : bytes
  }()

  /// Half the physical memory (no limit where that cannot be read): an array larger than that
  /// leaves too little for the rest of a computation, which holds its inputs and several arrays
  /// of their size besides.
  public static var machineDefault: ResourceLimits {
    try! ResourceLimits(maximumBytes: max(1, (physicalMemory ?? Int.max) / 2))
  }

  private static let shared = Lock<ResourceLimits>(machineDefault)

  /// The limits every check in the library consults: ``machineDefault`` until a program sets
  /// others. One value for the process, read at each check.
  public static var current: ResourceLimits {
    get { shared.withLock { $0 } }
    set { shared.withLock { $0 = newValue } }
  }

  /// `count₁ × count₂ × … × elementSize`, or `nil` when the product overflows `Int` (or a count
  /// is negative): a size no limit admits.
  public static func bytes(_ counts: [Int], elementSize: Int) -> Int? {
    var product = elementSize
    guard product >= 0 else { return nil }
    for count in counts {
      guard count >= 0 else { return nil }
      let (next, overflow) = product.multipliedReportingOverflow(by: count)
      if overflow { return nil }
      product = next
    }
    return product
  }

  /// Throws unless `bytes` (`nil`: more than `Int` can hold) fits ``maximumBytes``.
  ///
  /// - Parameters:
  ///   - bytes: the size asked for.
  ///   - argument: the argument the size comes from, which the error names.
  ///   - what: what the bytes are for, as in `"the kernel backend's 100000 x 100000 matrix of
  ///     doubles"`: the message reads `"<what> needs <bytes>, more than the memory limit of …"`.
  ///   - remedy: what else could be done, appended before ``advice`` (or `nil`).
  /// - Throws: ``DAMError`` of kind ``DAMError/Kind/resourceLimit`` naming `argument`.
  public func check(bytes: Int?, for argument: String, _ what: String, remedy: String? = nil)
    throws(DAMError)
  {
    if let bytes, bytes <= maximumBytes { return }
    let needed = bytes.map(Self.describe) ?? "more than \(Int.max) bytes"
    let alternatives = remedy.map { "; \($0)" } ?? ""
    throw DAMError(
      .resourceLimit, argument: argument,
      "\(what) needs \(needed), more than the memory limit of \(Self.describe(maximumBytes))\(alternatives); \(advice)"
    )
  }

  /// `"720000000000 bytes (670.6 GiB)"`; counts under 1 KiB without the binary unit.
  public static func describe(_ bytes: Int) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    guard bytes >= 1024 else { return "\(bytes) bytes" }
    var value = Double(bytes)
    var unit = -1
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return "\(bytes) bytes (\((value * 10).rounded() / 10) \(units[unit]))"
  }

  /// A byte count as people write it: digits with an optional binary unit `K`, `M`, `G`, `T` (or
  /// `KiB` … `TiB`, any case; `1.5G` is allowed), for options and environment variables; `nil`
  /// for anything else, 0, or a count that overflows `Int`.
  public static func parseBytes(_ text: String) -> Int? {
    var body = text.trimmingWhitespace.uppercased()
    if body.hasSuffix("IB") { body.removeLast(2) } else if body.hasSuffix("B") { body.removeLast() }
    let scales: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
    var scale = 1.0
    if let last = body.last, let unit = scales[last] {
      scale = unit
      body.removeLast()
    }
    guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      let number = Double(body), number.isFinite
    else { return nil }
    let bytes = (number * scale).rounded(.down)
    guard bytes >= 1, bytes < 0x1p63 else { return nil }
    return Int(bytes)
  }
}

extension String {
  fileprivate var trimmingWhitespace: Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) })
    else {
      return ""
    }
    return self[first...last]
  }
}
