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

#include <stdint.h>
#include <string.h>

static inline double tli_fastlog(double x) {
  static const double ln2_hi = 6.93147180369123816490e-01;
  static const double ln2_lo = 1.90821492927058770002e-10;
  static const double lg1 = 6.666666666666735130e-01;
  static const double lg2 = 3.999999999940941908e-01;
  static const double lg3 = 2.857142874366239149e-01;
  static const double lg4 = 2.222219843214978396e-01;
  static const double lg5 = 1.818357216161805012e-01;
  static const double lg6 = 1.531383769920937332e-01;
  static const double lg7 = 1.479819860511658591e-01;
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
  const double t1 = w * (lg2 + w * (lg4 + w * lg6));
  const double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
  const double r = t2 + t1;
  return dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f);
}

/* log(a / b) for positive normal a and b, with one division and no
 * intermediate ratio (so it cannot overflow or underflow): with
 * a = 2^ea ma, b = 2^eb mb (mantissas in [1, 2)), move a factor 2 between
 * the exponent difference k and mb until t = ma/mb is in
 * [sqrt(2)/2, sqrt(2)], then log t = 2s + s R(s^2), s = (ma - mb)/(ma + mb),
 * R fdlibm's polynomial. ma - mb is exact (Sterbenz), so the result is
 * within a few ulp of log(a/b) also when a/b is close to 1. Out-of-range
 * inputs (0, subnormal, inf, NaN) give some finite value, as tli_fastlog. */
static inline double tli_fastlog_ratio(double a, double b) {
  static const double ln2_hi = 6.93147180369123816490e-01;
  static const double ln2_lo = 1.90821492927058770002e-10;
  static const double lg1 = 6.666666666666735130e-01;
  static const double lg2 = 3.999999999940941908e-01;
  static const double lg3 = 2.857142874366239149e-01;
  static const double lg4 = 2.222219843214978396e-01;
  static const double lg5 = 1.818357216161805012e-01;
  static const double lg6 = 1.531383769920937332e-01;
  static const double lg7 = 1.479819860511658591e-01;
  static const double sqrt2 = 1.41421356237309504880;
  const uint64_t mant = UINT64_C(0x000fffffffffffff);
  const uint64_t one = UINT64_C(0x3ff0000000000000);
  const uint64_t magic = UINT64_C(0x4330000000000000); /* 2^52 */
  uint64_t ab, bb;
  memcpy(&ab, &a, sizeof ab);
  memcpy(&bb, &b, sizeof bb);
  const uint64_t mab = (ab & mant) | one, mbb = (bb & mant) | one;
  const uint64_t eab = magic | ((ab >> 52) & 0x7ff);
  const uint64_t ebb = magic | ((bb >> 52) & 0x7ff);
  double ma, mb, ea, eb;
  memcpy(&ma, &mab, sizeof ma);
  memcpy(&mb, &mbb, sizeof mb);
  memcpy(&ea, &eab, sizeof ea);
  memcpy(&eb, &ebb, sizeof eb);
  /* Selects of constants only (then plain arithmetic): GCC if-converts
   * and vectorises them. */
  const double up = ma > mb * sqrt2 ? 2.0 : 1.0;
  const double down = ma * sqrt2 < mb ? 0.5 : 1.0;
  const double dk = (up - 1.0) - 2.0 * (1.0 - down);
  mb = mb * (up * down);
  const double k = (ea - eb) + dk;
  const double s = (ma - mb) / (ma + mb);
  const double z = s * s;
  const double w = z * z;
  const double r = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7))) +
                   w * (lg2 + w * (lg4 + w * lg6));
  return k * ln2_hi + (k * ln2_lo + (2.0 * s + s * r));
}

#endif
