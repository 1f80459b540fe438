// swift-tools-version:6.1
//
// A package that uses swift-dense-associative-memory as a dependency, declared with the lines that
// README.md ("Adding the package to yours") and Docs/getting-started.md show (DocsCoverageTests
// checks they are the same). scripts/test.sh builds and runs it:
//
//   swift build --package-path Examples/Client --scratch-path .build-client
//   .build-client/debug/Client

import PackageDescription

let package = Package(
  name: "Client",
  dependencies: [
    // The path to a clone of the repository (here the one this example sits in). `name:` is what
    // `package:` refers to below, whatever the clone's folder is called.
    .package(name: "swift-dense-associative-memory", path: "../..")
  ],
  targets: [
    .executableTarget(
      name: "Client",
      dependencies: [
        .product(name: "DAM", package: "swift-dense-associative-memory"),
        .product(name: "NumPyFiles", package: "swift-dense-associative-memory"),
      ])
  ]
)
