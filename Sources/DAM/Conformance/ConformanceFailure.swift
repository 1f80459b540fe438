/// One property a conformance check found violated.
public struct ConformanceFailure: Sendable, Hashable, CustomStringConvertible {
  /// The property, for example `shift invariance`.
  public var property: String
  /// What was observed.
  public var detail: String

  /// A failure record.
  public init(property: String, detail: String) {
    self.property = property
    self.detail = detail
  }

  /// `property: detail`.
  public var description: String { "\(property): \(detail)" }
}
