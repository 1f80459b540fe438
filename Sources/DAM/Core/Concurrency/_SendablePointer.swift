/// A read-only pointer handed to `concurrentPerform` workers.
struct _SendablePointer: @unchecked Sendable {
  let base: UnsafePointer<Double>
  init(_ base: UnsafePointer<Double>) { self.base = base }
}

/// A mutable buffer handed to `concurrentPerform` workers that write disjoint ranges.
struct _SendableBuffer: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<Double>
  init(_ base: UnsafeMutableBufferPointer<Double>) { self.base = base }
}
