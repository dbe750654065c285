/* L2 soft parameter sharing between matching parameters of two models. */
#include <math.h>

#include "core/error.h"
#include "tl/transfer.h"

tl_status tl_soft_share_l2(double *out_penalty, tl_model *a,
                           const char *const *names_a, tl_model *b,
                           const char *const *names_b, size_t n,
                           double lambda) {
  static const char fn[] = "tl_soft_share_l2";
  TLI_CHECK_PTR(fn, out_penalty);
  TLI_CHECK_PTR(fn, a);
  TLI_CHECK_PTR(fn, names_a);
  TLI_CHECK_PTR(fn, b);
  TLI_CHECK_PTR(fn, names_b);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n is 0", fn);
  TLI_CHECK(isfinite(lambda) && lambda >= 0, TL_E_INVALID_ARG,
            "%s: lambda must be finite and >= 0 (got %g)", fn, lambda);
  /* Every pair is checked and the penalty computed before any gradient
   * changes, so a failure leaves both models as they were. */
  double penalty = 0.0;
  for (size_t k = 0; k < n; k++) {
    TLI_CHECK(names_a[k] && names_b[k], TL_E_INVALID_ARG,
              "%s: names_a[%zu] or names_b[%zu] is NULL", fn, k, k);
    size_t nda, ndb, na, nb, da[TL_MODEL_MAX_DIMS], db[TL_MODEL_MAX_DIMS];
    if (tl_model_param_shape(&nda, da, &na, a, names_a[k]) != TL_OK)
      return tli_fail(TL_E_NOT_FOUND, "%s: model a has no parameter '%s'", fn,
                      names_a[k]);
    if (tl_model_param_shape(&ndb, db, &nb, b, names_b[k]) != TL_OK)
      return tli_fail(TL_E_NOT_FOUND, "%s: model b has no parameter '%s'", fn,
                      names_b[k]);
    int same = nda == ndb;
    for (size_t d = 0; same && d < nda; d++)
      same = da[d] == db[d];
    TLI_CHECK(same, TL_E_SHAPE,
              "%s: '%s' (%zu elements) and '%s' (%zu elements) differ in "
              "shape",
              fn, names_a[k], na, names_b[k], nb);
    float *pa, *pb;
    tl_model_param_view(&pa, NULL, a, names_a[k]);
    tl_model_param_view(&pb, NULL, b, names_b[k]);
    double s = 0.0;
    for (size_t i = 0; i < na; i++) {
      const double d = (double)pa[i] - (double)pb[i];
      s += d * d;
    }
    penalty += lambda * s;
  }
  TLI_CHECK(isfinite(penalty), TL_E_NUMERIC,
            "%s: the penalty is not finite (parameters too far apart or not "
            "finite); no gradient added",
            fn);
  for (size_t k = 0; k < n; k++) {
    float *pa, *ga, *pb, *gb;
    size_t nd, dims[TL_MODEL_MAX_DIMS], numel;
    tl_model_param_shape(&nd, dims, &numel, a, names_a[k]);
    tl_model_param_view(&pa, &ga, a, names_a[k]);
    tl_model_param_view(&pb, &gb, b, names_b[k]);
    for (size_t i = 0; i < numel; i++) {
      const float g = (float)(2.0 * lambda * ((double)pa[i] - (double)pb[i]));
      ga[i] += g;
      gb[i] -= g;
    }
  }
  *out_penalty = penalty;
  return TL_OK;
}
