import DAM

/// Throws `DAMError` naming `argument` unless `value` is finite and strictly positive (the
/// message of DAM's own checks).
func requirePositive(_ value: Double, _ argument: String) throws(DAMError) {
  guard value.isFinite, value > 0 else {
    throw DAMError(.invalidArgument, argument: argument, "must be a finite number > 0, got \(value)")
  }
}
