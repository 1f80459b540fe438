import DAM
import DAMDatasets

extension GridImageData {
  /// Masses scaled so that the image's largest cell is 1 (for `SVG.imageGrid`).
  package static func shade(_ histogram: GridHistogram) -> [Double] {
    let peak = histogram.masses.max() ?? 0
    return peak > 0 ? histogram.masses.map { $0 / peak } : histogram.masses
  }

  /// A `side x side` image averaged over `factor x factor` blocks (to draw 128 x 128 images as
  /// 64 x 64 SVG rectangles).
  package static func downsample(_ image: [Double], side: Int, factor: Int) -> [Double] {
    guard factor > 1 else { return image }
    let out = side / factor
    var result = [Double](repeating: 0, count: out * out)
    for r in 0..<(out * factor) {
      for c in 0..<(out * factor) { result[(r / factor) * out + c / factor] += image[r * side + c] }
    }
    return result.map { $0 / Double(factor * factor) }
  }
}
