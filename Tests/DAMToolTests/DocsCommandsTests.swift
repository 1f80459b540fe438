import Foundation
import NumPyFiles
import Testing

/// The `dam` commands of Docs/getting-started.md, run verbatim (as a new user would paste them)
/// in a folder holding NumPy files in the documented layout: five clouds of 30 points in the
/// plane (`points` (5, 30, 2)) and a noisy copy of the third with its points shuffled.
struct DocsCommandsTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The `.build/release/dam ...` lines of the ```sh blocks, with `\` continuations joined.
  static func damCommands(in markdown: String) -> [[String]] {
    var commands: [[String]] = []
    var inShell = false
    var pending = ""
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed == "```sh" {
        inShell = true
        continue
      }
      if trimmed == "```" {
        inShell = false
        continue
      }
      guard inShell else { continue }
      pending += (pending.isEmpty ? "" : " ") + trimmed.replacingOccurrences(of: "\\", with: "")
      if trimmed.hasSuffix("\\") { continue }
      let words = pending.split(separator: " ").map(String.init)
      pending = ""
      if words.first == ".build/release/dam" { commands.append(Array(words.dropFirst())) }
    }
    return commands
  }

  @Test func gettingStartedCommandsWorkAsWritten() throws {
    let markdown = try String(
      contentsOf: Self.root.appendingPathComponent("Docs/getting-started.md"), encoding: .utf8)
    let commands = Self.damCommands(in: markdown)
    #expect(commands.map(\.first) == ["retrieve", "compare"])

    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var points: [Double] = []
    for i in 0..<5 {
      for j in 0..<30 {
        let angle = Double(j) * 2 * Double.pi / 30
        points += [3 * Double(i) + cos(angle) * (1 + 0.1 * Double(i)), sin(angle) * 0.5]
      }
    }
    var memory = NumPyArchive()
    memory["points"] = try NumPyArray(shape: [5, 30, 2], doubles: points)
    try NPZ.write(memory, to: folder.path("clouds.npz"))
    // The third cloud, points in reverse order, each moved by a fixed offset of size about 0.14.
    var noisy: [Double] = []
    for j in (0..<30).reversed() {
      noisy += [
        points[(2 * 30 + j) * 2] + 0.1 * cos(Double(j)), points[(2 * 30 + j) * 2 + 1] + 0.1 * sin(Double(j)),
      ]
    }
    var query = NumPyArchive()
    query["points"] = try NumPyArray(shape: [30, 2], doubles: noisy)
    try NPZ.write(query, to: folder.path("noisy.npz"))

    let retrieve = try DamProcess.run(commands[0], in: folder.url)
    #expect(retrieve.status == 0, "stderr: \(retrieve.stderr)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(retrieve.stdout.utf8)) as? [String: Any])
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.first?["pattern_index"] as? Int == 2)
    #expect(folder.exists("recalled.npz"))

    let compare = try DamProcess.run(commands[1], in: folder.url)
    #expect(compare.status == 0, "stderr: \(compare.stderr)")
    #expect(folder.exists("reports/mine/summary.md"))
    #expect(folder.exists("reports/mine/success-point-clouds.svg"))
  }
}
