import ArgumentParser

/// `--spacing`: the distance between neighbouring grid cells per axis, shared by
/// `divergence sinkhorn-grid` and `barycenter`.
struct GridSpacingOption: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "The distance between neighbouring cells per axis, comma-separated (default 1).", valueName: "h0,h1,..."
    ))
  var spacing: String?
}
