import Foundation
import Testing

/// The results the README states come from committed reports: every percentage and time in "The
/// main job" is one of `Docs/results/compare/summary.md`'s, every percentage in "Reproductions" is
/// one of a reproduction's `summary.md`, and every speed-up factor in "What it is" is one of
/// `Docs/performance.md`'s runs of record. A README number equals a report's number rounded to the
/// README's precision (`33-42%` against 33.3% and 41.7%).
struct ReadmeNumbersTests {
  static let root = DocsCoverageTests.root

  /// A stated quantity: its value, as written, and its unit.
  struct Stated: Equatable, CustomStringConvertible {
    var text: String
    var unit: String
    var description: String { text + unit }

    /// Whether `value`, rounded to as many decimals as `text` shows, is the stated value.
    func matches(_ value: Double) -> Bool {
      guard let stated = Double(text) else { return false }
      let decimals = text.split(separator: ".").dropFirst().first?.count ?? 0
      let scale = pow(10, Double(decimals))
      return (value * scale).rounded() / scale == stated
    }
  }

  /// The numbers with `unit` in `text`: `40%`, both ends of `24.6-57.7%` and of `2.15x to 6.96x`.
  static func stated(_ unit: String, in text: String) throws -> [Stated] {
    let number = #"(\d+(?:\.\d+)?)"#
    let pattern = try NSRegularExpression(
      pattern: #"(?<![\w.])"# + number + #"(?:\#(unit)? to |-)?"# + number + #"?\s?\#(unit)(?![\w])"#)
    let range = NSRange(text.startIndex..., in: text)
    return pattern.matches(in: text, range: range).flatMap { match in
      (1...2).compactMap { group in
        Range(match.range(at: group), in: text).map { Stated(text: String(text[$0]), unit: unit) }
      }
    }
  }

  /// Every number in `text` written with `unit` (`%`, `x`), and every number in a table cell when
  /// `unit` is empty.
  static func reported(_ unit: String, in text: String) throws -> [Double] {
    let pattern = try NSRegularExpression(
      pattern: unit.isEmpty ? #"\|\s*(\d+(?:\.\d+)?)\s*(?=\|)"# : #"(\d+(?:\.\d+)?)\#(unit)(?![a-z])"#)
    let range = NSRange(text.startIndex..., in: text)
    return pattern.matches(in: text, range: range).compactMap { match in
      Range(match.range(at: 1), in: text).flatMap { Double(text[$0]) }
    }
  }

  static func readmeSection(_ title: String) throws -> String {
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let start = try #require(readme.range(of: "\n## \(title)\n"), "README has a section '\(title)'")
    let end =
      readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex)?.lowerBound ?? readme.endIndex
    return String(readme[start.upperBound..<end])
  }

  static func file(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
  }

  /// The stated numbers of `unit` that no reported number matches.
  static func unmatched(_ unit: String, in section: String, reports: [String], reportUnit: String? = nil)
    throws -> [Stated]
  {
    let values = try reports.flatMap { try reported(reportUnit ?? unit, in: $0) }
    return try stated(unit, in: section).filter { stated in !values.contains { stated.matches($0) } }
  }

  @Test func mainJobNumbersAreTheCommittedReports() throws {
    let section = try Self.readmeSection("The main job (the first command)")
    let summary = try Self.file("Docs/results/compare/summary.md")
    #expect(try Self.stated("%", in: section).count >= 10, "the section states the run's success rates")
    #expect(try Self.unmatched("%", in: section, reports: [summary]) == [])
    // Times per retrieval are cells of the summary's tables.
    #expect(try Self.stated("ms", in: section).count >= 4)
    #expect(try Self.unmatched("ms", in: section, reports: [summary], reportUnit: "") == [])
  }

  @Test func reproductionNumbersAreTheCommittedReports() throws {
    let section = try Self.readmeSection("Reproductions")
    let folder = Self.root.appendingPathComponent("Docs/results")
    let summaries = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().compactMap {
      try? String(
        contentsOf: folder.appendingPathComponent($0).appendingPathComponent("summary.md"), encoding: .utf8)
    }
    #expect(summaries.count >= 10)
    #expect(try Self.stated("%", in: section).count >= 5)
    #expect(try Self.unmatched("%", in: section, reports: summaries) == [])
  }

  @Test func speedUpsAreTheRunsOfRecord() throws {
    let section = try Self.readmeSection("What it is")
    let performance = try Self.file("Docs/performance.md")
    #expect(try Self.stated("x", in: section).count >= 10)
    #expect(try Self.unmatched("x", in: section, reports: [performance]) == [])
  }

  /// The checker finds a number that no report holds, and reads ranges and rounding as stated.
  @Test func aNumberNoReportHoldsIsCaught() throws {
    let report = "| a | 33.3% (20.0%-48.1%) | 41.7% | 15.2 |"
    #expect(try Self.unmatched("%", in: "recalls 33-42%", reports: [report]) == [])
    #expect(try Self.unmatched("%", in: "recalls 34%", reports: [report]).map(\.description) == ["34%"])
    #expect(
      try Self.unmatched("%", in: "recalls 33.3% (20-48.2%)", reports: [report]).map(\.description) == [
        "48.2%"
      ])
    #expect(try Self.unmatched("ms", in: "takes 15 ms", reports: [report], reportUnit: "") == [])
    #expect(
      try Self.unmatched("x", in: "3x to 7x faster", reports: ["2.15x, 6.96x"]).map(\.description) == ["3x"])
  }
}
