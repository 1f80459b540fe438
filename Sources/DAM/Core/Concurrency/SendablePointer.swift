/// A pointer or buffer pointer handed to the workers of a parallel loop, which read it or write
/// disjoint parts of it.
struct SendablePointer<Pointer>: @unchecked Sendable {
  let base: Pointer
  init(_ base: Pointer) { self.base = base }
}
