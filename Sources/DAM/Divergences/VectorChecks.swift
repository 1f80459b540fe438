/// Shared validation of the vector divergences.
enum VectorChecks {
  static func pattern(_ pattern: [Double]) throws(DAMError) {
    guard !pattern.isEmpty else {
      throw DAMError.invalid("pattern", "is empty; vectors need at least one coordinate")
    }
    try _requireFinite(pattern, "pattern")
  }

  static func compatible(_ pattern: [Double], _ reference: [Double]) throws(DAMError) {
    guard pattern.count == reference.count else {
      throw DAMError.mismatch(
        "pattern", "has \(pattern.count) coordinates, the memory's patterns have \(reference.count)")
    }
  }

  static func query(_ state: [Double], _ reference: [Double]) throws(DAMError) {
    guard state.count == reference.count else {
      throw DAMError.mismatch(
        "query", "has \(state.count) coordinates, the memory's patterns have \(reference.count)")
    }
    try _requireFinite(state, "query")
  }
}
