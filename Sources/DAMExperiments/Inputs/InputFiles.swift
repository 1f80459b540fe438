import DAM
import Foundation
import NumPyFiles

/// The tools' reads of NumPy files, bounded by ``ResourceLimits/current`` (which `dam` sets from
/// `DAM_MEMORY_LIMIT`): only regular files, none larger than the limit, no archive whose members
/// would inflate beyond it. A refusal by the limit says how to raise it.
package enum InputFiles {
  /// The `.npy` array at `path`.
  package static func npy(_ path: String) throws(NumPyError) -> NumPyArray {
    do throws(NumPyError) {
      return try NPY.read(contentsOf: path, maximumBytes: ResourceLimits.current.maximumBytes)
    } catch {
      throw advised(error)
    }
  }

  /// The `.npz` archive at `path`.
  package static func npz(_ path: String) throws(NumPyError) -> NumPyArchive {
    do throws(NumPyError) {
      return try NPZ.read(contentsOf: path, maximumBytes: ResourceLimits.current.maximumBytes)
    } catch {
      throw advised(error)
    }
  }

  /// `error` with the limit's advice appended when the limit refused the read.
  package static func advised(_ error: NumPyError) -> NumPyError {
    guard error.exceededLimit != nil else { return error }
    var advised = error
    advised.message += "; " + ResourceLimits.current.advice
    return advised
  }
}

/// The environment variable through which `dam` sets ``ResourceLimits/current``.
package enum MemoryLimitSetting {
  /// `DAM_MEMORY_LIMIT`.
  package static let variable = "DAM_MEMORY_LIMIT"

  /// What every refusal by the limit tells a `dam` user.
  package static let advice =
    "if the machine has the memory, raise the limit with the environment variable DAM_MEMORY_LIMIT (bytes, or with a unit: DAM_MEMORY_LIMIT=64G)"

  /// The limits `dam` runs with: `DAM_MEMORY_LIMIT` (bytes, or a number with `K`, `M`, `G` or
  /// `T`) when set, else the machine's default (half the physical memory), with ``advice``.
  ///
  /// - Throws: ``CLIError`` naming `DAM_MEMORY_LIMIT` when it is set to anything else.
  package static func limits(environment: [String: String] = ProcessInfo.processInfo.environment)
    throws(CLIError) -> ResourceLimits
  {
    let bytes: Int
    if let text = environment[variable] {
      guard let parsed = ResourceLimits.parseBytes(text) else {
        throw CLIError(
          variable,
          "expected a number of bytes >= 1, optionally with a unit K, M, G or T (as in 512M or 64G), got '\(text)'"
        )
      }
      bytes = parsed
    } else {
      bytes = ResourceLimits.machineDefault.maximumBytes
    }
    return try! ResourceLimits(maximumBytes: bytes, advice: advice)
  }
}

/// Throws unless `bytes` (`nil`: more than `Int` holds), the memory that an option's value implies,
/// fits ``ResourceLimits/current``: checked before the command allocates it. The error names
/// `option` and says how to raise the limit.
package func requireMemory(_ option: String, bytes: Int?, _ what: String, remedy: String? = nil)
  throws(CLIError)
{
  do throws(DAMError) {
    try ResourceLimits.current.check(bytes: bytes, for: option, what, remedy: remedy)
  } catch {
    throw CLIError(option, error.message)
  }
}
