#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Progress and diagnostics on standard error; progress only when it is a terminal.
package enum Terminal {
  package static let stderrIsTerminal = isatty(2) == 1

  /// Writes a line to standard error.
  package static func note(_ line: String) {
    _writeStandardError(line + "\n")
  }

  /// Rewrites a one-line progress indicator, when standard error is a terminal.
  package static func progress(_ line: String) {
    guard stderrIsTerminal else { return }
    _writeStandardError("\r\u{1B}[2K" + line)
  }

  /// Clears the progress line.
  package static func endProgress() {
    guard stderrIsTerminal else { return }
    _writeStandardError("\r\u{1B}[2K")
  }

  /// Seconds of CPU time used by this process, user and system, all threads.
  package static func cpuTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
    return user + system
  }

  /// Seconds on a monotonic clock.
  package static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
  }
}

/// Writes to file descriptor 2 directly (no shared `FILE *`, so no data race).
private func _writeStandardError(_ text: String) {
  var bytes = Array(text.utf8)
  var offset = 0
  while offset < bytes.count {
    let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
    if written <= 0 { return }
    offset += written
  }
}
