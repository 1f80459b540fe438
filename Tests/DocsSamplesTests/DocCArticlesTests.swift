import DAMTestSupport
import Foundation
import Testing

/// The guides in `Docs/` are also articles of the DAM documentation catalog
/// (`Sources/DAM/DAM.docc/Guides/`), next to the API. The Markdown in `Docs/` is the one source:
/// GitHub shows it as it is, and each article is made from it by `article(from:)`, which turns
/// links between guides into DocC article links and links to other files of the repository into
/// their paths (DocC has no page for them). This test fails when an article is not what its guide
/// makes; `DAM_WRITE_ARTICLES=1 swift test --filter DocCArticlesTests` writes them.
struct DocCArticlesTests {
  /// Each guide (`Docs/<name>.md`) and the name of its article.
  static let guides: [(guide: String, article: String)] = [
    ("getting-started", "GettingStarted"), ("concepts", "Concepts"), ("custom-memory", "AssemblingAMemory"),
    ("extending", "AddingADivergence"), ("costs", "AddingACost"), ("conventions", "Conventions"),
    ("cli", "CommandLine"), ("grids", "Grids"), ("gradients", "TakingGradients"),
  ]

  static let folder = "Sources/DAM/DAM.docc/Guides"

  /// The article a guide makes.
  static func article(from markdown: String, guide: String) -> String {
    let articles = Dictionary(uniqueKeysWithValues: guides.map { ($0.guide + ".md", $0.article) })
    var output = ""
    var inFence = false
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle() }
      output += (inFence ? line : rewritingLinks(line, articles: articles)) + "\n"
    }
    while output.hasSuffix("\n\n") { output.removeLast() }
    return output + """

      _This article is made from `Docs/\(guide).md` in the repository, which GitHub shows as it is;
      edit that file (`DocCArticlesTests` checks that the two agree)._

      """
  }

  /// `[text](target)`: another guide becomes `[text](doc:Article)` (its `#section` dropped: DocC
  /// names sections otherwise), a web address stays, a section of this page becomes its text,
  /// and another file becomes its text followed by its path from the repository's root.
  static func rewritingLinks(_ line: String, articles: [String: String]) -> String {
    line.replacing(/\[([^\]]+)\]\(([^)\s]+)\)/) { match in
      let (text, target) = (String(match.1), String(match.2))
      let file = String(target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
      if let article = articles[file] { return "[\(text)](doc:\(article))" }
      if target.hasPrefix("http://") || target.hasPrefix("https://") { return String(match.0) }
      if file.isEmpty { return text }
      let path = URL(fileURLWithPath: "/Docs/" + file).standardized.path.dropFirst()
      // A link whose text is the path (or a folder on it) needs no path after it.
      let bare = text.trimmingCharacters(in: CharacterSet(charactersIn: "`"))
      return path.hasPrefix(bare) ? text : "\(text) (`\(path)`)"
    }
  }

  @Test(arguments: guides.map(\.guide))
  func articleIsMadeFromItsGuide(_ guide: String) throws {
    let article = try #require(Self.guides.first { $0.guide == guide }?.article)
    let markdown = try String(
      contentsOf: DocsMarkdown.root.appendingPathComponent("Docs/\(guide).md"), encoding: .utf8)
    let expected = Self.article(from: markdown, guide: guide)
    let url = DocsMarkdown.root.appendingPathComponent("\(Self.folder)/\(article).md")
    if ProcessInfo.processInfo.environment["DAM_WRITE_ARTICLES"] == "1" {
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try expected.write(to: url, atomically: true, encoding: .utf8)
    }
    let committed = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    // The first line that differs, rather than both texts.
    let (old, new) = (
      committed.split(separator: "\n", omittingEmptySubsequences: false),
      expected.split(separator: "\n", omittingEmptySubsequences: false)
    )
    let common = min(old.count, new.count)
    let line = (0..<common).first { old[$0] != new[$0] } ?? common
    let agrees = committed == expected
    #expect(
      agrees,
      "\(Self.folder)/\(article).md is not what Docs/\(guide).md makes (line \(line + 1): `\(line < new.count ? new[line] : "")`): run DAM_WRITE_ARTICLES=1 swift test --filter DocCArticlesTests"
    )
  }

  /// Every article in the folder comes from a guide, and the catalog's page lists every article.
  @Test func catalogListsEveryArticle() throws {
    let names = try FileManager.default.contentsOfDirectory(
      atPath: DocsMarkdown.root.appendingPathComponent(Self.folder).path)
    #expect(
      Set(names) == Set(Self.guides.map { "\($0.article).md" }), "articles without a guide in \(Self.folder)")
    let page = try String(
      contentsOf: DocsMarkdown.root.appendingPathComponent("Sources/DAM/DAM.docc/DAM.md"), encoding: .utf8)
    for (_, article) in Self.guides {
      #expect(page.contains("- <doc:\(article)>"), "DAM.md does not list <doc:\(article)> under its topics")
    }
  }

  @Test func linksAreRewritten() {
    let articles = ["cli.md": "CommandLine"]
    #expect(
      Self.rewritingLinks("see [the CLI](cli.md#dam-compare) and [x](../README.md).", articles: articles)
        == "see [the CLI](doc:CommandLine) and x (`README.md`).")
    #expect(
      Self.rewritingLinks(
        "[`Docs/results/a/`](results/a/summary.md), [w](https://x.org/a)", articles: articles)
        == "`Docs/results/a/`, [w](https://x.org/a)")
    #expect(Self.rewritingLinks("[above](#licence)", articles: articles) == "above")
  }
}
