/// The 1797 handwritten digits (8 x 8 pixels, intensities 0...16) of the UCI "Optical Recognition
/// of Handwritten Digits" data set as bundled in scikit-learn, compiled into the library.
///
/// Licence CC BY 4.0; origin in `Data/digits/README.md`. Image `i` has label `labels[i]` and
/// pixels `pixels[64 i ..< 64 (i + 1)]`, row-major (row 0 is the top of the image).
public struct Digits: Sendable {
  /// The number of images.
  public let count: Int
  /// The class of each image, 0 to 9.
  public let labels: [Int]
  /// All pixels, 64 per image, row-major within an image; values 0 to 16.
  public let pixels: [UInt8]

  /// The side of an image in pixels.
  public static let side = 8
  /// The largest pixel value.
  public static let maxIntensity = 16

  /// Decodes the compiled-in data.
  public init() {
    var labels: [Int] = []
    labels.reserveCapacity(_digitsRowCount)
    var pixels: [UInt8] = []
    pixels.reserveCapacity(_digitsRowCount * 64)
    let a = UInt8(ascii: "a")
    var column = 0
    for byte in _digitsEncoded.utf8 {
      if byte == UInt8(ascii: "\n") {
        column = 0
        continue
      }
      if column == 0 { labels.append(Int(byte - a)) } else { pixels.append(byte - a) }
      column += 1
    }
    self.count = labels.count
    self.labels = labels
    self.pixels = pixels
  }

  /// The pixels of image `index` as `Double`s in `0...16`.
  public func image(_ index: Int) -> [Double] {
    pixels[(index * 64)..<((index + 1) * 64)].map { Double($0) }
  }
}
