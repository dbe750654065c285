#include "metrics/check.h"

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

tl_status tli_check_weights(const char *fn, const char *name, const double *w,
                            size_t n, double *out_sum) {
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(w[i]))
      return tli_fail(TL_E_NUMERIC, "%s: %s[%zu] is not finite (%g)", fn, name,
                      i, w[i]);
    if (w[i] < 0.0)
      return tli_fail(TL_E_INVALID_ARG, "%s: %s[%zu] is negative (%g)", fn,
                      name, i, w[i]);
    sum += w[i];
  }
  if (!(sum > 0.0))
    return tli_fail(TL_E_INVALID_ARG, "%s: %s sums to 0 (all %zu zero)", fn,
                    name, n);
  if (!isfinite(sum))
    return tli_fail(TL_E_NUMERIC, "%s: the sum of %s overflows", fn, name);
  *out_sum = sum;
  return TL_OK;
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
