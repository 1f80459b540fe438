import CLinearAlgebra

/// Block evaluation and accumulation shared by the vector divergences: the inner products of a
/// block's states with every pattern by one matrix product (`Q Xᵀ`, BLAS-3), and the weighted
/// sums of patterns of the dense rows by another (`W X`); rows whose support is small sum their
/// patterns directly.
enum VectorBlocks {
  /// How many states one matrix product takes at most: enough that BLAS's packing of the
  /// patterns (once per product) is small against the product, few enough to bound the buffer.
  static let rowsPerProduct = 256

  /// How many of the engine's threads share one matrix product: all of them (`parallelism`) when
  /// OpenBLAS runs on one thread, each taking a slice of the product's columns, so that a process
  /// that keeps BLAS single-threaded (as `dam` does) still multiplies on every core; otherwise 1,
  /// and OpenBLAS's own threads split the product.
  static func productSlices(parallelism: Int, columns: Int) -> Int {
    guard parallelism > 1, openblas_get_num_threads() == 1 else { return 1 }
    return max(1, min(parallelism, columns / 64))
  }

  /// `C = alpha · A · op(B)` (row-major, `op(B) = Bᵀ` when `transposeB`) with `C`'s `n` columns in
  /// `slices` contiguous slices computed concurrently, one `dgemm` each. Every element of `C` is the
  /// same sum in the same order whatever the slicing (`dgemm` splits the shared dimension `k`
  /// the same way for every column).
  static func multiply(
    m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>,
    ldb: Int,
    transposeB: Bool, c: UnsafeMutablePointer<Double>, ldc: Int, slices: Int
  ) {
    let (a, b, c) = (SendablePointer(a), SendablePointer(b), SendablePointer(c))
    forEachChunk(slices, workers: slices) { s in
      let first = s * n / slices
      let width = (s + 1) * n / slices - first
      guard width > 0 else { return }
      cblas_dgemm(
        CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(width), Int32(k),
        alpha,
        a.base, Int32(lda), b.base + (transposeB ? first * ldb : first), Int32(ldb), 0,
        c.base + first,
        Int32(ldc))
    }
  }

  /// Every state's row of values against every pattern, from the inner products: `transform(b,
  /// products, values)` receives the inner products `⟨ξ_b, Xᵢ⟩` of state `b` with every pattern `i`
  /// and fills `values` (both of the memory's length), a whole row at a time so that its loop can
  /// be vectorised. The inner products of a chunk of states come from one `dgemm`.
  @inline(__always)
  static func evaluate(
    states: [[Double]], packed: _PackedVectors, parallelism: Int, scratch: BlockScratch?,
    _ transform:
      @Sendable (
        _ state: Int, _ products: UnsafeBufferPointer<Double>, _ values: UnsafeMutableBufferPointer<Double>
      ) -> Void
  ) -> [[Double]] {
    // One buffer for the products of every chunk: the retrieval's scratch when there is one.
    (scratch ?? BlockScratch()).withBuffer(count: min(rowsPerProduct, states.count) * packed.rows) {
      evaluate(states: states, packed: packed, parallelism: parallelism, products: $0, transform)
    }
  }

  /// ``evaluate(states:packed:parallelism:scratch:_:)`` with the products in `products` (room for
  /// ``rowsPerProduct`` rows or all the states).
  @inline(__always)
  private static func evaluate(
    states: [[Double]], packed: _PackedVectors, parallelism: Int,
    products: UnsafeMutableBufferPointer<Double>,
    _ transform:
      @Sendable (
        _ state: Int, _ products: UnsafeBufferPointer<Double>, _ values: UnsafeMutableBufferPointer<Double>
      ) -> Void
  ) -> [[Double]] {
    let n = packed.rows
    let d = packed.columns
    let rows = Slots<[Double]>(count: states.count, initial: [])
    let g = SendablePointer(products)
    var start = 0
    while start < states.count {
      let chunk = min(rowsPerProduct, states.count - start)
      var queries = [Double](repeating: 0, count: chunk * d)
      for r in 0..<chunk {
        for t in 0..<d { queries[r * d + t] = states[start + r][t] }
      }
      queries.withUnsafeBufferPointer { q in
        packed.elements.withUnsafeBufferPointer { x in
          multiply(
            m: chunk, n: n, k: d, alpha: 1, a: q.baseAddress!, lda: d, b: x.baseAddress!, ldb: d,
            transposeB: true,
            c: products.baseAddress!, ldc: n, slices: productSlices(parallelism: parallelism, columns: n))
        }
      }
      // Each state's row from the products, rows on the block's threads.
      let first = start
      forEachChunk(chunk, workers: parallelism) { r in
        rows[first + r] = [Double](unsafeUninitializedCapacity: n) { row, initialized in
          transform(first + r, UnsafeBufferPointer(start: g.base.baseAddress! + r * n, count: n), row)
          initialized = n
        }
      }
      start += chunk
    }
    return rows.values
  }

  /// `Σᵢ c wᵢ Xᵢ` and `Σᵢ c wᵢ` over each item's support, as ``EuclideanVariation``s of target
  /// form. Rows with a support of at most `N/16` patterns add them one by one in index order (as
  /// ``EuclideanVariation/addTarget(_:weight:curvature:)`` does); the others together by one
  /// `dgemm` of their weights with the packed patterns.
  static func accumulate<D: Divergence>(
    _ block: AccumulationBlock<D>, packed: _PackedVectors, curvature c: Double
  )
    -> [EuclideanVariation] where D.Pattern == [Double], D.State == [Double]
  {
    let n = packed.rows
    let d = packed.columns
    var variations = [EuclideanVariation](
      repeating: EuclideanVariation(dimension: d), count: block.items.count)
    var dense: [Int] = []
    for (k, item) in block.items.enumerated() {
      if item.support.count * 16 > n {
        dense.append(k)
        continue
      }
      for i in item.support {
        variations[k].addTarget(block.memory.pattern(at: i), weight: item.weights[i], curvature: c)
      }
    }
    // One buffer for the weights of every chunk of dense rows: the retrieval's scratch when there
    // is one (its evaluations' products are done with it).
    guard !dense.isEmpty else { return variations }
    (block.scratch ?? BlockScratch()).withBuffer(count: min(rowsPerProduct, dense.count) * n) { weights in
      let target = SendablePointer(weights)
      var start = 0
      while start < dense.count {
        let chunk = min(rowsPerProduct, dense.count - start)
        // The dense rows' weights (zero outside their support already), copied side by side on
        // the block's threads, each row's total weight summed there too, in index order over its
        // support; the curvature scale goes into the product.
        let rowsHere = dense[start..<(start + chunk)].map { block.items[$0] }
        let totals = Slots<Double>(count: chunk, initial: 0)
        forEachChunk(chunk, workers: block.parallelism) { r in
          let item = rowsHere[r]
          item.weights.withUnsafeBufferPointer { source in
            _ = UnsafeMutableBufferPointer(rebasing: target.base[(r * n)..<((r + 1) * n)]).initialize(
              from: source)
            var total = 0.0
            for i in item.support { total += source[i] * c }
            totals[r] = total
          }
        }
        let sums = [Double](unsafeUninitializedCapacity: chunk * d) { buffer, initialized in
          packed.elements.withUnsafeBufferPointer { x in
            multiply(
              m: chunk, n: d, k: n, alpha: c, a: weights.baseAddress!, lda: n, b: x.baseAddress!, ldb: d,
              transposeB: false, c: buffer.baseAddress!, ldc: d,
              slices: productSlices(parallelism: block.parallelism, columns: d))
          }
          initialized = chunk * d
        }
        for r in 0..<chunk {
          variations[dense[start + r]] = EuclideanVariation(
            weightedTargets: Array(sums[(r * d)..<((r + 1) * d)]), targetCurvature: totals[r])
        }
        start += chunk
      }
    }
    return variations
  }
}
