// A client of the DAM and NumPyFiles products: recalls a stored vector from a noisy copy, with
// the memory read from a NumPy file, and says whether its build has the FFT grid backend.
// Exits non-zero when the recall is wrong (scripts/test.sh runs it).

import DAM
import NumPyFiles

// Three stored patterns in R^3, as NumPy would save them (a (3, 3) float64 array).
let saved = NPY.encode(try NumPyArray(shape: [3, 3], doubles: [1, 0, 0, 0, 1, 0, 0, 0, 1]))
let patterns = try NPY.decode(saved)
let rows = patterns.shape[0]
let columns = patterns.shape[1]
let values = patterns.doubles()

let memory = try Memory(
  divergence: .squaredEuclidean,
  patterns: (0..<rows).map { Array(values[($0 * columns)..<(($0 + 1) * columns)]) })
let engine = try RetrievalEngine(
  memory: memory, separation: .softmax, geometry: EuclideanGeometry(), beta: 8)
let result = try engine.retrieve([0.1, 0.8, 0.05])

print("nearest pattern: \(result.nearestPattern)")
print("stop reason: \(result.stopReason)")
print("FFT grid backend available: \(GridKernelBackend.isFFTAvailable)")
guard result.nearestPattern == 1 else { fatalError("expected pattern 1, recalled \(result.nearestPattern)") }
