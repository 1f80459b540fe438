// libFuzzer target for the memory-file loader (manifest, checksums, shape rules). Compiled by
// scripts/fuzz.sh with -D FUZZING together with Sources/NumPyFiles and
// Sources/MemoryFiles/Format into one module.
//
// Each input is tried twice: as the bytes of a whole file, and as the text of the `manifest`
// member of an otherwise valid archive (so that mutations reach the manifest and shape checks
// instead of stopping at the ZIP checksums). Every input must end in verified contents or a
// `MemoryFileError`; contents that load must encode and load again to the same manifest.

/// Valid arrays of every kind, which a fuzzed manifest may describe correctly or not. (Made per
/// input rather than held in a global, which LeakSanitizer reports as a leak.)
func fuzzArrays() -> [(String, NumPyArray)] {
  func doubles(_ shape: [Int], _ values: [Double]) -> NumPyArray {
    try! NumPyArray(shape: shape, doubles: values)
  }
  return [
    ("patterns", doubles([2, 2], [1, 0, 0, 1])),
    ("points", doubles([3, 1], [0, 1, 2])),
    ("weights", doubles([3], [0.5, 0.5, 1])),
    ("offsets", try! NumPyArray(shape: [3], integers: [0, 2, 3])),
    ("means", doubles([1, 2], [0, 1])),
    ("variances", doubles([1, 2], [1, 2])),
  ]
}

func checkRoundTrip(_ bytes: [UInt8]) {
  guard let contents = try? MemoryFileContents.decode(bytes) else { return }
  guard let again = try? contents.encode(), let back = try? MemoryFileContents.decode(again),
    back.manifest == contents.manifest
  else {
    fatalError("a memory file that loads did not survive encoding and loading again")
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMemoryFiles(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
  checkRoundTrip(bytes)
  var archive = NumPyArchive()
  archive["manifest"] = try! NumPyArray(shape: [bytes.count], storage: .uint8(bytes))
  for (name, array) in fuzzArrays() where bytes.count % 7 != 0 || name != "offsets" {
    archive[name] = array
  }
  if let file = try? NPZ.encode(archive) { checkRoundTrip(file) }
  return 0
}
