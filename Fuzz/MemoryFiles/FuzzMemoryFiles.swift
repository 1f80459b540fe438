// libFuzzer target for the memory-file loader (manifest, checksums, shape rules). Compiled by
// scripts/fuzz.sh with -D FUZZING together with Sources/NumPyFiles and
// Sources/MemoryFiles/Format into one module.
//
// Every input must end in verified contents or a `MemoryFileError`; contents that load must
// encode and load again to the same manifest.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMemoryFiles(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
  let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
  guard let contents = try? MemoryFileContents.decode(bytes) else { return 0 }
  guard let again = try? contents.encode(), let back = try? MemoryFileContents.decode(again),
    back.manifest == contents.manifest
  else {
    fatalError("a memory file that loads did not survive encoding and loading again")
  }
  return 0
}
