import Foundation

/// The declarations of Swift sources, read without a compiler: enough to tell whether a name the
/// documentation shows (`Memory`, `SHKGeometry.wasserstein(step:)`, `.dotProduct`) is declared.
///
/// Comments and string literals are dropped, then braces are followed: the body of a `struct`,
/// `enum`, `class`, `actor`, `protocol` or `extension` is a type scope, any other brace a code
/// scope. Directly inside a type scope, `func`, `init`, `subscript`, `var`, `let`, `case`,
/// `typealias`, `associatedtype` and nested types are that type's members, with their argument
/// labels. Types are keyed by their last name component (`Outer.Inner` is `Inner`), and a type's
/// members include its extensions' and, for lookups, those of the protocols and types named in
/// its inheritance clauses. It errs on accepting: a name it reports missing is declared nowhere.
struct SwiftDeclarations {
  struct TypeInfo {
    /// Member name to the argument labels of each overload (`[]` for a property or a type); a
    /// label that ends in `=` has a default value.
    var members: [String: [[String]]] = [:]
    /// The names in the inheritance clauses of its declaration and extensions.
    var inherits: Set<String> = []
    /// Whether it or an extension declares an `init` (without one a struct has a memberwise init).
    var hasInit = false
  }

  var types: [String: TypeInfo] = [:]
  /// Functions and members by name, wherever declared, with their labels.
  var anywhere: [String: [[String]]] = [:]

  init(sources: [String]) {
    for source in sources { scan(Self.tokens(Self.strippingCommentsAndStrings(source))) }
  }

  // MARK: Lexing

  /// The source with comments removed and string literals (plain, multi-line, raw) emptied.
  static func strippingCommentsAndStrings(_ source: String) -> String {
    let c = Array(source.unicodeScalars)
    var out = String.UnicodeScalarView()
    var i = 0
    func at(_ k: Int, _ text: String) -> Bool {
      let t = Array(text.unicodeScalars)
      guard k + t.count <= c.count else { return false }
      return Array(c[k..<(k + t.count)]) == t
    }
    while i < c.count {
      if at(i, "//") {
        while i < c.count, c[i] != "\n" { i += 1 }
      } else if at(i, "/*") {
        var depth = 0
        repeat {
          if at(i, "/*") {
            depth += 1
            i += 2
          } else if at(i, "*/") {
            depth -= 1
            i += 2
          } else {
            i += 1
          }
        } while depth > 0 && i < c.count
      } else if c[i] == "\"" || (c[i] == "#" && (at(i, "#\"") || at(i, "##\""))) {
        var hashes = 0
        while i < c.count, c[i] == "#" {
          hashes += 1
          i += 1
        }
        let multiline = at(i, "\"\"\"")
        let quote = multiline ? "\"\"\"" : "\""
        i += quote.count
        let close = quote + String(repeating: "#", count: hashes)
        while i < c.count, !at(i, close) {
          if hashes == 0, c[i] == "\\" { i += 1 }
          i += 1
        }
        i += close.count
        out.append(contentsOf: "\"\"".unicodeScalars)
      } else {
        out.append(c[i])
        i += 1
      }
    }
    return String(out)
  }

  /// Identifiers (backticks removed) and single punctuation characters.
  static func tokens(_ text: String) -> [String] {
    var tokens: [String] = []
    var current = ""
    for scalar in text.unicodeScalars {
      if scalar == "_" || CharacterSet.alphanumerics.contains(scalar) {
        current.unicodeScalars.append(scalar)
        continue
      }
      if !current.isEmpty {
        tokens.append(current)
        current = ""
      }
      if scalar == "`" || CharacterSet.whitespacesAndNewlines.contains(scalar) { continue }
      tokens.append(String(scalar))
    }
    if !current.isEmpty { tokens.append(current) }
    return tokens
  }

  static func isIdentifier(_ token: String) -> Bool {
    guard let first = token.unicodeScalars.first else { return false }
    return first == "_" || CharacterSet.letters.contains(first)
  }

  // MARK: Scanning

  static let typeKeywords: Set<String> = ["struct", "enum", "class", "actor", "protocol", "extension"]

  private mutating func add(_ name: String, labels: [String], to type: String?) {
    anywhere[name, default: []].append(labels)
    if let type { types[type, default: TypeInfo()].members[name, default: []].append(labels) }
  }

  /// The labels of a parenthesised parameter list starting at `tokens[start] == "("`; returns
  /// them and the index after the closing parenthesis. `caseStyle`: an unlabelled enum payload
  /// (`case a(Int)`) has the label `_`.
  static func labels(_ tokens: [String], from start: Int, caseStyle: Bool) -> ([String], Int) {
    var depth = 0
    var i = start
    var parts: [[String]] = [[]]
    while i < tokens.count {
      let t = tokens[i]
      if t == "(" || t == "[" || t == "<" {
        depth += 1
        if depth == 1 {
          i += 1
          continue
        }
      } else if t == ")" || t == "]" || (t == ">" && i > 0 && tokens[i - 1] != "-") {
        depth -= 1
        if depth == 0 { break }
      } else if t == ",", depth == 1 {
        parts.append([])
        i += 1
        continue
      }
      parts[parts.count - 1].append(t)
      i += 1
    }
    let labels: [String] = parts.compactMap { part in
      guard !part.isEmpty else { return nil }
      guard let colon = part.firstIndex(of: ":") else { return caseStyle ? "_" : nil }
      let names = part[..<colon].filter { isIdentifier($0) && $0 != "inout" }
      let hasDefault = part[colon...].contains("=")
      return names.first.map { hasDefault ? $0 + "=" : $0 }
    }
    return (labels, i + 1)
  }

  private mutating func scan(_ tokens: [String]) {
    // The scope stack: a type's name for a type body, nil for any other braces.
    var scopes: [String?] = []
    var pendingType: String? = nil
    var header: Set<String> = []
    var i = 0
    while i < tokens.count {
      let t = tokens[i]
      let enclosing: String?? = scopes.last
      let inType: String? = enclosing ?? nil
      let directlyInTypeOrTop = scopes.isEmpty || inType != nil
      if t == "{" {
        if let name = pendingType {
          scopes.append(name)
          types[name, default: TypeInfo()].inherits.formUnion(header)
          pendingType = nil
        } else {
          scopes.append(nil)
        }
        i += 1
        continue
      }
      if t == "}" {
        _ = scopes.popLast()
        i += 1
        continue
      }
      if pendingType != nil {
        if Self.isIdentifier(t), t.first!.isUppercase { header.insert(t) }
        i += 1
        continue
      }
      guard directlyInTypeOrTop else {
        i += 1
        continue
      }
      let next = i + 1 < tokens.count ? tokens[i + 1] : ""
      if Self.typeKeywords.contains(t), Self.isIdentifier(next),
        !["func", "var", "let", "subscript", "init"].contains(next)
      {
        // The declared name: the last component of a dotted chain (`extension A.B`).
        var k = i + 1
        var name = tokens[k]
        while k + 2 < tokens.count, tokens[k + 1] == ".", Self.isIdentifier(tokens[k + 2]) {
          k += 2
          name = tokens[k]
        }
        if t != "extension" { add(name, labels: [], to: inType) }
        if types[name] == nil { types[name] = TypeInfo() }
        pendingType = name
        header = []
        i = k + 1
        continue
      }
      switch t {
      case "func":
        guard i + 1 < tokens.count else { break }
        let name = tokens[i + 1]
        var k = i + 2
        if k < tokens.count, tokens[k] == "<" {
          var depth = 0
          repeat {
            if tokens[k] == "<" { depth += 1 }
            if tokens[k] == ">" { depth -= 1 }
            k += 1
          } while depth > 0 && k < tokens.count
        }
        if k < tokens.count, tokens[k] == "(", Self.isIdentifier(name) {
          let (labels, end) = Self.labels(tokens, from: k, caseStyle: false)
          add(name, labels: labels, to: inType)
          i = end
          continue
        }
      case "init", "subscript":
        var k = i + 1
        while k < tokens.count, tokens[k] == "?" || tokens[k] == "!" { k += 1 }
        if k < tokens.count, tokens[k] == "<" {
          var depth = 0
          repeat {
            if tokens[k] == "<" { depth += 1 }
            if tokens[k] == ">" { depth -= 1 }
            k += 1
          } while depth > 0 && k < tokens.count
        }
        if k < tokens.count, tokens[k] == "(" {
          let (labels, end) = Self.labels(tokens, from: k, caseStyle: false)
          add(t, labels: labels, to: inType)
          if t == "init", let inType { types[inType]?.hasInit = true }
          i = end
          continue
        }
      case "var", "let", "typealias", "associatedtype":
        if Self.isIdentifier(next) {
          add(next, labels: [], to: inType)
          if t == "typealias" || t == "associatedtype" {
            var info = types[next] ?? TypeInfo()
            // `typealias A = B<C>`: A has B's members.
            if t == "typealias", i + 3 < tokens.count, tokens[i + 2] == "=" {
              info.inherits.insert(tokens[i + 3])
            }
            types[next] = info
          }
        }
      case "case" where inType != nil:
        // `case a, b(x: Int), c`
        var k = i + 1
        while k < tokens.count, Self.isIdentifier(tokens[k]) {
          let name = tokens[k]
          k += 1
          var labels: [String] = []
          if k < tokens.count, tokens[k] == "(" {
            (labels, k) = Self.labels(tokens, from: k, caseStyle: true)
          }
          add(name, labels: labels, to: inType)
          while k < tokens.count, tokens[k] != ",", tokens[k] != "}", tokens[k] != "case",
            !Self.isIdentifier(tokens[k]) || tokens[k] == "true" || tokens[k] == "false"
          {
            k += 1
          }
          guard k < tokens.count, tokens[k] == "," else { break }
          k += 1
        }
        i = k
        continue
      default: break
      }
      i += 1
    }
  }

  // MARK: Lookup

  /// The overloads of `member` in `type`, its extensions, and what it inherits from.
  func members(_ member: String, of type: String) -> [[String]]? {
    var seen: Set<String> = []
    var queue = [type]
    var found: [[String]] = []
    while let name = queue.popLast() {
      guard seen.insert(name).inserted, let info = types[name] else { continue }
      found += info.members[member] ?? []
      queue += info.inherits
    }
    return found.isEmpty ? nil : found
  }
}
