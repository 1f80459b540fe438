import DAM

/// The grid kernel backends, by command-line name.
package enum GridBackendChoice: String, CaseIterable {
  case automatic
  case fft
  case log
  case separable

  package var backend: GridKernelBackend {
    switch self {
    case .automatic: return .automatic
    case .fft: return .fft
    case .log: return .logDomain
    case .separable: return .separableKernel
    }
  }

  /// The command-line name of a resolved backend.
  package static func name(_ backend: GridKernelBackend) -> String {
    switch backend {
    case .fft: return "fft"
    case .separableKernel: return "separable"
    default: return "log"
    }
  }
}
