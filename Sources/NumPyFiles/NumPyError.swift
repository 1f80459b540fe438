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

  /// The message, unchanged.
  public var description: String { message }

  /// Creates an error carrying `message`.
  public init(_ message: String) {
    self.message = message
  }

  /// Returns this error with `prefix` and `": "` put in front of the message.
  func prefixed(_ prefix: String) -> NumPyError {
    NumPyError("\(prefix): \(message)")
  }
}
