#include "metrics/align_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"

tl_status tli_check_values_finite(const char *fn, const char *what,
                                  const double *x, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (!isfinite(x[i]))
      return tli_fail(TL_E_NUMERIC,
                      "%s: '%s' holds a non-finite value (%g) at index %zu", fn,
                      what, x[i], i);
  return TL_OK;
}

tl_status tli_check_matrix(const char *fn, const char *what, const double *x,
                           size_t n, size_t d, size_t min_rows) {
  if (x == NULL)
    return tli_fail(TL_E_INVALID_ARG, "%s: argument '%s' is NULL", fn, what);
  TLI_CHECK(n >= min_rows, TL_E_INVALID_ARG,
            "%s: '%s' needs at least %zu rows (got %zu)", fn, what, min_rows,
            n);
  TLI_CHECK(d >= 1, TL_E_INVALID_ARG, "%s: dimension d of '%s' must be >= 1",
            fn, what);
  size_t count, dims[2] = {n, d};
  TLI_CHECK(tli_mul_size(&count, n, d) && tli_blas_dims_ok(dims, 2),
            TL_E_INVALID_ARG, "%s: '%s' is too large (%zu x %zu)", fn, what, n,
            d);
  return tli_check_values_finite(fn, what, x, count);
}

void tli_center_columns(double *mean, double *xc, const double *x, size_t n,
                        size_t d) {
  memset(mean, 0, d * sizeof *mean);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      mean[j] += x[i * d + j];
  for (size_t j = 0; j < d; j++)
    mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      xc[i * d + j] = x[i * d + j] - mean[j];
}

tli_scale tli_data_scale(double m) {
  return tli_scale_range(m, -TLI_DATA_SAFE_EXP, TLI_DATA_SAFE_EXP);
}

tl_status tli_lapack_fail(tl_status st, const char *fn, const char *what) {
  if (st != TL_E_NUMERIC)
    return st;
  /* The message is rewritten in place: copy LAPACK's first. */
  char lapack[160];
  snprintf(lapack, sizeof lapack, "%s", tl_last_error());
  return tli_fail(st, "%s: the decomposition of %s did not converge (%s)", fn,
                  what, lapack);
}

void tli_mean_cov(double *mean, double *cov, const double *x, size_t n,
                  size_t d, double *work) {
  tli_mean_cov_scaled(mean, cov, x, n, d, work, tli_scale_for(1.0));
}

void tli_mean_cov_scaled(double *mean, double *cov, const double *x, size_t n,
                         size_t d, double *work, tli_scale sc) {
  memset(mean, 0, d * sizeof *mean);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      mean[j] += tli_scaled(x[i * d + j], sc);
  for (size_t j = 0; j < d; j++)
    mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      work[i * d + j] = tli_scaled(x[i * d + j], sc) - mean[j];
  tli_dgemm(1, 0, d, d, n, 1.0 / (double)(n - 1), work, d, work, d, 0.0, cov,
            d);
  /* gemm of A^T A is symmetric only up to rounding: make it exact so the
   * eigen-solver and callers see one matrix. */
  for (size_t i = 0; i < d; i++)
    for (size_t j = i + 1; j < d; j++)
      cov[j * d + i] = cov[i * d + j];
}

tl_status tli_sym_eigvals(double *w, double *a, size_t d) {
  return tli_dsyev(d, a, w);
}

tl_status tli_sym_pow(double *a, size_t d, double power, double min_ratio,
                      const char *fn, const char *what, double *work) {
  double *w = work, *v = work + d, *vs = work + d + d * d;
  memcpy(v, a, d * d * sizeof *a);
  TLI_TRY(tli_lapack_fail(tli_dsyev(d, v, w), fn, what));
  if (min_ratio > 0.0 && !(w[0] > min_ratio * w[d - 1]))
    return tli_fail(TL_E_NUMERIC,
                    "%s: %s is singular (eigenvalues %g .. %g): use lambda > 0",
                    fn, what, w[0], w[d - 1]);
  for (size_t j = 0; j < d; j++) {
    const double f = w[j] > 0.0 ? pow(w[j], power) : 0.0;
    for (size_t i = 0; i < d; i++)
      vs[i * d + j] = v[i * d + j] * f;
  }
  tli_dgemm(0, 1, d, d, d, 1.0, vs, d, v, d, 0.0, a, d);
  for (size_t i = 0; i < d; i++)
    for (size_t j = i + 1; j < d; j++)
      a[j * d + i] = a[i * d + j] = 0.5 * (a[i * d + j] + a[j * d + i]);
  return TL_OK;
}

/* Stable merge sort of indices by value: keeps equal values in index order,
 * so ties resolve to the lower index without a secondary key. */
static void tli_merge_sort(size_t *idx, size_t *tmp, size_t n, const double *v,
                           int descending) {
  if (n < 2)
    return;
  const size_t h = n / 2;
  tli_merge_sort(idx, tmp, h, v, descending);
  tli_merge_sort(idx + h, tmp, n - h, v, descending);
  size_t i = 0, j = h, o = 0;
  while (i < h && j < n) {
    const double a = v[idx[i]], b = v[idx[j]];
    const int take_right = descending ? b > a : b < a;
    tmp[o++] = take_right ? idx[j++] : idx[i++];
  }
  while (i < h)
    tmp[o++] = idx[i++];
  while (j < n)
    tmp[o++] = idx[j++];
  memcpy(idx, tmp, n * sizeof *idx);
}

void tli_rank_top(size_t *out, const double *v, size_t n, size_t k,
                  int descending, size_t *idx_work) {
  /* idx_work holds 2n entries: the order and the merge buffer. */
  size_t *idx = idx_work, *tmp = idx_work + n;
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  tli_merge_sort(idx, tmp, n, v, descending);
  memcpy(out, idx, k * sizeof *out);
}
