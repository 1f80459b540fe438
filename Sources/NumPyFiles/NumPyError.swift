/// The single error type thrown by every API in `NumPyFiles`.
///
/// The message is meant to be shown to a person as it is: it says what is wrong and, where it
/// helps, how to fix it on the NumPy side (for example
/// `"x.npy: big-endian dtype '>f8' is not supported; convert with arr.astype('<f8')"`).
/// Errors raised while reading or writing a file start with that file's path, and errors about
/// one member of an `.npz` archive name the member (`"member 'w.npy': ..."`).
public struct NumPyError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A human-readable explanation of what went wrong.
  public var message: String

  /// The limit, in bytes, when this error refuses a read for needing more memory than its
  /// `maximumBytes` allows (a file, or an archive's inflated members, larger than that);
  /// `nil` for every other error. A caller that lets people raise the limit can say how.
  public var exceededLimit: Int?

  /// The message, unchanged.
  public var description: String { message }

  /// Creates an error carrying `message`.
  public init(_ message: String) {
    self.message = message
  }

  /// Creates an error refusing a read that would need more than `limit` bytes.
  init(_ message: String, exceededLimit limit: Int) {
    self.message = message
    exceededLimit = limit
  }

  /// Returns this error with `prefix` and `": "` put in front of the message.
  func prefixed(_ prefix: String) -> NumPyError {
    var error = self
    error.message = "\(prefix): \(message)"
    return error
  }
}
