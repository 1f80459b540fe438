import DAMTestSupport
import Foundation
import NumPyFiles
import Testing

/// The `dam` command lines the documentation shows (README.md, Docs/*.md, the DocC articles) run
/// as a reader would paste them, in a folder holding small NumPy files under the names the
/// documents use (`DocsFixtures`).
///
/// A command line is any line of a fenced block whose first word (after a wrapper such as
/// `/usr/bin/time -v`) is `dam` or a path ending in `/dam`; `\` continuations are joined and
/// `# comments` dropped. Each runs with its document's earlier commands before it (a memory file
/// is created before it is appended to) and must exit 0; with `--json` it must print JSON, with
/// `--output`/`--report` it must write them. The lines of a `sh` block that are not `dam`
/// commands must be listed in `otherCommands` with the reason they are not run here, and a
/// command that is not run as written is listed in `substitutions` with what runs instead and
/// why. So a command added to any of these files is run, or the test says what to do about it.
struct DocsCommandsTests {
  /// A `dam` command line of a document.
  struct Command: CustomStringConvertible {
    var document: String
    var line: Int
    /// The arguments after the executable, as written.
    var arguments: [String]
    /// `dam` followed by the arguments: the key of `substitutions`.
    var text: String { (["dam"] + arguments).joined(separator: " ") }
    var description: String { "\(document):\(line): \(text)" }
  }

  /// Commands not run as written: what runs instead, and why.
  static let substitutions: [String: (arguments: [String], reason: String)] = [
    "dam compare": (
      ["compare", "--quick"],
      "the four built-in workloads at full size took 51 s wall (17.5 s CPU) at load 7-9 on the 2 shared "
        + "cores (7 Dec 2026), against 10 s for --quick (cli.md: a reduced run for smoke tests), which runs "
        + "the same workloads, engines and report on fewer queries and betas"
    )
  ]

  /// Lines of `sh` blocks that are not `dam` commands, and why this test does not run them.
  static let otherCommands: [String: String] = [
    "bash scripts/main.sh": "builds dam and runs the full comparison (`dam compare`, run here with --quick)",
    "bash scripts/test.sh": "the whole test suite, this test included",
    "swift build -c release --product dam": "the build that made the dam this test runs",
    "swift build -c release --disable-default-traits":
      "the trait-off build; scripts/test.sh builds it in .build-nofftw and runs the grid suites there",
    "swift package --allow-writing-to-package-directory compare-engines --report reports/compare":
      "the plugin builds dam and runs `dam compare --report reports/compare`, the command run here with --quick",
    "swift test -c release --filter TorusCostTests": "runs PeriodicCostTests, part of this suite",
    "swift run -c release learn-patterns Docs/results/pattern-learning":
      "the worked example of gradients.md at full size (five seeds, 4 s); PatternLearningTests, part of this suite, runs the same training on 5 digits per class",
  ]

  /// Options shown in code voice that are not `dam`'s, and whose they are.
  static let otherOptions: [String: String] = [
    "--static-swift-stdlib": "swift build", "--sanitize": "swift build", "--filter": "swift test",
    "--disable-default-traits": "swift build", "--allow-writing-to-package-directory": "swift package",
  ]

  /// Words that may precede `dam` on a command line, dropped when it is run here.
  static let wrappers: [[String]] = [["/usr/bin/time", "-v"], ["time"]]

  /// The words of a shell line, `# comment` dropped (no quoting is used in the documents).
  static func words(_ line: String) -> [String] {
    var words: [String] = []
    for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
      if word.hasPrefix("#") { break }
      words.append(word)
    }
    return words
  }

  /// The logical lines of a block: `\` continuations joined, with the line each starts on.
  static func logicalLines(_ block: DocsMarkdown.Block) -> [(line: Int, words: [String])] {
    var result: [(line: Int, words: [String])] = []
    var pending: [String] = []
    var start = block.line
    for (offset, raw) in block.lines.enumerated() {
      var text = raw.trimmingCharacters(in: .whitespaces)
      if pending.isEmpty { start = block.line + offset }
      let continued = text.hasSuffix("\\")
      if continued { text.removeLast() }
      pending += words(text)
      if continued { continue }
      if !pending.isEmpty { result.append((start, pending)) }
      pending = []
    }
    return result
  }

  /// The arguments after `dam` if the words are a `dam` command line.
  static func damArguments(_ words: [String]) -> [String]? {
    var rest = words[...]
    for wrapper in wrappers where rest.starts(with: wrapper) {
      rest = rest.dropFirst(wrapper.count)
      break
    }
    guard let first = rest.first, first == "dam" || first.hasSuffix("/dam") else { return nil }
    return Array(rest.dropFirst())
  }

  /// The `dam` commands of a document, and the lines of its `sh` blocks that are neither a
  /// `dam` command nor listed in `otherCommands`.
  static func commands(in document: DocsMarkdown.Document) -> (commands: [Command], unlisted: [String]) {
    var commands: [Command] = []
    var unlisted: [String] = []
    for block in DocsMarkdown.fencedBlocks(document.text) where block.info != "swift" {
      for (line, words) in logicalLines(block) {
        if let arguments = damArguments(words) {
          commands.append(Command(document: document.path, line: line, arguments: arguments))
        } else if ["sh", "bash", "shell", "console"].contains(block.info),
          otherCommands[words.joined(separator: " ")] == nil
        {
          unlisted.append("\(document.path):\(line): \(words.joined(separator: " "))")
        }
      }
    }
    return (commands, unlisted)
  }

  static let documents: [DocsMarkdown.Document] = (try? DocsMarkdown.documents()) ?? []

  @Test func documentsAreRead() {
    #expect(Self.documents.contains { $0.path == "README.md" })
    #expect(Self.documents.filter { $0.path.hasPrefix("Docs/") }.count >= 8)
    #expect(Self.documents.contains { $0.path.hasSuffix(".docc/DAM.md") })
  }

  /// Every shell line of the documents is a `dam` command or explained; every entry of the lists
  /// is still shown somewhere (a stale entry would hide a changed command).
  @Test func everyShellLineIsACommandOrExplained() {
    let all = Self.documents.map { Self.commands(in: $0) }
    let unlisted = all.flatMap(\.unlisted)
    #expect(
      unlisted.isEmpty,
      "lines of sh blocks that are not dam commands: run them in this test or list them in DocsCommandsTests.otherCommands with the reason:\n\(unlisted.joined(separator: "\n"))"
    )
    let shown = Set(all.flatMap(\.commands).map(\.text))
    for key in Self.substitutions.keys {
      #expect(shown.contains(key), "DocsCommandsTests.substitutions: no document shows `\(key)` any more")
    }
    let shellLines = Set(
      Self.documents.flatMap { document in
        DocsMarkdown.fencedBlocks(document.text).flatMap {
          Self.logicalLines($0).map { $0.words.joined(separator: " ") }
        }
      })
    for key in Self.otherCommands.keys {
      #expect(
        shellLines.contains(key), "DocsCommandsTests.otherCommands: no document shows `\(key)` any more")
    }
    #expect(shown.count >= 15, "the documents show commands")
  }

  /// The extraction on a made-up document: continuations, comments, wrappers, other blocks.
  @Test func extractionFindsEveryCommand() {
    let text = """
      ```sh
      .build/release/dam retrieve --memory M.npy \\
        --query Q.npy --json   # a comment
      dam experiment --list
      rm -rf reports
      ```
      ```
      /usr/bin/time -v dam divergence sinkhorn x.npy y.npy
      {"output": "not a command"}
      ```
      ```swift
      let dam = 1
      ```
      """
    let (commands, unlisted) = Self.commands(in: DocsMarkdown.Document(path: "x.md", text: text))
    #expect(
      commands.map(\.text) == [
        "dam retrieve --memory M.npy --query Q.npy --json", "dam experiment --list",
        "dam divergence sinkhorn x.npy y.npy",
      ])
    #expect(commands.map(\.line) == [2, 4, 8])
    #expect(unlisted == ["x.md:5: rm -rf reports"])
  }

  /// `dam`'s commands and their options, from `dam --experimental-dump-help`.
  struct CommandTree {
    var subcommands: [String: CommandTree] = [:]
    var options: Set<String> = ["--help", "-h"]

    init(json: [String: Any]) {
      for argument in json["arguments"] as? [[String: Any]] ?? [] {
        for name in argument["names"] as? [[String: Any]] ?? [] {
          guard let kind = name["kind"] as? String, let text = name["name"] as? String else { continue }
          options.insert(kind == "short" ? "-\(text)" : "--\(text)")
        }
      }
      for sub in json["subcommands"] as? [[String: Any]] ?? [] {
        if let name = sub["commandName"] as? String { subcommands[name] = CommandTree(json: sub) }
      }
    }

    static func load() throws -> CommandTree {
      let dump = try DamProcess.run(["--experimental-dump-help"])
      let json = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
      var tree = CommandTree(json: json?["command"] as? [String: Any] ?? [:])
      tree.options.insert("--version")
      return tree
    }

    /// Every option of every command.
    var allOptions: Set<String> { subcommands.values.reduce(options) { $0.union($1.allOptions) } }

    /// What is wrong with a command line as documented (placeholders allowed: `MAP`, `...`,
    /// `create|append` for several subcommands, `--memory/--queries` for several options), or nil.
    func problem(_ words: ArraySlice<String>) -> String? {
      if let word = words.first, !subcommands.isEmpty, !word.hasPrefix("-") {
        let names = word.split(separator: "|").map(String.init)
        if names.allSatisfy({ subcommands[$0] != nil }) {
          for name in names {
            if let problem = subcommands[name]!.problem(words.dropFirst()) { return "\(name) \(problem)" }
          }
          return nil
        }
        if !["...", "*"].contains(word) { return "has no subcommand `\(word)`" }
      }
      for word in words where word.hasPrefix("-") && word.count > 1 && !word.hasPrefix("-0") {
        let name = word.split(separator: "=", maxSplits: 1)[0]
        for option in name.split(separator: "/").map(String.init) where Double(option) == nil {
          if !options.contains(option) { return "has no option `\(option)`" }
        }
      }
      return nil
    }
  }

  /// Every `dam` command the documents show, in fenced blocks or in code voice (`dam retrieve
  /// --beta`), names commands and options that exist. Code spans are not run: many are parts of
  /// a command (`dam memory verify`) or bad input on purpose (the tables of Docs/reliability.md).
  @Test func everyDocumentedCommandAndOptionExists() throws {
    let tree = try CommandTree.load()
    #expect(tree.subcommands["compare"] != nil, "dam --experimental-dump-help lists the commands")
    var problems: [String] = []
    for document in Self.documents {
      for command in Self.commands(in: document).commands {
        if let problem = tree.problem(command.arguments[...]) {
          problems.append("\(command): dam \(problem)")
        }
      }
      for span in DocsMarkdown.codeSpans(document.text) where span.text.hasPrefix("dam ") {
        let words = Self.words(span.text).dropFirst()
        if let problem = tree.problem(words) {
          problems.append("\(document.path):\(span.line): `\(span.text)`: dam \(problem)")
        }
      }
    }
    // An option on its own (`--quick`, `--epsilon/--tolerance`, `--weights 1.5,-0.5`): some
    // command has it.
    let every = tree.allOptions
    for document in Self.documents {
      for span in DocsMarkdown.codeSpans(document.text) where span.text.hasPrefix("--") {
        let name = span.text.split(whereSeparator: { $0 == " " || $0 == "=" })[0]
        for option in name.split(separator: "/").map(String.init)
        where !every.contains(option) && Self.otherOptions[option] == nil {
          problems.append("\(document.path):\(span.line): `\(span.text)`: no dam command has \(option)")
        }
      }
    }
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    // The checker itself.
    #expect(tree.problem(["retrieve", "--memory", "M.npy", "--beta", "1"]) == nil)
    #expect(tree.problem(["memory", "create|append|info|verify"]) == nil)
    #expect(tree.problem(["retrieve", "--betta", "1"]) == "retrieve has no option `--betta`")
    #expect(tree.problem(["retreive"]) == "has no subcommand `retreive`")
    #expect(tree.problem(["memory", "create|apend"]) == "memory has no subcommand `create|apend`")
  }

  /// The documents with commands, less those whose commands are those of an earlier document
  /// (the DocC articles made from the guides).
  static let documentsWithCommands: [DocsMarkdown.Document] = {
    var seen: Set<[String]> = []
    return documents.filter { document in
      let texts = commands(in: document).commands.map(\.text)
      return !texts.isEmpty && seen.insert(texts).inserted
    }
  }()

  /// Docs/cli.md's table names every command `dam --help` lists (`dam memory create|append`
  /// names subcommands), and `dam --help`, the README and cli.md agree on the main job.
  @Test func cliGuideListsEveryCommand() throws {
    let tree = try CommandTree.load()
    let cli = try #require(Self.documents.first { $0.path == "Docs/cli.md" })
    let shown = DocsMarkdown.codeSpans(cli.text).map(\.text).filter { $0.hasPrefix("dam ") }
    for (name, command) in tree.subcommands where name != "help" {
      let spans = shown.filter { $0 == "dam \(name)" || $0.hasPrefix("dam \(name) ") }
      #expect(!spans.isEmpty, "Docs/cli.md does not name `dam \(name)`")
      let words = Set(spans.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "|" }).map(String.init) })
      for child in command.subcommands.keys {
        #expect(words.contains(child), "Docs/cli.md does not name `dam \(name) \(child)`")
      }
    }
    let help = try DamProcess.run(["--help"])
    #expect(help.stdout.contains("The main job is dam compare"))
    #expect(help.stdout.components(separatedBy: "main job").count == 2, "one command is the main job")
    #expect(
      cli.text.contains(
        "| `dam compare` | several engines side by side on the same queries, every family; report folder (the main job) |"
      ))
    let readme = try #require(Self.documents.first { $0.path == "README.md" })
    #expect(readme.text.contains("`bash scripts/main.sh` builds `dam` and runs `dam compare`"))
  }

  /// Every documented command runs (or its listed substitute does) and exits 0.
  @Test(arguments: documentsWithCommands)
  func documentedCommandsRun(_ document: DocsMarkdown.Document) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try DocsFixtures.write(in: folder)
    for command in Self.commands(in: document).commands {
      let arguments = Self.substitutions[command.text]?.arguments ?? command.arguments
      let run = try DamProcess.run(arguments, in: folder.url)
      #expect(
        run.status == 0,
        "\(command) exited \(run.status). If it needs a file, add it to DocsFixtures; stderr:\n\(run.stderr)")
      guard run.status == 0 else { continue }
      if arguments.contains("--json") {
        #expect(
          (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) != nil,
          "\(command): --json printed no JSON:\n\(run.stdout.prefix(500))")
      }
      for (option, written) in [("--output", ""), ("--report", "/summary.md")] {
        if let index = arguments.firstIndex(of: option), index + 1 < arguments.count {
          #expect(folder.exists(arguments[index + 1] + written), "\(command): nothing written at \(option)")
        }
      }
    }
  }

  /// The commands of Docs/getting-started.md say what the guide says they do.
  @Test func gettingStartedCommandsDoWhatTheGuideSays() throws {
    let document = try #require(Self.documents.first { $0.path == "Docs/getting-started.md" })
    let commands = Self.commands(in: document).commands
    #expect(commands.map { $0.arguments.first } == ["retrieve", "compare"])
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try DocsFixtures.write(in: folder)

    let retrieve = try DamProcess.run(commands[0].arguments, in: folder.url)
    #expect(retrieve.status == 0, "stderr: \(retrieve.stderr)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(retrieve.stdout.utf8)) as? [String: Any])
    let results = try #require(json["results"] as? [[String: Any]])
    // noisy.npz is a noisy, shuffled copy of the third cloud.
    #expect(results.first?["pattern_index"] as? Int == 2)
    #expect(folder.exists("recalled.npz"))

    let compare = try DamProcess.run(commands[1].arguments, in: folder.url)
    #expect(compare.status == 0, "stderr: \(compare.stderr)")
    #expect(folder.exists("reports/mine/summary.md"))
    #expect(folder.exists("reports/mine/success-point-clouds.svg"))
  }
}

/// Small NumPy files under the names the documents' commands use.
enum DocsFixtures {
  static func write(in folder: TemporaryFolder) throws {
    func npy(_ name: String, _ shape: [Int], _ values: [Double]) throws {
      try NPY.write(try NumPyArray(shape: shape, doubles: values), to: folder.path(name))
    }
    func npz(_ name: String, _ arrays: [(String, [Int], [Double])]) throws {
      var archive = NumPyArchive()
      for (key, shape, values) in arrays { archive[key] = try NumPyArray(shape: shape, doubles: values) }
      try NPZ.write(archive, to: folder.path(name))
    }

    // Vectors: six patterns in R^8 (M.npy), noisy copies of patterns 1, 3 and 5 (Q.npy) and
    // their indices (T.npy, integers).
    let patterns: [[Double]] = (0..<6).map { (i: Int) -> [Double] in
      (0..<8).map { (j: Int) -> Double in cos(Double(i * 8 + j) * 0.7) + (i == j ? 2.0 : 0.0) }
    }
    try npy("M.npy", [6, 8], patterns.flatMap { $0 })
    let targets = [1, 3, 5]
    let queries: [[Double]] = targets.map { (i: Int) -> [Double] in
      (0..<8).map { (j: Int) -> Double in patterns[i][j] + 0.05 * sin(Double(j + i)) }
    }
    try npy("Q.npy", [3, 8], queries.flatMap { $0 })
    try NPY.write(try NumPyArray(shape: [3], integers: targets), to: folder.path("T.npy"))
    try npy("scores.npy", [5], [0.5, 2, -1, 1.5, 0])

    // Point clouds: five ellipses of 30 points in the plane (clouds.npz, `points` (5, 30, 2)),
    // a noisy copy of the third with its points in reverse order (noisy.npz), two more clouds to
    // append (more.npz), and two clouds of different sizes (x.npy, y.npy).
    var points: [Double] = []
    for i in 0..<5 {
      for j in 0..<30 {
        let angle = Double(j) * 2 * Double.pi / 30
        points += [3 * Double(i) + cos(angle) * (1 + 0.1 * Double(i)), sin(angle) * 0.5]
      }
    }
    try npz("clouds.npz", [("points", [5, 30, 2], points)])
    var noisy: [Double] = []
    for j in (0..<30).reversed() {
      noisy += [
        points[(2 * 30 + j) * 2] + 0.1 * cos(Double(j)), points[(2 * 30 + j) * 2 + 1] + 0.1 * sin(Double(j)),
      ]
    }
    try npz("noisy.npz", [("points", [30, 2], noisy)])
    try npz("more.npz", [("points", [2, 30, 2], points[0..<120].map { $0 + 20 })])
    try npy("x.npy", [30, 2], Array(points[0..<60]))
    try npy("y.npy", [25, 2], Array(points[60..<110]))

    // Gaussians in R^3: four stored (gaussians.npz), a query near the second (g.npz), two single
    // Gaussians (a.npz, b.npz).
    let means: [Double] = (0..<4).flatMap { (i: Int) -> [Double] in
      let x = Double(i)
      return [x, 0.5 * x, -x]
    }
    let covariances: [Double] = (0..<4).flatMap { (i: Int) -> [Double] in
      let x = Double(i)
      return [1 + 0.2 * x, 0.1, 0, 0.1, 1, 0.05 * x, 0, 0.05 * x, 0.5 + 0.1 * x]
    }
    try npz("gaussians.npz", [("means", [4, 3], means), ("covariances", [4, 3, 3], covariances)])
    try npz("g.npz", [("mean", [3], [1.1, 0.4, -0.9]), ("covariance", [3, 3], Array(covariances[9..<18]))])
    try npz(
      "a.npz", [("mean", [3], Array(means[0..<3])), ("covariance", [3, 3], Array(covariances[0..<9]))])
    try npz(
      "b.npz", [("mean", [3], Array(means[3..<6])), ("covariance", [3, 3], Array(covariances[9..<18]))])

    // Grid histograms on an 8 x 8 grid: two (h.npy, h2.npy) and a stack of three (H.npy), all
    // cells positive.
    func blob(_ cx: Double, _ cy: Double) -> [Double] {
      let values: [Double] = (0..<64).map { (k: Int) -> Double in
        let (dx, dy) = (Double(k % 8) - cx, Double(k / 8) - cy)
        return exp(-(dx * dx + dy * dy) / 4) + 1e-3
      }
      let total = values.reduce(0, +)
      return values.map { $0 / total }
    }
    try npy("h.npy", [8, 8], blob(2, 2))
    try npy("h2.npy", [8, 8], blob(5, 4))
    try npy("H.npy", [3, 8, 8], blob(2, 2) + blob(5, 4) + blob(3, 6))
  }
}
