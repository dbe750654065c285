/* Internal: helpers shared by the Part 2 metrics (CORAL, Frechet, PCA,
 * selection, CSLS): input checks, sample moments, symmetric matrix
 * functions and stable top-k ranking. */
#ifndef TLI_METRICS_ALIGN_UTIL_H
#define TLI_METRICS_ALIGN_UTIL_H

#include <stddef.h>

#include "metrics/check.h"
#include "tl/core.h"

/* TL_E_NUMERIC naming fn, what and the first bad index if x[0..count) holds
 * a NaN or Inf. */
tl_status tli_check_values_finite(const char *fn, const char *what,
                                  const double *x, size_t count);

/* n x d shape check at the API boundary: x non-NULL, n >= min_rows, d >= 1,
 * n * d representable and every dimension a BLAS int, entries finite. */
tl_status tli_check_matrix(const char *fn, const char *what, const double *x,
                           size_t n, size_t d, size_t min_rows);

/* Column means (d) of x (n x d), n >= 1, and the centred copy x - mean
 * into xc (n x d). */
void tli_center_columns(double *mean, double *xc, const double *x, size_t n,
                        size_t d);

/* Column means (d) and sample covariance (d x d, n - 1 denominator) of x
 * (n x d), n >= 2. work: n x d doubles for the centred copy. */
void tli_mean_cov(double *mean, double *cov, const double *x, size_t n,
                  size_t d, double *work);

/* The same of x read as tli_scaled(x, sc): the moments of the scaled data
 * (sc from tli_data_scale keeps them finite and normal). */
void tli_mean_cov_scaled(double *mean, double *cov, const double *x, size_t n,
                         size_t d, double *work, tli_scale sc);

/* The power-of-two scale for moments of data whose largest |entry| is m:
 * the identity within [2^-TLI_DATA_SAFE_EXP, 2^TLI_DATA_SAFE_EXP],
 * otherwise the factors that bring m into [1, 2). Second moments of data within
 * 2^(+-TLI_DATA_SAFE_EXP), and fourth powers (CORAL), neither overflow nor
 * underflow, so ordinary data is used as given and keeps its bits. */
#define TLI_DATA_SAFE_EXP 200
tli_scale tli_data_scale(double m);

/* The LAPACK failure st (from tli_dsyev / tli_dgesvd) rewritten to name the
 * public function and what was decomposed; other statuses pass through. */
tl_status tli_lapack_fail(tl_status st, const char *fn, const char *what);

/* Symmetric function of a symmetric d x d matrix: a <- V diag(f(w)) V^T
 * where a = V diag(w) V^T. f(w) = max(w, 0)^power. work: 2 d^2 + d doubles.
 * If min_ratio > 0 and the smallest eigenvalue is <= min_ratio times the
 * largest, returns TL_E_NUMERIC with fn/what in the message and leaves a
 * destroyed. */
tl_status tli_sym_pow(double *a, size_t d, double power, double min_ratio,
                      const char *fn, const char *what, double *work);

/* Eigenvalues (ascending) of the symmetric d x d matrix a (destroyed). */
tl_status tli_sym_eigvals(double *w, double *a, size_t d);

/* The indices of the k largest (descending = 1) or smallest values of
 * v[0..n), best first, ties by lower index. idx_work: 2 n size_t. */
void tli_rank_top(size_t *out, const double *v, size_t n, size_t k,
                  int descending, size_t *idx_work);

#endif
