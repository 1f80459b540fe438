import ArgumentParser
import DAM
import DAMExperiments
import Foundation
import NumPyFiles

/// `dam bench grids`: grid Sinkhorn per-iteration times for every kernel backend (and the dense
/// point-cloud solver where it fits), the barycenter workloads of the peer benchmark
/// (`scripts/bench/grids.sh` times POT on the same problems), and the accuracy scan behind
/// ``GridKernelBackend/separableKernelThreshold``.
struct BenchGridsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "grids",
    abstract: "Time grid Sinkhorn backends and grid barycenters; scan the backends' accuracy.",
    discussion: """
      Three sections (--sections): 'iterations' times one Sinkhorn iteration (two kernel \
      applications) of OT_eps(a, b) on 64x64, 256x256 and 64^3 grids on the unit square/cube \
      (spacing 1/(n-1)) for every backend, and for the dense point-cloud solver (kernel and log \
      domain) on 64x64 (larger grids do not fit in memory); 'barycenters' times \
      GridSinkhorn.barycenter on the peer benchmark's workloads (histograms(w, k) of scripts/bench/grids_peers.py: 64x64 and 256x256, \
      k = 2 and 5 blobs and rings, reg 0.004 on the unit square, uniform weights) to --tolerance \
      (weighted L1 marginal error and POT's spread, both), and measures each result's L1 distance \
      to a reference barycenter solved to 1e-11 (at most 3000 iterations); 'accuracy' compares the debiased divergence of \
      each grid backend with the dense log-domain solver on 32x32 and 10x12x14 grids across eps. \
      Timings: one warm-up run and --repeats timed runs, median, wall and CPU time. With \
      --output, JSON results and the barycenters (.npy) are written to that folder for the peer \
      script.
      """)

  @Option(help: "Sections to run, comma-separated: iterations, barycenters, accuracy.")
  var sections: String = "iterations,barycenters,accuracy"

  @Option(parsing: .unconditional, help: "Timed runs per case (after one warm-up run).")
  var repeats: Int = 5

  @Option(parsing: .unconditional, help: "Sinkhorn iterations per timed run in the 'iterations' section.")
  var iterations: Int = 10

  @Option(parsing: .unconditional, help: "The barycenters' tolerance (L1 marginal error and spread).")
  var tolerance: Double = 1e-6

  @Option(
    parsing: .unconditional,
    help: "The largest grid width on which the log-domain barycenter is timed too (it is slow).")
  var logBarycenterWidth: Int = 64

  @Option(help: "Write results (JSON) and barycenters (.npy) into this folder.", completion: .directory)
  var output: String?

  @OptionGroup var format: OutputFormat

  func validate() throws {
    guard repeats >= 1 else { throw CLIError("--repeats", "must be >= 1, got \(repeats)") }
    guard iterations >= 1 else { throw CLIError("--iterations", "must be >= 1, got \(iterations)") }
    guard tolerance.isFinite, tolerance > 0 else {
      throw CLIError("--tolerance", "must be a finite number > 0, got \(tolerance)")
    }
    let known = ["iterations", "barycenters", "accuracy"]
    for name in sections.split(separator: ",") where !known.contains(String(name)) {
      throw CLIError("--sections", "unknown section '\(name)'; use \(known.joined(separator: ", "))")
    }
    if let output { try OutputPath.checkFolder(output, option: "--output") }
  }

  func run() throws {
    try GridBenchmarks(
      sections: sections, repeats: repeats, iterations: iterations, tolerance: tolerance,
      logBarycenterWidth: logBarycenterWidth, output: output, json: format.json
    ).run()
  }
}
