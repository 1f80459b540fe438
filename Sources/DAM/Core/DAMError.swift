/// The one error type of the library: what went wrong, and with which argument.
///
/// Every public entry point validates its input and throws a `DAMError` whose ``argument``
/// names the offending argument (with an index where one applies, as in `patterns[3]`) and whose
/// ``message`` says what is wrong with it, including the offending value where that helps.
/// Numerical faults found during a computation (a solver that produced a non-finite value, a
/// matrix that turned out not to be positive definite) are reported the same way.
public struct DAMError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The broad class of a failure, for programs that react to some of them.
  public enum Kind: String, Sendable, Hashable {
    /// A value is out of its allowed range or malformed.
    case invalidArgument
    /// Sizes or dimensions of two arguments do not agree.
    case dimensionMismatch
    /// An argument holds NaN or an infinity.
    case nonFinite
    /// A matrix that must be symmetric positive (semi)definite is not.
    case notPositiveDefinite
    /// A computation failed numerically (a library routine reported failure, a solver diverged).
    case numericalFailure
    /// The arguments imply more memory than ``ResourceLimits/current`` allows; nothing was
    /// allocated for it.
    case resourceLimit
    /// A ``WorkBudget``'s time or iterations ran out; the argument names the limit.
    case budgetExceeded
  }

  /// The broad class of the failure.
  public var kind: Kind
  /// The argument at fault, for example `beta`, `query` or `patterns[3]`.
  public var argument: String
  /// What is wrong with it.
  public var message: String

  /// Creates an error about `argument`.
  public init(_ kind: Kind, argument: String, _ message: String) {
    self.kind = kind
    self.argument = argument
    self.message = message
  }

  /// `argument: message`.
  public var description: String { "\(argument): \(message)" }

  /// The same error about another argument, for callers that know the user-facing name
  /// (a memory renames `pattern` to `patterns[7]`, a command-line tool to `--query`).
  public func renamingArgument(_ transform: (String) -> String) -> DAMError {
    DAMError(kind, argument: transform(argument), message)
  }
}

extension DAMError {
  static func invalid(_ argument: String, _ message: String) -> DAMError {
    DAMError(.invalidArgument, argument: argument, message)
  }

  static func mismatch(_ argument: String, _ message: String) -> DAMError {
    DAMError(.dimensionMismatch, argument: argument, message)
  }
}

/// Throws unless every value is finite, naming the first offending index.
@usableFromInline
func _requireFinite<C: Collection>(_ values: C, _ argument: String) throws(DAMError)
where C.Element == Double {
  if values.withContiguousStorageIfAvailable(_allFinite) == true { return }
  var index = 0
  for value in values {
    if !value.isFinite {
      throw DAMError(
        .nonFinite, argument: argument, "has a non-finite value (\(value)) at index \(index)")
    }
    index += 1
  }
}

/// Whether every value is finite, by integer operations that vectorise: a double is NaN or
/// infinite exactly when its exponent bits are all ones, and then adding one to the exponent
/// field carries into the sign bit. Public for the tools' input checks; not part of the API.
public func _allFinite(_ values: UnsafeBufferPointer<Double>) -> Bool {
  var carried: UInt64 = 0
  for value in values {
    carried |= (value.bitPattern & 0x7FF0_0000_0000_0000) &+ 0x0010_0000_0000_0000
  }
  return carried & 0x8000_0000_0000_0000 == 0
}

/// Throws unless `value` is finite and strictly positive.
@usableFromInline
func _requirePositive(_ value: Double, _ argument: String) throws(DAMError) {
  guard value.isFinite, value > 0 else {
    throw DAMError.invalid(argument, "must be a finite number > 0, got \(value)")
  }
}

/// Throws unless `beta` is a finite number > 0 whose reciprocal is finite too: the energy is
/// `-(1/β) Ω*(θ)`, so a subnormal β (below about 5.6e-309) would make every energy infinite.
func _requireInverseTemperature(_ beta: Double, _ argument: String = "beta") throws(DAMError) {
  try _requirePositive(beta, argument)
  guard (1 / beta).isFinite else {
    throw DAMError.invalid(
      argument,
      "is \(beta), so small that 1/\(argument) (the factor of the energy) overflows; must be at least \(1 / Double.greatestFiniteMagnitude)"
    )
  }
}
