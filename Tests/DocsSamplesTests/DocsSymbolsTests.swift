import DAMTestSupport
import Foundation
import Testing

/// Every type and function the documentation names in code voice exists: README.md, Docs/*.md
/// and the DocC articles, against the declarations of the package's Swift files (`Sources/`, the
/// `Examples/` packages' sources, and `Tests/`, which the documents cite as evidence).
///
/// A code span is read as a name when it has the shape of one: `Type`, `Type.member`,
/// `Type.member(label:other:)`, `Type(label: value, ...)`, `.member`, `function(label:)`
/// (generic arguments ignored; `...` among the arguments stands for any labels; a DocC link
/// ``Type/member`` is `Type.member`). Anything else (commands, flags, formulas, JSON fields,
/// values) is not a name. A lowercase word alone (`points`, `weights`) is not checked, nor an
/// expression on a value (`result.state`). A name ending in a file extension (`Package.swift`,
/// `M.npy`) is a file. Acronyms and one-letter names (`JSON`, `N`) are checked only if declared.
/// What remains must be declared, with the labels shown, or be one of `notDeclaredHere`.
struct DocsSymbolsTests {
  /// Names in code voice that are not declared in this package, and why they are allowed.
  static let notDeclaredHere: [String: String] = [
    // The Swift standard library, Foundation and the toolchain.
    "Double": "Swift", "Float": "Swift", "Int": "Swift", "UInt8": "Swift", "Int32": "Swift", "Int64": "Swift",
    "UInt64": "Swift", "String": "Swift", "Bool": "Swift", "Sendable": "Swift", "Hashable": "Swift",
    "Equatable": "Swift", "Error": "Swift", "RandomNumberGenerator": "Swift",
    "UnsafeBufferPointer": "Swift", "UnsafeMutableBufferPointer": "Swift", "ContiguousArray": "Swift",
    "Mutex": "Swift's Synchronization module", "Synchronization": "Swift's Synchronization module",
    "Package": "SwiftPM's manifest type", "Package.swift": "SwiftPM's manifest",
    "package": "SwiftPM's manifest (`.package(...)`)", "product": "SwiftPM's manifest (`.product(...)`)",
    "ParsableCommand": "swift-argument-parser", "MallocInterposer": "a trait of package-benchmark",
    "access": "POSIX", "kill": "POSIX", "isatty": "POSIX", "histograms": "a function of scripts/bench/grids_peers.py",
    // Names from other software the documents compare with or configure.
    "SamplesLoss": "GeomLoss (Python)", "EuclideanP": "OTT-JAX (Python)", "PNormP": "OTT-JAX (Python)",
    "Prescott": "an OpenBLAS core type", "Haswell": "an OpenBLAS core type",
    "openblas_set_num_threads": "OpenBLAS's C API", "blas_thread_shutdown_": "OpenBLAS's C API",
    // Mathematical notation.
    "S_eps": "the Sinkhorn divergence at eps",
    // History: Docs/reliability.md names the function a race was found in, before its rename.
    "BuresWassersteinDivergence.accumulateAll": "a former name, cited as such in Docs/reliability.md",
  ]

  /// File extensions: a name ending in one is a file name.
  static let fileExtensions: Set<String> = [
    "md", "swift", "npy", "npz", "json", "csv", "svg", "png", "py", "sh", "txt", "h", "c", "yml", "zip",
    "docc", "git",
  ]

  /// Module names, which a name may start with (`DAM.Memory`).
  static let modules: Set<String> = [
    "DAM", "NumPyFiles", "MemoryFiles", "DAMDatasets", "DAMExperiments", "DAMTool", "DAMTestSupport",
    "KernelMMD", "PeriodicCost", "PatternLearning", "CDAMKernels", "CLinearAlgebra", "CFFTW", "CZlib", "ArgumentParser",
    "PropertyBased", "Testing", "Foundation",
    // Targets named in the documents.
    "DocsSamplesTests", "Client",
  ]

  /// A name read from a code span.
  struct Name: Equatable, CustomStringConvertible {
    /// `.member` (a leading dot).
    var leadingDot: Bool
    /// The dotted components, generic arguments removed.
    var components: [String]
    /// The argument labels shown, if the name has parentheses; `...` may stand among them. A
    /// declaration matches when it has these labels in this order, and default values for the
    /// parameters not shown (`...` stands for any).
    var labels: [String]?
    var description: String {
      (leadingDot ? "." : "") + components.joined(separator: ".")
        + (labels.map { "(" + $0.map { $0 == "..." ? "..., " : "\($0):" }.joined() + ")" } ?? "")
    }
  }

  static func isIdentifier(_ text: Substring) -> Bool {
    guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
    return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
  }

  /// The name a code span shows, or nil when it is not name-shaped.
  static func name(_ span: String, docCLink: Bool = false) -> Name? {
    var text = span.trimmingCharacters(in: .whitespaces)
    if docCLink { text = text.replacingOccurrences(of: "/", with: ".") }
    // Generic arguments: `Stacking<Gaussian>.x`, `RetrievalEngine<D, S, G>`.
    while let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
      text.removeSubrange(open...close)
    }
    var labels: [String]? = nil
    if text.hasSuffix(")"), let open = text.firstIndex(of: "(") {
      let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
      text = String(text[..<open])
      if inside.isEmpty {
        labels = []
      } else if inside.hasSuffix(":"), !inside.contains(" "), !inside.contains(",") {
        // `(a:b:)`
        let parts = inside.split(separator: ":", omittingEmptySubsequences: false).dropLast()
        guard parts.allSatisfy(isIdentifier) else { return nil }
        labels = parts.map(String.init)
      } else {
        var shown: [String] = []
        for part in inside.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
          if part == "..." {
            shown.append("...")
            continue
          }
          // `of:weights:debiased: true`: several labels, then a value.
          let head = part.prefix { $0 != " " }
          if head.filter({ $0 == ":" }).count > 1 {
            let labels = head.split(separator: ":")
            guard labels.allSatisfy(isIdentifier) else { return nil }
            shown += labels.map(String.init)
            continue
          }
          if let colon = part.firstIndex(of: ":") {
            let before = part[..<colon].split(separator: " ")
            guard let label = before.first, before.count <= 2, before.allSatisfy(isIdentifier) else {
              return nil
            }
            shown.append(String(label))
          } else {
            // An unlabelled argument: one identifier, number or `.member`.
            let value = part.hasPrefix(".") ? Substring(part.dropFirst()) : Substring(part)
            guard isIdentifier(value) || Double(part) != nil else { return nil }
            shown.append("_")
          }
        }
        labels = shown
      }
    }
    let leadingDot = text.hasPrefix(".")
    if leadingDot { text.removeFirst() }
    let components = text.split(separator: ".", omittingEmptySubsequences: false)
    guard !components.isEmpty, components.allSatisfy(isIdentifier) else { return nil }
    return Name(leadingDot: leadingDot, components: components.map(String.init), labels: labels)
  }

  static func labelsMatch(_ shown: [String]?, _ overloads: [[String]]) -> Bool {
    guard let shown else { return true }
    return overloads.contains { matches(shown[...], $0[...]) }
  }

  /// Whether declared labels (`label=` with a default value) can be called with the shown ones.
  static func matches(_ shown: ArraySlice<String>, _ declared: ArraySlice<String>) -> Bool {
    guard let first = shown.first else { return declared.allSatisfy { $0.hasSuffix("=") } }
    if first == "..." {
      return (declared.startIndex...declared.endIndex).contains {
        matches(shown.dropFirst(), declared[$0...])
      }
    }
    guard let label = declared.first else { return false }
    let defaulted = label.hasSuffix("=")
    if (defaulted ? String(label.dropLast()) : label) == first,
      matches(shown.dropFirst(), declared.dropFirst())
    {
      return true
    }
    return defaulted && matches(shown, declared.dropFirst())
  }

  /// Why a name is not declared, or nil when it is (or is not checked).
  static func problem(_ name: Name, in declarations: SwiftDeclarations) -> String? {
    var components = name.components[...]
    if !name.leadingDot, components.count > 1, modules.contains(components.first!) {
      components.removeFirst()
    }
    let first = components.first!
    if name.leadingDot {
      // `.npz`, `.git`: a file extension.
      if components.count == 1, fileExtensions.contains(first) { return nil }
      guard let overloads = declarations.anywhere[first] else { return "no member `\(first)` is declared" }
      if components.count == 1, !labelsMatch(name.labels, overloads) {
        return "`\(first)` has no overload with these labels"
      }
      return nil
    }
    if !(first.first!.isUppercase) {
      // `function(labels)`; a lowercase word or an expression on a value is not checked.
      guard components.count == 1, name.labels != nil, first.count > 1 else { return nil }
      guard let overloads = declarations.anywhere[first] else { return "no function `\(first)` is declared" }
      return labelsMatch(name.labels, overloads) ? nil : "`\(first)` has no overload with these labels"
    }
    if components.count == 1, name.labels == nil, modules.contains(first) { return nil }
    guard declarations.types[first] != nil else {
      // Acronyms and one-letter names are read as words unless declared.
      if first.count == 1 || first.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) { return nil }
      return "no type `\(first)` is declared"
    }
    var type = first
    for (position, member) in components.dropFirst().enumerated() {
      guard let overloads = declarations.members(member, of: type) else {
        return "`\(type)` declares no member `\(member)`"
      }
      let last = position == components.count - 2
      if last {
        return labelsMatch(name.labels, overloads)
          ? nil : "`\(type).\(member)` has no overload with these labels"
      }
      guard declarations.types[member] != nil else { return nil }  // a value: not followed further
      type = member
    }
    // `Type` or `Type(labels)`: an initialiser (or a memberwise one when none is declared).
    guard let labels = name.labels else { return nil }
    if let overloads = declarations.members("init", of: type) {
      if labelsMatch(labels, overloads) { return nil }
      if labels.isEmpty && declarations.types[type]?.hasInit == false { return nil }
      return "`\(type)` has no initialiser with these labels"
    }
    return nil
  }

  static func swiftSources() throws -> [String] {
    var texts: [String] = []
    for folder in ["Sources", "Examples", "Tests", "Plugins"] {
      let base = DocsMarkdown.root.appendingPathComponent(folder)
      guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
        continue
      }
      for case let url as URL in enumerator
      where url.pathExtension == "swift" && !url.path.dropFirst(base.path.count).contains("/.build") {
        texts.append(try String(contentsOf: url, encoding: .utf8))
      }
    }
    return texts
  }

  static let declarations = SwiftDeclarations(sources: (try? swiftSources()) ?? [])

  /// The names in code voice that the sources do not declare, as `file:line: name: why`, and
  /// how many names were checked (types found, members, functions with labels).
  static func undeclared(in document: DocsMarkdown.Document) -> (problems: [String], checked: Int) {
    var found: [String] = []
    var checked = 0
    for span in DocsMarkdown.codeSpans(document.text) {
      guard notDeclaredHere[span.text] == nil, let name = name(span.text, docCLink: span.backticks == 2)
      else {
        continue
      }
      if let last = name.components.last, name.components.count > 1, name.labels == nil,
        fileExtensions.contains(last)
      {
        continue
      }
      if notDeclaredHere[name.components.joined(separator: ".")] != nil
        || notDeclaredHere[name.components.first!] != nil
      {
        continue
      }
      if let problem = problem(name, in: declarations) {
        found.append("\(document.path):\(span.line): `\(span.text)`: \(problem)")
      } else if name.leadingDot || name.labels != nil || declarations.types[name.components[0]] != nil {
        checked += 1
      }
    }
    return (found, checked)
  }

  @Test func everyNamedSymbolIsDeclared() throws {
    let documents = try DocsMarkdown.documents()
    #expect(documents.count >= 10)
    #expect(Self.declarations.types["RetrievalEngine"] != nil, "the sources were read")
    let results = documents.map(Self.undeclared)
    let undeclared = results.flatMap(\.problems)
    let checked = results.map(\.checked).reduce(0, +)
    #expect(checked >= 500, "names checked: \(checked)")
    #expect(
      undeclared.isEmpty,
      "names in code voice that no source declares (fix the document, or list a name that is not this package's in DocsSymbolsTests.notDeclaredHere):\n\(undeclared.joined(separator: "\n"))"
    )
  }

  /// The checker on made-up names: a misspelled type, member or label is reported; what is
  /// declared, and what is not a name, is not.
  @Test func aMisspelledNameIsCaught() throws {
    let declarations = SwiftDeclarations(
      sources: [
        """
        /// A doc comment naming `Fake { }`.
        public struct Engine<D>: Retrieving {
          public init(memory: Int, beta: Double = 1) {}
          public func retrieve(_ query: [Double], recordingTrajectory: Bool = false) -> Int { 0 }
          let label = "not } a brace"
          public enum Update: Sendable { case fixedPoint, gradient(step: Double) }
        }
        protocol Retrieving {}
        extension Retrieving { static func make(count: Int) -> Int { count } }
        """
      ])
    func check(_ span: String) -> String? {
      guard let name = Self.name(span) else { return "not a name" }
      return Self.problem(name, in: declarations)
    }
    #expect(check("Engine") == nil)
    #expect(check("Engine.retrieve(_:recordingTrajectory:)") == nil)
    #expect(check("Engine(memory: m)") == nil)
    #expect(check("Engine(memory:)") == nil, "beta has a default value")
    #expect(check("Engine(..., beta: 2)") == nil)
    #expect(check("Engine(memory:beta: 2)") == nil)
    #expect(check("Engine.Update.gradient(step:)") == nil)
    #expect(check(".fixedPoint") == nil)
    #expect(check("Engine.make(count:)") == nil, "a member inherited from a protocol extension")
    #expect(check("Engine<Double>.label") == nil)
    #expect(check("Enigne") == "no type `Enigne` is declared")
    #expect(check("Engine.retreive(_:)") == "`Engine` declares no member `retreive`")
    #expect(check("Engine.retrieve(_:recording:)") == "`Engine.retrieve` has no overload with these labels")
    #expect(check("Engine(beta:)") == "`Engine` has no initialiser with these labels")
    #expect(
      check("Engine.retrieve(recordingTrajectory:)") == "`Engine.retrieve` has no overload with these labels")
    #expect(check("Engine(beta: 2, memory: m)") == "`Engine` has no initialiser with these labels")
    #expect(check(".fixedPoints") == "no member `fixedPoints` is declared")
    #expect(check("Fake") == "no type `Fake` is declared", "names in comments are not declarations")
    // The drift issue 22 found, against the package's own sources.
    let real = try #require(Self.name("GridSinkhorn.barycenter(of:options:)"))
    #expect(Self.problem(real, in: Self.declarations) == nil)
    let former = try #require(Self.name("GridBarycenter.barycenter(of:options:)"))
    #expect(Self.problem(former, in: Self.declarations) == "`GridBarycenter` declares no member `barycenter`")
    let missingOptions = try #require(Self.name("GridSinkhorn.barycenter(of:)"))
    #expect(
      Self.problem(missingOptions, in: Self.declarations)
        == "`GridSinkhorn.barycenter` has no overload with these labels",
      "options: has no default")
    for notAName in ["dam compare --quick", "--beta", "softmax(beta X x)", "‖x - y‖²", "1e-12", "a = b"] {
      #expect(Self.name(notAName) == nil, "\(notAName)")
    }
  }
}
