/* Combining source models by domain similarity: weights from divergences
 * and the weighted average of several models' class probabilities. */
#include <math.h>

#include "core/error.h"
#include "select_internal.h"
#include "tl/transfer.h"

/* Checks the divergences for `mode` and returns the smallest one in *out_min
 * (+inf when all are +inf). */
static tl_status check_divergences(double *out_min, const double *d, size_t n,
                                   tl_source_weighting mode, double param) {
  static const char fn[] = "tl_source_weights";
  double dmin = INFINITY;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(!isnan(d[i]) && d[i] != -INFINITY, TL_E_INVALID_ARG,
              "%s: divergences[%zu] is %g (NaN and -inf have no weight)", fn, i,
              d[i]);
    if (mode == TL_SOURCE_WEIGHTS_INVERSE)
      TLI_CHECK(d[i] >= 0, TL_E_INVALID_ARG,
                "%s: divergences[%zu] = %g is negative (inverse weights need "
                "d >= 0)",
                fn, i, d[i]);
    if (mode == TL_SOURCE_WEIGHTS_LINEAR)
      TLI_CHECK(d[i] <= param, TL_E_INVALID_ARG,
                "%s: divergences[%zu] = %g exceeds the bound param = %g", fn, i,
                d[i], param);
    dmin = d[i] < dmin ? d[i] : dmin;
  }
  TLI_CHECK(mode == TL_SOURCE_WEIGHTS_LINEAR || isfinite(dmin),
            TL_E_INVALID_ARG, "%s: every divergence is +inf", fn);
  *out_min = dmin;
  return TL_OK;
}

tl_status tl_source_weights(double *out, const double *divergences, size_t n,
                            tl_source_weighting mode, double param) {
  static const char fn[] = "tl_source_weights";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, divergences);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n is 0", fn);
  TLI_CHECK(mode >= TL_SOURCE_WEIGHTS_SOFTMAX &&
                mode <= TL_SOURCE_WEIGHTS_LINEAR,
            TL_E_INVALID_ARG, "%s: mode %d is not a tl_source_weighting", fn,
            (int)mode);
  if (mode == TL_SOURCE_WEIGHTS_SOFTMAX)
    TLI_CHECK(isfinite(param) && param > 0, TL_E_INVALID_ARG,
              "%s: the temperature (param) must be finite and > 0 (got %g)", fn,
              param);
  if (mode == TL_SOURCE_WEIGHTS_LINEAR)
    TLI_CHECK(isfinite(param), TL_E_INVALID_ARG,
              "%s: the bound (param) must be finite (got %g)", fn, param);
  double dmin = 0.0;
  TLI_TRY(check_divergences(&dmin, divergences, n, mode, param));
  const double *d = divergences;
  double sum = 0.0;
  if (mode == TL_SOURCE_WEIGHTS_SOFTMAX) {
    /* Shifted by the smallest divergence: that source's term is exp(0) = 1,
     * so the sum is >= 1 and nothing overflows. */
    for (size_t i = 0; i < n; i++) {
      out[i] = exp(-(d[i] - dmin) / param);
      sum += out[i];
    }
  } else if (mode == TL_SOURCE_WEIGHTS_INVERSE) {
    /* dmin / d_i <= 1 instead of 1 / d_i, which overflows for subnormal d;
     * with dmin = 0 the limit is equal shares among the zeros. */
    for (size_t i = 0; i < n; i++) {
      out[i] = dmin == 0 ? (double)(d[i] == 0) : dmin / d[i];
      sum += out[i];
    }
  } else {
    /* Summed before anything is written: param - d can overflow for
     * finite d far below a large bound, and a failing call writes nothing. */
    for (size_t i = 0; i < n; i++)
      sum += param - d[i];
    TLI_CHECK(isfinite(sum), TL_E_NUMERIC,
              "%s: the similarities param - d overflow (param %g)", fn, param);
    /* Every source at the bound: no source is more similar than another. */
    for (size_t i = 0; i < n; i++)
      out[i] = sum == 0 ? 1.0 / (double)n : param - d[i];
    if (sum == 0)
      return TL_OK;
  }
  for (size_t i = 0; i < n; i++)
    out[i] /= sum;
  return TL_OK;
}

tl_status tl_ensemble_average(double *out, const double *const *probs,
                              const double *weights, size_t k, size_t n,
                              size_t c) {
  static const char fn[] = "tl_ensemble_average";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, probs);
  TLI_CHECK(k > 0 && n > 0 && c > 0, TL_E_INVALID_ARG,
            "%s: k (%zu), n (%zu) and c (%zu) must be > 0", fn, k, n, c);
  double wsum = 0.0;
  for (size_t m = 0; m < k; m++) {
    TLI_CHECK(probs[m] != NULL, TL_E_INVALID_ARG, "%s: probs[%zu] is NULL", fn,
              m);
    if (weights) {
      TLI_CHECK(isfinite(weights[m]) && weights[m] >= 0, TL_E_INVALID_ARG,
                "%s: weights[%zu] must be finite and >= 0 (got %g)", fn, m,
                weights[m]);
      wsum += weights[m];
    }
  }
  TLI_CHECK(!weights || (wsum > 0 && isfinite(wsum)), TL_E_INVALID_ARG,
            "%s: the weights sum to %g (must be finite and > 0)", fn, wsum);
  for (size_t m = 0; m < k; m++)
    TLI_TRY(tli_check_prob_rows(fn, m, probs[m], n, c));
  for (size_t e = 0; e < n * c; e++)
    out[e] = 0.0;
  for (size_t m = 0; m < k; m++) {
    const double w = weights ? weights[m] / wsum : 1.0 / (double)k;
    for (size_t e = 0; e < n * c; e++)
      out[e] += w * probs[m][e];
  }
  return TL_OK;
}
