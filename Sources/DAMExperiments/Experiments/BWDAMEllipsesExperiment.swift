import DAM
import Foundation

/// The BW-DAM slides' "geometry changes retrieval" example, in 2-D: the same queries retrieved by
/// BW-DAM (Bures-Wasserstein divergence and geometry) and by Eu-DAM (squared Euclidean distance
/// between stacked `(m, vec S)`), drawn as ellipses.
///
/// The slides show BW-DAM retrieving every target while Eu-DAM fails in two rows, without the
/// numbers; this is our instance. Four zero-mean memories: A = diag(6.25, 0.3) and
/// B = diag(9, 1.5), two horizontal ellipses differing mostly in their small axis, C = A turned by
/// 90 degrees, D = I. Query k perturbs memory k (and is nearest to it in W₂): Frobenius distances
/// weigh the large entries, so stretching A's long axis (query 0) brings it nearer to B in the
/// Euclidean sense, and thickening B's short axis (query 1) brings it nearer to A, while W₂ (a
/// distance between square roots) keeps them with their own memories.
package enum BWDAMEllipsesExperiment {
  package static let name = "bw-dam-ellipses"
  package static let summary =
    "BW-DAM slides' 2-D example: the same queries retrieved by BW-DAM and Eu-DAM, drawn as ellipses"

  package static let beta = 5.0
  package static let labels = ["A", "B", "C", "D"]
  package static let colors = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]

  package static func rotated(_ angle: Double, _ eigenvalues: (Double, Double)) throws -> Matrix {
    let (c, s) = (cos(angle), sin(angle))
    let (a, b) = eigenvalues
    return try Matrix(rowArrays: [
      [c * c * a + s * s * b, c * s * (a - b)],
      [c * s * (a - b), s * s * a + c * c * b],
    ])
  }

  package static func memories() throws -> [Gaussian] {
    try [
      Gaussian(mean: [0, 0], covariance: rotated(0, (6.25, 0.3))),
      Gaussian(mean: [0, 0], covariance: rotated(0, (9, 1.5))),
      Gaussian(mean: [0, 0], covariance: rotated(Double.pi / 2, (6.25, 0.3))),
      Gaussian(mean: [0, 0], covariance: rotated(0, (1, 1))),
    ]
  }

  package static func queries() throws -> [Gaussian] {
    try [
      Gaussian(mean: [0, 0], covariance: rotated(0, (9, 0.3))),
      Gaussian(mean: [0.3, 0], covariance: rotated(0.1, (7, 1.3))),
      Gaussian(mean: [0, 0], covariance: rotated(Double.pi / 2, (9, 0.3))),
      Gaussian(mean: [0, 0], covariance: rotated(0.3, (1.5, 0.7))),
    ]
  }

  package struct Row: Encodable {
    package var query: Int
    package var target: String
    package var w2Squared: [Double]
    package var euclideanSquared: [Double]
    package var bwRetrieved: String
    package var bwWeights: [Double]
    package var bwSteps: Int
    package var bwFinalToTarget: Double
    package var euRetrieved: String
    package var euWeights: [Double]
    package var euSteps: Int
    package var euFinalToTarget: Double?

    package enum CodingKeys: String, CodingKey {
      case query, target
      case w2Squared = "w2_squared_to_memories"
      case euclideanSquared = "euclidean_squared_to_memories"
      case bwRetrieved = "bw_retrieved"
      case bwWeights = "bw_weights"
      case bwSteps = "bw_steps"
      case bwFinalToTarget = "bw_final_w2_squared_to_target"
      case euRetrieved = "eu_retrieved"
      case euWeights = "eu_weights"
      case euSteps = "eu_steps"
      case euFinalToTarget = "eu_final_w2_squared_to_target"
    }
  }

  package static func ellipse(_ g: Gaussian, _ color: String, dashed: Bool = false) -> SVG.Ellipse {
    let s = g.covarianceMatrix
    return SVG.Ellipse(
      center: (g.mean[0], g.mean[1]), covariance: (s[0, 0], s[0, 1], s[1, 1]), color: color, dashed: dashed,
      width: dashed ? 1.2 : 1.8)
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    let patterns = try memories()
    let stopping = try StoppingRule(maxSteps: 200)
    let bw = try RetrievalEngine(
      memory: Memory(divergence: BuresWassersteinDivergence(), patterns: patterns), separation: .softmax,
      geometry: BuresWassersteinGeometry(), beta: beta, stopping: stopping)
    let eu = try RetrievalEngine(
      memory: Memory(divergence: .squaredEuclidean, patterns: patterns.map(\.stacked)),
      separation: .softmax, geometry: EuclideanGeometry(), beta: beta, stopping: stopping)
    var rows: [Row] = []
    var figure: [(caption: String, panels: [SVG.EllipsePanel])] = [
      (
        "memories",
        [
          SVG.EllipsePanel(
            title: "A, B, C, D", ellipses: zip(patterns, colors).map { ellipse($0, $1) })
        ]
      )
    ]
    for (k, query) in try queries().enumerated() {
      let b = try bw.retrieve(query)
      let e = try eu.retrieve(query.stacked)
      let euState = try? Gaussian(stacked: e.state)
      let bwIndex = try BWDAMSyntheticExperiment.nearest(b.state, bw.memory)
      let euIndex = try euState.map { try BWDAMSyntheticExperiment.nearest($0, bw.memory) }
      rows.append(
        Row(
          query: k, target: labels[k],
          w2Squared: try patterns.map { try BuresWasserstein.distanceSquared(query, $0) },
          euclideanSquared: try eu.snapshot(at: query.stacked).divergences,
          bwRetrieved: labels[bwIndex], bwWeights: b.weights, bwSteps: b.steps,
          bwFinalToTarget: try BuresWasserstein.distanceSquared(b.state, patterns[k]),
          euRetrieved: euIndex.map { labels[$0] } ?? "not a Gaussian", euWeights: e.weights, euSteps: e.steps,
          euFinalToTarget: try euState.map { try BuresWasserstein.distanceSquared($0, patterns[k]) }))
      let target = ellipse(patterns[k], colors[k], dashed: true)
      figure.append(
        (
          "query \(k) (target \(labels[k]))",
          [
            SVG.EllipsePanel(title: "query", ellipses: [target, ellipse(query, "black")]),
            SVG.EllipsePanel(
              title: "BW-DAM: \(labels[bwIndex])", ellipses: [target, ellipse(b.state, colors[bwIndex])]),
            SVG.EllipsePanel(
              title: "Eu-DAM: \(euIndex.map { labels[$0] } ?? "not a Gaussian")",
              ellipses: [target]
                + (euState.map { [ellipse($0, euIndex.map { colors[$0] } ?? "black")] } ?? [])),
          ]
        ))
    }
    try write(rows, figure: figure, report: report, trials: trials, seed: seed, quick: quick)
  }

  package static func write(
    _ rows: [Row], figure: [(caption: String, panels: [SVG.EllipsePanel])], report: String, trials: Int,
    seed: UInt64, quick: Bool
  ) throws {
    func g(_ x: Double) -> String { _snprintf("%.3g", x) }
    var table = Table(header: [
      "query", "target", "W2^2 to A, B, C, D", "Euclidean^2 to A, B, C, D", "BW-DAM retrieves",
      "W2^2(BW final, target)",
      "BW weights at the end",
      "Eu-DAM retrieves", "Eu weights at the end",
    ])
    var csv = "query,target,bw_retrieved,eu_retrieved,bw_steps,eu_steps,bw_final_w2_squared_to_target\n"
    for r in rows {
      table.append([
        "\(r.query)", r.target, r.w2Squared.map(g).joined(separator: ", "),
        r.euclideanSquared.map(g).joined(separator: ", "),
        r.bwRetrieved, g(r.bwFinalToTarget), r.bwWeights.map(g).joined(separator: ", "), r.euRetrieved,
        r.euWeights.map(g).joined(separator: ", "),
      ])
      csv +=
        "\(r.query),\(r.target),\(r.bwRetrieved),\(r.euRetrieved),\(r.bwSteps),\(r.euSteps),\(r.bwFinalToTarget)\n"
    }
    let patterns = try memories()
    let abDistance = try BuresWasserstein.distanceSquared(patterns[0], patterns[1])
    let bwAll = rows.allSatisfy { $0.bwRetrieved == $0.target }
    let euFailures = rows.filter { $0.euRetrieved != $0.target }.map { "query \($0.query)" }
    let chart = SVG.ellipsePanels(
      title: "Geometry changes retrieval: BW-DAM against Eu-DAM (beta = \(beta), 1-sigma ellipses)",
      rows: figure,
      extent: 3.6, legend: zip(labels, colors).map { ("memory \($0)", $1) } + [("query", "black")])
    let command = "dam experiment \(name)"
    let markdown = """
      # BW-DAM slides: geometry changes retrieval (2-D ellipses)

      Command: `\(command)` (no random draws: the seed is unused), on \(Machine.description).

      The run is deterministic; --trials, --seed and --quick do not change it.

      Four zero-mean memories in R^2: A = diag(6.25, 0.3), B = diag(9, 1.5), C = A turned by 90 degrees,
      D = I. Query k perturbs memory k: query 0 = diag(9, 0.3) (A's long axis stretched), query 1 =
      N((0.3, 0), B turned by 0.1 rad with eigenvalues (7, 1.3)), query 2 = C's long axis stretched to 9,
      query 3 = eigenvalues (1.5, 0.7) turned by 0.3 rad. Softmax at beta = \(beta) for both; BW-DAM: the
      Bures-Wasserstein divergence and geometry (tau = 1/2); Eu-DAM: squared Euclidean distance between
      stacked (m, vec S) and the classic fixed point; both run to convergence (at most 200 steps). A state is
      retrieved as the memory nearest to it in W2.

      \(table.markdown)

      ![ellipses](ellipses.svg)

      BW-DAM retrieves \(bwAll ? "every target" : "not every target"); Eu-DAM fails on \(euFailures.isEmpty ? "no query" : euFailures.joined(separator: " and ")).
      The Frobenius distance between covariances weighs differences in large entries: stretching A's long
      axis from 6.25 to 9 costs 7.6 in squared Frobenius norm but only 0.25 in squared Bures distance
      ((3 - 2.5)^2), so Eu-DAM sends query 0 to B, whose long axis is 9; thickening B's short axis the other
      way sends query 1 to A. C and D are far from everything in both geometries and are retrieved by both.
      At beta = \(beta) the BW-DAM fixed points of queries 0 and 1 are not exactly A and B: A and B are only
      W2^2 = \(g(abDistance)) apart, so the fixed point keeps some weight on the other one (see the weights), a
      small blend whose W2^2 from the target is in the table; the nearest memory is still the target.
      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "results.csv": csv, "ellipses.svg": chart])
    try folder.writeJSON("results.json", rows)
    print(markdown)
    print("Report: \(report)/")
  }
}
