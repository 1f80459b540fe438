import DAMExperiments
import Foundation

/// Early checks of output paths, so that a long computation does not end in a failed write.
enum OutputPath {
  static func check(_ path: String, option: String) throws(CLIError) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      throw CLIError(option, "\(path): directory '\(folder)' does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: folder) else {
      throw CLIError(option, "\(path): directory '\(folder)' is not writable")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw CLIError(option, "\(path): is a directory")
    }
  }
}
