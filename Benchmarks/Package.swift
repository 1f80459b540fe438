// swift-tools-version:6.1
//
// Regression benchmarks of the DAM library, on ordo-one/benchmark (wall clock, CPU time, mallocs,
// peak resident memory). A separate package so that the main package and its CI build none of it.
//
//   cd Benchmarks && swift package benchmark                 # run all, print a table
//   swift package benchmark baseline update main             # record a baseline
//   swift package benchmark baseline compare main            # compare the working tree with it
//
// Peer comparisons (POT, GeomLoss, OTT-JAX, NumPy) are in `scripts/bench/`, not here.

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the repository was
// cloned: read it from this file's location.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .lastPathComponent

let package = Package(
  name: "DAMBenchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "DAMBenchmarks",
      dependencies: [
        .product(name: "DAM", package: root),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/DAMBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
  ]
)
