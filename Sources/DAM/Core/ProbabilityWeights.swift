/// The relative tolerance on `Σ wᵢ = 1` for probability weights given to the package: a sum within
/// it is renormalised to exactly 1 (absorbing round-off from files and float32 data); a sum
/// outside it is an error, because silently rescaling masses changes the problem.
public let probabilitySumTolerance = 1e-6

/// Validates probability weights and returns them renormalised to sum to 1.
///
/// Weights whose computed sum is already within `n` units in the last place of 1 (summation
/// round-off of weights that were normalised before) are returned unchanged, so normalising twice
/// changes nothing: a memory file read back holds bit for bit the weights that were written.
func probabilityWeights(_ weights: [Double], _ argument: String, normalize: Bool) throws(DAMError)
  -> [Double]
{
  guard !weights.isEmpty else { throw DAMError.invalid(argument, "is empty") }
  var sum = 0.0
  for (i, w) in weights.enumerated() {
    guard w.isFinite else {
      throw DAMError(.nonFinite, argument: argument, "has a non-finite value (\(w)) at index \(i)")
    }
    guard w >= 0 else { throw DAMError.invalid(argument, "has a negative value (\(w)) at index \(i)") }
    sum += w
  }
  guard sum > 0 else { throw DAMError.invalid(argument, "are all zero; at least one must be positive") }
  if !normalize && abs(sum - 1) > probabilitySumTolerance {
    throw DAMError.invalid(
      argument,
      "sum to \(sum), not 1 (tolerance \(probabilitySumTolerance)); normalise them, or use the normalizing initialiser"
    )
  }
  if abs(sum - 1) <= Double(weights.count) * Double.ulpOfOne { return weights }
  return weights.map { $0 / sum }
}
