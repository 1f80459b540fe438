import DAM
import DAMTestSupport

/// The sparse and structured maps under test, as parameters of Swift Testing tests.
enum SparseMapCase: String, CaseIterable, Sendable, CustomStringConvertible {
  case sparsemax
  case entmax15
  case entmaxBisection15 = "entmax(1.5)"
  case entmax125 = "entmax(1.25)"
  case entmaxBisection2 = "entmax(2)"
  case entmax3 = "entmax(3)"
  case entmaxNearOne = "entmax(1+1e-6)"
  case entmax1000 = "entmax(1000)"
  case normmax15 = "normmax(1.5)"
  case normmax2 = "normmax(2)"
  case normmax5 = "normmax(5)"
  case normmax1000 = "normmax(1000)"
  case kSubsets1 = "ksubsets(1)"
  case kSubsets2 = "ksubsets(2)"
  case kSubsets3 = "ksubsets(3)"
  case sequential2 = "sequential(2, 0.6)"
  case sequential3 = "sequential(3, 1.5)"
  case sequentialRepulsive = "sequential(2, -0.4)"

  var description: String { rawValue }

  var map: any SeparationMap {
    // The parameters are valid constants, so the initialisers cannot throw.
    switch self {
    case .sparsemax: Sparsemax()
    case .entmax15: Entmax15()
    case .entmaxBisection15: try! Entmax(alpha: 1.5)
    case .entmax125: try! Entmax(alpha: 1.25)
    case .entmaxBisection2: try! Entmax(alpha: 2)
    case .entmax3: try! Entmax(alpha: 3)
    case .entmaxNearOne: try! Entmax(alpha: 1 + 1e-6)
    case .entmax1000: try! Entmax(alpha: 1000)
    case .normmax15: try! Normmax(alpha: 1.5)
    case .normmax2: try! Normmax(alpha: 2)
    case .normmax5: try! Normmax(alpha: 5)
    case .normmax1000: try! Normmax(alpha: 1000)
    case .kSubsets1: try! KSubsets(k: 1)
    case .kSubsets2: try! KSubsets(k: 2)
    case .kSubsets3: try! KSubsets(k: 3)
    case .sequential2: try! SequentialKSubsets(k: 2, pairwise: 0.6)
    case .sequential3: try! SequentialKSubsets(k: 3, pairwise: 1.5)
    case .sequentialRepulsive: try! SequentialKSubsets(k: 2, pairwise: -0.4)
    }
  }

  /// Σ ŷ: 1 on the simplex, k for k-subsets.
  var weightSum: Double {
    switch self {
    case .kSubsets2, .sequential2, .sequentialRepulsive: 2
    case .kSubsets3, .sequential3: 3
    default: 1
    }
  }

  /// The number of ones in a vertex of the polytope (the `k` of k-subsets).
  var k: Int { Int(weightSum) }

  /// A scale for generic scores that leaves several weights strictly between 0 and the cap:
  /// Tsallis maps are sparse at score gaps of about 1/(α - 1).
  var genericScale: Double {
    switch self {
    case .entmax3: 0.5
    case .entmax1000: 1e-3
    default: 1
    }
  }

  /// The step of central differences: 1e-6 of the score scale, so that the truncation error
  /// (step² times the third derivative, which grows like 1/scale²) stays ~1e-12 relative.
  var differenceStep: Double { 1e-6 * genericScale }

  /// Generic scores: Gaussians, scaled; away from kinks with probability 1.
  func genericScores(count: Int, seed: UInt64) -> [Double] {
    var generator = SeededGenerator(seed: seed)
    return generator.gaussians(count).map { $0 * genericScale }
  }

  /// Whether this map is on the simplex (k = 1) and has a one-hot margin.
  var isSimplex: Bool { weightSum == 1 }
}
