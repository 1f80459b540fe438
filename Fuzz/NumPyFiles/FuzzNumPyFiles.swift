// libFuzzer target for the `.npy` and `.npz` decoders. Compiled by scripts/fuzz.sh together with
// the sources of Sources/NumPyFiles into one module, so no `import` is needed.
//
// Every input must end in a decoded value or a `NumPyError`: a crash, a trap (overflow, index
// out of range), an address-sanitizer report or a timeout is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumPyFiles(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
  if let array = try? NPY.decode(bytes) {
    // A decoded array must re-encode and decode to the same value.
    let again = NPY.encode(array)
    guard let back = try? NPY.decode(again), back.shape == array.shape, back.dtype == array.dtype else {
      fatalError("NPY round trip changed a decoded array")
    }
    _ = array.doubles()
  }
  if let archive = try? NPZ.decode(bytes) {
    for entry in archive.entries { _ = entry.array.doubles() }
    if let again = try? NPZ.encode(archive) {
      guard let back = try? NPZ.decode(again), back.names == archive.names else {
        fatalError("NPZ round trip changed a decoded archive")
      }
    }
  }
  return 0
}
