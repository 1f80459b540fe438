// `swift package --allow-writing-to-package-directory compare-engines [dam compare options]`:
// builds the `dam` tool in release mode and runs `dam compare` with the given arguments, from the
// package directory, so that a relative --report lands there (default reports/compare). All the
// logic is in `dam compare`; this plugin only builds and forwards.

import Foundation
import PackagePlugin

@main
struct CompareEngines: CommandPlugin {
  func performCommand(context: PluginContext, arguments: [String]) async throws {
    Diagnostics.remark("compare-engines: building dam (release)")
    let build = try packageManager.build(
      .product("dam"), parameters: PackageManager.BuildParameters(configuration: .release, logging: .concise))
    guard build.succeeded else {
      Diagnostics.error("compare-engines: building dam failed:\n\(build.logText)")
      throw PluginFailure("building dam failed")
    }
    guard
      let dam = build.builtArtifacts.first(where: {
        $0.kind == .executable && $0.url.lastPathComponent == "dam"
      })
    else {
      throw PluginFailure("the build produced no `dam` executable")
    }
    let process = Process()
    process.executableURL = dam.url
    process.arguments = ["compare"] + arguments
    process.currentDirectoryURL = context.package.directoryURL
    try process.run()
    process.waitUntilExit()
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      throw PluginFailure("dam compare exited with status \(process.terminationStatus)")
    }
  }
}

struct PluginFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
