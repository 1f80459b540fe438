import Foundation
import Testing

/// Runs the `dam` executable built next to the test bundle.
struct DamProcess {
  struct Output {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process ended by a signal (then `status` is the signal's number).
    var signaled = false

    /// Checks a bad-input row's refusal: exit status 1, the message starting with `expected[0]`
    /// (the option, or a positional file's path) and containing every entry of `expected`, with
    /// `$` standing for `folder`'s path.
    func expectRefusal(
      _ name: String, naming expected: [String], in folder: TemporaryFolder,
      sourceLocation: SourceLocation = #_sourceLocation
    ) {
      #expect(status == 1, "\(name): status \(status), stderr: \(stderr)", sourceLocation: sourceLocation)
      let expected = expected.map(folder.resolving)
      #expect(
        stderr.hasPrefix("Error: \(expected[0]):"), "\(name): \(stderr)", sourceLocation: sourceLocation)
      for text in expected {
        #expect(stderr.contains(text), "\(name): \(stderr)", sourceLocation: sourceLocation)
      }
    }
  }

  /// The `dam` binary in the same build folder as this test process.
  static let executable: URL = {
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var folder = me.deletingLastPathComponent()
    // On Linux the test binary is <build>/<name>.xctest; on other layouts walk up a little.
    for _ in 0..<4 {
      let candidate = folder.appendingPathComponent("dam")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      folder = folder.deletingLastPathComponent()
    }
    return me.deletingLastPathComponent().appendingPathComponent("dam")
  }()

  /// `environment` is added to this process's environment for the child.
  static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:])
    throws -> Output
  {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes to the end before waiting, so a large output cannot block the child.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Output(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal
    )
  }

  /// Runs one row of a bad-input table: `$` in `arguments` is `folder`, `extra` is appended
  /// after that substitution. With DAM_PRINT_TABLE=1 the row is printed as a line of the tables
  /// in Docs/reliability.md (paths shown relative to the folder).
  static func runRow(
    _ name: String, _ arguments: [String], in folder: TemporaryFolder, extra: [String] = [],
    environment: [String: String] = [:]
  ) throws -> Output {
    let run = try Self.run(
      arguments.map { $0.replacingOccurrences(of: "$", with: folder.url.path) } + extra,
      environment: environment)
    if ProcessInfo.processInfo.environment["DAM_PRINT_TABLE"] != nil {
      let shown =
        environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value) " }.joined()
        + "dam " + arguments.map { $0.replacingOccurrences(of: "$/", with: "") }.joined(separator: " ")
      let message = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
      print(
        "TABLE| \(name) | `\(shown)` | \(run.status) | `\(message.replacingOccurrences(of: folder.url.path + "/", with: ""))` |"
      )
    }
    return run
  }
}

/// A fresh temporary folder per test.
struct TemporaryFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("dam-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// `text` with `$` replaced by this folder's path, as in a bad-input row's arguments: a
  /// positional file is named in messages by its path (`$/m.npz: exists`).
  func resolving(_ text: String) -> String { text.replacingOccurrences(of: "$", with: url.path) }

  func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

  func remove() { try? FileManager.default.removeItem(at: url) }
}
