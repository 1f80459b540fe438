import DAM
import NumPyFiles

/// An error for the user: names the option at fault and says what is wrong. ArgumentParser prints
/// it as `Error: <description>` and exits with status 1.
///
/// An option is named as written (`--memory`); a positional argument is named by its path, so
/// that `dam memory verify m.npz` fails with `m.npz: ...`, not with the name its usage line
/// shows (`memory.npz`). Readers that prefix their messages with the path they read can be given
/// that path as the option: a message that already starts with `option: ` is not prefixed again.
package struct CLIError: Error, CustomStringConvertible {
  package var description: String

  package init(_ option: String, _ message: String) {
    description = message.hasPrefix(option + ": ") ? message : "\(option): \(message)"
  }

  /// A library error, attributed to a command-line option (or a positional argument's path).
  package init(_ option: String, _ error: any Error) {
    switch error {
    case let error as DAMError: self.init(option, error.description)
    case let error as NumPyError: self.init(option, error.message)
    case let error as CLIError: self = error
    default: self.init(option, "\(error)")
    }
  }
}

/// Runs `body`, attributing any error it throws to `option`.
package func attributing<T>(_ option: String, _ body: () throws -> T) throws(CLIError) -> T {
  do {
    return try body()
  } catch let error as CLIError {
    throw error
  } catch {
    throw CLIError(option, error)
  }
}

/// Builds a memory, attributing a failure to `--memory`, except when preparing a pattern refused
/// the epsilon (the library names `epsilon`, renamed by the memory to `patterns[i] (epsilon)`:
/// too large for the patterns' scale, or a solve hopeless at it): that is `--epsilon`'s fault.
package func attributingMemory<T>(_ body: () throws -> T) throws(CLIError) -> T {
  do {
    return try body()
  } catch let error as DAMError where error.argument == "epsilon" || error.argument.hasSuffix(" (epsilon)") {
    let pattern =
      error.argument == "epsilon" ? "" : " (stored pattern \(error.argument.dropLast(" (epsilon)".count)))"
    throw CLIError("--epsilon", error.message + pattern)
  } catch {
    throw CLIError("--memory", error)
  }
}

/// Runs an iterative solve, attributing a failure to the option the library names: `--epsilon`
/// when the solve cannot reach its tolerance at this epsilon (stopped early), `--tolerance` when
/// that tolerance is 0, `--backend` when its kernel would exceed the memory limit,
/// `--max-iterations` when it ran out of iterations (or anything else).
/// A failure the library attributes to one of `inputs` (keyed by the library's argument name,
/// such as `x`: atoms so far apart that a cost overflows) goes to that input's option and path.
package func attributingSolve<T>(
  inputs: [String: (option: String, path: String)] = [:], _ body: () throws -> T
) throws(CLIError) -> T {
  do {
    return try body()
  } catch let error as DAMError
    where error.argument == "epsilon" || error.argument == "tolerance"
    || (error.kind == .resourceLimit && error.argument == "backend")
  {
    throw CLIError("--" + error.argument, error.message)
  } catch let error as DAMError where inputs[error.argument] != nil {
    let input = inputs[error.argument]!
    throw CLIError(input.option, "\(input.path): \(error.message)")
  } catch {
    throw CLIError("--max-iterations", error)
  }
}
