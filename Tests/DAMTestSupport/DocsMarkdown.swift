import Foundation

/// The package's documentation read as text, for the tests that check it against the code: the
/// README, the guides in `Docs/` and the articles of the DocC catalogs (`Sources/*/*.docc`).
///
/// Only the top level of `Docs/` is read: `Docs/results/` and `Docs/bench/` hold generated
/// reports, whose commands are checked by the tests of the commands that write them.
public enum DocsMarkdown {
  /// The repository's root folder (this file is `Tests/DAMTestSupport/DocsMarkdown.swift`).
  public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// A Markdown file: its path relative to the root and its text.
  public struct Document: Sendable, CustomStringConvertible {
    public let path: String
    public let text: String
    public var description: String { path }

    public init(path: String, text: String) {
      self.path = path
      self.text = text
    }
  }

  /// README.md, Docs/*.md and every `.md` in a DocC catalog, sorted by path.
  public static func documents() throws -> [Document] {
    var paths = ["README.md"]
    let manager = FileManager.default
    let docs = root.appendingPathComponent("Docs")
    paths += try manager.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
      .map { "Docs/\($0)" }
    let sources = root.appendingPathComponent("Sources")
    for module in try manager.contentsOfDirectory(atPath: sources.path).sorted() {
      for catalog in (try? manager.contentsOfDirectory(atPath: sources.appendingPathComponent(module).path))
        ?? []
      where catalog.hasSuffix(".docc") {
        let base = "Sources/\(module)/\(catalog)"
        guard let enumerator = manager.enumerator(atPath: root.appendingPathComponent(base).path) else {
          continue
        }
        paths += enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".md") }.sorted().map {
          "\(base)/\($0)"
        }
      }
    }
    return try paths.map {
      Document(path: $0, text: try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8))
    }
  }

  /// A fenced code block: its info string (`sh`, `swift`, or empty), the line number (1-based) of
  /// its first line of content, and its lines.
  public struct Block: Sendable {
    public let info: String
    public let line: Int
    public let lines: [String]
  }

  /// Every fenced (```) block of a Markdown text, in order.
  public static func fencedBlocks(_ markdown: String) -> [Block] {
    var blocks: [Block] = []
    var current: (info: String, line: Int, lines: [String])? = nil
    for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if let open = current {
        if trimmed == "```" {
          blocks.append(Block(info: open.info, line: open.line, lines: open.lines))
          current = nil
        } else {
          current!.lines.append(String(line))
        }
      } else if trimmed.hasPrefix("```") {
        current = (String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces), index + 2, [])
      }
    }
    return blocks
  }

  /// A code span: the line it starts on, its text, and how many backticks delimit it (2 for a
  /// DocC symbol link, ``Name``).
  public struct Span: Sendable {
    public let line: Int
    public let text: String
    public let backticks: Int
  }

  /// The code spans (`x`, ``x``) of a Markdown text outside fenced blocks. A span may cross a
  /// line break (read as a space); `\|` (a pipe inside a table cell) is read as `|`.
  public static func codeSpans(_ markdown: String) -> [Span] {
    // Blank out fenced blocks, keeping their line breaks so that line numbers stay right.
    var prose: [String] = []
    var inFence = false
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
        inFence.toggle()
        prose.append("")
      } else {
        prose.append(inFence ? "" : String(line))
      }
    }
    let characters = Array(prose.joined(separator: "\n"))
    var spans: [Span] = []
    var line = 1
    var i = 0
    while i < characters.count {
      if characters[i] == "\n" {
        line += 1
        i += 1
        continue
      }
      guard characters[i] == "`" else {
        i += 1
        continue
      }
      var run = 0
      while i + run < characters.count, characters[i + run] == "`" { run += 1 }
      // The closing run: the next run of exactly as many backticks, before a blank line.
      var j = i + run
      var close: Int? = nil
      while j < characters.count {
        if characters[j] == "\n", j + 1 < characters.count, characters[j + 1] == "\n" { break }
        if characters[j] == "`" {
          var other = 0
          while j + other < characters.count, characters[j + other] == "`" { other += 1 }
          if other == run {
            close = j
            break
          }
          j += other
        } else {
          j += 1
        }
      }
      guard let close else {
        i += run
        continue
      }
      let body = String(characters[(i + run)..<close])
      spans.append(
        Span(
          line: line,
          text: body.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\\|", with: "|")
            .trimmingCharacters(in: .whitespaces), backticks: run))
      line += body.filter { $0 == "\n" }.count
      i = close + run
    }
    return spans
  }
}
