/* The vectorised passes behind KL and JS (see logsums.h). Each pass is one
 * always-inlined body over TLI_LANES independent accumulators, which GCC
 * turns into vector code (also at -O2), compiled once per instruction set:
 * the baseline, and on x86-64 AVX2 + FMA and AVX-512 (twice and four times
 * the SSE2 width; the FMAs also save about a quarter of the log's
 * operations). At 1e6 bins the inputs (2 x 8 MB) stay in the last-level
 * cache, so the passes are bound by arithmetic, not memory: every
 * operation per bin counts, hence the validation by sums and counts
 * instead of per-value branches. */
#include "metrics/logsums.h"

#include <float.h>
#include <math.h>

#include "metrics/fastlog.h"

#if defined(__GNUC__)
#define TLI_BODY static inline __attribute__((always_inline))
#else
#define TLI_BODY static inline
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define TLI_X86_ISAS 1
#define TLI_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TLI_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif

/* Independent accumulators per sum: one AVX-512 register, two AVX2 or
 * four SSE2 ones, enough to hide the add latency. */
#ifndef TLI_LANES
#define TLI_LANES 8
#endif
#ifndef TLI_PAIR_LANES
#define TLI_PAIR_LANES 16
#endif

tli_isa tli_isa_best(void) {
#ifdef TLI_X86_ISAS
  /* Idempotent; needed when called before libgcc's constructor has run
   * (from another constructor of a static link). */
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    if (__builtin_cpu_supports("avx512f"))
      return TLI_ISA_AVX512;
    return TLI_ISA_AVX2;
  }
#endif
  return TLI_ISA_BASE;
}

/* The lanes a[0..lanes) added pairwise in a fixed order (reproducible);
 * lanes is a power of 2. Overwrites a. */
TLI_BODY double tli_lanes_sum(double *a, size_t lanes) {
  for (size_t w = lanes / 2; w > 0; w /= 2)
    for (size_t l = 0; l < w; l++)
      a[l] += a[l + w];
  return a[0];
}

/* ---------------------------------------------------------------------- */
/* KL: sum p, sum q and sum p log(p/q) in one pass.                         */

TLI_BODY void tli_kl_bin(double x, double y, double *s, double *sp, double *sq,
                         double *bad, int fused) {
  /* Counts the bins the fast log cannot take: min(x, y) < DBL_MIN means
   * some value is negative, 0 or subnormal, which is fine only for x = 0
   * (its term is 0 * finite) with y >= 0. NaN and inf make sp or sq
   * non-finite instead. Selects of constants only: GCC keeps this
   * vectorised. */
  const double m = x < y ? x : y;
  *bad += ((m < DBL_MIN) & ((x != 0.0) | (y < 0.0))) ? 1.0 : 0.0;
  *s = tli_madd(x, tli_fastlog_ratio_impl(x, y, fused), *s, fused);
  *sp += x;
  *sq += y;
}

TLI_BODY int tli_kl_body(const double *p, const double *q, size_t n,
                         double *out_sp, double *out_sq, double *out_s,
                         int fused) {
  double s[TLI_LANES] = {0}, sp[TLI_LANES] = {0}, sq[TLI_LANES] = {0};
  double bad[TLI_LANES] = {0};
  size_t i = 0;
  for (; i + TLI_LANES <= n; i += TLI_LANES)
    for (size_t l = 0; l < TLI_LANES; l++)
      tli_kl_bin(p[i + l], q[i + l], &s[l], &sp[l], &sq[l], &bad[l], fused);
  for (; i < n; i++)
    tli_kl_bin(p[i], q[i], &s[0], &sp[0], &sq[0], &bad[0], fused);
  const double sum_p = tli_lanes_sum(sp, TLI_LANES),
               sum_q = tli_lanes_sum(sq, TLI_LANES);
  *out_sp = sum_p;
  *out_sq = sum_q;
  *out_s = tli_lanes_sum(s, TLI_LANES);
  return tli_lanes_sum(bad, TLI_LANES) == 0.0 && isfinite(sum_p) &&
         isfinite(sum_q);
}

/* ---------------------------------------------------------------------- */
/* Validation sums of a pair.                                               */

TLI_BODY void tli_pair_bin(double x, double y, double *sp, double *sq,
                           double *bad) {
  /* A negative value makes the minimum negative; NaN and inf make a sum
   * non-finite. */
  const double m = x < y ? x : y;
  *bad += m < 0.0 ? 1.0 : 0.0;
  *sp += x;
  *sq += y;
}

TLI_BODY int tli_pair_body(const double *p, const double *q, size_t n,
                           double *out_sp, double *out_sq) {
  double sp[TLI_PAIR_LANES] = {0}, sq[TLI_PAIR_LANES] = {0},
         bad[TLI_PAIR_LANES] = {0};
  size_t i = 0;
  for (; i + TLI_PAIR_LANES <= n; i += TLI_PAIR_LANES)
    for (size_t l = 0; l < TLI_PAIR_LANES; l++)
      tli_pair_bin(p[i + l], q[i + l], &sp[l], &sq[l], &bad[l]);
  for (; i < n; i++)
    tli_pair_bin(p[i], q[i], &sp[0], &sq[0], &bad[0]);
  const double sum_p = tli_lanes_sum(sp, TLI_PAIR_LANES),
               sum_q = tli_lanes_sum(sq, TLI_PAIR_LANES);
  *out_sp = sum_p;
  *out_sq = sum_q;
  return tli_lanes_sum(bad, TLI_PAIR_LANES) == 0.0 && isfinite(sum_p) &&
         isfinite(sum_q);
}

/* ---------------------------------------------------------------------- */
/* JS: sum x log(2x/s) + y log(2y/s), s = x + y.                            */

TLI_BODY void tli_js_bin(double p, double q, double ip, double iq, double *acc,
                         double *bad, int fused) {
  /* A zero x zeroes its half (0 * finite), and the other half is then
   * y log(2y/y) = y ln 2 exactly; two zeros add 0. Both logs share the
   * reduction of s (the compiler sees the same operations). */
  const double x = p * ip, y = q * iq, s = x + y;
  *bad +=
      (((x > 0.0) & (x < DBL_MIN)) | ((y > 0.0) & (y < DBL_MIN))) ? 1.0 : 0.0;
  *acc = tli_madd(x, tli_fastlog_ratio_impl(x + x, s, fused), *acc, fused);
  *acc = tli_madd(y, tli_fastlog_ratio_impl(y + y, s, fused), *acc, fused);
}

TLI_BODY int tli_js_body(const double *p, const double *q, size_t n, double ip,
                         double iq, double *out_sum, int fused) {
  double acc[TLI_LANES] = {0}, bad[TLI_LANES] = {0};
  size_t i = 0;
  for (; i + TLI_LANES <= n; i += TLI_LANES)
    for (size_t l = 0; l < TLI_LANES; l++)
      tli_js_bin(p[i + l], q[i + l], ip, iq, &acc[l], &bad[l], fused);
  for (; i < n; i++)
    tli_js_bin(p[i], q[i], ip, iq, &acc[0], &bad[0], fused);
  *out_sum = tli_lanes_sum(acc, TLI_LANES);
  return tli_lanes_sum(bad, TLI_LANES) == 0.0;
}

/* ---------------------------------------------------------------------- */
/* One function per pass and instruction set, and the dispatch.            */

static int tli_kl_base(const double *p, const double *q, size_t n, double *sp,
                       double *sq, double *s) {
  return tli_kl_body(p, q, n, sp, sq, s, 0);
}

static int tli_pair_base(const double *p, const double *q, size_t n, double *sp,
                         double *sq) {
  return tli_pair_body(p, q, n, sp, sq);
}

static int tli_js_base(const double *p, const double *q, size_t n, double ip,
                       double iq, double *sum) {
  return tli_js_body(p, q, n, ip, iq, sum, 0);
}

#ifdef TLI_X86_ISAS
TLI_TARGET_AVX2 static int tli_kl_avx2(const double *p, const double *q,
                                       size_t n, double *sp, double *sq,
                                       double *s) {
  return tli_kl_body(p, q, n, sp, sq, s, 1);
}

TLI_TARGET_AVX512 static int tli_kl_avx512(const double *p, const double *q,
                                           size_t n, double *sp, double *sq,
                                           double *s) {
  return tli_kl_body(p, q, n, sp, sq, s, 1);
}

TLI_TARGET_AVX2 static int tli_pair_avx2(const double *p, const double *q,
                                         size_t n, double *sp, double *sq) {
  return tli_pair_body(p, q, n, sp, sq);
}

TLI_TARGET_AVX512 static int tli_pair_avx512(const double *p, const double *q,
                                             size_t n, double *sp, double *sq) {
  return tli_pair_body(p, q, n, sp, sq);
}

TLI_TARGET_AVX2 static int tli_js_avx2(const double *p, const double *q,
                                       size_t n, double ip, double iq,
                                       double *sum) {
  return tli_js_body(p, q, n, ip, iq, sum, 1);
}

TLI_TARGET_AVX512 static int tli_js_avx512(const double *p, const double *q,
                                           size_t n, double ip, double iq,
                                           double *sum) {
  return tli_js_body(p, q, n, ip, iq, sum, 1);
}
#endif

int tli_kl_pass(tli_isa isa, const double *p, const double *q, size_t n,
                double *sp, double *sq, double *s) {
  switch (isa) {
#ifdef TLI_X86_ISAS
  case TLI_ISA_AVX512: return tli_kl_avx512(p, q, n, sp, sq, s);
  case TLI_ISA_AVX2: return tli_kl_avx2(p, q, n, sp, sq, s);
#endif
  default: return tli_kl_base(p, q, n, sp, sq, s);
  }
}

int tli_pair_sums(tli_isa isa, const double *p, const double *q, size_t n,
                  double *sp, double *sq) {
  switch (isa) {
#ifdef TLI_X86_ISAS
  case TLI_ISA_AVX512: return tli_pair_avx512(p, q, n, sp, sq);
  case TLI_ISA_AVX2: return tli_pair_avx2(p, q, n, sp, sq);
#endif
  default: return tli_pair_base(p, q, n, sp, sq);
  }
}

int tli_js_pass(tli_isa isa, const double *p, const double *q, size_t n,
                double ip, double iq, double *sum) {
  switch (isa) {
#ifdef TLI_X86_ISAS
  case TLI_ISA_AVX512: return tli_js_avx512(p, q, n, ip, iq, sum);
  case TLI_ISA_AVX2: return tli_js_avx2(p, q, n, ip, iq, sum);
#endif
  default: return tli_js_base(p, q, n, ip, iq, sum);
  }
}
