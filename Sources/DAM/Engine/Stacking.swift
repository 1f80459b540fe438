/// How patterns of one kind become vectors in `R^D` and back: the encoding behind the Euclidean
/// baselines that the papers compare structured memories against (a point cloud as its atoms'
/// coordinates one after the other, a Gaussian as `(m, vec S)`).
///
/// A ``StackedRetrievalEngine`` stacks the queries, runs a vector engine and unstacks its
/// states. Build the vector memory from the stacked patterns:
///
/// ```swift
/// let stacking = Stacking<PointCloud>.atoms(count: 32, dimension: 2)
/// let memory = try Memory(divergence: .dotProduct, patterns: try clouds.map(stacking.stack))
/// let vectors = try RetrievalEngine(
///   memory: memory, separation: Softmax(), geometry: EuclideanGeometry(), beta: 20)
/// let baseline = StackedRetrievalEngine(AnyRetrievalEngine(vectors), stacking: stacking)
/// ```
public struct Stacking<Pattern: Sendable>: Sendable {
  /// The vector of a pattern or a query.
  public let stack: @Sendable (Pattern) throws -> [Double]
  /// The pattern a vector stands for, given the query it was retrieved from (for what the vector
  /// does not carry, such as a cloud's weights).
  public let unstack: @Sendable (_ vector: [Double], _ query: Pattern) throws -> Pattern

  /// An encoding of your own.
  public init(
    stack: @escaping @Sendable (Pattern) throws -> [Double],
    unstack: @escaping @Sendable (_ vector: [Double], _ query: Pattern) throws -> Pattern
  ) {
    self.stack = stack
    self.unstack = unstack
  }
}

extension Stacking where Pattern == PointCloud {
  /// Clouds of `count` atoms in `R^dimension` as vectors of `count × dimension` coordinates, atom
  /// after atom in stored order. The weights are not encoded: a retrieved state keeps its
  /// query's weights. (The encoding depends on the atoms' order, which a cloud does not have;
  /// that is what makes it a baseline.)
  ///
  /// `stack` throws ``DAMError`` naming `cloud` when a cloud has another number of atoms or
  /// another dimension.
  public static func atoms(count: Int, dimension: Int) -> Stacking<PointCloud> {
    Stacking(
      stack: { cloud throws(DAMError) in
        guard cloud.count == count, cloud.dimension == dimension else {
          throw DAMError(
            .dimensionMismatch, argument: "cloud",
            "has \(cloud.count) atoms in R^\(cloud.dimension); the stacking takes \(count) atoms in R^\(dimension)"
          )
        }
        return cloud.points.elements
      },
      unstack: { vector, query throws(DAMError) in
        try PointCloud(
          points: Matrix(rows: count, columns: dimension, elements: vector), weights: query.weights)
      })
  }
}

extension Stacking where Pattern == Gaussian {
  /// Gaussians as `(m, vec S)` (``Gaussian/stacked``); a state that does not encode a Gaussian
  /// (a covariance that is not positive definite) fails to unstack with the ``DAMError`` of
  /// ``Gaussian/init(stacked:)``.
  public static var meanAndCovariance: Stacking<Gaussian> {
    Stacking(
      stack: { $0.stacked },
      unstack: { vector, _ throws(DAMError) in try Gaussian(stacked: vector) })
  }
}
