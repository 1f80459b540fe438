/// Fortran-order (column-major) `.npy` data, rearranged into the C order every ``NumPyArray``
/// holds.
///
/// NumPy writes `'fortran_order': True` for any array whose memory is column-major, which is every
/// transposed array (`a.T`) and every array made by Fortran code; its elements are then stored
/// with the *first* index varying fastest. Reading such a file means transposing on load.
enum _FortranOrder {
  /// Whether Fortran-order data of `shape` is laid out differently from C-order data: only when
  /// at least two axes are longer than 1 and the array is not empty (otherwise both orders list
  /// the elements in the same sequence).
  static func differsFromC(_ shape: [Int]) -> Bool {
    shape.filter { $0 > 1 }.count > 1 && !shape.contains(0)
  }

  /// The elements of `values`, stored in Fortran order for `shape`, in C order. The caller has
  /// checked that `values.count` is the product of `shape`.
  static func toC<Element>(_ values: [Element], shape: [Int]) -> [Element] {
    guard differsFromC(shape) else { return values }
    // Axes of length 1 change neither layout; without them at least two axes remain.
    let axes = shape.filter { $0 > 1 }
    let rank = axes.count
    // The distance in `values` between neighbours along each axis: 1 along the first axis.
    var strides = [Int](repeating: 1, count: rank)
    for axis in 1..<rank { strides[axis] = strides[axis - 1] * axes[axis - 1] }
    let count = values.count
    let innerLength = axes[rank - 1]
    let innerStride = strides[rank - 1]
    return values.withUnsafeBufferPointer { source in
      [Element](unsafeUninitializedCapacity: count) { target, initialized in
        // `index` counts the C-order position over all axes but the last (an odometer whose last
        // digit moves fastest); `start` is the source offset of that position with last index 0.
        var index = [Int](repeating: 0, count: rank - 1)
        var start = 0
        var written = 0
        while written < count {
          var offset = start
          for _ in 0..<innerLength {
            target.initializeElement(at: written, to: source[offset])
            written += 1
            offset += innerStride
          }
          var axis = rank - 2
          while axis >= 0 {
            index[axis] += 1
            start += strides[axis]
            if index[axis] < axes[axis] { break }
            start -= strides[axis] * axes[axis]
            index[axis] = 0
            axis -= 1
          }
        }
        initialized = count
      }
    }
  }

  /// `storage`, read in Fortran order for `shape`, in C order.
  static func toC(_ storage: NumPyArray.Storage, shape: [Int]) -> NumPyArray.Storage {
    guard differsFromC(shape) else { return storage }
    switch storage {
    case .float64(let values): return .float64(toC(values, shape: shape))
    case .float32(let values): return .float32(toC(values, shape: shape))
    case .int64(let values): return .int64(toC(values, shape: shape))
    case .int32(let values): return .int32(toC(values, shape: shape))
    case .uint8(let values): return .uint8(toC(values, shape: shape))
    case .bool(let values): return .bool(toC(values, shape: shape))
    }
  }
}
