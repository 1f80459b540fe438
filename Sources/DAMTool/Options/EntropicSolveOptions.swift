import ArgumentParser
import DAM
import DAMExperiments

/// The regularisation and stopping controls of one entropic solve, shared by `divergence sinkhorn`,
/// `divergence sinkhorn-grid` and `barycenter`.
struct EntropicSolveOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: "The entropic regularisation eps > 0, in units of the ground cost (squared grid units on grids).")
  var epsilon: Double

  @Option(
    parsing: .unconditional,
    help:
      "The largest accepted L1 marginal error of each solve (barycenters: also the barycenter-side spread).")
  var tolerance: Double = 1e-9

  @Option(parsing: .unconditional, help: "The iteration cap of each solve at the target eps.")
  var maxIterations: Int = 10_000

  func validate() throws {
    guard epsilon.isFinite, epsilon > 0 else {
      throw CLIError("--epsilon", "must be a finite number > 0, got \(epsilon)")
    }
    guard tolerance.isFinite, tolerance >= 0 else {
      throw CLIError("--tolerance", "must be a finite number >= 0, got \(tolerance)")
    }
    guard maxIterations >= 1 else { throw CLIError("--max-iterations", "must be >= 1, got \(maxIterations)") }
  }

  /// The point-cloud solver's options, a library refusal attributed to `--epsilon`.
  func sinkhorn() throws(CLIError) -> SinkhornOptions {
    try attributing("--epsilon") {
      try SinkhornOptions(epsilon: epsilon, tolerance: tolerance, maxIterations: maxIterations)
    }
  }

  /// The grid solver's options, a library refusal attributed to `--epsilon`, except `--backend fft`
  /// in a build without the package's FFTW trait, which is refused naming `--backend` (the library
  /// would refuse it naming `backend`).
  func grid(backend: GridKernelBackend) throws(CLIError) -> GridSinkhornOptions {
    do {
      try backend.checkAvailable()
    } catch {
      throw CLIError(
        "--backend",
        "fft is not available: this dam was built without the package's FFTW trait (swift build --disable-default-traits); use automatic, separable or log, or build with the trait (the default)"
      )
    }
    return try attributing("--epsilon") {
      try GridSinkhornOptions(
        epsilon: epsilon, tolerance: tolerance, maxIterations: maxIterations, backend: backend)
    }
  }
}
