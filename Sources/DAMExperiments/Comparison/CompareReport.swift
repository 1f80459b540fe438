import DAM
import Foundation

/// The report of `dam compare`: a Markdown summary, CSV, JSON and SVG figures per family.
package enum CompareReport {
  /// The file-name stem of a family (`point clouds` -> `point-clouds`).
  package static func slug(_ family: String) -> String { family.replacingOccurrences(of: " ", with: "-") }

  package static func percent(_ p: Double) -> String { _snprintf("%.1f%%", 100 * p) }

  package static func table(_ rows: [ComparisonRow]) -> Table {
    var table = Table(header: [
      "engine", "separation", "beta", "success (95% CI)", "steps", "at limit", "ms/retrieval",
      "final div.", "support", "evaluations", "failed",
    ])
    for r in rows {
      table.append([
        r.label.method, r.separation, Table.format(r.beta, digits: 4),
        "\(percent(r.successRate)) (\(percent(r.lower))-\(percent(r.upper)))",
        Table.format(r.meanSteps, digits: 3),
        "\(r.stepLimitHits)", Table.format(r.millisecondsPerRetrieval, digits: 3),
        Table.format(r.meanFinalDivergence, digits: 3), Table.format(r.meanSupport, digits: 3),
        Table.format(r.meanEvaluations, digits: 4), "\(r.failures)",
      ])
    }
    return table
  }

  /// One line per method: its best row (highest success, then fastest).
  package static func headline(_ outcome: FamilyOutcome) -> String {
    var methods: [String] = []
    for row in outcome.rows where !methods.contains(row.label.method) { methods.append(row.label.method) }
    let parts = methods.compactMap { method -> String? in
      let best = outcome.rows.filter { $0.label.method == method }.max { a, b in
        a.successRate != b.successRate
          ? a.successRate < b.successRate : a.millisecondsPerRetrieval > b.millisecondsPerRetrieval
      }
      return best.map {
        "\(method) \(percent($0.successRate)) (\($0.separation), beta \(Table.format($0.beta, digits: 4)), \(Table.format($0.millisecondsPerRetrieval, digits: 3)) ms)"
      }
    }
    return "best per method: " + parts.joined(separator: "; ")
  }

  package static func terminalSummary(_ outcomes: [FamilyOutcome], report: String, seconds: Double) -> String
  {
    var out = ""
    for outcome in outcomes {
      out += "== \(outcome.family): \(outcome.workload)\n"
      out +=
        "   success = the final state is nearest to the query's source pattern in the \(outcome.reference)\n\n"
      out += table(outcome.rows).markdown + "\n\n"
      out += headline(outcome) + "\n"
      for note in outcome.failureNotes { out += "failed: \(note)\n" }
      out += "\n"
    }
    out += """
      steps: mean steps per retrieval (at limit: how many hit --max-steps); final div.: mean reference divergence \
      from the final state to the source pattern; support: mean number of patterns with nonzero final weight.
      Finished in \(Table.format(seconds, digits: 3)) s. Report (summary.md, results.csv, results.json, SVG figures): \(report)/
      """
    return out
  }

  package static func successChart(_ outcome: FamilyOutcome) -> String {
    var keys: [String] = []
    for row in outcome.rows where !keys.contains("\(row.label.method), \(row.separation)") {
      keys.append("\(row.label.method), \(row.separation)")
    }
    let series = keys.map { key in
      let rows = outcome.rows.filter { "\($0.label.method), \($0.separation)" == key }.sorted {
        $0.beta < $1.beta
      }
      return SVG.Series(
        label: key, points: rows.map { ($0.beta, $0.successRate) }, lower: rows.map(\.lower),
        upper: rows.map(\.upper))
    }
    return SVG.lineChart(
      title: "\(outcome.family): success against beta (Wilson 95% intervals)", xLabel: "beta (log scale)",
      yLabel: "success rate", series: series, logX: true, yRange: 0...1)
  }

  /// Energy per step of the first query at the largest beta, as the fraction of the descent still
  /// to go: (E_t - min E) / (E_0 - min E), so that engines whose energies differ in scale share a chart.
  package static func energyChart(_ outcome: FamilyOutcome) -> String {
    let beta = outcome.energies.map(\.label.beta).max() ?? 0
    let series = outcome.energies.filter { $0.label.beta == beta }.prefix(8).map { entry in
      let values = Array(entry.values.prefix(41))
      let low = values.min() ?? 0
      let span = (values.first ?? 0) - low
      return SVG.Series(
        label: "\(entry.label.method), \(entry.label.separation)",
        points: values.enumerated().map { (Double($0.offset), span > 0 ? ($0.element - low) / span : 0) })
    }
    return SVG.lineChart(
      title: "\(outcome.family): energy per step, query 1, beta \(Table.format(beta, digits: 4))",
      xLabel: "step",
      yLabel: "(E - min E) / (E0 - min E)", series: Array(series), yRange: 0...1)
  }

  /// The success and energy figures of a report folder, redrawn from its results.json (a report
  /// written before the energies were recorded gets its success figures only).
  package static func replot(folder: String) throws(CLIError) -> [String: String] {
    let report = try Experiment.rows(folder, as: ReportJSON.self)
    var files: [String: String] = [:]
    for family in report.families {
      let outcome = FamilyOutcome(
        family: family.family, workload: family.workload, reference: family.reference, rows: family.rows,
        energies: (family.energies ?? []).map { ($0.label, $0.energies) }, picture: "",
        failureNotes: family.failures)
      files["success-\(slug(family.family)).svg"] = successChart(outcome)
      if family.energies != nil { files["energy-\(slug(family.family)).svg"] = energyChart(outcome) }
    }
    return files
  }

  package struct FamilyJSON: Codable {
    package var family: String
    package var workload: String
    package var reference: String
    package var rows: [ComparisonRow]
    package var failures: [String]
    /// The energy before and after each step of the first query, per engine (the energy figure).
    package var energies: [EnergyJSON]?
  }

  package struct EnergyJSON: Codable {
    package var baseline: String?
    package var divergence: String
    package var geometry: String
    package var separation: String
    package var beta: Double
    package var energies: [Double]

    package init(_ label: EngineLabel, _ energies: [Double]) {
      (baseline, divergence, geometry, separation, beta) = (
        label.baseline, label.divergence, label.geometry, label.separation, label.beta
      )
      self.energies = energies
    }

    package var label: EngineLabel {
      EngineLabel(
        divergence: divergence, geometry: geometry, separation: separation, beta: beta, baseline: baseline)
    }
  }

  package struct ReportJSON: Codable {
    package var command: String
    package var seed: UInt64
    package var machine: String
    package var seconds: Double
    package var loadAverage: String?
    package var families: [FamilyJSON]

    package enum CodingKeys: String, CodingKey {
      case command, seed, machine, seconds, families
      case loadAverage = "load_average"
    }
  }

  /// The one-minute load average from /proc/loadavg (Linux), for reading the timings: on a
  /// machine busy with other work, wall times per retrieval grow with the load.
  package static func loadAverage() -> String? {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
      let first = text.split(separator: " ").first
    else { return nil }
    return String(first)
  }

  package static func write(
    _ outcomes: [FamilyOutcome], to path: String, command: String, seed: UInt64, seconds: Double,
    load: String?
  ) throws {
    var files: [String: String] = [:]
    var csv =
      "family,baseline,divergence,geometry,separation,beta,queries,successes,success_rate,lower,upper,mean_steps,step_limit_hits,ms_per_retrieval,mean_final_divergence,mean_support,mean_evaluations,failures\n"
    var markdown = """
      # Engines side by side

      Command: `\(command)` (seed \(seed)), on \(Machine.description); \(Table.format(seconds, digits: 3)) s in all\(load.map { ", load average \($0) when it started" } ?? "").

      Every engine of a family gets the same seeded queries. A retrieval succeeds when its final state is
      nearest, in the family's reference divergence, to the stored pattern the query was made from
      (Wilson 95% interval). *steps*: mean steps (*at limit*: retrievals that hit the step limit);
      *ms/retrieval*: wall time per retrieval, queries run concurrently on every core;
      *final div.*: mean reference divergence from the final state to that pattern; *support*: mean
      number of patterns with nonzero final weight; *failed*: numerical failures (counted as not recalled).

      """
    for outcome in outcomes {
      let stem = slug(outcome.family)
      for r in outcome.rows {
        csv +=
          [
            r.family, r.baseline ?? "", r.divergence, r.geometry, r.separation, "\(r.beta)", "\(r.queries)",
            "\(r.successes)",
            "\(r.successRate)", "\(r.lower)", "\(r.upper)", "\(r.meanSteps)", "\(r.stepLimitHits)",
            "\(r.millisecondsPerRetrieval)", "\(r.meanFinalDivergence)", "\(r.meanSupport)",
            "\(r.meanEvaluations)", "\(r.failures)",
          ].map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ",") + "\n"
      }
      files["success-\(stem).svg"] = successChart(outcome)
      files["energy-\(stem).svg"] = energyChart(outcome)
      files["trajectory-\(stem).svg"] = outcome.picture
      markdown += """

        ## \(outcome.family)

        \(outcome.workload). Reference: \(outcome.reference).

        \(table(outcome.rows).markdown)

        \(headline(outcome)).
        \(outcome.failureNotes.map { "\nFailed: \($0)" }.joined())

        ![success against beta](success-\(stem).svg)

        ![energy per step](energy-\(stem).svg)

        ![the first query's retrieval](trajectory-\(stem).svg)

        """
    }
    files["summary.md"] = markdown
    files["results.csv"] = csv
    let folder = ReportFolder(path: path)
    try folder.write(files)
    try folder.writeJSON(
      "results.json",
      ReportJSON(
        command: command, seed: seed, machine: Machine.description, seconds: seconds, loadAverage: load,
        families: outcomes.map {
          FamilyJSON(
            family: $0.family, workload: $0.workload, reference: $0.reference, rows: $0.rows,
            failures: $0.failureNotes, energies: $0.energies.map { EnergyJSON($0.label, $0.values) })
        }))
  }
}
