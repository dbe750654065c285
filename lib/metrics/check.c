#include "metrics/check.h"

#include <float.h>
#include <math.h>

#include "core/error.h"

tl_status tli_check_finite(const char *fn, const char *name, const double *x,
                           size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return tli_fail(TL_E_NUMERIC, "%s: %s[%zu] is not finite (%g)", fn, name,
                      i, x[i]);
  return TL_OK;
}

/* Finds and reports the first bad value of w (the fast scan only knows
 * that there is one). */
static tl_status tli_report_bad_weight(const char *fn, const char *name,
                                       const double *w, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(w[i]))
      return tli_fail(TL_E_NUMERIC, "%s: %s[%zu] is not finite (%g)", fn, name,
                      i, w[i]);
    if (w[i] < 0.0)
      return tli_fail(TL_E_INVALID_ARG, "%s: %s[%zu] is negative (%g)", fn,
                      name, i, w[i]);
  }
  return tli_fail(TL_E_INTERNAL, "%s: %s has a bad value that vanished", fn,
                  name);
}

tl_status tli_check_weights(const char *fn, const char *name, const double *w,
                            size_t n, tli_wsum *out) {
  /* Branch-free and vectorisable: x - |x| is exactly 0 for every finite
   * x >= 0, negative for x < 0 and NaN for NaN or +-inf, so `bad` stays
   * exactly 0 unless some value is wrong (a sum of terms <= 0 cannot
   * cancel). Four lanes keep the FP add latency out of the way. */
  double s[4] = {0.0, 0.0, 0.0, 0.0}, bad[4] = {0.0, 0.0, 0.0, 0.0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t l = 0; l < 4; l++) {
      const double x = w[i + l];
      s[l] += x;
      bad[l] += x - fabs(x);
    }
  }
  for (; i < n; i++) {
    s[0] += w[i];
    bad[0] += w[i] - fabs(w[i]);
  }
  if (!((bad[0] + bad[1]) + (bad[2] + bad[3]) == 0.0))
    return tli_report_bad_weight(fn, name, w, n);
  const double sum = (s[0] + s[1]) + (s[2] + s[3]);
  if (!(sum > 0.0))
    return tli_fail(TL_E_INVALID_ARG, "%s: %s sums to 0 (all %zu zero)", fn,
                    name, n);
  if (isfinite(sum)) {
    *out = tli_wsum_of(sum);
    return TL_OK;
  }
  /* Finite values whose sum exceeds DBL_MAX: sum them again scaled by
   * 2^-64 (exact for every value that matters: those below 2^-958 are
   * under the rounding of a sum above 2^1024), then scale into [1, 2). */
  double s2 = 0.0;
  for (size_t j = 0; j < n; j++)
    s2 += w[j] * 0x1p-64;
  /* s2 > 0: the sum it scales down overflowed. */
  const int e = s2 > 0.0 ? ilogb(s2) : 0;
  out->sc = tli_scale_exp(-64 - e);
  out->sum = ldexp(s2, -e);
  return TL_OK;
}

tli_scale tli_scale_exp(int k) {
  tli_scale sc;
  sc.f1 = ldexp(1.0, k / 2);
  sc.f2 = ldexp(1.0, k - k / 2);
  return sc;
}

tli_scale tli_scale_range(double m, int lo_exp, int hi_exp) {
  const tli_scale id = {1.0, 1.0};
  if (m == 0.0 || (m >= ldexp(1.0, lo_exp) && m <= ldexp(1.0, hi_exp)))
    return id;
  /* m * 2^k in [1, 2); |k| <= 1074. */
  return tli_scale_exp(-ilogb(m));
}

tli_scale tli_scale_for(double s) { return tli_scale_range(s, -1021, 1021); }

double tli_max_abs(const double *x, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    m = fmax(m, fabs(x[i]));
  return m;
}

tl_status tli_check_base(const char *fn, double base, double *out_scale) {
  if (base == 0.0) {
    *out_scale = 1.0;
    return TL_OK;
  }
  if (!isfinite(base) || base <= 0.0 || base == 1.0)
    return tli_fail(TL_E_INVALID_ARG,
                    "%s: base must be 0 (natural log) or finite, > 0 and != 1 "
                    "(got %g)",
                    fn, base);
  *out_scale = 1.0 / log(base);
  return TL_OK;
}

tl_status tli_check_order(const char *fn, double p) {
  if (!(isfinite(p) && p >= 1.0))
    return tli_fail(TL_E_INVALID_ARG, "%s: p must be finite and >= 1 (got %g)",
                    fn, p);
  return TL_OK;
}
