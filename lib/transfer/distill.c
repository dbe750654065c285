/* Distillation from several teachers with a temperature (Hinton et al.
 * 2015; knowledge adaptation, Ruder, Ghaffari & Breslin 2017). */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/transfer.h"

/* softmax(row / T) into out[0..c) in double, shifted by the row's max. */
static void soft(double *out, const float *row, size_t c, double t) {
  double mx = (double)row[0];
  for (size_t j = 1; j < c; j++)
    mx = (double)row[j] > mx ? (double)row[j] : mx;
  double sum = 0.0;
  for (size_t j = 0; j < c; j++) {
    out[j] = exp(((double)row[j] - mx) / t);
    sum += out[j];
  }
  for (size_t j = 0; j < c; j++)
    out[j] /= sum;
}

static tl_status check_finite(const char *fn, const char *what, size_t k,
                              const float *x, size_t n, size_t c) {
  for (size_t i = 0; i < n * c; i++)
    if (!isfinite(x[i]))
      return tli_fail(TL_E_NUMERIC, "%s: %s %zu has a NaN or Inf at row %zu",
                      fn, what, k, i / c);
  return TL_OK;
}

tl_status tl_distill_loss(double *out_loss, float *out_dlogits,
                          const float *student_logits,
                          const float *const *teachers,
                          const double *teacher_weights, size_t n_teachers,
                          size_t n, size_t c, double temperature) {
  static const char fn[] = "tl_distill_loss";
  TLI_CHECK_PTR(fn, out_loss);
  TLI_CHECK_PTR(fn, student_logits);
  TLI_CHECK_PTR(fn, teachers);
  TLI_CHECK(n > 0 && c > 0 && n_teachers > 0, TL_E_INVALID_ARG,
            "%s: n (%zu), c (%zu) and n_teachers (%zu) must be > 0", fn, n, c,
            n_teachers);
  TLI_CHECK(isfinite(temperature) && temperature > 0, TL_E_INVALID_ARG,
            "%s: temperature must be finite and > 0 (got %g)", fn, temperature);
  double wsum = 0.0;
  for (size_t k = 0; k < n_teachers; k++) {
    TLI_CHECK(teachers[k] != NULL, TL_E_INVALID_ARG,
              "%s: teachers[%zu] is NULL", fn, k);
    if (teacher_weights) {
      TLI_CHECK(isfinite(teacher_weights[k]) && teacher_weights[k] >= 0,
                TL_E_INVALID_ARG,
                "%s: teacher_weights[%zu] must be finite and >= 0 (got %g)", fn,
                k, teacher_weights[k]);
      wsum += teacher_weights[k];
    }
  }
  TLI_CHECK(!teacher_weights || wsum > 0, TL_E_INVALID_ARG,
            "%s: the teacher weights sum to 0", fn);
  TLI_TRY(check_finite(fn, "student", 0, student_logits, n, c));
  for (size_t k = 0; k < n_teachers; k++)
    TLI_TRY(check_finite(fn, "teacher", k, teachers[k], n, c));
  double *work = NULL;
  TLI_TRY(tli_alloc_checked((void **)&work, 3 * c, sizeof *work, fn));
  double *p = work, *q = work + c, *tk = work + 2 * c;
  const double t = temperature;
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < c; j++)
      p[j] = 0.0;
    for (size_t k = 0; k < n_teachers; k++) {
      const double w = teacher_weights ? teacher_weights[k] / wsum
                                       : 1.0 / (double)n_teachers;
      soft(tk, teachers[k] + i * c, c, t);
      for (size_t j = 0; j < c; j++)
        p[j] += w * tk[j];
    }
    /* log softmax(z / T) = (z - max) / T - log sum exp((z - max) / T). */
    const float *z = student_logits + i * c;
    double mx = (double)z[0];
    for (size_t j = 1; j < c; j++)
      mx = (double)z[j] > mx ? (double)z[j] : mx;
    double sum = 0.0;
    for (size_t j = 0; j < c; j++)
      sum += exp(((double)z[j] - mx) / t);
    /* c >= 1 and the max contributes exp(0) = 1, so sum >= 1. */
    // cppcheck-suppress invalidFunctionArg
    const double lse = log(sum);
    double row = 0.0;
    for (size_t j = 0; j < c; j++) {
      const double logq = ((double)z[j] - mx) / t - lse;
      q[j] = exp(logq);
      if (p[j] > 0)
        row -= p[j] * logq;
    }
    total += row;
    if (out_dlogits)
      for (size_t j = 0; j < c; j++)
        out_dlogits[i * c + j] = (float)(t * (q[j] - p[j]) / (double)n);
  }
  tli_free(work);
  *out_loss = t * t * total / (double)n;
  return TL_OK;
}
