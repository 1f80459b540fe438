import DAM
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Images as histograms on a grid, as the grid-memory reproduction (`dam experiment grid-images`)
/// and the `grid-digits` workload of `dam compare` use them: the built-in digits upsampled, seeded
/// synthetic shapes, and the corruptions of queries (masks, additive noise, salt and pepper). Images are row-major (row 0 at the top), one
/// grid cell per pixel (spacing 1, so ε is in squared pixels).
public enum GridImageData {
  // MARK: Digits

  /// Bilinear upsampling of a `side x side` image to `target x target`, pixel-centre aligned: output
  /// pixel `(r, c)` reads the input at `((r + ½) s / t - ½, (c + ½) s / t - ½)`, clamped to the
  /// input's border pixels (the convention of OpenCV's `INTER_LINEAR` and PIL's bilinear resize
  /// when enlarging). Values stay within the input's range, zeros stay zeros away from ink.
  ///
  /// - Throws: `DAMError` (of DAM) naming `image` unless it holds `side × side` values (`side ≥ 1`), or
  ///   `target` unless it is at least 1.
  public static func upsample(_ image: [Double], side: Int, to target: Int) throws(DAMError) -> [Double] {
    guard side >= 1, image.count == side * side else {
      throw DAMError(
        .dimensionMismatch, argument: "image",
        "has \(image.count) values, not side x side = \(side) x \(side)")
    }
    guard target >= 1 else {
      throw DAMError(.invalidArgument, argument: "target", "must be >= 1, got \(target)")
    }
    let scale = Double(side) / Double(target)
    func sample(_ t: Int) -> (Int, Int, Double) {
      let x = min(max((Double(t) + 0.5) * scale - 0.5, 0), Double(side - 1))
      let low = Int(x.rounded(.down))
      let high = min(low + 1, side - 1)
      return (low, high, x - Double(low))
    }
    let axis = (0..<target).map(sample)
    var out = [Double](repeating: 0, count: target * target)
    for r in 0..<target {
      let (r0, r1, fr) = axis[r]
      for c in 0..<target {
        let (c0, c1, fc) = axis[c]
        let top = image[r0 * side + c0] * (1 - fc) + image[r0 * side + c1] * fc
        let bottom = image[r1 * side + c0] * (1 - fc) + image[r1 * side + c1] * fc
        out[r * target + c] = top * (1 - fr) + bottom * fr
      }
    }
    return out
  }

  /// Digit `index` of the built-in set upsampled to `side x side` and normalised to mass 1 (no
  /// floor: blank pixels are empty cells).
  ///
  /// - Throws: `DAMError` (of DAM) naming `index` when it is not a digit's, or `side` when it is below 1.
  public static func digit(_ digits: Digits, _ index: Int, side: Int) throws(DAMError) -> GridHistogram {
    guard (0..<digits.count).contains(index) else {
      throw DAMError(.invalidArgument, argument: "index", "must be in 0..<\(digits.count), got \(index)")
    }
    guard side >= 1 else { throw DAMError(.invalidArgument, argument: "side", "must be >= 1, got \(side)") }
    let image = try upsample(digits.image(index), side: Digits.side, to: side)
    return try GridHistogram(shape: [side, side], intensities: image)
  }

  /// `perClass` seeded digits of each class (classes in order 0...9), as indices into `digits`.
  public static func digitIndices(_ digits: Digits, perClass: Int, generator: inout SeededGenerator) -> [Int]
  {
    let order = Array(0..<digits.count).shuffled(using: &generator)
    var chosen: [Int] = []
    for label in 0..<10 { chosen += order.filter { digits.labels[$0] == label }.prefix(perClass) }
    return chosen
  }

  // MARK: Shapes

  /// The kinds of synthetic shapes.
  public enum ShapeKind: String, CaseIterable, Sendable {
    /// A filled disc of radius `size`.
    case disc
    /// An annulus of outer radius `size` and width `thickness`.
    case ring
    /// A filled square of half side `size`, rotated by `angle`.
    case square
    /// Two bars of half length `size` and half width `thickness`, crossing at right angles.
    case cross
    /// A bar of half length `size` and half width `thickness`, rotated by `angle`.
    case bar
  }

  /// A shape on the grid: its kind, centre (column, row, in pixels), size (radius, half side or
  /// half length), thickness (ring width, cross arm half-width, bar half-width) and angle.
  public struct Shape: Sendable {
    public var kind: ShapeKind
    public var x: Double
    public var y: Double
    public var size: Double
    public var thickness: Double
    public var angle: Double

    /// A shape; `x` and `y` are the centre's column and row in pixels, `angle` in radians.
    public init(kind: ShapeKind, x: Double, y: Double, size: Double, thickness: Double, angle: Double) {
      self.kind = kind
      self.x = x
      self.y = y
      self.size = size
      self.thickness = thickness
      self.angle = angle
    }

    /// Whether the point `(px, py)` (column, row) is inside the shape.
    public func contains(_ px: Double, _ py: Double) -> Bool {
      let dx = px - x
      let dy = py - y
      // Coordinates in the shape's frame (rotated by -angle).
      let u = dx * cos(angle) + dy * sin(angle)
      let v = -dx * sin(angle) + dy * cos(angle)
      switch kind {
      case .disc: return dx * dx + dy * dy <= size * size
      case .ring:
        let r2 = dx * dx + dy * dy
        return r2 <= size * size && r2 >= (size - thickness) * (size - thickness)
      case .square: return abs(u) <= size && abs(v) <= size
      case .cross: return (abs(u) <= size && abs(v) <= thickness) || (abs(v) <= size && abs(u) <= thickness)
      case .bar: return abs(u) <= size && abs(v) <= thickness
      }
    }

    /// A one-line description, e.g. `ring r 14.2 at (40.1, 77.0)`.
    public var description: String {
      "\(kind.rawValue) \(String(format: "%.1f", size)) at (\(String(format: "%.0f", x)), \(String(format: "%.0f", y)))"
    }
  }

  /// The shape's coverage of each pixel (a 4 x 4 supersampling of the pixel square), row-major.
  ///
  /// - Throws: `DAMError` (of DAM) naming `side` when it is below 1.
  public static func render(_ shape: Shape, side: Int) throws(DAMError) -> [Double] {
    guard side >= 1 else { throw DAMError(.invalidArgument, argument: "side", "must be >= 1, got \(side)") }
    let samples = 4
    var out = [Double](repeating: 0, count: side * side)
    // Only pixels near the shape's bounding circle can be covered.
    let reach = shape.size * 1.5 + shape.thickness + 2
    let rows = max(0, Int(shape.y - reach))...min(side - 1, Int(shape.y + reach))
    let columns = max(0, Int(shape.x - reach))...min(side - 1, Int(shape.x + reach))
    for r in rows {
      for c in columns {
        var inside = 0
        for i in 0..<samples {
          for j in 0..<samples {
            let py = Double(r) + (Double(i) + 0.5) / Double(samples)
            let px = Double(c) + (Double(j) + 0.5) / Double(samples)
            if shape.contains(px, py) { inside += 1 }
          }
        }
        out[r * side + c] = Double(inside) / Double(samples * samples)
      }
    }
    return out
  }

  /// `count` seeded shapes on a `side x side` grid, drawn as pairs of near twins so that retrieval
  /// is not trivial: a shape of a random kind, size and place, then one of the same kind moved by
  /// 4 to 10 % of the side and resized by up to ±20 % (an odd count ends with a single shape).
  /// Sizes: radius or half side 6 to 22 % of the side; every shape lies inside the image with a
  /// margin of 3 % of the side.
  ///
  /// - Throws: `DAMError` (of DAM) naming `side` when it is below 1.
  public static func shapes(count: Int, side: Int, generator: inout SeededGenerator) throws(DAMError)
    -> [Shape]
  {
    guard side >= 1 else { throw DAMError(.invalidArgument, argument: "side", "must be >= 1, got \(side)") }
    let s = Double(side)
    let margin = 0.03 * s
    func place(_ kind: ShapeKind, size: Double, near: (Double, Double)?) -> Shape {
      let thickness: Double
      switch kind {
      case .disc, .square: thickness = 0
      case .ring: thickness = max(2, size * Double.random(in: 0.25...0.5, using: &generator))
      case .cross: thickness = max(1.5, size * Double.random(in: 0.15...0.3, using: &generator))
      case .bar: thickness = max(1.5, size * Double.random(in: 0.12...0.25, using: &generator))
      }
      let angle = kind == .disc || kind == .ring ? 0 : Double.random(in: 0..<Double.pi, using: &generator)
      // The bounding radius of the rotated shape.
      let reach = kind == .square ? size * 2.0.squareRoot() : size
      let low = margin + reach
      let high = s - margin - reach
      var x: Double
      var y: Double
      if let (cx, cy) = near {
        let distance = s * Double.random(in: 0.04...0.10, using: &generator)
        let direction = Double.random(in: 0..<(2 * Double.pi), using: &generator)
        x = cx + distance * cos(direction)
        y = cy + distance * sin(direction)
      } else {
        x = Double.random(in: low...high, using: &generator)
        y = Double.random(in: low...high, using: &generator)
      }
      x = min(max(x, low), high)
      y = min(max(y, low), high)
      return Shape(kind: kind, x: x, y: y, size: size, thickness: thickness, angle: angle)
    }
    var shapes: [Shape] = []
    while shapes.count < count {
      let kind = ShapeKind.allCases.randomElement(using: &generator)!
      let size = s * Double.random(in: 0.06...0.22, using: &generator)
      let first = place(kind, size: size, near: nil)
      shapes.append(first)
      if shapes.count < count {
        let twinSize = min(0.22 * s, max(0.06 * s, size * Double.random(in: 0.8...1.2, using: &generator)))
        shapes.append(place(kind, size: twinSize, near: (first.x, first.y)))
      }
    }
    return shapes
  }

  // MARK: Corruptions

  /// How a query is corrupted.
  public enum Corruption: String, CaseIterable, Sendable {
    /// A random axis-parallel rectangle of the given fraction of the image's area removed; at
    /// level 0.5, a random half (left, right, top or bottom).
    case mask
    /// Gaussian noise of sd `level × max mass` added to every cell, clipped at 0.
    case noise
    /// A fraction `level` of the cells set to 0 (pepper) or to the image's largest mass (salt),
    /// half and half.
    case saltPepper = "salt-pepper"

    /// The axis label of the level.
    public var levelName: String {
      switch self {
      case .mask: "fraction of the image masked"
      case .noise: "noise sd / largest cell mass"
      case .saltPepper: "fraction of cells flipped"
      }
    }
  }

  /// A corrupted copy of `pattern` (an image: a histogram on a 2-D grid), renormalised to mass 1. Masks that would remove all of the
  /// mass are redrawn (at most 100 times; then the query is the uncorrupted pattern, which the
  /// report counts).
  ///
  /// - Throws: `DAMError` (of DAM) naming `pattern` unless it is on a 2-D grid, or `level` unless it is
  ///   finite, non-negative and, for masks and salt and pepper, at most 1.
  public static func corrupt(
    _ pattern: GridHistogram, _ corruption: Corruption, level: Double, generator: inout SeededGenerator
  ) throws(DAMError) -> (histogram: GridHistogram, redrawn: Bool) {
    guard pattern.shape.count == 2 else {
      throw DAMError(
        .dimensionMismatch, argument: "pattern",
        "must be an image on a 2-D grid, got grid shape \(pattern.shape)")
    }
    guard level.isFinite, level >= 0, corruption == .noise || level <= 1 else {
      throw DAMError(
        .invalidArgument, argument: "level",
        "must be finite and >= 0\(corruption == .noise ? "" : " and <= 1 (a fraction)"), got \(level)")
    }
    let h = pattern.shape[0]
    let w = pattern.shape[1]
    var cells = pattern.masses
    guard level > 0 else { return (pattern, false) }
    let peak = cells.max() ?? 0
    switch corruption {
    case .mask:
      for _ in 0..<100 {
        var masked = cells
        var rows = 0..<h
        var columns = 0..<w
        if level >= 0.5 {
          switch Int.random(in: 0..<4, using: &generator) {
          case 0: columns = 0..<(w / 2)
          case 1: columns = (w / 2)..<w
          case 2: rows = 0..<(h / 2)
          default: rows = (h / 2)..<h
          }
        } else {
          // Aspect ratio in [1/2, 2], area fraction `level`.
          let aspect = exp(Double.random(in: log(0.5)...log(2.0), using: &generator))
          let area = level * Double(h * w)
          let height = min(h, max(1, Int((area / aspect).squareRoot().rounded())))
          let width = min(w, max(1, Int((area * aspect).squareRoot().rounded())))
          let top = Int.random(in: 0...(h - height), using: &generator)
          let left = Int.random(in: 0...(w - width), using: &generator)
          rows = top..<(top + height)
          columns = left..<(left + width)
        }
        for r in rows { for c in columns { masked[r * w + c] = 0 } }
        if masked.contains(where: { $0 > 0 }) {
          return (
            try GridHistogram(shape: pattern.shape, intensities: masked, spacing: pattern.spacing), false
          )
        }
      }
      return (pattern, true)
    case .noise:
      for j in cells.indices { cells[j] = max(0, cells[j] + level * peak * generator.nextGaussian()) }
    case .saltPepper:
      for j in cells.indices where Double.random(in: 0..<1, using: &generator) < level {
        cells[j] = Bool.random(using: &generator) ? peak : 0
      }
    }
    if !cells.contains(where: { $0 > 0 }) { return (pattern, true) }
    return (try GridHistogram(shape: pattern.shape, intensities: cells, spacing: pattern.spacing), false)
  }
}
