import DAM

/// The built-in workloads of `dam compare`, one per family.
package enum BuiltInWorkload: String, CaseIterable {
  /// Vectors: the handwritten digits with pixel noise.
  case digits
  /// Point clouds: the Sinkhorn-SHK paper's Experiment 2, atoms permuted.
  case gaussianClouds = "gaussian-clouds"
  /// Gaussians: the BW-DAM paper's Wasserstein sphere.
  case wassersteinSphere = "wasserstein-sphere"
  /// Grid histograms: digits upsampled to 32 x 32, masked and noisy.
  case gridDigits = "grid-digits"

  package func comparison(_ settings: CompareSettings) throws -> AnyComparison? {
    switch self {
    case .digits: try CompareWorkloads.digits(settings)?.erased()
    case .gaussianClouds: try CompareWorkloads.gaussianClouds(settings)?.erased()
    case .wassersteinSphere: try CompareWorkloads.sphereGaussians(settings)?.erased()
    case .gridDigits: try CompareWorkloads.gridDigits(settings)?.erased()
    }
  }
}
