import DAMDatasets
import Testing

struct DigitsTests {
  @Test func decodesTheWholeDataSet() {
    let digits = Digits()
    #expect(digits.count == 1797)
    #expect(digits.pixels.count == 1797 * 64)
    #expect(digits.pixels.allSatisfy { $0 <= 16 })
    // scikit-learn's class counts for load_digits().
    var counts = [Int](repeating: 0, count: 10)
    for label in digits.labels { counts[label] += 1 }
    #expect(counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    // The first image (a 0) and its first row, as in Data/digits/digits.csv.
    #expect(digits.labels[0] == 0)
    #expect(Array(digits.image(0).prefix(8)) == [0, 0, 5, 13, 9, 1, 0, 0])
  }
}
