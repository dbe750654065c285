/* Trace-norm (nuclear-norm) soft sharing of matching parameters across
 * several models (Yang & Hospedales 2017). */
#include <float.h>
#include <math.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "tl/transfer.h"

/* Checks every name and that each slot's parameters share one shape;
 * *out_max_p gets the largest slot size and *out_total the sum of sizes. */
static tl_status check_slots(size_t *out_max_p, size_t *out_total,
                             tl_model *const *models, const char *const *names,
                             size_t nm, size_t np) {
  static const char fn[] = "tl_soft_share_trace";
  size_t max_p = 0, total = 0;
  for (size_t k = 0; k < np; k++) {
    size_t nd0 = 0, d0[TL_MODEL_MAX_DIMS], p0 = 0;
    for (size_t m = 0; m < nm; m++) {
      const char *name = names[m * np + k];
      TLI_CHECK(name != NULL, TL_E_INVALID_ARG,
                "%s: names[%zu] (model %zu, slot %zu) is NULL", fn, m * np + k,
                m, k);
      size_t nd, d[TL_MODEL_MAX_DIMS], p;
      if (tl_model_param_shape(&nd, d, &p, models[m], name) != TL_OK)
        return tli_fail(TL_E_NOT_FOUND, "%s: model %zu has no parameter '%s'",
                        fn, m, name);
      if (m == 0) {
        nd0 = nd;
        p0 = p;
        for (size_t j = 0; j < TL_MODEL_MAX_DIMS; j++)
          d0[j] = d[j];
        continue;
      }
      int same = nd == nd0;
      for (size_t j = 0; same && j < nd; j++)
        same = d[j] == d0[j];
      TLI_CHECK(same, TL_E_SHAPE,
                "%s: slot %zu: '%s' of model 0 (%zu elements) and '%s' of "
                "model %zu (%zu elements) differ in shape",
                fn, k, names[k], p0, name, m, p);
    }
    max_p = p0 > max_p ? p0 : max_p;
    total += p0;
  }
  *out_max_p = max_p;
  *out_total = total;
  return TL_OK;
}

/* Slot k: stacks the parameters into a (nm x p, row-major), takes the thin
 * SVD, adds sum(s) to *penalty and writes lambda U V^T into g (nm x p,
 * float). work: s (r), u (nm x r), vt (r x p). */
static tl_status slot_trace(double *penalty, float *g, double *a, double *work,
                            tl_model *const *models, const char *const *names,
                            size_t nm, size_t np, size_t k, double lambda) {
  static const char fn[] = "tl_soft_share_trace";
  size_t nd, d[TL_MODEL_MAX_DIMS], p;
  tl_model_param_shape(&nd, d, &p, models[0], names[k]);
  for (size_t m = 0; m < nm; m++) {
    float *x;
    tl_model_param_view(&x, NULL, models[m], names[m * np + k]);
    for (size_t j = 0; j < p; j++) {
      TLI_CHECK(isfinite(x[j]), TL_E_NUMERIC,
                "%s: '%s' of model %zu has a NaN or Inf", fn, names[m * np + k],
                m);
      a[m * p + j] = (double)x[j];
    }
  }
  const size_t r = nm < p ? nm : p;
  double *s = work, *u = work + r, *vt = work + r + nm * r;
  TLI_TRY(tli_dgesvd(nm, p, a, s, u, vt));
  const double big = nm > p ? (double)nm : (double)p;
  const double tol = big * DBL_EPSILON * s[0];
  double sum = 0.0;
  for (size_t j = 0; j < r; j++)
    sum += s[j];
  *penalty += lambda * sum;
  for (size_t m = 0; m < nm; m++)
    for (size_t c = 0; c < p; c++) {
      double v = 0.0;
      for (size_t j = 0; j < r && s[j] > tol; j++)
        v += u[m * r + j] * vt[j * p + c];
      g[m * p + c] = (float)(lambda * v);
    }
  return TL_OK;
}

tl_status tl_soft_share_trace(double *out_penalty, tl_model *const *models,
                              const char *const *names, size_t n_models,
                              size_t n_params, double lambda) {
  static const char fn[] = "tl_soft_share_trace";
  TLI_CHECK_PTR(fn, out_penalty);
  TLI_CHECK_PTR(fn, models);
  TLI_CHECK_PTR(fn, names);
  TLI_CHECK(n_models >= 2, TL_E_INVALID_ARG,
            "%s: n_models is %zu; sharing needs >= 2", fn, n_models);
  TLI_CHECK(n_params > 0, TL_E_INVALID_ARG, "%s: n_params is 0", fn);
  TLI_CHECK(isfinite(lambda) && lambda >= 0, TL_E_INVALID_ARG,
            "%s: lambda must be finite and >= 0 (got %g)", fn, lambda);
  for (size_t m = 0; m < n_models; m++)
    TLI_CHECK(models[m] != NULL, TL_E_INVALID_ARG, "%s: models[%zu] is NULL",
              fn, m);
  size_t max_p = 0, total = 0;
  TLI_TRY(check_slots(&max_p, &total, models, names, n_models, n_params));
  /* One allocation: the stacked matrix and the SVD's s, u, vt for the
   * largest slot (r <= n_models), and every slot's gradient, kept until all
   * slots succeeded so that a failure adds nothing. */
  size_t nd_a, nd_w, nd_g;
  const size_t r_max = n_models < max_p ? n_models : max_p;
  TLI_CHECK(tli_mul_size(&nd_a, n_models, max_p) &&
                tli_mul_size(&nd_w, r_max, 1 + n_models + max_p) &&
                tli_mul_size(&nd_g, n_models, total),
            TL_E_NOMEM, "%s: the workspace size overflows size_t", fn);
  double *a = NULL;
  TLI_TRY(tli_alloc_checked((void **)&a, nd_a + nd_w, sizeof *a, fn));
  float *g = NULL;
  tl_status st = tli_alloc_checked((void **)&g, nd_g, sizeof *g, fn);
  double penalty = 0.0;
  size_t off = 0;
  for (size_t k = 0; st == TL_OK && k < n_params; k++) {
    size_t nd, d[TL_MODEL_MAX_DIMS], p;
    tl_model_param_shape(&nd, d, &p, models[0], names[k]);
    st = slot_trace(&penalty, g + off, a, a + nd_a, models, names, n_models,
                    n_params, k, lambda);
    off += n_models * p;
  }
  if (st == TL_OK && !isfinite(penalty))
    st = tli_fail(TL_E_NUMERIC,
                  "%s: the penalty overflows (parameters too large); no "
                  "gradient added",
                  fn);
  if (st == TL_OK) {
    off = 0;
    for (size_t k = 0; k < n_params; k++) {
      size_t nd, d[TL_MODEL_MAX_DIMS], p;
      tl_model_param_shape(&nd, d, &p, models[0], names[k]);
      for (size_t m = 0; m < n_models; m++) {
        float *grad;
        tl_model_param_view(NULL, &grad, models[m], names[m * n_params + k]);
        for (size_t j = 0; j < p; j++)
          grad[j] += g[off + m * p + j];
      }
      off += n_models * p;
    }
    *out_penalty = penalty;
  }
  tli_free(g);
  tli_free(a);
  return st;
}
