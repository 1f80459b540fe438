import ArgumentParser
import DAM
import DAMExperiments

/// `dam bench retrieval`: Sinkhorn-SHK retrieval against memories of growing size, with and
/// without pruning, in one process.
struct BenchRetrievalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retrieval",
    abstract: "Time Sinkhorn-SHK retrieval against N stored clouds, pruned and unpruned.",
    discussion: """
      Each memory holds N weighted clouds of --atoms points in the plane: anisotropic Gaussian \
      blobs (standard deviations 0.1 to 0.3, random orientation, weights uniform in [0.5, 1.5] \
      before normalising) centred uniformly in a square: [0, 10]^2 for every N with --layout \
      fixed (at N = 100000 the blobs overlap so densely that softmax at beta 100 spreads its \
      weight over about a hundred of them and recalls none of the targets), or of side \
      10 sqrt(N / 1000) with --layout density (every N at the density of 1000 clouds in \
      [0, 10]^2). A query is a stored cloud with its atoms moved by N(0, 0.05^2); the same \
      queries (by index) for every N. Each engine runs SHK steps until the energy settles (or \
      10 steps). Sparse maps are pruned exactly; softmax drops at most --mass-bound of weight, \
      reported. Times are medians over the queries; \
      'exact/step' is the mean number of exact Sinkhorn solves per state visited. Unpruned \
      engines run for N <= --verify-up-to and must retrieve the same pattern. With --batch, the \
      queries are also retrieved together as one batch (RetrievalEngine.retrieve(batch:)); the \
      table gives its time against the sum of the one-by-one times and whether every result is \
      identical.
      """)

  @Option(parsing: .unconditional, help: "Memory sizes N, comma-separated.")
  var sizes: String = "1000,100000"

  @Option(
    help:
      "Where the centres lie: fixed ([0, 10]^2 for every N) or density (the density of 1000 clouds in [0, 10]^2)."
  )
  var layout: String = RetrievalBenchmark.Layout.fixed.rawValue

  @Option(parsing: .unconditional, help: "Atoms per cloud.")
  var atoms: Int = 32

  @Option(parsing: .unconditional, help: "The entropic regularisation eps.")
  var epsilon: Double = 0.01

  @Option(parsing: .unconditional, help: "The inverse temperature beta.")
  var beta: Double = 100

  @Option(help: "Separation maps, comma-separated: softmax, sparsemax, entmax15.")
  var maps: String = "sparsemax,softmax"

  @Option(parsing: .unconditional, help: "The weight softmax pruning may drop.")
  var massBound: Double = 1e-9

  @Option(parsing: .unconditional, help: "Queries per memory.")
  var queries: Int = 3

  @Option(parsing: .unconditional, help: "Run unpruned engines too for memories up to this size (0: never).")
  var verifyUpTo: Int = 100_000

  @Option(parsing: .unconditional, help: "The seed of the memories and queries.")
  var seed: UInt64 = 1

  @Flag(help: "Also retrieve the queries as one batch and compare with one by one.")
  var batch = false

  @OptionGroup var format: OutputFormat

  func validate() throws {
    guard RetrievalBenchmark.Layout(rawValue: layout) != nil else {
      throw CLIError("--layout", "unknown layout '\(layout)'; use fixed or density")
    }
    guard atoms >= 1 else { throw CLIError("--atoms", "must be >= 1, got \(atoms)") }
    guard queries >= 1 else { throw CLIError("--queries", "must be >= 1, got \(queries)") }
    guard epsilon.isFinite, epsilon > 0 else {
      throw CLIError("--epsilon", "must be a finite number > 0, got \(epsilon)")
    }
    try checkInverseTemperature(beta)
    guard massBound >= 0, massBound < 1 else {
      throw CLIError("--mass-bound", "must be in [0, 1), got \(massBound)")
    }
    guard verifyUpTo >= 0 else { throw CLIError("--verify-up-to", "must be >= 0, got \(verifyUpTo)") }
    guard maps.split(separator: ",").contains(where: { !$0.allSatisfy { $0 == " " } }) else {
      throw CLIError("--maps", "is empty; give softmax, sparsemax or entmax15, comma-separated")
    }
    // Each stored atom holds 4 doubles (two coordinates, a weight, its prepared potential), each
    // query atom 3; checked before the clouds are drawn.
    try requireMemory(
      "--atoms", bytes: ResourceLimits.bytes([atoms, 4], elementSize: 8), "one cloud of \(atoms) atoms")
    for size in try SinkhornBenchmark.integers(sizes, "--sizes") {
      try requireMemory(
        "--sizes", bytes: ResourceLimits.bytes([size, atoms, 4], elementSize: 8),
        "a memory of \(size) clouds of \(atoms) atoms (coordinates, weight and prepared potential: 4 doubles an atom)"
      )
    }
    try requireMemory(
      "--queries", bytes: ResourceLimits.bytes([queries, atoms, 3], elementSize: 8),
      "a set of \(queries) query clouds of \(atoms) atoms")
  }

  func run() throws {
    try RetrievalBenchmark(
      sizes: sizes, layout: layout, atoms: atoms, epsilon: epsilon, beta: beta, maps: maps,
      massBound: massBound, queries: queries, verifyUpTo: verifyUpTo, seed: seed, batch: batch,
      json: format.json
    ).run()
  }
}
