import DAM
import Foundation

/// Figure 3 of the sparse and structured Hopfield networks paper: basins of attraction of five
/// unit-norm patterns in the plane under CCCP with entmax and normmax maps, and the energy with
/// trajectories.
package enum HopfieldBasinsExperiment {
  package static let name = "hopfield-basins"
  package static let summary =
    "Sparse Hopfield paper, Figure 3: basins of attraction and energy landscapes of 5 patterns in 2-D, entmax and normmax"

  package static let grid = 100
  package static let extent = 1.5  // the grid covers [-1.5, 1.5]²
  package static let basinBeta = 10.0
  package static let landscapeBeta = 1.0
  package static let iterations = 50
  package static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]

  package static func maps() throws -> [(String, AnySeparationMap, Double)] {
    // (name, map, distance below which a point has reached a pattern)
    [
      ("1-entmax (softmax)", AnySeparationMap(Softmax()), 1e-2),
      ("1.5-entmax", AnySeparationMap(Entmax15()), 1e-3),
      ("2-entmax (sparsemax)", AnySeparationMap(Sparsemax()), 1e-3),
      ("2-normmax", AnySeparationMap(try Normmax(alpha: 2)), 1e-3),
      ("5-normmax", AnySeparationMap(try Normmax(alpha: 5)), 1e-3),
    ]
  }

  package struct Row: Encodable {
    package var map: String
    package var fractions: [Double]  // per pattern
    package var metastable: Double
  }

  package static func run(report: String, trials: Int, seed: UInt64, quick: Bool) throws {
    var generator = SeededGenerator(seed: seed)
    // Five unit-norm patterns at random angles, at least 0.6 rad apart.
    var angles: [Double] = []
    while angles.count < 5 {
      let a = Double.random(in: 0..<(2 * Double.pi), using: &generator)
      if angles.allSatisfy({ abs(remainder(a - $0, 2 * Double.pi)) > 0.6 }) { angles.append(a) }
    }
    let patterns = angles.map { [cos($0), sin($0)] }
    let n = quick ? 30 : grid
    @Sendable func coordinate(_ i: Int) -> Double { -extent + (Double(i) + 0.5) * 2 * extent / Double(n) }
    func unit(_ v: Double) -> Double { (v + extent) / (2 * extent) }
    let stopping = try StoppingRule(
      maxSteps: iterations, energyTolerance: nil, positionTolerance: nil, massTolerance: nil)
    var basinPanels: [SVG.Panel] = []
    var landscapePanels: [SVG.Panel] = []
    var rows: [Row] = []
    for (number, (label, map, reach)) in try maps().enumerated() {
      Terminal.progress("\(name): \(label) (\(number + 1)/5)")
      let engine = try RetrievalEngine(
        memory: Memory(divergence: .dotProduct, patterns: patterns), separation: map,
        geometry: EuclideanGeometry(),
        beta: basinBeta, stopping: stopping)
      // Row i from the top: y decreases with i.
      let starts = (0..<(n * n)).map { [coordinate($0 % n), coordinate(n - 1 - $0 / n)] }
      let owners = engine.retrieveEach(starts).map { result -> Int in
        guard let final = result?.state else { return -1 }
        var owner = -1
        for (k, p) in patterns.enumerated() where hypot(final[0] - p[0], final[1] - p[1]) < reach {
          owner = k
        }
        return owner
      }
      let cells = (0..<n).map { i in
        (0..<n).map { j in owners[i * n + j] >= 0 ? colors[owners[i * n + j]] : "#ffffff" }
      }
      let markers = patterns.map { (unit($0[0]), unit($0[1])) }
      basinPanels.append(SVG.Panel(title: "\(label), beta \(Int(basinBeta))", cells: cells, markers: markers))
      rows.append(
        Row(
          map: label, fractions: (0..<5).map { k in Double(owners.filter { $0 == k }.count) / Double(n * n) },
          metastable: Double(owners.filter { $0 < 0 }.count) / Double(n * n)))
      // Energy landscape at beta = 1, shaded in ten quantile bands, with trajectories.
      let landscape = try RetrievalEngine(
        memory: Memory(divergence: .dotProduct, patterns: patterns), separation: map,
        geometry: EuclideanGeometry(),
        beta: landscapeBeta, stopping: stopping)
      let m = 60
      var energies: [Double] = []
      for i in 0..<m {
        for j in 0..<m {
          let x = -extent + (Double(j) + 0.5) * 2 * extent / Double(m)
          let y = extent - (Double(i) + 0.5) * 2 * extent / Double(m)
          energies.append(try landscape.energy(at: [x, y]))
        }
      }
      let sorted = energies.sorted()
      let shades = energies.map { e -> String in
        let band = min(9, (sorted.firstIndex { $0 >= e } ?? 0) * 10 / sorted.count)
        let level = 235 - band * 18
        return "rgb(\(level),\(level),\(min(255, level + 15)))"
      }
      let landscapeCells = (0..<m).map { i in Array(shades[(i * m)..<((i + 1) * m)]) }
      var paths: [[(x: Double, y: Double)]] = []
      for start in [[-1.2, -1.2], [1.3, 0.1], [0.0, 1.3], [-1.3, 0.6], [0.6, -1.3], [0.1, 0.1]] {
        let trajectory = try landscape.retrieve(start, recordingTrajectory: true).trajectory ?? []
        paths.append(trajectory.map { (unit($0[0]), unit($0[1])) })
      }
      landscapePanels.append(
        SVG.Panel(
          title: "\(label), beta \(Int(landscapeBeta))", cells: landscapeCells, paths: paths, markers: markers
        ))
    }
    Terminal.endProgress()
    let figure = SVG.panels(
      title: "Energy (bands, lighter = lower) with CCCP trajectories, and basins of attraction",
      rows: [landscapePanels, basinPanels],
      legend: (0..<5).map { ("pattern \($0 + 1)", colors[$0]) } + [
        ("metastable (no single pattern)", "#ffffff")
      ])
    var table = Table(header: ["map"] + (1...5).map { "pattern \($0)" } + ["metastable"])
    for r in rows {
      table.append(
        [r.map] + r.fractions.map { Table.percent($0) } + [Table.percent(r.metastable)])
    }
    let command = "dam experiment \(name) --seed \(seed)\(quick ? " --quick" : "")"
    let markdown = """
      # Sparse and structured Hopfield networks, Figure 3: basins of attraction

      Command: `\(command)`, on \(Machine.description).

      Five unit-norm patterns in the plane (seeded random angles, at least 0.6 rad apart), the Hopfield-Fenchel-Young
      energy (dot-product divergence) and its CCCP update q <- X^T y(beta X q). Basins: from every point of a
      \(n) x \(n) grid on [-\(extent), \(extent)]^2, \(iterations) iterations at beta = \(Int(basinBeta)); a point belongs to a
      pattern when it ends within 1e-3 of it (1e-2 for softmax, which never lands exactly, as the paper allows),
      otherwise to a metastable state (white). Top row: the energy at beta = \(Int(landscapeBeta)) in ten quantile bands with
      CCCP trajectories from six starts (red).

      Fraction of the grid in each basin:

      \(table.markdown)

      ![basins](basins.svg)

      What the paper reports, and what we see: as alpha grows, alpha-entmax converges to single patterns more
      often (the white metastable region shrinks from softmax to sparsemax), while alpha-normmax favours attractors
      that are uniform averages of several patterns (larger white regions at alpha = 5 than at 2).
      """
    let folder = ReportFolder(path: report)
    try folder.write(["summary.md": markdown, "basins.svg": figure])
    try folder.writeJSON("results.json", rows)
    print(markdown)
    print("Report: \(report)/")
  }
}
