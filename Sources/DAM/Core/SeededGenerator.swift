/// A fast, seedable random number generator (xoshiro256**, seeded through SplitMix64), so that
/// experiments and tests are reproducible across runs and platforms.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose sequence is fixed by `seed`.
  public init(seed: UInt64) {
    var s = seed
    func splitMix() -> UInt64 {
      s &+= 0x9E37_79B9_7F4A_7C15
      var z = s
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = state.3 << 45 | state.3 >> 19
    return result
  }

  /// A standard normal sample (Box-Muller; one of the pair is discarded for simplicity).
  public mutating func nextGaussian() -> Double {
    let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
    let v = Double.random(in: 0..<1, using: &self)
    return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
  }

  /// `count` independent standard normal samples.
  public mutating func gaussians(_ count: Int) -> [Double] {
    (0..<count).map { _ in nextGaussian() }
  }

  /// A uniformly random unit vector in `ℝᵈ`.
  public mutating func unitVector(dimension: Int) -> [Double] {
    while true {
      let v = gaussians(dimension)
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      if norm > 0 { return v.map { $0 / norm } }
    }
  }

  // Tuples are not Hashable; compare the state element-wise.
  public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
    a.state == b.state
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(state.0)
    hasher.combine(state.1)
    hasher.combine(state.2)
    hasher.combine(state.3)
  }
}
