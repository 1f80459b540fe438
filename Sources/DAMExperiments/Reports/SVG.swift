#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Minimal SVG figures for reports: line and dot charts, scatters, heatmap and ellipse panels and
/// image grids, self-contained files that any browser shows.
package enum SVG {
  package struct Series {
    package var label: String
    package var points: [(x: Double, y: Double)]
    package var lower: [Double]? = nil  // optional error band
    package var upper: [Double]? = nil

    package init(
      label: String, points: [(x: Double, y: Double)], lower: [Double]? = nil, upper: [Double]? = nil
    ) {
      self.label = label
      self.points = points
      self.lower = lower
      self.upper = upper
    }
  }

  /// Ten colours that stay apart for most forms of colour blindness (Tableau 10, reordered so that
  /// the first pairs contrast).
  package static let palette = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
    "#bcbd22",
  ]

  /// A grid of grey-scale images (values in [0, 1], dark = 1) with row and column captions.
  package static func imageGrid(
    title: String, images: [[[Double]]], side: Int, rowLabels: [String], columnLabels: [String],
    cell: Double = 8, labelWidth: Double = 150
  ) -> String {
    let imageSize = Double(side) * cell
    let gap = 14.0
    let left = labelWidth
    let top = 56.0
    let columns = images.first?.count ?? 0
    let width = left + Double(columns) * (imageSize + gap) + gap
    let height = top + Double(images.count) * (imageSize + gap) + gap
    var out = header(width: width, height: height)
    out += text(width / 2, 22, title, size: 15, anchor: "middle", weight: "bold")
    for (c, label) in columnLabels.enumerated() {
      out += text(
        left + Double(c) * (imageSize + gap) + imageSize / 2, top - 10, label, size: 11, anchor: "middle")
    }
    for (r, row) in images.enumerated() {
      let y0 = top + Double(r) * (imageSize + gap)
      out += text(left - 10, y0 + imageSize / 2 + 4, rowLabels[r], size: 11, anchor: "end")
      for (c, image) in row.enumerated() {
        let x0 = left + Double(c) * (imageSize + gap)
        out +=
          "<rect x=\"\(f(x0 - 0.5))\" y=\"\(f(y0 - 0.5))\" width=\"\(f(imageSize + 1))\" height=\"\(f(imageSize + 1))\" fill=\"white\" stroke=\"#999\"/>\n"
        for (i, value) in image.enumerated() {
          let v = min(1, max(0, value))
          guard v > 0.004 else { continue }
          let shade = Int((1 - v) * 255)
          out +=
            "<rect x=\"\(f(x0 + Double(i % side) * cell))\" y=\"\(f(y0 + Double(i / side) * cell))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"rgb(\(shade),\(shade),\(shade))\"/>\n"
        }
      }
    }
    return out + "</svg>\n"
  }

  /// A 2-D scatter of point sets (each a colour and a marker size) with optional polylines
  /// (trajectories), equal axis scales.
  package struct PointSet {
    package var label: String
    package var points: [(x: Double, y: Double)]
    package var color: String
    package var radius: Double = 3
    package var hollow = false
  }

  package static func scatter(
    title: String, sets: [PointSet], paths: [[(x: Double, y: Double)]] = [], pathColor: String = "#999",
    size: Double = 560
  ) -> String {
    let margin = 40.0
    let legend = min(ChartLayout.maxLegendText, sets.map { textWidth($0.label, size: 11) }.max() ?? 0) + 40
    let all = sets.flatMap(\.points) + paths.flatMap { $0 }
    let xs = all.map(\.x)
    let ys = all.map(\.y)
    let xMin = xs.min() ?? 0
    let xMax = xs.max() ?? 1
    let yMin = ys.min() ?? 0
    let yMax = ys.max() ?? 1
    let span = max(xMax - xMin, yMax - yMin, 1e-9) * 1.05
    let cx = (xMin + xMax) / 2
    let cy = (yMin + yMax) / 2
    let plot = size - 2 * margin
    func px(_ x: Double) -> Double { margin + ((x - cx) / span + 0.5) * plot }
    func py(_ y: Double) -> Double { margin + (0.5 - (y - cy) / span) * plot }
    var out = header(width: size + legend, height: size)
    out += text((size + legend) / 2, 22, title, size: 15, anchor: "middle", weight: "bold")
    out +=
      "<rect x=\"\(f(margin))\" y=\"\(f(margin))\" width=\"\(f(plot))\" height=\"\(f(plot))\" fill=\"none\" stroke=\"#444\"/>\n"
    for path in paths where path.count > 1 {
      let line = path.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
      out += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(pathColor)\" stroke-width=\"0.8\"/>\n"
    }
    for (k, set) in sets.enumerated() {
      for p in set.points {
        let fill = set.hollow ? "none" : set.color
        out +=
          "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(f(set.radius))\" fill=\"\(fill)\" stroke=\"\(set.color)\"/>\n"
      }
      let ly = margin + 12 + Double(k) * 18
      let fill = set.hollow ? "none" : set.color
      out +=
        "<circle cx=\"\(f(size + 10))\" cy=\"\(f(ly - 4))\" r=\"4\" fill=\"\(fill)\" stroke=\"\(set.color)\"/>\n"
      out += text(size + 20, ly, wrap(set.label, width: legend - 40, size: 11)[0], size: 11, anchor: "start")
    }
    return out + "</svg>\n"
  }

  /// A panel of a heatmap figure: a square grid of cell colours (row 0 at the top), with polylines
  /// and markers in unit coordinates ([0, 1]², y up).
  package struct Panel {
    package var title: String
    package var cells: [[String]]
    package var paths: [[(x: Double, y: Double)]] = []
    package var markers: [(x: Double, y: Double)] = []
  }

  /// Panels laid out in rows, each `size` pixels square; runs of equal cells are merged, so a
  /// 100 x 100 grid stays small.
  package static func panels(
    title: String, rows: [[Panel]], size: Double = 220, legend: [(String, String)] = []
  ) -> String {
    let gap = 18.0
    let top = 48.0
    let columns = rows.map(\.count).max() ?? 0
    let legendWidth = legend.isEmpty ? 0.0 : (legend.map { textWidth($0.0, size: 11) }.max() ?? 0) + 40
    let width = gap + Double(columns) * (size + gap) + legendWidth
    let height = top + Double(rows.count) * (size + gap + 16) + gap
    var out = header(width: width, height: height)
    out += text(width / 2, 24, title, size: 15, anchor: "middle", weight: "bold")
    for (r, row) in rows.enumerated() {
      for (c, panel) in row.enumerated() {
        let x0 = gap + Double(c) * (size + gap)
        let y0 = top + 16 + Double(r) * (size + gap + 16)
        out += text(x0 + size / 2, y0 - 5, panel.title, size: 11, anchor: "middle")
        let n = panel.cells.count
        let cell = size / Double(max(n, 1))
        for (i, line) in panel.cells.enumerated() {
          var j = 0
          while j < line.count {
            var k = j
            while k + 1 < line.count && line[k + 1] == line[j] { k += 1 }
            out +=
              "<rect x=\"\(f(x0 + Double(j) * cell))\" y=\"\(f(y0 + Double(i) * cell))\" width=\"\(f(Double(k - j + 1) * cell + 0.6))\" height=\"\(f(cell + 0.6))\" fill=\"\(line[j])\"/>\n"
            j = k + 1
          }
        }
        out +=
          "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(size))\" height=\"\(f(size))\" fill=\"none\" stroke=\"#444\"/>\n"
        func px(_ p: (x: Double, y: Double)) -> String { "\(f(x0 + p.x * size)),\(f(y0 + (1 - p.y) * size))" }
        for path in panel.paths where path.count > 1 {
          out +=
            "<polyline points=\"\(path.map(px).joined(separator: " "))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.2\"/>\n"
          out +=
            "<circle cx=\"\(f(x0 + path[0].x * size))\" cy=\"\(f(y0 + (1 - path[0].y) * size))\" r=\"2.5\" fill=\"#d62728\"/>\n"
        }
        for m in panel.markers {
          out +=
            "<circle cx=\"\(f(x0 + m.x * size))\" cy=\"\(f(y0 + (1 - m.y) * size))\" r=\"4\" fill=\"black\" stroke=\"white\"/>\n"
        }
      }
    }
    for (k, entry) in legend.enumerated() {
      let ly = top + 20 + Double(k) * 18
      let lx = gap + Double(columns) * (size + gap)
      out +=
        "<rect x=\"\(f(lx))\" y=\"\(f(ly - 10))\" width=\"12\" height=\"12\" fill=\"\(entry.1)\" stroke=\"#999\"/>\n"
      out += text(lx + 18, ly, entry.0, size: 11, anchor: "start")
    }
    return out + "</svg>\n"
  }

  /// An ellipse `{x : (x - c)ᵀ S⁻¹ (x - c) = k²}` of a 2-D Gaussian `N(c, S)` (k = `sigmas`), drawn
  /// in data coordinates.
  package struct Ellipse {
    package var center: (x: Double, y: Double)
    /// The covariance `[[xx, xy], [xy, yy]]`, positive definite.
    package var covariance: (xx: Double, xy: Double, yy: Double)
    package var color: String
    package var dashed = false
    package var width = 1.6
  }

  /// The SVG element of a Gaussian's ellipse (an ellipse primitive): `center` in pixels, the
  /// covariance scaled by `pixelsPerUnit`, the y axis pointing up as in the data.
  package static func ellipse(
    _ e: Ellipse, at center: (x: Double, y: Double), pixelsPerUnit: Double, sigmas: Double = 1
  )
    -> String
  {
    let (a, b, c) = e.covariance
    let mid = (a + c) / 2
    let radius = ((a - c) * (a - c) / 4 + b * b).squareRoot()
    let major = max(mid + radius, 0).squareRoot() * sigmas * pixelsPerUnit
    let minor = max(mid - radius, 0).squareRoot() * sigmas * pixelsPerUnit
    // The major axis' angle from the x axis (data, counter-clockwise); SVG rotates clockwise.
    let angle = 0.5 * atan2(2 * b, a - c) * 180 / Double.pi
    let dash = e.dashed ? " stroke-dasharray=\"5,3\"" : ""
    return
      "<ellipse cx=\"\(f(center.x))\" cy=\"\(f(center.y))\" rx=\"\(f(major))\" ry=\"\(f(minor))\" transform=\"rotate(\(f(-angle)) \(f(center.x)) \(f(center.y)))\" fill=\"none\" stroke=\"\(e.color)\" stroke-width=\"\(f(e.width))\"\(dash)/>\n"
  }

  /// A panel of Gaussians drawn as ellipses, with a caption.
  package struct EllipsePanel {
    package var title: String
    package var ellipses: [Ellipse]
  }

  /// Panels of ellipses laid out in rows, each `size` pixels square, every panel showing the data
  /// square `[-extent, extent]²` (equal scales, y up) with its axes through the origin; a row may
  /// carry a caption on its left.
  package static func ellipsePanels(
    title: String, rows: [(caption: String, panels: [EllipsePanel])], extent: Double,
    sigmas: Double = 1,
    size: Double = 180, legend: [(String, String)] = []
  ) -> String {
    let gap = 16.0
    let top = 48.0
    let captionWidth = 150.0
    let columns = rows.map(\.panels.count).max() ?? 0
    let legendWidth = legend.isEmpty ? 0.0 : (legend.map { textWidth($0.0, size: 11) }.max() ?? 0) + 40
    let width = captionWidth + gap + Double(columns) * (size + gap) + legendWidth
    let height = top + Double(rows.count) * (size + gap + 16) + gap
    let scale = size / (2 * extent)
    var out = header(width: width, height: height)
    out += text(width / 2, 24, title, size: 15, anchor: "middle", weight: "bold")
    for (r, row) in rows.enumerated() {
      let y0 = top + 16 + Double(r) * (size + gap + 16)
      out += text(gap, y0 + size / 2, row.caption, size: 11, anchor: "start")
      for (c, panel) in row.panels.enumerated() {
        let x0 = captionWidth + gap + Double(c) * (size + gap)
        out += text(x0 + size / 2, y0 - 5, panel.title, size: 11, anchor: "middle")
        out +=
          "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(size))\" height=\"\(f(size))\" fill=\"none\" stroke=\"#444\"/>\n"
        out +=
          "<line x1=\"\(f(x0))\" x2=\"\(f(x0 + size))\" y1=\"\(f(y0 + size / 2))\" y2=\"\(f(y0 + size / 2))\" stroke=\"#ddd\"/>\n"
        out +=
          "<line x1=\"\(f(x0 + size / 2))\" x2=\"\(f(x0 + size / 2))\" y1=\"\(f(y0))\" y2=\"\(f(y0 + size))\" stroke=\"#ddd\"/>\n"
        for e in panel.ellipses {
          let center = (
            x: x0 + size / 2 + e.center.x * scale, y: y0 + size / 2 - e.center.y * scale
          )
          out += ellipse(e, at: center, pixelsPerUnit: scale, sigmas: sigmas)
        }
      }
    }
    for (k, entry) in legend.enumerated() {
      let ly = top + 20 + Double(k) * 18
      let lx = captionWidth + gap + Double(columns) * (size + gap)
      out +=
        "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 16))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(entry.1)\" stroke-width=\"2\"/>\n"
      out += text(lx + 22, ly, entry.0, size: 11, anchor: "start")
    }
    return out + "</svg>\n"
  }

  /// An image of a figure made of rows of images: a square grey-scale image (values in [0, 1],
  /// dark = 1) with its own caption above it.
  package struct CaptionedImage {
    package var caption: String
    package var values: [Double]
    package var side: Int
  }

  /// Rows of captioned grey-scale images, each drawn in a `size`-pixel square (shades quantised to
  /// 32 levels, runs of equal cells in a row merged, so large sparse images stay small), with a
  /// caption on the left of each row.
  package static func imageRows(
    title: String, rows: [(caption: String, images: [CaptionedImage])], size: Double = 96,
    captionWidth: Double = 170
  ) -> String {
    let gap = 12.0
    let top = 44.0
    let columns = rows.map(\.images.count).max() ?? 0
    let width = captionWidth + Double(columns) * (size + gap) + gap
    let height = top + Double(rows.count) * (size + gap + 16) + gap
    var out = header(width: width, height: height)
    out += text(width / 2, 22, title, size: 14, anchor: "middle", weight: "bold")
    for (r, row) in rows.enumerated() {
      let y0 = top + 16 + Double(r) * (size + gap + 16)
      out += text(captionWidth - 8, y0 + size / 2 + 4, row.caption, size: 11, anchor: "end")
      for (c, image) in row.images.enumerated() {
        let x0 = captionWidth + Double(c) * (size + gap)
        out += text(x0 + size / 2, y0 - 5, image.caption, size: 10, anchor: "middle")
        out +=
          "<rect x=\"\(f(x0 - 0.5))\" y=\"\(f(y0 - 0.5))\" width=\"\(f(size + 1))\" height=\"\(f(size + 1))\" fill=\"white\" stroke=\"#999\"/>\n"
        let side = max(image.side, 1)
        let cell = size / Double(side)
        for i in 0..<side {
          let levels = (0..<side).map { j -> Int in
            let v = i * side + j < image.values.count ? image.values[i * side + j] : 0
            return Int((min(1, max(0, v.isFinite ? v : 0)) * 31).rounded())
          }
          var j = 0
          while j < side {
            var k = j
            while k + 1 < side && levels[k + 1] == levels[j] { k += 1 }
            if levels[j] > 0 {
              let shade = Int((1 - Double(levels[j]) / 31) * 255)
              out +=
                "<rect x=\"\(f(x0 + Double(j) * cell))\" y=\"\(f(y0 + Double(i) * cell))\" width=\"\(f(Double(k - j + 1) * cell))\" height=\"\(f(cell))\" fill=\"rgb(\(shade),\(shade),\(shade))\"/>\n"
            }
            j = k + 1
          }
        }
      }
    }
    return out + "</svg>\n"
  }

  static func header(width: Double, height: Double) -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))">
    <rect width="100%" height="100%" fill="white"/>

    """
  }

  static func text(
    _ x: Double, _ y: Double, _ content: String, size: Int, anchor: String, weight: String = "normal"
  ) -> String {
    "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(size)\" font-family=\"sans-serif\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\">\(escape(content))</text>\n"
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences("&", "&amp;").replacingOccurrences("<", "&lt;").replacingOccurrences(">", "&gt;")
  }

  static func f(_ x: Double) -> String { _snprintf("%.2f", x) }

  static func short(_ x: Double) -> String {
    let r = (x * 1000).rounded() / 1000
    return r == r.rounded() ? "\(Int(r))" : "\(r)"
  }
}

extension String {
  func replacingOccurrences(_ target: String, _ replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
