// Inner loops of the DAM solvers, compiled once per x86-64 vector extension (AVX-512, AVX2 + FMA,
// and the SSE2 baseline) and chosen at load time from the CPU's features, so the package needs no
// compiler flags and still runs at the machine's vector width. On other architectures the baseline
// code is the only one. Swift calls these through the DAM module's internal wrappers; they are not
// part of the public API.

#ifndef CDAMKERNELS_H
#define CDAMKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Replaces each of `count` doubles at `values` by its exponential: at most 2 ulp from the
/// correctly rounded value on [-708.39, 709.78]; 0 below (results under 2^-1022 are flushed),
/// +infinity above, NaN for NaN.
void dam_exp(double *values, long count);

/// `out[j] = sum_t k[j * ld + t] * x[t]` for `j < rows`, `t < columns` (a row-major matrix
/// times a vector). The summation order is fixed (eight interleaved partial sums, then a fixed
/// tree), the same on every vector extension.
void dam_gemv_rows(const double *k, long ld, long rows, long columns, const double *x, double *out);

/// `out[t] = sum_j x[j] * k[j * ld + t]` for `t < columns`, `j < rows` (the transposed
/// product), each `out[t]` accumulated over `j` in increasing order, the same on every vector
/// extension.
void dam_gemv_columns(const double *k, long ld, long rows, long columns, const double *x, double *out);

/// The soft-minimum of each row of a cost: `out[j] = -epsilon log sum_k exp(log_weights[k] +
/// (potential[k] - cost[j * columns + k]) / epsilon)` for `j < rows`, with `+infinity` for a row
/// whose every term is zero. `cost` (row-major `rows x columns`) is overwritten. Exponentials are
/// shifted by the row's largest exponent; the sum uses eight interleaved partial sums and a fixed
/// tree, so a row's result does not depend on how rows are split between threads.
void dam_softmin_cost(double *cost, long rows, long columns, const double *log_weights,
                      const double *potential, double epsilon, double *out);

/// The same soft-minimum with the squared-distance cost `sum_t (x[j * dimension + t] -
/// y[t * columns + k])^2` formed on the fly (`y` coordinate-major), for small dimensions.
/// `scratch` holds `columns` doubles.
void dam_softmin_points(const double *x, long dimension, const double *y, long rows, long columns,
                        const double *log_weights, const double *potential, double epsilon,
                        double *out, double *scratch);

/// The name of the vector extension the kernels run on: "avx512f", "avx2+fma" or "baseline".
const char *dam_kernels_isa(void);

#ifdef __cplusplus
}
#endif

#endif
