// See include/CDAMKernels.h. Each kernel is written once as an always-inline body and
// instantiated with `__attribute__((target(...)))` for each x86-64 vector extension; a
// constructor picks the widest one the CPU supports.

#include "CDAMKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

// ----------------------------------------------------------------------------------- exp

// Cody-Waite reduction x = k ln 2 + r, |r| <= ln 2 / 2; a degree-13 Taylor polynomial for e^r
// (truncation below 4e-18 relative) by Horner's rule; 2^k assembled in the exponent bits as
// 2^(k >> 1) 2^(k - k >> 1), both factors normal for every k in [-1022, 1024]. Branch-free, so
// the loop vectorises. The same algorithm as the Swift fallback `_exp8` in the DAM module.
INLINE double exp_one(double x) {
  const double log2e = 1.4426950408889634;
  const double ln2_high = 0.693147180369123816490;
  const double ln2_low = 1.90821492927058770002e-10;
  const double shifter = 6755399441055744.0;  // 1.5 x 2^52: adding it rounds to an integer
  double c = x < -708.39 ? -708.39 : x;
  c = c > 709.79 ? 709.79 : c;
  double t = c * log2e + shifter;
  double k = t - shifter;
  double r = (c - k * ln2_high) - k * ln2_low;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t t_bits, shifter_bits;
  memcpy(&t_bits, &t, sizeof t);
  memcpy(&shifter_bits, &shifter, sizeof shifter);
  int64_t k_bits = t_bits - shifter_bits;
  int64_t half = k_bits >> 1;
  int64_t first_bits = (half + 1023) << 52;
  int64_t second_bits = (k_bits - half + 1023) << 52;
  double first, second;
  memcpy(&first, &first_bits, sizeof first);
  memcpy(&second, &second_bits, sizeof second);
  double y = p * first * second;
  y = x < -708.39 ? 0.0 : y;
  y = x > 709.78 ? INFINITY : y;
  y = x != x ? x : y;
  return y;
}

INLINE void exp_body(double *restrict values, long count) {
  for (long i = 0; i < count; i++) values[i] = exp_one(values[i]);
}

// ---------------------------------------------------------------------------------- gemv

// Products are memory-bound: no fused multiply-adds, so every extension rounds alike.
INLINE double sum8(const double s[8]) {
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

INLINE void gemv_rows_body(const double *restrict k, long ld, long rows, long columns,
                           const double *restrict x, double *restrict out) {
#pragma clang fp contract(off)
  long j = 0;
  for (; j + 4 <= rows; j += 4) {
    const double *a = k + j * ld, *b = a + ld, *c = b + ld, *d = c + ld;
    double sa[8] = {0}, sb[8] = {0}, sc[8] = {0}, sd[8] = {0};
    long t = 0;
    for (; t + 8 <= columns; t += 8) {
      for (int l = 0; l < 8; l++) {
        double xv = x[t + l];
        sa[l] += a[t + l] * xv;
        sb[l] += b[t + l] * xv;
        sc[l] += c[t + l] * xv;
        sd[l] += d[t + l] * xv;
      }
    }
    double ra = sum8(sa), rb = sum8(sb), rc = sum8(sc), rd = sum8(sd);
    for (; t < columns; t++) {
      ra += a[t] * x[t];
      rb += b[t] * x[t];
      rc += c[t] * x[t];
      rd += d[t] * x[t];
    }
    out[j] = ra;
    out[j + 1] = rb;
    out[j + 2] = rc;
    out[j + 3] = rd;
  }
  for (; j < rows; j++) {
    const double *a = k + j * ld;
    double sa[8] = {0};
    long t = 0;
    for (; t + 8 <= columns; t += 8)
      for (int l = 0; l < 8; l++) sa[l] += a[t + l] * x[t + l];
    double ra = sum8(sa);
    for (; t < columns; t++) ra += a[t] * x[t];
    out[j] = ra;
  }
}

// Columns in chunks that keep the partial sums in L1; within a chunk, rows four at a time.
INLINE void gemv_columns_body(const double *restrict k, long ld, long rows, long columns,
                              const double *restrict x, double *restrict out) {
#pragma clang fp contract(off)
  const long chunk = 1024;
  for (long lower = 0; lower < columns; lower += chunk) {
    long upper = lower + chunk < columns ? lower + chunk : columns;
    for (long t = lower; t < upper; t++) out[t] = 0;
    long j = 0;
    for (; j + 4 <= rows; j += 4) {
      const double *a = k + j * ld, *b = a + ld, *c = b + ld, *d = c + ld;
      double xa = x[j], xb = x[j + 1], xc = x[j + 2], xd = x[j + 3];
      for (long t = lower; t < upper; t++)
        out[t] = (((out[t] + xa * a[t]) + xb * b[t]) + xc * c[t]) + xd * d[t];
    }
    for (; j < rows; j++) {
      const double *a = k + j * ld;
      double xa = x[j];
      for (long t = lower; t < upper; t++) out[t] = out[t] + xa * a[t];
    }
  }
}

// ------------------------------------------------------------------------ soft-minimum

// Given the exponents of a row in `line` (overwritten), -epsilon (max + log sum exp(line - max)).
INLINE double softmin_finish(double *restrict line, long columns, double largest, double epsilon) {
  if (largest == -INFINITY) return INFINITY;
  double s[8] = {0};
  long k = 0;
  for (; k + 8 <= columns; k += 8)
    for (int l = 0; l < 8; l++) s[l] += exp_one(line[k + l] - largest);
  double sum = sum8(s);
  for (; k < columns; k++) sum += exp_one(line[k] - largest);
  return -epsilon * (largest + log(sum));
}

INLINE double max8(const double m[8]) {
  double a = m[0] > m[4] ? m[0] : m[4], b = m[1] > m[5] ? m[1] : m[5];
  double c = m[2] > m[6] ? m[2] : m[6], d = m[3] > m[7] ? m[3] : m[7];
  a = a > c ? a : c;
  b = b > d ? b : d;
  return a > b ? a : b;
}

INLINE void softmin_cost_body(double *restrict cost, long rows, long columns,
                              const double *restrict log_weights, const double *restrict potential,
                              double epsilon, double *restrict out) {
  const double inverse = 1 / epsilon;
  for (long j = 0; j < rows; j++) {
    double *line = cost + j * columns;
    double m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    long k = 0;
    for (; k + 8 <= columns; k += 8)
      for (int l = 0; l < 8; l++) {
        double value = log_weights[k + l] + (potential[k + l] - line[k + l]) * inverse;
        line[k + l] = value;
        m[l] = value > m[l] ? value : m[l];
      }
    double largest = max8(m);
    for (; k < columns; k++) {
      double value = log_weights[k] + (potential[k] - line[k]) * inverse;
      line[k] = value;
      largest = value > largest ? value : largest;
    }
    out[j] = softmin_finish(line, columns, largest, epsilon);
  }
}

INLINE void softmin_points_body(const double *restrict x, long dimension, const double *restrict y,
                                long rows, long columns, const double *restrict log_weights,
                                const double *restrict potential, double epsilon, double *restrict out,
                                double *restrict line) {
  const double inverse = 1 / epsilon;
  for (long j = 0; j < rows; j++) {
    const double *xj = x + j * dimension;
    for (long k = 0; k < columns; k++) line[k] = 0;
    for (long t = 0; t < dimension; t++) {
      const double coordinate = xj[t];
      const double *yt = y + t * columns;
      for (long k = 0; k < columns; k++) {
        double difference = coordinate - yt[k];
        line[k] += difference * difference;
      }
    }
    double m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    long k = 0;
    for (; k + 8 <= columns; k += 8)
      for (int l = 0; l < 8; l++) {
        double value = log_weights[k + l] + (potential[k + l] - line[k + l]) * inverse;
        line[k + l] = value;
        m[l] = value > m[l] ? value : m[l];
      }
    double largest = max8(m);
    for (; k < columns; k++) {
      double value = log_weights[k] + (potential[k] - line[k]) * inverse;
      line[k] = value;
      largest = value > largest ? value : largest;
    }
    out[j] = softmin_finish(line, columns, largest, epsilon);
  }
}

// -------------------------------------------------------------------- instantiation

#define INSTANTIATE(suffix, attribute)                                                          \
  attribute static void exp_##suffix(double *values, long count) { exp_body(values, count); }   \
  attribute static void gemv_rows_##suffix(const double *k, long ld, long rows, long columns,   \
                                           const double *x, double *out) {                      \
    gemv_rows_body(k, ld, rows, columns, x, out);                                               \
  }                                                                                             \
  attribute static void gemv_columns_##suffix(const double *k, long ld, long rows, long columns, \
                                              const double *x, double *out) {                   \
    gemv_columns_body(k, ld, rows, columns, x, out);                                            \
  }                                                                                             \
  attribute static void softmin_cost_##suffix(double *cost, long rows, long columns,            \
                                              const double *lw, const double *p, double eps,    \
                                              double *out) {                                    \
    softmin_cost_body(cost, rows, columns, lw, p, eps, out);                                    \
  }                                                                                             \
  attribute static void softmin_points_##suffix(const double *x, long d, const double *y,       \
                                                long rows, long columns, const double *lw,      \
                                                const double *p, double eps, double *out,       \
                                                double *scratch) {                              \
    softmin_points_body(x, d, y, rows, columns, lw, p, eps, out, scratch);                      \
  }

INSTANTIATE(baseline, )

typedef void (*exp_function)(double *, long);
typedef void (*gemv_function)(const double *, long, long, long, const double *, double *);

static exp_function selected_exp = exp_baseline;
static gemv_function selected_gemv_rows = gemv_rows_baseline;
static gemv_function selected_gemv_columns = gemv_columns_baseline;
static void (*selected_softmin_cost)(double *, long, long, const double *, const double *, double,
                                     double *) = softmin_cost_baseline;
static void (*selected_softmin_points)(const double *, long, const double *, long, long, const double *,
                                       const double *, double, double *, double *) = softmin_points_baseline;
static const char *selected_isa = "baseline";

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
INSTANTIATE(avx2, __attribute__((target("avx2,fma"))))
INSTANTIATE(avx512, __attribute__((target("avx512f"))))

__attribute__((constructor)) static void dam_kernels_select(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    selected_exp = exp_avx512;
    selected_gemv_rows = gemv_rows_avx512;
    selected_gemv_columns = gemv_columns_avx512;
    selected_softmin_cost = softmin_cost_avx512;
    selected_softmin_points = softmin_points_avx512;
    selected_isa = "avx512f";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    selected_exp = exp_avx2;
    selected_gemv_rows = gemv_rows_avx2;
    selected_gemv_columns = gemv_columns_avx2;
    selected_softmin_cost = softmin_cost_avx2;
    selected_softmin_points = softmin_points_avx2;
    selected_isa = "avx2+fma";
  }
}
#endif

void dam_exp(double *values, long count) { selected_exp(values, count); }

void dam_gemv_rows(const double *k, long ld, long rows, long columns, const double *x, double *out) {
  selected_gemv_rows(k, ld, rows, columns, x, out);
}

void dam_gemv_columns(const double *k, long ld, long rows, long columns, const double *x, double *out) {
  selected_gemv_columns(k, ld, rows, columns, x, out);
}

void dam_softmin_cost(double *cost, long rows, long columns, const double *log_weights,
                      const double *potential, double epsilon, double *out) {
  selected_softmin_cost(cost, rows, columns, log_weights, potential, epsilon, out);
}

void dam_softmin_points(const double *x, long dimension, const double *y, long rows, long columns,
                        const double *log_weights, const double *potential, double epsilon,
                        double *out, double *scratch) {
  selected_softmin_points(x, dimension, y, rows, columns, log_weights, potential, epsilon, out, scratch);
}

const char *dam_kernels_isa(void) { return selected_isa; }
