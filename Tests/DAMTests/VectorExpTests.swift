@_spi(Testing) import DAM
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The vectorised exponential used in the solvers' inner loops, against the C library's `exp`.
struct VectorExpTests {
  /// The distance in units in the last place between two positive doubles.
  static func ulps(_ a: Double, _ b: Double) -> UInt64 {
    let x = a.bitPattern
    let y = b.bitPattern
    return x > y ? x - y : y - x
  }

  @Test func agreesWithTheCLibraryToTwoUlps() {
    var generator = SeededGenerator(seed: 11)
    var values = (0..<200_000).map { _ in Double.random(in: -708...709.7, using: &generator) }
    // Points where the reduction changes branch: multiples of ln 2 / 2 and small arguments.
    for k in -2040...2046 { values.append(Double(k) * 0.34657359027997264) }
    values += [0, -0.0, 1e-300, -1e-300, 1e-10, -1e-10, 0.5, -0.5, 1, -1, 709.78, -708.39]
    var computed = values
    computed.withUnsafeMutableBufferPointer { _expInPlace($0.baseAddress!, count: $0.count) }
    var worst: UInt64 = 0
    for (x, y) in zip(values, computed) where x >= -708.39 && x <= 709.78 {
      worst = max(worst, Self.ulps(y, exp(x)))
    }
    #expect(worst <= 2)
  }

  /// The over-relaxation's `x^ω` (a binomial series near 1, `pow` elsewhere) against `pow`:
  /// within 4 ulp on the series' range for every ω the relaxation uses, and `pow` itself outside.
  @Test func relaxedPowerAgreesWithPow() {
    var generator = SeededGenerator(seed: 5)
    var worst: UInt64 = 0
    for _ in 0..<100_000 {
      let omega = Double.random(in: 0...2, using: &generator)
      let x = 1 + Double.random(in: -0.03125...0.03125, using: &generator)
      worst = max(worst, Self.ulps(_relaxedPower(x, omega), pow(x, omega)))
    }
    #expect(worst <= 4)
    for x in [0.5, 0.96, 1.04, 3.0, 1e-200, 1e200] {
      for omega in [0.5, 1.3, 1.95, 2.5] { #expect(_relaxedPower(x, omega) == pow(x, omega)) }
    }
    #expect(_relaxedPower(1, 1.7) == 1)
    // A whole vector: the branch-free pass when every entry is near 1, entry by entry otherwise;
    // the same numbers as one at a time either way.
    for trial in 0..<200 {
      let omega = Double.random(in: 0...2, using: &generator)
      var x = (0..<37).map { _ in 1 + Double.random(in: -0.03125...0.03125, using: &generator) }
      if trial % 2 == 1 { x[trial % 37] = 1.5 }
      #expect(_relaxedPowers(x, omega) == x.map { _relaxedPower($0, omega) })
    }
  }

  @Test func handlesTheEdgesOfTheRange() {
    var values: [Double] = [-709, -745, -1e308, -.infinity, 709.8, 1e308, .infinity, .nan, 3]
    values.withUnsafeMutableBufferPointer { _expInPlace($0.baseAddress!, count: $0.count) }
    #expect(values[0] == 0)  // flushed below 2^-1022
    #expect(values[1] == 0)
    #expect(values[2] == 0)
    #expect(values[3] == 0)
    #expect(values[4] == .infinity)
    #expect(values[5] == .infinity)
    #expect(values[6] == .infinity)
    #expect(values[7].isNaN)
    #expect(Self.ulps(values[8], exp(3)) <= 2)  // the scalar tail of a partial block
  }
}
