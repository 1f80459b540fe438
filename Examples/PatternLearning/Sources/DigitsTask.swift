import DAM
import DAMDatasets

/// The worked example's task on the built-in digits: queries are handwritten digits (intensities
/// scaled to [0, 1]), each query's target is the mean image of its class, and the memory holds one
/// pattern per class, started from ten training digits drawn at random. A learned memory steps every digit to its
/// class's mean image in one retrieval step.
public struct DigitsTask: Sendable {
  /// The training queries.
  public var queries: [[Double]]
  /// The mean image of each query's class.
  public var targets: [[Double]]
  /// Each query's class, 0 to 9.
  public var labels: [Int]
  /// The class mean images, by class.
  public var means: [[Double]]

  /// The first `perClass` images of each class of the built-in digits.
  public init(perClass: Int) {
    let digits = Digits()
    var byClass = [[Int]](repeating: [], count: 10)
    for i in 0..<digits.count where byClass[digits.labels[i]].count < perClass {
      byClass[digits.labels[i]].append(i)
    }
    let scale = 1 / Double(Digits.maxIntensity)
    let means = byClass.map { members in
      var mean = [Double](repeating: 0, count: 64)
      for i in members { mean.add(scale / Double(members.count), times: digits.image(i)) }
      return mean
    }
    queries = byClass.flatMap { $0.map { digits.image($0).scaled(by: scale) } }
    labels = byClass.enumerated().flatMap { label, members in members.map { _ in label } }
    targets = labels.map { means[$0] }
    self.means = means
  }

  /// Ten starting patterns: training digits drawn at random (without replacement), whatever
  /// their class, as k-means starts from data points.
  public func initialPatterns(seed: UInt64) -> [[Double]] {
    var generator = SeededGenerator(seed: seed)
    var order = Array(queries.indices)
    order.shuffle(using: &generator)
    return order.prefix(10).map { queries[$0] }
  }
}
