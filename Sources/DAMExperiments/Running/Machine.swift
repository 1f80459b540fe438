import Foundation

/// A one-line description of the machine, for reports: CPU model, logical cores, OS.
package enum Machine {
  package static var description: String {
    var model = "unknown CPU"
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let value = line.split(separator: ":", maxSplits: 1).last
    {
      model = value.trimmingCharacters(in: .whitespaces)
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    return "\(model), \(cores) logical cores, \(ProcessInfo.processInfo.operatingSystemVersionString)"
  }
}
