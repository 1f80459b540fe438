import DAM
import Testing

/// The package's `FFTW` trait: with it (the default) ``GridKernelBackend/fft`` runs; without it
/// (`swift build --disable-default-traits`) every way of asking for it throws one clear error
/// naming `backend`, and the other backends run as before. scripts/test.sh builds both
/// configurations and runs this suite in each.
struct GridFFTTraitTests {
  /// The trait's compilation condition reaches this test target as it reaches the library
  /// (SwiftPM defines a package's enabled traits for all of its targets).
  @Test func availabilityFollowsTheTrait() {
    #if FFTW
      #expect(GridKernelBackend.isFFTAvailable)
    #else
      #expect(!GridKernelBackend.isFFTAvailable)
    #endif
    for backend in [GridKernelBackend.automatic, .separableKernel, .logDomain] {
      #expect(throws: Never.self) { try backend.checkAvailable() }
    }
  }

  /// The automatic choice never resolves to the FFT, at any ε, in either configuration.
  @Test func automaticNeverPicksTheFFT() throws {
    for ratio in [1e-8, 1e-4, 1e-3, 0.01, GridKernelBackend.fftThreshold, 0.1, 1, 1e2, 1e4, 1e8] {
      #expect(GridKernelBackend.automatic.resolved(epsilon: ratio * 1922, squaredDiameter: 1922) != .fft)
    }
    let a = try GridCases.histogram("blob", [16, 16], seed: 1)
    for epsilon in [0.05, 1, 100, 1e4] {
      #expect(GridSinkhorn.backend(for: a, options: GridCases.gridOptions(epsilon, .automatic)) != .fft)
    }
    let barycenter = try GridSinkhorn.barycenter(
      of: [a, try GridCases.histogram("ring", [16, 16], seed: 2)],
      options: GridSinkhornOptions(epsilon: 50, tolerance: 1e-9))
    #expect(barycenter.backend != .fft)
  }

  /// With the trait, asking for the FFT is accepted everywhere.
  @Test(.enabled(if: GridKernelBackend.isFFTAvailable, "built without the FFTW trait"))
  func fftAcceptedWithTheTrait() throws {
    try GridKernelBackend.fft.checkAvailable()
    let a = try GridCases.histogram("blob", [12, 12], seed: 3)
    let b = try GridCases.histogram("ring", [12, 12], seed: 4)
    let options = try GridSinkhornOptions(epsilon: 100, backend: .fft)
    #expect(GridSinkhorn.backend(for: a, options: options) == .fft)
    #expect(try GridSinkhorn.divergence(a, b, options: options).value.isFinite)
  }

  /// Checks `error` is the one for the FFT without the trait: names `backend`, says why and what
  /// to use instead.
  static func expectUnavailable(_ error: DAMError?, _ label: String) {
    #expect(error?.argument == "backend", "\(label)")
    #expect(error?.kind == .invalidArgument, "\(label)")
    let message = error?.message ?? ""
    for part in [
      "FFT backend is not available", "without its FFTW trait", "--disable-default-traits", "traits: []",
      ".automatic", ".separableKernel", ".logDomain",
    ] {
      #expect(message.contains(part), "\(label): \(message)")
    }
  }

  /// Without the trait, every way of asking for the FFT throws the same clear error, and the
  /// other backends still solve.
  @Test(.enabled(if: !GridKernelBackend.isFFTAvailable, "built with the FFTW trait"))
  func fftRefusedWithoutTheTrait() throws {
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridKernelBackend.fft.checkAvailable() }, "checkAvailable")
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridSinkhornOptions(epsilon: 100, backend: .fft) }, "options")

    // Options made with another backend and switched to the FFT afterwards: the solvers check.
    let a = try GridCases.histogram("blob", [12, 12], seed: 3)
    let b = try GridCases.histogram("ring", [12, 12], seed: 4)
    var options = try GridSinkhornOptions(epsilon: 100)
    options.backend = .fft
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridSinkhorn.transport(from: a, to: b, options: options) },
      "transport")
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridSinkhorn.selfTransport(a, options: options) }, "selfTransport")
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridSinkhorn.divergence(a, b, options: options) }, "divergence")
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridSinkhorn.barycenter(of: [a, b], options: options) },
      "barycenter")
    Self.expectUnavailable(
      #expect(throws: DAMError.self) { try GridSinkhornDivergence(options: options).prepare(a) },
      "GridSinkhornDivergence")

    for backend in [GridKernelBackend.automatic, .separableKernel, .logDomain] {
      options.backend = backend
      #expect(try GridSinkhorn.divergence(a, b, options: options).value.isFinite, "\(backend)")
    }
  }
}
