import DAM

extension CompareSettings {
  /// The separation maps of `dam compare --separation`, each given the parameters (`--alpha`,
  /// `--k`, `--pairwise`) of the maps that take them; `nil` when no map is named (each family's
  /// default maps).
  ///
  /// - Throws: ``CLIError`` naming `--alpha` or `--k` when none of the maps takes it,
  ///   `--separation` when parameters are given without maps, or the option a map refuses.
  package static func separationMaps(
    _ choices: [SeparationChoice], alpha: Double?, k: Int?, pairwise: Double?
  )
    throws(CLIError) -> [AnySeparationMap]?
  {
    guard !choices.isEmpty else {
      if alpha != nil || k != nil || pairwise != nil {
        throw CLIError("--separation", "give the maps that --alpha, --k or --pairwise parametrise")
      }
      return nil
    }
    func takesAlpha(_ choice: SeparationChoice) -> Bool { choice == .entmax || choice == .normmax }
    func takesK(_ choice: SeparationChoice) -> Bool { choice == .ksubsets || choice == .sequentialKsubsets }
    if alpha != nil && !choices.contains(where: takesAlpha) {
      throw CLIError("--alpha", "applies to entmax and normmax only")
    }
    if k != nil && !choices.contains(where: takesK) {
      throw CLIError("--k", "applies to ksubsets and sequential-ksubsets only")
    }
    return try choices.map { choice throws(CLIError) in
      try choice.map(
        alpha: takesAlpha(choice) ? alpha : nil, k: takesK(choice) ? k : nil,
        pairwise: choice == .sequentialKsubsets ? pairwise : nil, choiceLabel: "--separation ")
    }
  }

  /// Checks `dam compare --noise`: a finite number >= 0, below 1e150.
  ///
  /// - Throws: ``CLIError`` naming `--noise`.
  package static func checkNoise(_ noise: Double?) throws(CLIError) {
    guard let noise else { return }
    guard noise.isFinite && noise >= 0 else {
      throw CLIError("--noise", "must be a finite number >= 0, got \(noise)")
    }
    if noise >= 1e150 {
      // Noisy coordinates of that size make every squared distance overflow: each retrieval
      // would fail, and the report would hold no result.
      throw CLIError(
        "--noise",
        "is \(noise); it must be below 1e150: the squared distances of the noisy queries, about the dimension x noise^2, must stay far from the largest double (1.8e308), or every retrieval fails"
      )
    }
  }
}
