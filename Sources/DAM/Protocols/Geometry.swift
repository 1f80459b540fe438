/// A geometry: turns the aggregated variation of the energy into the next state, keeping the
/// state a valid object (a vector, a probability measure, a Gaussian with a positive definite
/// covariance). It owns step sizes and retractions.
public protocol Geometry: Sendable {
  /// The state moved by the geometry.
  associatedtype State: Sendable
  /// The aggregated variation it consumes.
  associatedtype Variation: Sendable

  /// The next state, from the current one and the separation-weighted sum of the variations.
  func step(from state: State, along variation: Variation) throws -> State

  /// How far a step moved, for the stopping test.
  func change(from old: State, to new: State) -> StateChange
}

/// How much one retrieval step changed the state.
public struct StateChange: Sendable, Hashable {
  /// The largest distance moved by a point of the state: a coordinate of a vector, an atom of a
  /// point cloud, the mean of a Gaussian (with the covariance change measured in the same units).
  public var position: Double
  /// The largest absolute change of a mass (the weight of an atom); 0 for states without masses.
  public var mass: Double

  /// Creates a change record.
  public init(position: Double, mass: Double = 0) {
    self.position = position
    self.mass = mass
  }

  /// Whether nothing moved at all.
  public var isZero: Bool { position == 0 && mass == 0 }
}
