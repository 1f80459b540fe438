import CDAMKernels

/// Replaces each of `count` values at `values` by its exponential, for the solvers' inner loops
/// (kernel rebuilds, soft-minima).
///
/// The work is done by `dam_exp` in the C target `CDAMKernels`: Cody-Waite reduction
/// `x = k ln 2 + r` with `|r| <= ln 2 / 2`, a degree-13 Taylor polynomial for `eʳ` (truncation
/// below `4e-18` relative) and `2ᵏ` assembled in the exponent bits, branch-free so that it
/// vectorises; compiled for AVX-512, AVX2 + FMA and the SSE2 baseline, the widest the CPU supports
/// chosen at load time (``_vectorExtension``). Measured error against the C library's `exp`: at
/// most 2 ulp on `[-708, 709]` (see `VectorExpTests`). Results below `2⁻¹⁰²²` (inputs below
/// about `-708.39`) are flushed to 0, which no sum of kernel entries can notice; inputs above
/// `709.78` give `+∞`, NaN gives NaN.
@_spi(Testing) public func _expInPlace(_ values: UnsafeMutablePointer<Double>, count: Int) {
  dam_exp(values, count)
}

/// The vector extension the C kernels run on here: `"avx512f"`, `"avx2+fma"` or `"baseline"`.
@_spi(Testing) public var _vectorExtension: String { String(cString: dam_kernels_isa()) }
