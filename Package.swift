// swift-tools-version:6.1
//
// Dense associative memories (modern Hopfield networks) over vectors, Gaussians, weighted point
// clouds and grid histograms. See README.md for the two commands that build, run and test it.

import PackageDescription

let package = Package(
  name: "swift-dense-associative-memory",
  products: [
    .library(name: "DAM", targets: ["DAM"]),
    .library(name: "NumPyFiles", targets: ["NumPyFiles"]),
    .library(name: "MemoryFiles", targets: ["MemoryFiles"]),
    .library(name: "DAMDatasets", targets: ["DAMDatasets"]),
    .executable(name: "dam", targets: ["DAMTool"]),
    .plugin(name: "CompareEngines", targets: ["CompareEngines"]),
  ],
  traits: [
    .trait(
      name: "FFTW",
      description: """
        The FFT backend of grid Sinkhorn (GridKernelBackend.fft), linked against FFTW3. FFTW is \
        GPL-2.0-or-later, so binaries built with this trait are bound by the GPL; without it (swift build \
        --disable-default-traits, or traits: [] on the dependency) the package links only permissively \
        licensed libraries and .fft throws, naming the other backends.
        """),
    .default(enabledTraits: ["FFTW"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // Test-only: property-based tests of separation maps and divergences (DAMPropertyTests).
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    // `swift package generate-documentation --target DAM` (DocC catalogs in Sources/*/*.docc). Only a
    // command plugin: a clean `swift build` compiles its two plugin scripts, nothing else.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // System libraries, found through pkg-config; `scripts/setup.sh` installs them on Debian.
    .systemLibrary(
      name: "CLinearAlgebra", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
    // Only linked with the FFTW trait (the default).
    .systemLibrary(name: "CFFTW", pkgConfig: "fftw3", providers: [.apt(["libfftw3-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

    // The solvers' inner loops (exp, matrix-vector products) in C, compiled per x86-64 vector
    // extension and chosen at load time: no compiler flags needed.
    .target(name: "CDAMKernels"),
    .target(
      name: "DAM",
      dependencies: [
        "CLinearAlgebra", "CDAMKernels", .target(name: "CFFTW", condition: .when(traits: ["FFTW"])),
      ]),
    .target(name: "NumPyFiles", dependencies: ["CZlib"]),
    .target(name: "DAMDatasets", dependencies: ["DAM"]),
    .target(name: "MemoryFiles", dependencies: ["DAM", "NumPyFiles", "CZlib"]),
    // The paper reproductions, `dam compare`'s workloads and reports (tables, SVG plots), and the
    // readers that turn .npy/.npz files into patterns: what `dam` runs, reachable in-process from
    // tests. Its API is `package`: shared inside this package, not promised to clients.
    .target(
      name: "DAMExperiments",
      dependencies: ["DAM", "NumPyFiles", "DAMDatasets", "MemoryFiles", "CLinearAlgebra"]),
    // `dam`: commands and their options only.
    .executableTarget(
      name: "DAMTool",
      dependencies: [
        "DAM", "NumPyFiles", "DAMDatasets", "MemoryFiles", "DAMExperiments", "CLinearAlgebra",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    .target(name: "DAMTestSupport", dependencies: ["DAM"], path: "Tests/DAMTestSupport"),
    .testTarget(
      name: "DAMTests", dependencies: ["DAM", "NumPyFiles", "DAMDatasets", "DAMTestSupport", "CDAMKernels"],
      exclude: ["Fixtures"]),
    .testTarget(name: "NumPyFilesTests", dependencies: ["NumPyFiles"], exclude: ["Fixtures"]),
    .testTarget(name: "DAMDatasetsTests", dependencies: ["DAMDatasets", "DAM"]),
    .testTarget(name: "DAMToolTests", dependencies: ["DAM", "NumPyFiles", "DAMDatasets", "DAMTestSupport"]),
    // The reproductions and `dam compare`'s workloads, run in-process (no subprocess).
    .testTarget(name: "DAMExperimentsTests", dependencies: ["DAMExperiments", "DAM", "NumPyFiles"]),
    .testTarget(
      name: "MemoryFilesTests", dependencies: ["MemoryFiles", "DAM", "NumPyFiles", "DAMTestSupport"], exclude: ["Fixtures"]),
    .testTarget(
      name: "DAMPropertyTests",
      dependencies: ["DAM", .product(name: "PropertyBased", package: "swift-property-based")]),

    // `swift package compare-engines`: builds dam in release mode and runs `dam compare`.
    .plugin(
      name: "CompareEngines",
      capability: .command(
        intent: .custom(
          verb: "compare-engines",
          description: "Build dam (release) and run dam compare: engines side by side"),
        permissions: [
          .writeToPackageDirectory(reason: "dam compare writes its report (default reports/compare)")
        ]),
      path: "Plugins/CompareEngines"),

    // The worked external divergence of Docs/extending.md: built only against DAM's public API.
    .target(name: "KernelMMD", dependencies: ["DAM"], path: "Examples/KernelMMD/Sources"),
    .testTarget(
      name: "KernelMMDTests", dependencies: ["KernelMMD", "DAM"], path: "Examples/KernelMMD/Tests"),
    .target(name: "PeriodicCost", dependencies: ["DAM"], path: "Examples/PeriodicCost/Sources"),
    .testTarget(
      name: "PeriodicCostTests", dependencies: ["PeriodicCost", "DAM"], path: "Examples/PeriodicCost/Tests"),
    // The worked example of Docs/gradients.md: learning a memory's patterns by gradient descent.
    .target(name: "PatternLearning", dependencies: ["DAM", "DAMDatasets"], path: "Examples/PatternLearning/Sources"),
    .testTarget(
      name: "PatternLearningTests", dependencies: ["PatternLearning", "DAM"], path: "Examples/PatternLearning/Tests"),
    .executableTarget(
      name: "learn-patterns", dependencies: ["PatternLearning", "DAM", "DAMExperiments"],
      path: "Examples/PatternLearning/Run"),
    // Every Swift sample in Docs/ is compiled here (and checked to appear there verbatim).
    .testTarget(
      name: "DocsSamplesTests",
      dependencies: ["DAM", "NumPyFiles", "DAMDatasets", "KernelMMD", "PeriodicCost", "DAMTestSupport"],
      path: "Tests/DocsSamplesTests"),
  ]
)

// Strict settings for every target that has Swift sources, set once (plugin targets accept no
// settings; CDAMKernels is C).
for target in package.targets
where target.type != .system && target.type != .plugin && target.name != "CDAMKernels" {
  var settings = target.swiftSettings ?? []
  settings.append(contentsOf: [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
  ])
  target.swiftSettings = settings
}
