import Foundation
import NumPyFiles
import Testing

/// The command-line half of the bad-input table in Docs/reliability.md: each input makes `dam`
/// exit non-zero with a message naming the option and the problem, without a crash signal, within
/// the time limit, and without writing `--output`.
struct BadInputCommandTests {
  typealias Case = CommandCase

  /// The input files, written once per test into a fresh folder. `$` in arguments is the folder.
  static func writeInputs(_ folder: TemporaryFolder) throws {
    func npy(_ name: String, _ shape: [Int], _ values: [Double]) throws {
      try NPY.write(NumPyArray(shape: shape, doubles: values), to: folder.path(name))
    }
    func npz(_ name: String, _ arrays: [(String, NumPyArray)]) throws {
      var archive = NumPyArchive()
      for (key, array) in arrays { archive[key] = array }
      try NPZ.write(archive, to: folder.path(name))
    }
    try npy("M.npy", [3, 2], [1, 0, 0, 1, 1, 1])
    try npy("Q.npy", [2], [0.9, 0.1])
    try npy("Q3.npy", [3], [0.9, 0.1, 0])
    try npy("Mnan.npy", [3, 2], [1, 0, .nan, 1, 1, 1])
    try npy("Qinf.npy", [2], [.infinity, 0])
    try npy("M1d.npy", [4], [1, 2, 3, 4])
    try npy("Mempty.npy", [0, 2], [])
    try npy("scores_nan.npy", [3], [0, .nan, 1])
    let points = try NumPyArray(shape: [2, 2, 1], doubles: [0, 1, 5, 6])
    let query = try NumPyArray(shape: [2, 1], doubles: [0.1, 0.9])
    try npz("C.npz", [("points", points)])
    try npz("Cq.npz", [("points", query)])
    try npz(
      "Cneg.npz",
      [("points", points), ("weights", try NumPyArray(shape: [2, 2], doubles: [1.5, -0.5, 0.5, 0.5]))])
    try npz(
      "Czero.npz",
      [("points", points), ("weights", try NumPyArray(shape: [2, 2], doubles: [0, 0, 0.5, 0.5]))])
    try npz(
      "Csum.npz",
      [("points", points), ("weights", try NumPyArray(shape: [2, 2], doubles: [0.4, 0.5, 0.5, 0.5]))])
    try npz(
      "Coffsets.npz",
      [
        ("points", try NumPyArray(shape: [4, 1], doubles: [0, 1, 5, 6])),
        ("offsets", try NumPyArray(shape: [3], integers: [0, 3, 2])),
      ])
    let means = try NumPyArray(shape: [2, 2], doubles: [0, 0, 3, 0])
    try npz(
      "Gasym.npz",
      [
        ("means", means),
        ("covariances", try NumPyArray(shape: [2, 2, 2], doubles: [1, 0.5, 0, 1, 1, 0, 0, 1])),
      ])
    try npz(
      "Gindef.npz",
      [
        ("means", means),
        ("covariances", try NumPyArray(shape: [2, 2, 2], doubles: [1, 0, 0, 1, 1, 2, 2, 1])),
      ])
    try npz(
      "Gvar.npz", [("means", means), ("variances", try NumPyArray(shape: [2, 2], doubles: [1, 1, -1, 1]))])
    try npz(
      "Gq3.npz",
      [("means", means), ("variances", try NumPyArray(shape: [2, 2], doubles: [1, 2, 0.5, 3]))])
    try npz(
      "Gq.npz",
      [
        ("mean", try NumPyArray(shape: [2], doubles: [0, 0])),
        ("variance", try NumPyArray(shape: [2], doubles: [1, 1])),
      ])
    try npz(
      "G3.npz",
      [
        ("means", try NumPyArray(shape: [1, 3], doubles: [0, 0, 0])),
        ("variances", try NumPyArray(shape: [1, 3], doubles: [1, 1, 1])),
      ])
    let good = NPY.encode(try NumPyArray(shape: [3, 2], doubles: [1, 0, 0, 1, 1, 1]))
    _ = FileManager.default.createFile(atPath: folder.path("truncated.npy"), contents: Data(good.dropLast(5)))
    _ = FileManager.default.createFile(
      atPath: folder.path("garbage.npz"), contents: Data("PK\u{3}\u{4}not a zip".utf8))
    try FileManager.default.createDirectory(
      atPath: folder.path("folder.npy"), withIntermediateDirectories: true)
    // Grid histograms (4 x 4) for sinkhorn-grid and barycenter.
    let h = (0..<16).map { Double($0 % 5 + 1) / 46 }
    let h2 = h.reversed().map { $0 }
    func replaced(_ values: [Double], _ index: Int, _ value: Double) -> [Double] {
      var copy = values
      copy[index] = value
      return copy
    }
    try npy("h.npy", [4, 4], h)
    try npy("h2.npy", [4, 4], h2)
    try npy("hnan.npy", [4, 4], replaced(h, 5, .nan))
    try npy("hneg.npy", [4, 4], replaced(h, 2, -0.01))
    try npy("hzero.npy", [4, 4], [Double](repeating: 0, count: 16))
    try npy("h3.npy", [3, 3], [Double](repeating: 1.0 / 9, count: 9))
    try npy("h5d.npy", [1, 2, 2, 2, 2], [Double](repeating: 1.0 / 16, count: 16))
    try npy("H.npy", [2, 4, 4], h + h2)
    // Two blobs on 16 x 16 (as BadInputTests.blob): their barycenter at eps = 1e-5 D^2 is hopeless.
    func blob(_ ci: Int, _ cj: Int) -> [Double] {
      let masses = (0..<256).map { cell -> Double in
        let (i, j) = (cell / 16, cell % 16)
        let r2 = Double((i - ci) * (i - ci) + (j - cj) * (j - cj))
        return r2 <= 5 ? exp(-r2 / 3) : 0
      }
      let total = masses.reduce(0, +)
      return masses.map { $0 / total }
    }
    try npy("Hblobs.npy", [2, 16, 16], blob(4, 4) + blob(11, 10))
    try npy("Hnan.npy", [2, 4, 4], h + replaced(h2, 0, .nan))
    try npy("Hneg.npy", [2, 4, 4], h + replaced(h2, 0, -1))
    try npy("Hzero.npy", [2, 4, 4], h + [Double](repeating: 0, count: 16))
    // dam compare on the user's files: M.npy (3 patterns in R^2), a batch of queries and targets.
    try npy("Qb.npy", [2, 2], [0.9, 0.1, 0.1, 0.9])
    try npy("Qb3.npy", [2, 3], [0.9, 0.1, 0, 0.1, 0.9, 0])
    try NPY.write(NumPyArray(shape: [2], integers: [0, 1]), to: folder.path("T.npy"))
    try NPY.write(NumPyArray(shape: [2], integers: [0, 7]), to: folder.path("Tbig.npy"))
    try NPY.write(NumPyArray(shape: [2], integers: [-1, 1]), to: folder.path("Tneg.npy"))
    try NPY.write(NumPyArray(shape: [1], integers: [0]), to: folder.path("T1.npy"))
    try npy("Tfrac.npy", [2], [0.5, 1])
  }

  static let vectors = ["retrieve", "--memory", "$/M.npy", "--query", "$/Q.npy"]
  static let clouds = ["retrieve", "--memory", "$/C.npz", "--query", "$/Cq.npz", "--beta", "1"]

  static let cases: [Case] =
    [
      Case(name: "beta = 0", arguments: vectors + ["--beta", "0"], expected: ["--beta", "0.0"]),
      Case(name: "beta < 0", arguments: vectors + ["--beta", "-3"], expected: ["--beta", "-3.0"]),
      Case(name: "beta = nan", arguments: vectors + ["--beta", "nan"], expected: ["--beta"]),
      Case(name: "beta = inf", arguments: vectors + ["--beta", "inf"], expected: ["--beta"]),
      Case(
        name: "NaN in the memory",
        arguments: ["retrieve", "--memory", "$/Mnan.npy", "--query", "$/Q.npy", "--beta", "1"],
        expected: ["--memory", "row 1, column 0"]),
      Case(
        name: "infinity in the query",
        arguments: ["retrieve", "--memory", "$/M.npy", "--query", "$/Qinf.npy", "--beta", "1"],
        expected: ["--query", "inf"]),
      Case(
        name: "query dimension differs from the memory",
        arguments: ["retrieve", "--memory", "$/M.npy", "--query", "$/Q3.npy", "--beta", "1"],
        expected: ["--query", "dimension 3"]),
      Case(
        name: "memory is 1-D",
        arguments: ["retrieve", "--memory", "$/M1d.npy", "--query", "$/Q.npy", "--beta", "1"],
        expected: ["--memory", "2-D"]),
      Case(
        name: "empty memory (0, D)",
        arguments: ["retrieve", "--memory", "$/Mempty.npy", "--query", "$/Q.npy", "--beta", "1"],
        expected: ["--memory", "no patterns"]),
      Case(
        name: "truncated .npy",
        arguments: ["retrieve", "--memory", "$/truncated.npy", "--query", "$/Q.npy", "--beta", "1"],
        expected: ["--memory", "truncated"]),
      Case(
        name: "missing file",
        arguments: ["retrieve", "--memory", "$/nothing.npy", "--query", "$/Q.npy", "--beta", "1"],
        expected: ["--memory", "does not exist"]),
      Case(
        name: "a directory as input",
        arguments: ["retrieve", "--memory", "$/folder.npy", "--query", "$/Q.npy", "--beta", "1"],
        expected: ["--memory", "directory"]),
      Case(
        name: "not a ZIP (.npz)",
        arguments: ["retrieve", "--memory", "$/garbage.npz", "--query", "$/Cq.npz", "--beta", "1"],
        expected: ["--memory"]),
      Case(
        name: "entmax alpha < 1",
        arguments: vectors + ["--beta", "1", "--separation", "entmax", "--alpha", "0.5"],
        expected: ["--alpha"]),
      Case(
        name: "k = 0", arguments: vectors + ["--beta", "1", "--separation", "ksubsets", "--k", "0"],
        expected: ["--k"]),
      Case(
        name: "k above the number of patterns",
        arguments: vectors + ["--beta", "1", "--separation", "ksubsets", "--k", "4"],
        expected: ["--k", "3 patterns"]),
      Case(
        name: "gradient step = 0",
        arguments: vectors + ["--beta", "1", "--geometry", "gradient", "--step", "0"], expected: ["--step"]),
      Case(
        name: "max steps < 0", arguments: vectors + ["--beta", "1", "--max-steps", "-1"],
        expected: ["--max-steps"]),
      Case(name: "epsilon = 0", arguments: clouds + ["--epsilon", "0"], expected: ["--epsilon", "0.0"]),
      Case(name: "epsilon = nan", arguments: clouds + ["--epsilon", "nan"], expected: ["--epsilon"]),
      Case(name: "epsilon missing for sinkhorn", arguments: clouds, expected: ["--epsilon", "required"]),
      Case(
        name: "Hellinger scale < 0", arguments: clouds + ["--epsilon", "0.1", "--hellinger-scale", "-1"],
        expected: ["--hellinger-scale"]),
      Case(
        name: "negative weight",
        arguments: [
          "retrieve", "--memory", "$/Cneg.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        ],
        expected: ["--memory", "cloud 0", "negative value (-0.5) at index 1"]),
      Case(
        name: "all-zero weights",
        arguments: [
          "retrieve", "--memory", "$/Czero.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        ],
        expected: ["--memory", "cloud 0", "all zero"]),
      Case(
        name: "weights summing to 0.9",
        arguments: [
          "retrieve", "--memory", "$/Csum.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        ],
        expected: ["--memory", "cloud 0", "sum to 0.9"]),
      Case(
        name: "offsets not increasing",
        arguments: [
          "retrieve", "--memory", "$/Coffsets.npz", "--query", "$/Cq.npz", "--beta", "1", "--epsilon", "0.1",
        ],
        expected: ["--memory", "offsets"]),
      Case(
        name: "non-symmetric covariance",
        arguments: ["retrieve", "--memory", "$/Gasym.npz", "--query", "$/Gq.npz", "--beta", "1"],
        expected: ["--memory", "Gaussian 0", "symmetric"]),
      Case(
        name: "indefinite covariance",
        arguments: ["retrieve", "--memory", "$/Gindef.npz", "--query", "$/Gq.npz", "--beta", "1"],
        expected: ["--memory", "Gaussian 1", "positive definite"]),
      Case(
        name: "negative variance",
        arguments: ["retrieve", "--memory", "$/Gvar.npz", "--query", "$/Gq.npz", "--beta", "1"],
        expected: ["--memory", "Gaussian 1", "-1.0"]),
      Case(
        name: "Bures-Wasserstein step 10 (the dynamics diverge)",
        arguments: [
          "retrieve", "--memory", "$/Gq3.npz", "--query", "$/Gq.npz", "--beta", "1", "--step", "10",
        ],
        expected: ["--query", "step: the dynamics diverged"]),
      Case(
        name: "gradient step 1e3 (the dynamics diverge)",
        arguments: vectors + ["--beta", "1", "--geometry", "gradient", "--step", "1e3"],
        expected: ["--query", "step: the dynamics diverged"]),
      Case(
        name: "NaN score", arguments: ["separate", "softmax", "$/scores_nan.npy"],
        expected: ["$/scores_nan.npy", "scores: has nan"]),
      Case(
        name: "sinkhorn divergence with epsilon < 0",
        arguments: ["divergence", "sinkhorn", "$/M.npy", "$/M.npy", "--epsilon", "-1"],
        expected: ["--epsilon"]),
      Case(
        name: "sinkhorn divergence with epsilon above 1e6 x the squared diameter",
        arguments: ["divergence", "sinkhorn", "$/M.npy", "$/M.npy", "--epsilon", "1e300"],
        expected: ["--epsilon", "1e+300", "more than 1e6 times", "D^2 = 2.0"]),
      Case(
        name: "retrieve: epsilon above 1e6 x the squared diameter",
        arguments: clouds + ["--epsilon", "1e300"], expected: ["--epsilon", "1e+300", "more than 1e6 times"]),
      Case(
        name: "memory file from NaN patterns",
        arguments: ["memory", "create", "$/out.npz", "--patterns", "$/Mnan.npy"],
        expected: ["--patterns", "non-finite"]),
      Case(
        name: "memory file that is not one", arguments: ["memory", "verify", "$/C.npz"],
        expected: ["$/C.npz", "no 'manifest' member"]),
      Case(
        name: "memory file that is truncated", arguments: ["memory", "verify", "$/truncated.npy"],
        expected: ["$/truncated.npy", "not a readable memory file"]),
    ] + gridCases + compareCases + benchCases

  static let grid = ["divergence", "sinkhorn-grid", "$/h.npy", "$/h2.npy"]
  static let barycenter = ["barycenter", "$/H.npy", "--output", "$/bar.npy"]

  /// `dam divergence sinkhorn-grid` and `dam barycenter`.
  static let gridCases: [Case] = [
    Case(
      name: "grid: NaN in a histogram",
      arguments: ["divergence", "sinkhorn-grid", "$/hnan.npy", "$/h2.npy", "--epsilon", "1"],
      expected: ["$/hnan.npy", "nan", "index 5"]),
    Case(
      name: "grid: negative mass",
      arguments: ["divergence", "sinkhorn-grid", "$/h.npy", "$/hneg.npy", "--epsilon", "1"],
      expected: ["$/hneg.npy", "negative value (-0.01) at index 2"]),
    Case(
      name: "grid: all-zero histogram",
      arguments: ["divergence", "sinkhorn-grid", "$/hzero.npy", "$/h2.npy", "--epsilon", "1"],
      expected: ["$/hzero.npy", "all zero"]),
    Case(
      name: "grid: shapes differ",
      arguments: ["divergence", "sinkhorn-grid", "$/h.npy", "$/h3.npy", "--epsilon", "1"],
      expected: ["$/h3.npy", "[3, 3]", "[4, 4]"]),
    Case(
      name: "grid: 4 axes",
      arguments: ["divergence", "sinkhorn-grid", "$/h5d.npy", "$/h5d.npy", "--epsilon", "1"],
      expected: ["$/h5d.npy", "1-D, 2-D or 3-D"]),
    Case(name: "grid: epsilon < 0", arguments: grid + ["--epsilon", "-1"], expected: ["--epsilon", "-1.0"]),
    Case(
      name: "grid: epsilon = nan", arguments: grid + ["--epsilon", "nan"], expected: ["--epsilon", "nan"]),
    Case(
      name: "grid: epsilon above 1e6 x the squared diameter", arguments: grid + ["--epsilon", "1e300"],
      expected: ["--epsilon", "1e+300", "more than 1e6 times the grid's squared diameter", "D^2 = 18.0"]),
    Case(
      name: "grid: spacing 0", arguments: grid + ["--epsilon", "1", "--spacing", "1,0"],
      expected: ["--spacing", "0.0"]),
    Case(
      name: "grid: spacing with 3 values on a 2-D grid",
      arguments: grid + ["--epsilon", "1", "--spacing", "1,1,1"],
      expected: ["--spacing", "expected 2"]),
    Case(
      name: "grid: tolerance < 0", arguments: grid + ["--epsilon", "1", "--tolerance", "-1"],
      expected: ["--tolerance"]),
    Case(
      name: "grid: max iterations 0", arguments: grid + ["--epsilon", "1", "--max-iterations", "0"],
      expected: ["--max-iterations"]),
    Case(
      name: "grid: tolerance 0 (unreachable; stopped early)",
      arguments: grid + ["--epsilon", "1", "--tolerance", "0"],
      expected: ["--tolerance", "cannot reach"]),
    Case(
      name: "barycenter: NaN in a histogram", arguments: ["barycenter", "$/Hnan.npy", "--epsilon", "1"],
      expected: ["$/Hnan.npy", "histogram 1", "nan"]),
    Case(
      name: "barycenter: negative mass", arguments: ["barycenter", "$/Hneg.npy", "--epsilon", "1"],
      expected: ["$/Hneg.npy", "histogram 1", "negative"]),
    Case(
      name: "barycenter: an all-zero histogram", arguments: ["barycenter", "$/Hzero.npy", "--epsilon", "1"],
      expected: ["$/Hzero.npy", "histogram 1", "all zero"]),
    Case(
      name: "barycenter: 4 grid axes", arguments: ["barycenter", "$/h5d.npy", "--epsilon", "1"],
      expected: ["$/h5d.npy", "histograms", "1 to 3 grid axes"]),
    Case(
      name: "barycenter: negative weight",
      arguments: barycenter + ["--epsilon", "1", "--weights", "1.5,-0.5"],
      expected: ["--weights", "negative"]),
    Case(
      name: "barycenter: weights count differs",
      arguments: barycenter + ["--epsilon", "1", "--weights", "1"], expected: ["--weights", "1 values for 2"]),
    Case(
      name: "barycenter: weights sum to 0.6",
      arguments: barycenter + ["--epsilon", "1", "--weights", "0.3,0.3"],
      expected: ["--weights", "sum to 0.6"]),
    Case(
      name: "barycenter: weights not numbers",
      arguments: barycenter + ["--epsilon", "1", "--weights", "a,b"], expected: ["--weights", "numbers"]),
    Case(
      name: "barycenter: weight NaN", arguments: barycenter + ["--epsilon", "1", "--weights", "nan,1"],
      expected: ["--weights", "nan"]),
    Case(
      name: "barycenter: epsilon = 0", arguments: barycenter + ["--epsilon", "0"],
      expected: ["--epsilon", "0.0"]),
    Case(
      name: "barycenter: epsilon = inf", arguments: barycenter + ["--epsilon", "inf"],
      expected: ["--epsilon", "inf"]),
    Case(
      name: "barycenter: tolerance = nan", arguments: barycenter + ["--epsilon", "1", "--tolerance", "nan"],
      expected: ["--tolerance"]),
    Case(
      name: "barycenter: max iterations 0",
      arguments: barycenter + ["--epsilon", "1", "--max-iterations", "0"], expected: ["--max-iterations"]),
    Case(
      name: "barycenter: epsilon 1e-5 D^2 (hopeless; stopped early)",
      arguments: [
        "barycenter", "$/Hblobs.npy", "--output", "$/bar.npy", "--epsilon", "0.0045", "--backend", "log",
        "--max-iterations", "2000",
      ],
      expected: ["--epsilon", "cannot reach", "stopped after", "raise epsilon"]),
    Case(
      name: "barycenter: debiased at epsilon 2 D^2 (stalls near the simplex's boundary)",
      arguments: ["barycenter", "$/Hblobs.npy", "--output", "$/bar.npy", "--epsilon", "1000", "--debiased"],
      expected: ["--epsilon", "stopped after", "otherwise lower it", "classic barycenter"]),
    Case(
      name: "barycenter: epsilon above 1e6 D^2 (debiased)",
      arguments: [
        "barycenter", "$/Hblobs.npy", "--output", "$/bar.npy", "--epsilon", "1e300", "--debiased",
      ],
      expected: ["--epsilon", "more than 1e6 times the grid's squared diameter", "450000000"]),
    Case(
      name: "barycenter: spacing NaN", arguments: barycenter + ["--epsilon", "1", "--spacing", "nan,1"],
      expected: ["--spacing", "nan"]),
  ]

  static let compare = ["compare", "--memory", "$/M.npy", "--report", "$/report"]

  /// `dam compare` on the user's files.
  static let compareCases: [Case] = [
    Case(
      name: "compare: target out of range",
      arguments: compare + ["--queries", "$/Qb.npy", "--targets", "$/Tbig.npy"],
      expected: ["--targets", "entry 1 is 7"]),
    Case(
      name: "compare: negative target",
      arguments: compare + ["--queries", "$/Qb.npy", "--targets", "$/Tneg.npy"],
      expected: ["--targets", "entry 0 is -1"]),
    Case(
      name: "compare: fractional target",
      arguments: compare + ["--queries", "$/Qb.npy", "--targets", "$/Tfrac.npy"],
      expected: ["--targets", "Tfrac.npy", "0.5"]),
    Case(
      name: "compare: one target for two queries",
      arguments: compare + ["--queries", "$/Qb.npy", "--targets", "$/T1.npy"],
      expected: ["--targets", "expected shape [2]"]),
    Case(
      name: "compare: queries of another dimension",
      arguments: compare + ["--queries", "$/Qb3.npy", "--targets", "$/T.npy"],
      expected: ["--queries", "dimension 3"]),
    Case(
      name: "compare: queries without targets", arguments: compare + ["--queries", "$/Qb.npy"],
      expected: ["--targets", "required"]),
    Case(
      name: "compare: NaN in the memory",
      arguments: ["compare", "--memory", "$/Mnan.npy", "--noise", "0.1", "--report", "$/report"],
      expected: ["--memory", "nan"]),
    Case(name: "compare: noise < 0", arguments: compare + ["--noise", "-1"], expected: ["--noise", "-1.0"]),
    Case(
      name: "compare: noise = nan", arguments: compare + ["--noise", "nan"], expected: ["--noise", "nan"]),
    Case(
      name: "compare: count 0", arguments: compare + ["--noise", "0.1", "--count", "0"], expected: ["--count"]
    ),
    Case(
      name: "compare: beta = 0", arguments: compare + ["--noise", "0.1", "--beta", "0"], expected: ["--beta"]),
    Case(
      name: "compare: epsilon = nan", arguments: compare + ["--noise", "0.1", "--epsilon", "nan"],
      expected: ["--epsilon"]),
    Case(
      name: "compare: max steps 0", arguments: compare + ["--noise", "0.1", "--max-steps", "0"],
      expected: ["--max-steps"]),
    Case(
      name: "compare: k above the number of patterns",
      arguments: compare + ["--noise", "0.1", "--separation", "ksubsets", "--k", "9"],
      expected: ["--k", "is 9", "3 scores", "query 0"]),
  ]

  /// `dam bench` options (all refused before any work is done).
  static let benchCases: [Case] = [
    Case(
      name: "bench sinkhorn: size 0", arguments: ["bench", "sinkhorn", "--sizes", "0"],
      expected: ["--sizes", "'0'"]),
    Case(
      name: "bench sinkhorn: no sizes", arguments: ["bench", "sinkhorn", "--sizes", ""],
      expected: ["--sizes", "empty"]),
    Case(
      name: "bench sinkhorn: epsilon 0", arguments: ["bench", "sinkhorn", "--epsilons", "0"],
      expected: ["--epsilons"]),
    Case(
      name: "bench sinkhorn: epsilon nan", arguments: ["bench", "sinkhorn", "--epsilons", "nan"],
      expected: ["--epsilons"]),
    Case(
      name: "bench sinkhorn: tolerance < 0", arguments: ["bench", "sinkhorn", "--tolerance", "-1"],
      expected: ["--tolerance"]),
    Case(
      name: "bench sinkhorn: repeats < 0", arguments: ["bench", "sinkhorn", "--repeats", "-2"],
      expected: ["--repeats", "-2"]),
    Case(
      name: "bench sinkhorn: unknown backend", arguments: ["bench", "sinkhorn", "--backends", "foo"],
      expected: ["--backends", "foo"]),
    Case(
      name: "bench sinkhorn: no backends", arguments: ["bench", "sinkhorn", "--backends", ","],
      expected: ["--backends", "empty"]),
    Case(
      name: "bench retrieval: mass bound 1", arguments: ["bench", "retrieval", "--mass-bound", "1"],
      expected: ["--mass-bound"]),
    Case(
      name: "bench retrieval: atoms 0", arguments: ["bench", "retrieval", "--atoms", "0"],
      expected: ["--atoms"]),
    Case(
      name: "bench retrieval: epsilon = 0", arguments: ["bench", "retrieval", "--epsilon", "0"],
      expected: ["--epsilon"]),
    Case(
      name: "bench retrieval: no maps", arguments: ["bench", "retrieval", "--maps", ""],
      expected: ["--maps", "empty"]),
    Case(
      name: "bench retrieval: unknown map", arguments: ["bench", "retrieval", "--maps", "foo"],
      expected: ["--maps", "foo"]),
    Case(
      name: "bench retrieval: unknown layout", arguments: ["bench", "retrieval", "--layout", "foo"],
      expected: ["--layout", "foo"]),
    Case(
      name: "bench retrieval: verify-up-to < 0", arguments: ["bench", "retrieval", "--verify-up-to", "-5"],
      expected: ["--verify-up-to", "-5"]),
    Case(
      name: "bench bures-wasserstein: 4 runs", arguments: ["bench", "bures-wasserstein", "--runs", "4"],
      expected: ["--runs", "5"]),
    Case(
      name: "bench bures-wasserstein: beta < 0", arguments: ["bench", "bures-wasserstein", "--beta", "-1"],
      expected: ["--beta", "-1.0"]),
    Case(
      name: "bench bures-wasserstein: dimension 0",
      arguments: ["bench", "bures-wasserstein", "--dimension", "0"], expected: ["--dimension"]),
    Case(
      name: "bench bures-wasserstein: --memory without --queries",
      arguments: ["bench", "bures-wasserstein", "--memory", "$/Gq3.npz"], expected: ["--memory", "--queries"]),
    Case(
      name: "bench bures-wasserstein: --queries without --memory",
      arguments: ["bench", "bures-wasserstein", "--queries", "$/Gq.npz"], expected: ["--queries", "--memory"]),
    Case(
      name: "bench bures-wasserstein: missing memory file",
      arguments: ["bench", "bures-wasserstein", "--memory", "$/missing.npz", "--queries", "$/Gq.npz"],
      expected: ["--memory", "missing.npz"]),
    Case(
      name: "bench bures-wasserstein: queries of another dimension",
      arguments: ["bench", "bures-wasserstein", "--memory", "$/Gq3.npz", "--queries", "$/G3.npz"],
      expected: ["--queries", "dimension 3", "have 2"]),
    Case(
      name: "bench bures-wasserstein: --batch with files",
      arguments: [
        "bench", "bures-wasserstein", "--memory", "$/Gq3.npz", "--queries", "$/Gq.npz", "--batch", "4",
      ],
      expected: ["--batch", "drawn"]),
    Case(
      name: "bench bures-wasserstein: batch 0", arguments: ["bench", "bures-wasserstein", "--batch", "0"],
      expected: ["--batch", ">= 1"]),
  ]

  @Test(arguments: cases)
  func refused(_ testCase: Case) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try Self.writeInputs(folder)
    let before = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
    let run = try DamProcess.runRow(
      testCase.name, testCase.arguments, in: folder,
      extra: testCase.arguments.first == "retrieve" ? ["--output", folder.path("out.npy")] : [])
    run.expectRefusal(testCase.name, naming: testCase.expected, in: folder)
    #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), "\(run.stderr)")
    #expect(!run.stdout.lowercased().contains("nan"), "\(testCase.name): stdout \(run.stdout)")
    let after = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
    #expect(after == before, "\(testCase.name): files changed")
  }
}
