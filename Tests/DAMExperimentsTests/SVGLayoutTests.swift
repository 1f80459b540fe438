import DAMExperiments
import Foundation
import Testing

/// The charts' ticks, text widths and layout: round ticks, whole-number ticks on integer axes,
/// legends outside the plot, labels that fit their boxes, and distinct styles for series that
/// coincide.
struct SVGLayoutTests {
  /// Whether `step` is 1, 2 or 5 times a power of ten.
  static func isRound(_ step: Double) -> Bool {
    let exponent = floor(log10(step) + 1e-9)
    let mantissa = step / pow(10, exponent)
    return [1.0, 2, 5, 10].contains { abs(mantissa - $0) < 1e-9 }
  }

  /// Linear axes over data ranges of many scales: consecutive ticks differ by one round step,
  /// every tick is a multiple of it, the ticks cover the data, and there are at most `maxTicks`.
  @Test(arguments: [
    (0.0, 1.0), (0, 5), (0, 40), (0.25, 0.5), (-3.95, -0.29), (1e-3, 7e-3), (0, 1797), (2.5, 2.5), (-1, 1),
    (0.1, 0.8), (3, 300),
  ])
  func linearTicksAreRoundAndCoverTheData(range: (Double, Double)) {
    let axis = SVG.Axis.linear(range.0, range.1, maxTicks: 6)
    #expect(axis.ticks.count >= 2 && axis.ticks.count <= 7)
    let step = axis.ticks[1] - axis.ticks[0]
    #expect(Self.isRound(step), "step \(step)")
    for (a, b) in zip(axis.ticks, axis.ticks.dropFirst()) { #expect(abs(b - a - step) < 1e-9 * step) }
    for tick in axis.ticks {
      let multiple = tick / step
      #expect(abs(multiple - multiple.rounded()) < 1e-6, "tick \(tick) is not a multiple of \(step)")
    }
    #expect(axis.lower <= range.0 && axis.upper >= range.1)
    // Labels are the tick values, exactly, in no more digits than the step needs.
    for (tick, label) in zip(axis.ticks, axis.labels) {
      #expect(abs((Double(label) ?? .nan) - tick) <= 1e-9 * max(1, abs(tick)), "\(label) for \(tick)")
    }
  }

  /// The axis of steps 0...5 that read 0, 1.25, 2.5, 3.75, 5 before: whole numbers now, and so
  /// on every integer axis, however short.
  @Test(arguments: [(0.0, 5.0), (0, 3), (0, 1), (0, 2), (0, 40), (1, 7), (0, 299)])
  func integerAxesHaveWholeTicks(range: (Double, Double)) {
    let axis = SVG.Axis.linear(range.0, range.1, maxTicks: 7, integer: true)
    for (tick, label) in zip(axis.ticks, axis.labels) {
      #expect(tick == tick.rounded(), "tick \(tick)")
      #expect(!label.contains("."), "label \(label)")
    }
    #expect(SVG.Axis.linear(0, 5, maxTicks: 7, integer: true).labels == ["0", "1", "2", "3", "4", "5"])
  }

  /// Logarithmic axes: ticks at 1, 2 or 5 times a power of ten (no -0.286 or -3.952), covering the
  /// data, at most `maxTicks`, labelled by their values.
  @Test(arguments: [
    (1e-15, 0.52), (0.1, 30.0), (5, 20), (10, 3000), (1e-16, 1e-16), (2e-4, 3e-4), (1, 64), (1e-300, 1),
  ])
  func logarithmicTicksAreRound(range: (Double, Double)) {
    let axis = SVG.Axis.logarithmic(range.0, range.1, maxTicks: 8)
    #expect(axis.ticks.count >= 2 && axis.ticks.count <= 8)
    for (tick, label) in zip(axis.ticks, axis.labels) {
      #expect(Self.isRound(tick), "tick \(tick)")
      let value = Double(label) ?? .nan
      #expect(abs(value / tick - 1) < 1e-9, "label \(label) for \(tick)")
    }
    #expect(zip(axis.ticks, axis.ticks.dropFirst()).allSatisfy { $0 < $1 })
    #expect(axis.lower <= range.0 * (1 + 1e-9) && axis.upper >= range.1 * (1 - 1e-9))
    #expect(abs(axis.fraction(axis.lower)) < 1e-12 && abs(axis.fraction(axis.upper) - 1) < 1e-12)
  }

  /// Ink widths, in ems, of labels from the reports rendered in DejaVu Sans at 110 px by
  /// rsvg-convert 2.54.7 (the pen's start to the rightmost dark pixel). The estimate is an advance
  /// width, so it is at least the ink width, and it should not waste more than a tenth plus a
  /// third of an em.
  static let measuredInk: [(String, Double)] = [
    ("softmax", 3.9909), ("squared-euclidean / fixed-point, 1.5-entmax", 21.9364),
    ("stacked-euclidean (dot-product), sparsemax", 22.1091), ("grid sinkhorn / barycentric, sparsemax", 19.3),
    ("BW-DAM, d = 8", 7.5636), ("largest atom move, eps 0.02", 14.3091), ("0.25", 2.1273), ("1e-12", 2.7727),
    ("WWW mmm", 6.1091), ("iiii llll", 2.4364),
  ]

  @Test func textWidthEstimateFitsRenderedLabels() {
    for (label, ems) in Self.measuredInk {
      let estimate = SVG.textWidth(label, size: 11) / 11
      #expect(estimate >= ems, "\(label): estimate \(estimate) em, ink \(ems) em")
      #expect(estimate <= ems * 1.1 + 0.33, "\(label): estimate \(estimate) em, ink \(ems) em")
    }
    // A character outside ASCII counts as a full em, wider than any Latin letter.
    #expect(SVG.textWidth("β", size: 10) == 10)
  }

  @Test func wrappedLinesFitAndKeepEveryWord() {
    let label = "stacked-euclidean (dot-product) baseline with a long description, sparsemax"
    for width in [60.0, 120, 250] {
      let lines = SVG.wrap(label, width: width, size: 11)
      for line in lines { #expect(SVG.textWidth(line, size: 11) <= width, "\(line) at \(width)") }
      // Every character is kept, in order (spaces may become line breaks; a cut word has none).
      func letters(_ s: String) -> String { s.replacingOccurrences(of: " ", with: "") }
      #expect(letters(lines.joined()) == letters(label), "at \(width): \(lines)")
      if width >= 120 { #expect(lines.joined(separator: " ") == label, "no word is cut at \(width)") }
    }
    #expect(SVG.wrap("softmax", width: 250, size: 11) == ["softmax"])
    // A word wider than the line is cut inside, and no piece overflows.
    let cut = SVG.wrap(String(repeating: "m", count: 60), width: 100, size: 11)
    #expect(cut.count > 1 && cut.allSatisfy { SVG.textWidth($0, size: 11) <= 100 })
    #expect(cut.joined() == String(repeating: "m", count: 60))
  }

  /// The legend sits to the right of the plot, inside the canvas, tall enough for its lines and
  /// wide enough for its widest line; the y tick labels fit between the canvas edge and the plot.
  @Test(arguments: [
    ["softmax"],
    [
      "squared-euclidean / fixed-point, softmax", "squared-euclidean / fixed-point, 1.5-entmax",
      "dot-product / fixed-point, sparsemax",
    ],
    (0..<12).map { "BW-DAM, d = \($0), a label long enough to wrap over two lines of the legend box" },
  ])
  func legendIsOutsideThePlotAndHoldsItsLabels(labels: [String]) {
    let ticks = ["0.0", "0.2", "-1000000", "1e-12"]
    let layout = SVG.ChartLayout.make(
      title: "A title", leftLabels: ticks, legend: labels, plotWidth: 480, plotHeight: 300)
    let canvas = SVG.Rect(x: 0, y: 0, width: layout.width, height: layout.height)
    #expect(!layout.plot.intersects(layout.legend))
    #expect(layout.legend.x >= layout.plot.maxX)
    #expect(canvas.contains(layout.plot) && canvas.contains(layout.legend))
    #expect(layout.legendLines.count == labels.count)
    let lines = layout.legendLines.flatMap { $0 }
    let textRoom = layout.legend.width - SVG.ChartLayout.sampleWidth
    for line in lines { #expect(SVG.textWidth(line, size: SVG.ChartLayout.fontSize) <= textRoom, "\(line)") }
    #expect(layout.legend.height >= Double(lines.count) * SVG.ChartLayout.lineHeight)
    let widestTick = ticks.map { SVG.textWidth($0, size: SVG.ChartLayout.fontSize) }.max()!
    #expect(layout.plot.x - 8 - widestTick >= 24, "room for the rotated y label")
  }

  /// A title wider than the chart wraps, and every line fits the canvas.
  @Test func longTitlesWrapInsideTheCanvas() {
    let title = String(repeating: "grid sinkhorn recall against the fraction of the image masked, ", count: 3)
    let layout = SVG.ChartLayout.make(
      title: title, leftLabels: ["1"], legend: ["a"], plotWidth: 480, plotHeight: 300)
    #expect(layout.titleLines.count > 1)
    for line in layout.titleLines {
      #expect(SVG.textWidth(line, size: SVG.ChartLayout.titleSize, bold: true) <= layout.width)
    }
    #expect(layout.plot.y > 44, "the plot moves down below the title's lines")
  }

  /// Series that coincide differ in colour, dash and marker from their neighbours, and the first
  /// 60 differ in at least one.
  @Test func seriesStylesAreDistinct() {
    let styles = (0..<60).map(SVG.style)
    for (a, b) in zip(styles, styles.dropFirst()) {
      #expect(a.color != b.color && a.dash != b.dash && a.marker != b.marker)
    }
    let keys = Set(styles.map { "\($0.color) \($0.dash) \($0.marker)" })
    #expect(keys.count == 60)
  }

  /// Three series at 0 (the dot-product curves of the compare report) each keep their own
  /// polyline and markers in the drawing, with different dashes.
  @Test func coincidingSeriesAreAllDrawn() {
    let series = (0..<3).map { k in
      SVG.Series(label: "dot-product \(k)", points: (0...5).map { (Double($0), 0.0) })
    }
    let svg = SVG.lineChart(title: "t", xLabel: "step", yLabel: "y", series: series, yRange: 0...1)
    let polylines = svg.components(separatedBy: "<polyline").count - 1
    // One line per series, and one legend sample per series.
    #expect(polylines == 6)
    for k in 0..<3 { #expect(svg.contains(SVG.palette[k])) }
    #expect(svg.contains("stroke-dasharray=\"7,4\"") && svg.contains("stroke-dasharray=\"2,3\""))
    // Integer ticks on the step axis.
    #expect(!svg.contains(">1.25<") && !svg.contains(">2.5<") && svg.contains(">3<"))
  }

  /// A chart whose series all sit at one x (one beta in `--quick` mode) is a dot chart: one row
  /// per series, with its label, instead of a line chart with a single x tick.
  @Test func singleSettingIsADotChart() {
    let series = ["softmax", "sparsemax"].map {
      SVG.Series(label: $0, points: [(20, 0.5)], lower: [0.2], upper: [0.8])
    }
    let svg = SVG.lineChart(
      title: "t", xLabel: "beta (log scale)", yLabel: "success rate", series: series, logX: true,
      yRange: 0...1)
    #expect(!svg.contains("<polyline"))
    #expect(svg.contains(">softmax<") && svg.contains(">sparsemax<"))
    #expect(svg.contains("success rate (beta = 20)"))
  }
}
