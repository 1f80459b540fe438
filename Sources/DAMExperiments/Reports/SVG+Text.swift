extension SVG {
  /// Advance widths of the printable ASCII characters (space to `~`) in DejaVu Sans, in
  /// thousandths of the font size: the sans-serif font that librsvg and most Linux browsers use.
  /// Helvetica and Arial are narrower, so an estimate from these widths is an upper bound there too.
  private static let regularWidths: [UInt16] = [
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775,
    752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390,
    337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
  ]

  /// The same for DejaVu Sans Bold.
  private static let boldWidths: [UInt16] = [
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696,
    696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821,
    837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457,
    365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
  ]

  /// The width in pixels that `text` takes at `size` pixels in a sans-serif font: the sum of the
  /// characters' advance widths (a character outside ASCII counts as a full em, wider than any
  /// Greek letter or mathematical sign the reports use), so a label fits in a box this wide.
  package static func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
    let table = bold ? boldWidths : regularWidths
    var thousandths = 0
    for scalar in text.unicodeScalars {
      let code = Int(scalar.value)
      thousandths += code >= 32 && code < 127 ? Int(table[code - 32]) : 1000
    }
    return Double(thousandths) / 1000 * size
  }

  /// `text` broken at spaces into lines no wider than `width` pixels at `size` (a single word wider
  /// than `width` is broken inside, so that no line overflows).
  package static func wrap(_ text: String, width: Double, size: Double) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
      let candidate = line.isEmpty ? word : line + " " + word
      if textWidth(candidate, size: size) <= width {
        line = candidate
        continue
      }
      if !line.isEmpty { lines.append(line) }
      line = ""
      var rest = word
      while textWidth(rest, size: size) > width {
        var head = ""
        for character in rest {
          if !head.isEmpty && textWidth(head + String(character), size: size) > width { break }
          head.append(character)
        }
        lines.append(head)
        rest = String(rest.dropFirst(head.count))
      }
      line = rest
    }
    if !line.isEmpty || lines.isEmpty { lines.append(line) }
    return lines
  }
}
