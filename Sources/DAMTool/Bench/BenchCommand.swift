import ArgumentParser
import DAMExperiments

/// `dam bench`: timings of the library's hot paths, printed as ratios against a baseline run in
/// the same process (these machines are noisy; absolute times alone mean little).
///
/// Each workload is one subcommand in its own file in this folder. Scripts in `scripts/bench/`
/// run these next to the Python peers (POT, GeomLoss, OTT-JAX, NumPy) in the same run and write
/// the Markdown tables committed in `Docs/performance.md`.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time the library's hot paths (release builds only give meaningful numbers).",
    subcommands: [
      BenchSinkhornCommand.self, BenchRetrievalCommand.self, BuresWassersteinBench.self, BenchExpCommand.self,
      BenchGridsCommand.self,
    ])
}
