import Foundation
import Testing

/// Every ```swift block in Docs/ must appear, line for line, in a compiled file: the samples in
/// this folder (Samples.swift) or the example targets in Examples/. Lines are compared without
/// their leading and trailing spaces (a sample inside a test function is indented), and empty
/// lines are ignored.
struct DocsCoverageTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func normalised(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }

  static func files(under folder: String, suffix: String) -> [URL] {
    let base = root.appendingPathComponent(folder)
    guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
      return []
    }
    // Build folders (an example package built in place) hold other packages' sources.
    return enumerator.compactMap { $0 as? URL }.filter {
      $0.path.hasSuffix(suffix) && !$0.path.dropFirst(base.path.count).contains("/.build")
    }.sorted {
      $0.path < $1.path
    }
  }

  /// The ```swift blocks of a Markdown file, with their first line number.
  static func swiftBlocks(_ markdown: String) -> [(line: Int, text: String)] {
    var blocks: [(line: Int, text: String)] = []
    var current: [String]? = nil
    var start = 0
    for (number, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if current == nil, trimmed == "```swift" {
        current = []
        start = number + 1
      } else if current != nil, trimmed == "```" {
        blocks.append((start, current!.joined(separator: "\n")))
        current = nil
      } else if current != nil {
        current!.append(String(line))
      }
    }
    return blocks
  }

  static func contains(_ haystack: [String], _ needle: [String]) -> Bool {
    guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
      if Array(haystack[start..<(start + needle.count)]) == needle { return true }
    }
    return false
  }

  @Test func everySwiftSampleInDocsIsCompiled() throws {
    let sources =
      Self.files(under: "Tests/DocsSamplesTests", suffix: ".swift").filter {
        !$0.path.hasSuffix("DocsCoverageTests.swift")
      }
      + Self.files(under: "Examples", suffix: ".swift")
    #expect(!sources.isEmpty)
    let compiled = try sources.map { Self.normalised(try String(contentsOf: $0, encoding: .utf8)) }
    let documents = Self.files(under: "Docs", suffix: ".md") + [Self.root.appendingPathComponent("README.md")]
    #expect(documents.count >= 7, "the guides are in Docs/")
    var blockCount = 0
    for document in documents {
      let markdown = try String(contentsOf: document, encoding: .utf8)
      for block in Self.swiftBlocks(markdown) {
        blockCount += 1
        // A sample's imports stand at the top of the file that compiles it.
        let lines = Self.normalised(block.text).filter { !$0.hasPrefix("import ") }
        #expect(
          compiled.contains { Self.contains($0, lines) },
          "\(document.lastPathComponent):\(block.line): this sample is not in Tests/DocsSamplesTests or Examples"
        )
      }
    }
    #expect(blockCount >= 10, "the guides show code")
  }

  /// The install snippets of README.md and Docs/getting-started.md are the manifest of
  /// Examples/Client line for line, which scripts/test.sh builds and runs as a package depending on
  /// this one; and every `package:` there names the dependency's `name:`, this package's name.
  @Test func installSnippetsAreTheExampleClientsManifest() throws {
    let manifestText = try String(
      contentsOf: Self.root.appendingPathComponent("Examples/Client/Package.swift"), encoding: .utf8)
    let manifest = Self.normalised(manifestText)
    for document in ["README.md", "Docs/getting-started.md"] {
      let markdown = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
      let snippets = Self.swiftBlocks(markdown).filter { $0.text.contains(".package(") }
      #expect(snippets.count == 1, "\(document): one install snippet")
      for snippet in snippets {
        #expect(
          Self.contains(manifest, Self.normalised(snippet.text)),
          "\(document):\(snippet.line): the install snippet differs from Examples/Client/Package.swift")
      }
    }
    let name = try #require(manifestText.firstMatch(of: /\.package\(name: "([^"]+)", path:/)?.1)
    let rootManifest = try String(
      contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
    #expect(rootManifest.contains("name: \"\(name)\""))
    let products = manifestText.matches(of: /package: "([^"]+)"/).map { String($0.1) }
    #expect(products.count == 2 && products.allSatisfy { $0 == name })
  }

  /// The first unbalanced bracket of a sample (comments and strings ignored), or nil. The body
  /// of a type may stay open: a guide shows a type in parts (its declaration, then its methods).
  static func unbalanced(_ code: String) -> String? {
    var open: [(bracket: Character, opensType: Bool)] = []
    let pairs: [Character: Character] = [")": "(", "]": "[", "}": "{"]
    for line in SwiftDeclarations.strippingCommentsAndStrings(code).split(separator: "\n") {
      let declaresType = line.contains(/\b(struct|class|enum|extension|protocol|actor)\b/)
      for character in line {
        if "([{".contains(character) { open.append((character, character == "{" && declaresType)) }
        if let opening = pairs[character] {
          guard open.popLast()?.bracket == opening else { return "an unmatched `\(character)`" }
        }
      }
    }
    return open.last { !$0.opensType }.map { "an unclosed `\($0.bracket)`" }
  }

  /// Every sample is whole: its brackets balance. (A sample that lost its last closing brace still
  /// appears line for line in the compiled file, so the test above cannot see it.)
  @Test func everySwiftSampleIsBalanced() throws {
    for document in Self.files(under: "Docs", suffix: ".md") + [Self.root.appendingPathComponent("README.md")]
    {
      let markdown = try String(contentsOf: document, encoding: .utf8)
      for block in Self.swiftBlocks(markdown) {
        let problem = Self.unbalanced(block.text)
        #expect(problem == nil, "\(document.lastPathComponent):\(block.line): \(problem ?? "")")
      }
    }
    #expect(Self.unbalanced("func f() {\n  for x in y {\n  }\n") == "an unclosed `{`")
    #expect(Self.unbalanced("let s = \"}\" // )\nf(a[0])") == nil)
    #expect(Self.unbalanced("struct A: P {\n  let x: Int\n") == nil, "a type shown in parts")
  }

  /// The checker itself: a block that is in no compiled file is reported.
  @Test func aSampleThatIsNotCompiledIsCaught() {
    let blocks = Self.swiftBlocks("text\n```swift\nlet x = 1\nlet y = 2\n```\nmore\n```sh\nls\n```\n")
    #expect(blocks.count == 1)
    #expect(blocks.first?.line == 2)
    let lines = Self.normalised(blocks[0].text)
    #expect(Self.contains(["a", "let x = 1", "let y = 2"], lines))
    #expect(!Self.contains(["let x = 1", "b", "let y = 2"], lines))
  }
}
