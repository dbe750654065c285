/* Internal: a branch-free natural logarithm for positive normal doubles,
 * so the compiler can vectorise loops of logs (a libm call cannot be).
 * The algorithm and coefficients are fdlibm's e_log.c (Sun, 1993): reduce
 * x = 2^k m with m in [sqrt(2)/2, sqrt(2)), then
 * log(m) = f - f^2/2 + s (f^2/2 + R(s^2)), f = m - 1, s = f / (2 + f),
 * with a degree-14 minimax R; error < 1 ulp for x finite, > 0 and normal
 * (>= DBL_MIN). Any other input (0, subnormal, inf, NaN) gives some finite
 * value, never inf or NaN, so 0 * tli_fastlog(anything) is 0: callers test
 * the range separately and redo out-of-range elements with libm. */
#ifndef TLI_METRICS_FASTLOG_H
#define TLI_METRICS_FASTLOG_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* fdlibm's log: ln 2 split in two for exact range reduction, and the
 * minimax coefficients of log((1+s)/(1-s)) in s^2. */
#define TLI_LOG_LN2_HI 6.93147180369123816490e-01
#define TLI_LOG_LN2_LO 1.90821492927058770002e-10
#define TLI_LOG_LG1 6.666666666666735130e-01
#define TLI_LOG_LG2 3.999999999940941908e-01
#define TLI_LOG_LG3 2.857142874366239149e-01
#define TLI_LOG_LG4 2.222219843214978396e-01
#define TLI_LOG_LG5 1.818357216161805012e-01
#define TLI_LOG_LG6 1.531383769920937332e-01
#define TLI_LOG_LG7 1.479819860511658591e-01

static inline double tli_fastlog(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  /* Subtracting the bits of sqrt(2)/2 puts m in [sqrt(2)/2, sqrt(2)) with
   * one integer operation (musl's trick) instead of a compare. */
  const uint64_t off = UINT64_C(0x3fe6a09e667f3bcd);
  const uint64_t t = bits - off;
  const uint64_t mb = (t & UINT64_C(0x000fffffffffffff)) + off;
  double m;
  memcpy(&m, &mb, sizeof m);
  /* k = the top 12 bits of t, a signed number. Adding it to the bits of
   * 1.5 * 2^52 and subtracting that value converts it to double exactly,
   * without int64 -> double or compares, which SSE2 cannot vectorise. */
  const uint64_t k = ((t >> 52) ^ 0x800) - 0x800; /* sign-extended, mod 2^64 */
  const uint64_t kb = UINT64_C(0x4338000000000000) + k;
  double dk;
  memcpy(&dk, &kb, sizeof dk);
  dk -= 6755399441055744.0; /* 1.5 * 2^52 */
  const double f = m - 1.0;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (TLI_LOG_LG2 + w * (TLI_LOG_LG4 + w * TLI_LOG_LG6));
  const double t2 =
      z *
      (TLI_LOG_LG1 + w * (TLI_LOG_LG3 + w * (TLI_LOG_LG5 + w * TLI_LOG_LG7)));
  const double r = t2 + t1;
  return dk * TLI_LOG_LN2_HI -
         ((hfsq - (s * (hfsq + r) + dk * TLI_LOG_LN2_LO)) - f);
}

/* a * b + c, with one rounding when `fused`. Callers pass a constant, and 1
 * only in functions compiled for FMA hardware, where fma() is one
 * instruction (elsewhere it is a slow library call). */
static inline double tli_madd(double a, double b, double c, int fused) {
  return fused ? fma(a, b, c) : a * b + c;
}

/* log(a / b) for positive normal a and b, with one division and no
 * intermediate ratio (so it cannot overflow or underflow): write
 * a = 2^ea ma with ma in [1, 2) and b = 2^eb mb with mb in
 * [sqrt(2)/2, sqrt(2)); then t = ma/mb is in (sqrt(2)/2, 2 sqrt(2)), and
 * doubling mb (k = ea - eb + 1) when t > sqrt(2) puts it in
 * (sqrt(2)/2, sqrt(2)]. log t = 2s + s R(s^2), s = (ma - mb)/(ma + mb), R
 * fdlibm's polynomial. ma - mb is exact (Sterbenz), so the result is within
 * a few ulp of log(a/b) also when a/b is close to 1. Out-of-range inputs
 * (0, subnormal, negative, inf, NaN) give some finite value, as
 * tli_fastlog. With `fused` (see tli_madd) the polynomial and the final sum
 * use FMAs: fewer operations, the same bound. Integer tricks instead of
 * compares and selects keep the loops that inline this vectorised by GCC
 * for SSE2 and AVX2 (an integer select on a double compare, or a
 * multiplication on one branch, stops it there). */
static inline double tli_fastlog_ratio_impl(double a, double b, int fused) {
  static const double sqrt2 = 1.41421356237309504880;
  const uint64_t mant = UINT64_C(0x000fffffffffffff);
  const uint64_t one = UINT64_C(0x3ff0000000000000);
  /* The bits of sqrt(2)/2: subtracting them moves b's mantissa window to
   * [sqrt(2)/2, sqrt(2)) (musl's trick); adding one's bits back keeps the
   * exponent field of ub non-negative (it is eb + 1023). */
  const uint64_t off = UINT64_C(0x3fe6a09e667f3bcd);
  uint64_t ab, bb;
  memcpy(&ab, &a, sizeof ab);
  memcpy(&bb, &b, sizeof bb);
  const uint64_t mab = (ab & mant) | one;
  const uint64_t ub = bb + (one - off);
  uint64_t mbb = (ub & mant) + off;
  double ma, mb;
  memcpy(&ma, &mab, sizeof ma);
  memcpy(&mb, &mbb, sizeof mb);
  /* up = 1 when t > sqrt(2): the sign bit of mb sqrt(2) - ma. */
  const double d = mb * sqrt2 - ma;
  uint64_t db;
  memcpy(&db, &d, sizeof db);
  const uint64_t up = db >> 63;
  mbb += up << 52;
  memcpy(&mb, &mbb, sizeof mb);
  /* k = ea - eb + up as a double without an int64 -> double conversion
   * (SSE2 and AVX2 have none): the signed difference added to the bits of
   * 1.5 * 2^52 (mod 2^64), minus that value. */
  const uint64_t kb =
      UINT64_C(0x4338000000000000) + ((ab >> 52) - (ub >> 52)) + up;
  double k;
  memcpy(&k, &kb, sizeof k);
  k -= 6755399441055744.0; /* 1.5 * 2^52 */
  const double s = (ma - mb) / (ma + mb);
  const double z = s * s;
  const double w = z * z;
  const double t1 =
      w * tli_madd(w, tli_madd(w, TLI_LOG_LG6, TLI_LOG_LG4, fused), TLI_LOG_LG2,
                   fused);
  const double r = tli_madd(
      z,
      tli_madd(w,
               tli_madd(w, tli_madd(w, TLI_LOG_LG7, TLI_LOG_LG5, fused),
                        TLI_LOG_LG3, fused),
               TLI_LOG_LG1, fused),
      t1, fused);
  return tli_madd(
      k, TLI_LOG_LN2_HI,
      tli_madd(k, TLI_LOG_LN2_LO, tli_madd(s, r, 2.0 * s, fused), fused),
      fused);
}

/* tli_fastlog_ratio_impl without FMAs: for any caller. */
static inline double tli_fastlog_ratio(double a, double b) {
  return tli_fastlog_ratio_impl(a, b, 0);
}

#endif
