/// A Markdown table, aligned for reading in a terminal as well.
package struct Table {
  package var header: [String]
  package var rows: [[String]] = []

  package init(header: [String], rows: [[String]] = []) {
    self.header = header
    self.rows = rows
  }

  package mutating func append(_ row: [String]) { rows.append(row) }

  package var markdown: String {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      "| " + cells.enumerated().map { i, cell in cell.padding(to: widths[i]) }.joined(separator: " | ") + " |"
    }
    let rule = "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"
    return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
  }

  /// A number with about 6 significant digits.
  package static func format(_ value: Double, digits: Int = 6) -> String {
    guard value.isFinite else { return "\(value)" }
    if value != 0 && (abs(value) >= 1e6 || abs(value) < 1e-3) {
      return _scientific(value, digits)
    }
    return _fixed(value, digits)
  }
}

extension String {
  fileprivate func padding(to width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

private func _fixed(_ value: Double, _ digits: Int) -> String {
  let magnitude = value == 0 ? 0 : Int(floor(log10(abs(value))))
  let decimals = max(0, digits - 1 - magnitude)
  return _snprintf("%.\(decimals)f", value)
}

private func _scientific(_ value: Double, _ digits: Int) -> String {
  _snprintf("%.\(max(0, digits - 1))e", value)
}

package func _snprintf(_ format: String, _ value: Double) -> String {
  var buffer = [CChar](repeating: 0, count: 64)
  _ = withVaList([value]) { vsnprintf(&buffer, 64, format, $0) }
  return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension Table {
  /// A fraction as a percentage with one decimal: `0.1234` is `12.3%`.
  package static func percent(_ p: Double) -> String { _snprintf("%.1f%%", 100 * p) }
}
