/// A value of the small Python literal language used in `.npy` headers.
enum _PyValue: Sendable {
  case string(String)
  case integer(Int)
  case bool(Bool)
  case none
  case tuple([_PyValue])
  case list([_PyValue])
  case dict([(key: String, value: _PyValue)])

  /// A short description of the kind of value, for error messages.
  var kindName: String {
    switch self {
    case .string: "a string"
    case .integer: "an integer"
    case .bool: "a boolean"
    case .none: "None"
    case .tuple: "a tuple"
    case .list: "a list"
    case .dict: "a dict"
    }
  }
}

/// A tolerant parser for the Python literal that forms an `.npy` header, such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
///
/// Accepts strings in single or double quotes (with an optional `u`/`b` prefix and backslash
/// escapes), integers (with an optional Python 2 `L` suffix), `True`, `False`, `None`, tuples,
/// lists and dicts with string keys, any whitespace, and trailing commas. Nesting is limited so
/// hostile input cannot exhaust the stack; integers that do not fit `Int` are an error.
struct _HeaderParser {
  static let maxDepth = 32

  private let bytes: [UInt8]
  private var position = 0
  private var depth = 0

  private init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Parses `bytes` as exactly one literal, optionally surrounded by whitespace.
  static func parse(_ bytes: [UInt8]) throws(NumPyError) -> _PyValue {
    var parser = _HeaderParser(bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue()
    parser.skipWhitespace()
    guard parser.position == bytes.count else {
      throw parser.failure("unexpected text after the header dict")
    }
    return value
  }

  private func failure(_ what: String) -> NumPyError {
    NumPyError("malformed header: \(what) at offset \(position) in \(Self.excerpt(bytes))")
  }

  /// The header as printable text, shortened, for error messages.
  static func excerpt(_ bytes: [UInt8]) -> String {
    let limit = 160
    var text = ""
    for byte in bytes.prefix(limit) {
      text.append(byte >= 0x20 && byte < 0x7F ? Character(Unicode.Scalar(byte)) : "?")
    }
    if bytes.count > limit { text += "..." }
    while text.hasSuffix(" ") { text.removeLast() }
    return "\"\(text)\""
  }

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
      position += 1
    }
  }

  private mutating func parseValue() throws(NumPyError) -> _PyValue {
    guard let byte = current else { throw failure("unexpected end of header") }
    switch byte {
    case UInt8(ascii: "'"), UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "u"), UInt8(ascii: "b"), UInt8(ascii: "U"), UInt8(ascii: "B"):
      if position + 1 < bytes.count,
        bytes[position + 1] == UInt8(ascii: "'")
          || bytes[position + 1] == UInt8(ascii: "\"")
      {
        position += 1
        return .string(try parseString())
      }
      throw failure("unexpected character '\(Character(Unicode.Scalar(byte)))'")
    case UInt8(ascii: "("):
      return .tuple(try parseSequence(closing: UInt8(ascii: ")")))
    case UInt8(ascii: "["):
      return .list(try parseSequence(closing: UInt8(ascii: "]")))
    case UInt8(ascii: "{"):
      return try parseDict()
    case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .integer(try parseInteger())
    default:
      if consumeWord("True") { return .bool(true) }
      if consumeWord("False") { return .bool(false) }
      if consumeWord("None") { return .none }
      if byte >= 0x20 && byte < 0x7F {
        throw failure("unexpected character '\(Character(Unicode.Scalar(byte)))'")
      }
      throw failure("unexpected byte 0x\(String(byte, radix: 16))")
    }
  }

  private mutating func consumeWord(_ word: String) -> Bool {
    let wordBytes = Array(word.utf8)
    guard position + wordBytes.count <= bytes.count,
      bytes[position..<(position + wordBytes.count)].elementsEqual(wordBytes)
    else { return false }
    let end = position + wordBytes.count
    if end < bytes.count {
      let next = bytes[end]
      let isIdentifier =
        (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z"))
        || (next >= UInt8(ascii: "A") && next <= UInt8(ascii: "Z"))
        || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) || next == UInt8(ascii: "_")
      if isIdentifier { return false }
    }
    position = end
    return true
  }

  private mutating func parseString() throws(NumPyError) -> String {
    guard let quote = current else { throw failure("expected a string") }
    let start = position
    position += 1
    var content: [UInt8] = []
    while true {
      guard let byte = current else {
        position = start
        throw failure("unterminated string")
      }
      position += 1
      if byte == quote { break }
      if byte == 0x0A { throw failure("newline inside a string") }
      if byte == UInt8(ascii: "\\") {
        guard let escaped = current else { continue }
        position += 1
        switch escaped {
        case UInt8(ascii: "n"): content.append(0x0A)
        case UInt8(ascii: "t"): content.append(0x09)
        case UInt8(ascii: "r"): content.append(0x0D)
        case UInt8(ascii: "0"): content.append(0x00)
        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): content.append(escaped)
        default: content.append(contentsOf: [UInt8(ascii: "\\"), escaped])
        }
      } else {
        content.append(byte)
      }
    }
    return String(decoding: content, as: UTF8.self)
  }

  private mutating func parseInteger() throws(NumPyError) -> Int {
    let start = position
    var negative = false
    if let sign = current, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
      negative = sign == UInt8(ascii: "-")
      position += 1
      skipWhitespace()
    }
    var value = 0
    var digits = 0
    var overflow = false
    while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
      let digit = Int(byte - UInt8(ascii: "0"))
      if !overflow {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (next, o2) =
          negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
        if o1 || o2 { overflow = true } else { value = next }
      }
      digits += 1
      position += 1
    }
    guard digits > 0 else { throw failure("expected digits") }
    if let suffix = current, suffix == UInt8(ascii: "L") || suffix == UInt8(ascii: "l") {
      position += 1
    }
    if let byte = current,
      byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        || byte == UInt8(ascii: "x") || byte == UInt8(ascii: "_")
    {
      throw failure("only decimal integers are supported, found '\(Character(Unicode.Scalar(byte)))'")
    }
    if overflow {
      let text = String(decoding: bytes[start..<position], as: UTF8.self)
      position = start
      throw failure("integer \(text) does not fit in a 64-bit Int")
    }
    return value
  }

  private mutating func enter() throws(NumPyError) {
    depth += 1
    if depth > Self.maxDepth { throw failure("nesting deeper than \(Self.maxDepth) levels") }
  }

  private mutating func parseSequence(closing: UInt8) throws(NumPyError) -> [_PyValue] {
    try enter()
    defer { depth -= 1 }
    position += 1
    var items: [_PyValue] = []
    while true {
      skipWhitespace()
      guard let byte = current else { throw failure("unexpected end of header inside a sequence") }
      if byte == closing {
        position += 1
        return items
      }
      items.append(try parseValue())
      skipWhitespace()
      guard let separator = current else {
        throw failure("unexpected end of header inside a sequence")
      }
      if separator == UInt8(ascii: ",") {
        position += 1
      } else if separator != closing {
        throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
      }
    }
  }

  private mutating func parseDict() throws(NumPyError) -> _PyValue {
    try enter()
    defer { depth -= 1 }
    position += 1
    var items: [(key: String, value: _PyValue)] = []
    while true {
      skipWhitespace()
      guard let byte = current else { throw failure("unexpected end of header inside the dict") }
      if byte == UInt8(ascii: "}") {
        position += 1
        return .dict(items)
      }
      guard case .string(let key) = try parseValue() else {
        throw failure("dict keys must be strings")
      }
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw failure("expected ':' after key '\(key)'") }
      position += 1
      skipWhitespace()
      let value = try parseValue()
      items.append((key, value))
      skipWhitespace()
      guard let separator = current else { throw failure("unexpected end of header inside the dict") }
      if separator == UInt8(ascii: ",") {
        position += 1
      } else if separator != UInt8(ascii: "}") {
        throw failure("expected ',' or '}' after the value of '\(key)'")
      }
    }
  }
}
