/// Checks an inverse temperature `--beta`: a finite number > 0 whose reciprocal is finite too
/// (the energy is `-(1/beta) Omega*`, so a subnormal beta such as 5e-324 would turn every energy
/// infinite and be reported later as diverging dynamics).
package func checkInverseTemperature(_ beta: Double, option: String = "--beta") throws(CLIError) {
  guard beta.isFinite, beta > 0 else {
    throw CLIError(option, "must be a finite number > 0, got \(beta)")
  }
  guard (1 / beta).isFinite else {
    throw CLIError(
      option,
      "is \(beta), so small that 1/beta (the factor of the energy) overflows; must be at least \(1 / Double.greatestFiniteMagnitude)"
    )
  }
}
