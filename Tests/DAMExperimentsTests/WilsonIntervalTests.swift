import DAM
import DAMExperiments
import Testing

/// The Wilson score interval that every success rate of the experiments is reported with.
struct WilsonIntervalTests {
  @Test func matchesPublishedValues() throws {
    // 8 of 10: the roots of (p̂ - p)² = z² p (1 - p) / n, found by scipy's brentq.
    let interval = try WilsonInterval(successes: 8, trials: 10)
    #expect(abs(interval.lower - 0.4901624715366418) < 1e-14)
    #expect(abs(interval.upper - 0.9433178485456247) < 1e-14)
    // Both ends satisfy the defining score equation.
    for end in [interval.lower, interval.upper] {
      let z2 = 1.959963984540054 * 1.959963984540054
      #expect(abs((0.8 - end) * (0.8 - end) - z2 * end * (1 - end) / 10) < 1e-15)
    }
    // 0 of 10: lower end exactly 0, upper z²/(n + z²).
    let none = try WilsonInterval(successes: 0, trials: 10)
    let z2 = 1.959963984540054 * 1.959963984540054
    #expect(none.lower == 0)
    #expect(abs(none.upper - z2 / (10 + z2)) < 1e-15)
    // For every n: the interval holds the proportion, and the ends are exact at 0 and n
    // successes (the formula cancels there only to rounding: 5.6e-17 at 0 of 3).
    for n in 1...200 {
      for s in 0...n {
        let interval = try WilsonInterval(successes: s, trials: n)
        #expect(interval.lower <= interval.proportion && interval.proportion <= interval.upper)
      }
      #expect(try WilsonInterval(successes: 0, trials: n).lower == 0)
      #expect(try WilsonInterval(successes: n, trials: n).upper == 1)
    }
    #expect(throws: DAMError.self) { try WilsonInterval(successes: 3, trials: 2) }
    #expect(throws: DAMError.self) { try WilsonInterval(successes: 0, trials: 0) }
  }
}
