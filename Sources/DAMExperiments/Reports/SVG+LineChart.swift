extension SVG {
  /// How a series is drawn: a colour, a dash pattern and a marker shape, each cycling with its own
  /// period (10, 4 and 6), so that the first 60 series differ in at least one and neighbours in all.
  package struct Style: Equatable {
    package var color: String
    /// An SVG `stroke-dasharray`, empty for a solid line.
    package var dash: String
    package var marker: Marker
    /// Later series are drawn thinner and with smaller markers, so that a line or marker hidden
    /// under another stays visible around it.
    package var lineWidth: Double
    package var markerSize: Double
  }

  package enum Marker: CaseIterable, Equatable {
    case circle, square, triangle, diamond, invertedTriangle, cross
  }

  package static let dashes = ["", "7,4", "2,3", "10,3,2,3"]

  /// The style of the `k`-th series of a chart.
  package static func style(_ k: Int) -> Style {
    Style(
      color: palette[k % palette.count], dash: dashes[k % dashes.count],
      marker: Marker.allCases[k % Marker.allCases.count], lineWidth: max(1.2, 2.8 - 0.25 * Double(k)),
      markerSize: max(2.5, 5.5 - 0.4 * Double(k)))
  }

  /// A marker centred at (x, y), hollow (white inside) so that markers drawn over each other stay
  /// distinguishable by their outlines.
  package static func marker(_ marker: Marker, x: Double, y: Double, size r: Double, color: String) -> String
  {
    let stroke = "fill=\"white\" fill-opacity=\"0.6\" stroke=\"\(color)\" stroke-width=\"1.5\""
    func polygon(_ points: [(Double, Double)]) -> String {
      "<polygon points=\"\(points.map { "\(f(x + $0.0)),\(f(y + $0.1))" }.joined(separator: " "))\" \(stroke)/>\n"
    }
    switch marker {
    case .circle:
      return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" \(stroke)/>\n"
    case .square:
      let s = r * 0.9
      return
        "<rect x=\"\(f(x - s))\" y=\"\(f(y - s))\" width=\"\(f(2 * s))\" height=\"\(f(2 * s))\" \(stroke)/>\n"
    case .triangle: return polygon([(0, -1.2 * r), (1.1 * r, 0.8 * r), (-1.1 * r, 0.8 * r)])
    case .invertedTriangle: return polygon([(0, 1.2 * r), (1.1 * r, -0.8 * r), (-1.1 * r, -0.8 * r)])
    case .diamond: return polygon([(0, -1.3 * r), (1.1 * r, 0), (0, 1.3 * r), (-1.1 * r, 0)])
    case .cross:
      return
        "<path d=\"M\(f(x - r)),\(f(y - r))L\(f(x + r)),\(f(y + r))M\(f(x - r)),\(f(y + r))L\(f(x + r)),\(f(y - r))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
    }
  }

  /// A rectangle in pixels.
  package struct Rect: Equatable {
    package var x: Double
    package var y: Double
    package var width: Double
    package var height: Double

    package init(x: Double, y: Double, width: Double, height: Double) {
      (self.x, self.y, self.width, self.height) = (x, y, width, height)
    }

    package var maxX: Double { x + width }
    package var maxY: Double { y + height }

    /// Whether the two rectangles share interior points (touching edges do not count).
    package func intersects(_ other: Rect) -> Bool {
      x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }

    /// Whether `other` lies inside this rectangle (edges included).
    package func contains(_ other: Rect) -> Bool {
      other.x >= x && other.y >= y && other.maxX <= maxX && other.maxY <= maxY
    }
  }

  /// Where a chart's parts go: the canvas, the plot frame, the legend box with each entry's lines
  /// (labels wrapped to the legend's text width) and the title.
  package struct ChartLayout {
    package var width: Double
    package var height: Double
    package var plot: Rect
    /// Empty (zero width) when there is no legend.
    package var legend: Rect
    package var legendLines: [[String]]
    package var titleLines: [String]

    package static let fontSize = 11.0
    package static let titleSize = 15.0
    package static let lineHeight = 14.0
    package static let entryGap = 6.0
    /// The legend's sample line (or marker) and the gap before its text.
    package static let sampleWidth = 34.0
    /// Labels wider than this wrap.
    package static let maxLegendText = 250.0

    /// The layout of a chart whose plot frame is `plotWidth` x `plotHeight`, with the y tick labels
    /// (or, for a dot chart, row labels) `leftLabels` to the left of the frame and a legend of
    /// `legend` labels to its right, outside the frame.
    package static func make(
      title: String, leftLabels: [String], legend: [String], plotWidth: Double, plotHeight: Double,
      leftLabelLimit: Double = 120, bottom: Double = 56, yAxisTitle: Bool = true
    ) -> ChartLayout {
      let leftText = min(leftLabelLimit, leftLabels.map { textWidth($0, size: fontSize) }.max() ?? 0)
      let left = (yAxisTitle ? 28.0 : 10) + leftText + 10
      let top = 44.0
      let legendText = min(maxLegendText, legend.map { textWidth($0, size: fontSize) }.max() ?? 0)
      let lines = legend.map { wrap($0, width: legendText, size: fontSize) }
      let legendHeight =
        lines.isEmpty
        ? 0 : lines.reduce(0) { $0 + Double($1.count) * lineHeight } + Double(lines.count - 1) * entryGap + 12
      let legendWidth = legend.isEmpty ? 0 : sampleWidth + legendText + 12
      let plot = Rect(x: left, y: top, width: plotWidth, height: plotHeight)
      let legendBox = Rect(
        x: plot.maxX + (legend.isEmpty ? 0 : 16), y: top, width: legendWidth, height: legendHeight)
      var width = legendBox.maxX + 12
      let titleWidth = textWidth(title, size: titleSize, bold: true)
      var titleLines = [title]
      if titleWidth + 24 > width {
        // A long title wraps over the plot's and the legend's width rather than widening the chart.
        titleLines = wrap(title, width: width - 24, size: titleSize)
        width = max(width, (titleLines.map { textWidth($0, size: titleSize, bold: true) }.max() ?? 0) + 24)
      }
      let titleShift = Double(titleLines.count - 1) * 18
      let shiftedPlot = Rect(x: plot.x, y: plot.y + titleShift, width: plot.width, height: plot.height)
      let shiftedLegend = Rect(
        x: legendBox.x, y: legendBox.y + titleShift, width: legendBox.width, height: legendBox.height)
      let height = max(shiftedPlot.maxY + bottom, shiftedLegend.maxY + 12)
      return ChartLayout(
        width: width, height: height, plot: shiftedPlot, legend: shiftedLegend, legendLines: lines,
        titleLines: titleLines)
    }
  }

  /// The chart's title lines, centred.
  private static func title(_ layout: ChartLayout) -> String {
    layout.titleLines.enumerated().map { i, line in
      text(layout.width / 2, 24 + Double(i) * 18, line, size: 15, anchor: "middle", weight: "bold")
    }.joined()
  }

  /// The legend: per entry a sample of its line and marker and its (wrapped) label.
  private static func legend(_ layout: ChartLayout, styles: [Style], line: Bool) -> String {
    var out = ""
    var y = layout.legend.y + 6
    for (k, lines) in layout.legendLines.enumerated() {
      let s = styles[k]
      let mid = y + ChartLayout.lineHeight / 2
      let x0 = layout.legend.x + 4
      if line {
        out += polyline([(x0, mid), (x0 + 26, mid)], style: s)
      }
      out += marker(s.marker, x: x0 + 13, y: mid, size: min(s.markerSize, 4.5), color: s.color)
      for (i, text) in lines.enumerated() {
        out += self.text(
          x0 + ChartLayout.sampleWidth, y + Double(i) * ChartLayout.lineHeight + 11, text, size: 11,
          anchor: "start")
      }
      y += Double(lines.count) * ChartLayout.lineHeight + ChartLayout.entryGap
    }
    return out
  }

  private static func polyline(_ points: [(Double, Double)], style: Style) -> String {
    let dash = style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\""
    return
      "<polyline points=\"\(points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(style.color)\" stroke-width=\"\(f(style.lineWidth))\"\(dash)/>\n"
  }

  /// Pixels between the plot frame and the extreme ticks, so that a series along the first or
  /// last tick (a rate of 0 or 1) is not hidden by the frame.
  private static let inset = 8.0

  /// A line chart with markers, optional error bars, logarithmic axes if asked, and a legend to
  /// the right of the plot. Ticks are round (1, 2, 5 times a power of ten; whole numbers when
  /// every x is a whole number); each series has its own colour, dash pattern and marker, so that
  /// series that coincide stay visible. When every point has the same x (a single setting), the
  /// chart is a dot chart of the series instead (``dotChart(title:valueLabel:caption:series:logValues:valueRange:)``).
  package static func lineChart(
    title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool = false, logY: Bool = false,
    yRange: ClosedRange<Double>? = nil
  ) -> String {
    let xs = series.flatMap { $0.points.map(\.x) }.filter { $0.isFinite && (!logX || $0 > 0) }
    if Set(xs).count == 1, let x = xs.first {
      return dotChart(
        title: title, valueLabel: yLabel,
        caption: "\(xLabel.replacingOccurrences(" (log scale)", "")) = \(short(x))",
        series: series.map { s in
          Series(
            label: s.label, points: s.points.filter { $0.x == x }, lower: s.lower.map { [$0[0]] },
            upper: s.upper.map { [$0[0]] })
        }, logValues: logY, valueRange: yRange)
    }
    let xAxis = axis(
      xs, log: logX, range: nil, integer: !logX && xs.allSatisfy { $0 == $0.rounded() }, maxTicks: 7)
    let ys =
      series.flatMap { $0.points.map(\.y) } + series.flatMap { ($0.lower ?? []) + ($0.upper ?? []) }
    let yAxis = axis(ys, log: logY, range: yRange, integer: false, maxTicks: 6)
    let layout = ChartLayout.make(
      title: title, leftLabels: yAxis.labels, legend: series.map(\.label), plotWidth: 480, plotHeight: 300)
    let plot = layout.plot
    func px(_ x: Double) -> Double { plot.x + inset + xAxis.fraction(x) * (plot.width - 2 * inset) }
    func py(_ y: Double) -> Double { plot.maxY - inset - yAxis.fraction(y) * (plot.height - 2 * inset) }

    var out = header(width: layout.width, height: layout.height) + self.title(layout)
    for (y, label) in zip(yAxis.ticks, yAxis.labels) {
      out +=
        "<line x1=\"\(f(plot.x - 4))\" x2=\"\(f(plot.maxX))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#e4e4e4\"/>\n"
      out += text(plot.x - 8, py(y) + 4, label, size: 11, anchor: "end")
    }
    for (x, label) in zip(xAxis.ticks, xAxis.labels) {
      out +=
        "<line x1=\"\(f(px(x)))\" x2=\"\(f(px(x)))\" y1=\"\(f(plot.y))\" y2=\"\(f(plot.maxY + 4))\" stroke=\"#f0f0f0\"/>\n"
      out +=
        "<line x1=\"\(f(px(x)))\" x2=\"\(f(px(x)))\" y1=\"\(f(plot.maxY))\" y2=\"\(f(plot.maxY + 4))\" stroke=\"#444\"/>\n"
      out += text(px(x), plot.maxY + 18, label, size: 11, anchor: "middle")
    }
    out +=
      "<rect x=\"\(f(plot.x))\" y=\"\(f(plot.y))\" width=\"\(f(plot.width))\" height=\"\(f(plot.height))\" fill=\"none\" stroke=\"#444\"/>\n"
    out += text(plot.x + plot.width / 2, plot.maxY + 40, xLabel, size: 12, anchor: "middle")
    let yMid = plot.y + plot.height / 2
    out +=
      "<text x=\"16\" y=\"\(f(yMid))\" font-size=\"12\" text-anchor=\"middle\" font-family=\"sans-serif\" transform=\"rotate(-90 16 \(f(yMid)))\">\(escape(yLabel))</text>\n"
    let styles = series.indices.map(style)
    // At a few discrete settings, each series is shifted sideways by a few pixels (at most 3, 30% of
    // the narrowest gap between settings over all series, and within the frame's inset), so that
    // series with equal values stay visible side by side, error bars included; the x values are
    // settings, not measurements.
    let settings = Set(xs).sorted().map(px)
    let gap = zip(settings, settings.dropFirst()).map { $1 - $0 }.min() ?? plot.width
    let dodge =
      series.count > 1 && settings.count <= 12
      ? min(3, 0.3 * gap / Double(series.count - 1), 2 * inset / Double(series.count - 1)) : 0
    for (k, s) in series.enumerated() {
      let st = styles[k]
      let shift = (Double(k) - Double(series.count - 1) / 2) * dodge
      func px(_ x: Double) -> Double { plot.x + inset + xAxis.fraction(x) * (plot.width - 2 * inset) + shift }
      // A point that cannot be drawn (not finite, or not positive on a log axis) breaks the line.
      var run: [(Double, Double)] = []
      for p in s.points {
        if xAxis.shows(p.x) && yAxis.shows(p.y) {
          run.append((px(p.x), py(p.y)))
        } else {
          if run.count > 1 { out += polyline(run, style: st) }
          run = []
        }
      }
      if run.count > 1 { out += polyline(run, style: st) }
      // On a long series a marker every few points (offset per series, so that coinciding series
      // show their markers side by side) keeps the lines readable.
      let every = max(1, Int((Double(s.points.count) / 12).rounded(.up)))
      for (i, p) in s.points.enumerated() where xAxis.shows(p.x) && yAxis.shows(p.y) {
        if let lower = s.lower, let upper = s.upper, i < lower.count, i < upper.count,
          yAxis.shows(lower[i]), yAxis.shows(upper[i])
        {
          out += errorBar(at: px(p.x), from: py(lower[i]), to: py(upper[i]), color: st.color, vertical: true)
        }
        if (i + k) % every == 0 {
          out += marker(st.marker, x: px(p.x), y: py(p.y), size: st.markerSize, color: st.color)
        }
      }
    }
    out += legend(layout, styles: styles, line: true)
    return out + "</svg>\n"
  }

  /// A dot chart: one row per series (its label on the left) with its first point's value as a
  /// marker on a horizontal value axis, and its interval as a bar; for results at a single
  /// setting, which a line chart would show as a single x.
  package static func dotChart(
    title: String, valueLabel: String, caption: String, series: [Series], logValues: Bool = false,
    valueRange: ClosedRange<Double>? = nil
  ) -> String {
    let values =
      series.compactMap { $0.points.first?.y } + series.flatMap { ($0.lower ?? []) + ($0.upper ?? []) }
    let axis = axis(values, log: logValues, range: valueRange, integer: false, maxTicks: 6)
    let rowHeight = 24.0
    let layout = ChartLayout.make(
      title: title, leftLabels: series.map(\.label), legend: [], plotWidth: 420,
      plotHeight: Double(max(series.count, 1)) * rowHeight + 8, leftLabelLimit: 320, yAxisTitle: false)
    let plot = layout.plot
    func px(_ v: Double) -> Double { plot.x + inset + axis.fraction(v) * (plot.width - 2 * inset) }
    var out = header(width: layout.width, height: layout.height) + self.title(layout)
    for (v, label) in zip(axis.ticks, axis.labels) {
      out +=
        "<line x1=\"\(f(px(v)))\" x2=\"\(f(px(v)))\" y1=\"\(f(plot.y))\" y2=\"\(f(plot.maxY + 4))\" stroke=\"#e4e4e4\"/>\n"
      out += text(px(v), plot.maxY + 18, label, size: 11, anchor: "middle")
    }
    out +=
      "<rect x=\"\(f(plot.x))\" y=\"\(f(plot.y))\" width=\"\(f(plot.width))\" height=\"\(f(plot.height))\" fill=\"none\" stroke=\"#444\"/>\n"
    out += text(
      plot.x + plot.width / 2, plot.maxY + 40, "\(valueLabel) (\(caption))", size: 12, anchor: "middle")
    for (k, s) in series.enumerated() {
      let st = style(k)
      let y = plot.y + 4 + (Double(k) + 0.5) * rowHeight
      let label = wrap(s.label, width: 320, size: 11).first ?? ""
      out += text(plot.x - 8, y + 4, label, size: 11, anchor: "end")
      out +=
        "<line x1=\"\(f(plot.x))\" x2=\"\(f(plot.maxX))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#f2f2f2\"/>\n"
      guard let value = s.points.first?.y, axis.shows(value) else { continue }
      if let lower = s.lower?.first, let upper = s.upper?.first, axis.shows(lower), axis.shows(upper) {
        out += errorBar(at: y, from: px(lower), to: px(upper), color: st.color, vertical: false)
      }
      out += marker(st.marker, x: px(value), y: y, size: 5, color: st.color)
    }
    return out + "</svg>\n"
  }

  private static func errorBar(at c: Double, from a: Double, to b: Double, color: String, vertical: Bool)
    -> String
  {
    let cap = 3.0
    if vertical {
      return
        "<path d=\"M\(f(c)),\(f(a))L\(f(c)),\(f(b))M\(f(c - cap)),\(f(a))L\(f(c + cap)),\(f(a))M\(f(c - cap)),\(f(b))L\(f(c + cap)),\(f(b))\" stroke=\"\(color)\" stroke-width=\"1\" stroke-opacity=\"0.7\" fill=\"none\"/>\n"
    }
    return
      "<path d=\"M\(f(a)),\(f(c))L\(f(b)),\(f(c))M\(f(a)),\(f(c - cap))L\(f(a)),\(f(c + cap))M\(f(b)),\(f(c - cap))L\(f(b)),\(f(c + cap))\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-opacity=\"0.7\" fill=\"none\"/>\n"
  }

  /// The axis of the values (those that can be drawn), or of `range` when one is given.
  private static func axis(
    _ values: [Double], log: Bool, range: ClosedRange<Double>?, integer: Bool, maxTicks: Int
  ) -> Axis {
    let shown = values.filter { $0.isFinite && (!log || $0 > 0) }
    let low = range?.lowerBound ?? shown.min() ?? (log ? 1 : 0)
    let high = range?.upperBound ?? shown.max() ?? (log ? 10 : 1)
    return log
      ? Axis.logarithmic(low, high, maxTicks: maxTicks)
      : Axis.linear(low, high, maxTicks: maxTicks, integer: integer)
  }
}
