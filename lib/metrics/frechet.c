/* Frechet distance between Gaussians (the FID formula), with the trace of
 * (C1 C2)^(1/2) taken from the symmetric C1^(1/2) C2 C1^(1/2): the two share
 * eigenvalues, and the symmetric form keeps them real. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "metrics/align_util.h"
#include "metrics/check.h"
#include "tl/metrics.h"

/* Core on validated input; cov1 and cov2 are destroyed. The means are
 * read as tli_scaled(mu, mu_sc) and the covariances are already scaled
 * twice by sc (the moments of data scaled by sc); the distance, of second
 * order, is
 * mapped back and is an error beyond DBL_MAX (the overflow rule of
 * metrics.h). what1 and what2 name the covariances in messages. work:
 * 4 d^2 + 2 d. */
static tl_status tli_frechet(double *out, const char *fn, const double *mu1,
                             double *cov1, const char *what1, const double *mu2,
                             double *cov2, size_t d, tli_scale mu_sc,
                             tli_scale sc, double *work) {
  double mean_term = 0.0, trace = 0.0;
  for (size_t j = 0; j < d; j++) {
    const double diff = tli_scaled(mu1[j], mu_sc) - tli_scaled(mu2[j], mu_sc);
    mean_term += diff * diff;
    trace += cov1[j * d + j] + cov2[j * d + j];
  }
  double *eig = work, *m = work + 2 * d * d + d, *w = m + d * d;
  TLI_TRY(tli_sym_pow(cov1, d, 0.5, 0.0, fn, what1, eig));
  /* m = C1^(1/2) C2 C1^(1/2), symmetrised against rounding. */
  tli_dgemm(0, 0, d, d, d, 1.0, cov1, d, cov2, d, 0.0, eig, d);
  tli_dgemm(0, 0, d, d, d, 1.0, eig, d, cov1, d, 0.0, m, d);
  for (size_t i = 0; i < d; i++)
    for (size_t j = i + 1; j < d; j++)
      m[j * d + i] = m[i * d + j] = 0.5 * (m[i * d + j] + m[j * d + i]);
  TLI_TRY(
      tli_lapack_fail(tli_sym_eigvals(w, m, d), fn, "C1^(1/2) C2 C1^(1/2)"));
  double root_trace = 0.0;
  for (size_t j = 0; j < d; j++)
    root_trace += w[j] > 0.0 ? sqrt(w[j]) : 0.0;
  const double result = mean_term + trace - 2.0 * root_trace;
  const double r =
      tli_unscaled(tli_unscaled(result > 0.0 ? result : 0.0, sc), sc);
  TLI_CHECK(isfinite(r), TL_E_NUMERIC,
            "%s: the distance overflows (%g * 2^%d is beyond DBL_MAX); "
            "rescale the data",
            fn, result, -2 * (ilogb(sc.f1) + ilogb(sc.f2)));
  *out = r;
  return TL_OK;
}

static tl_status tli_frechet_alloc(double **buf, size_t d, size_t extra) {
  size_t dd;
  if (!tli_mul_size(&dd, d, d) || dd > SIZE_MAX / 64 ||
      extra > SIZE_MAX / sizeof(double) - 7 * dd - 4 * d)
    return tli_fail(TL_E_INVALID_ARG,
                    "tl_frechet_distance: d = %zu is too "
                    "large",
                    d);
  return tli_alloc_checked((void **)buf, 6 * dd + 4 * d + extra, sizeof **buf,
                           "frechet work");
}

tl_status tl_frechet_distance(double *out, const double *x1, size_t n1,
                              const double *x2, size_t n2, size_t d) {
  static const char fn[] = "tl_frechet_distance";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_check_matrix(fn, "x1", x1, n1, d, 2));
  TLI_TRY(tli_check_matrix(fn, "x2", x2, n2, d, 2));
  const size_t nmax = n1 > n2 ? n1 : n2;
  double *buf;
  TLI_TRY(tli_frechet_alloc(&buf, d, nmax * d));
  double *c1 = buf, *c2 = c1 + d * d, *mu1 = c2 + d * d, *mu2 = mu1 + d;
  double *work = mu2 + d, *data = work + 4 * d * d + 2 * d;
  /* Moments of data scaled by a power of two (tli_data_scale), so data near
   * DBL_MAX or in the subnormals gives the distance of the same data near
   * 1, mapped back. The means come out scaled: read them as given. */
  const tli_scale sc =
      tli_data_scale(fmax(tli_max_abs(x1, n1 * d), tli_max_abs(x2, n2 * d)));
  tli_mean_cov_scaled(mu1, c1, x1, n1, d, data, sc);
  tli_mean_cov_scaled(mu2, c2, x2, n2, d, data, sc);
  const tl_status s = tli_frechet(out, fn, mu1, c1, "the covariance of x1", mu2,
                                  c2, d, tli_scale_for(1.0), sc, work);
  tli_free(buf);
  return s;
}

/* A given covariance must be a covariance: symmetric up to rounding
 * (|a_ij - a_ji| <= TLI_SYM_RTOL * max|a|) and positive semi-definite up to
 * rounding (smallest eigenvalue >= -d * DBL_EPSILON * largest eigenvalue
 * magnitude, the backward error of a symmetric eigensolver). Anything else
 * would make the clamped square roots below return a number that is not a
 * distance. On success sym holds the symmetrised matrix (a + a^T) / 2.
 * work: d^2 + d doubles. */
#define TLI_SYM_RTOL 1e-12
static tl_status tli_check_covariance(double *sym, const double *a, size_t d,
                                      const char *fn, const char *what,
                                      double *work) {
  double amax = 0.0;
  for (size_t i = 0; i < d * d; i++)
    amax = fmax(amax, fabs(a[i]));
  for (size_t i = 0; i < d; i++)
    for (size_t j = i; j < d; j++) {
      const double aij = a[i * d + j], aji = a[j * d + i];
      if (!(fabs(aij - aji) <= TLI_SYM_RTOL * amax))
        return tli_fail(TL_E_INVALID_ARG,
                        "%s: '%s' is not symmetric ([%zu][%zu] = %g, "
                        "[%zu][%zu] = %g)",
                        fn, what, i, j, aij, j, i, aji);
      sym[i * d + j] = sym[j * d + i] = 0.5 * (aij + aji);
    }
  double *w = work, *v = work + d;
  memcpy(v, sym, d * d * sizeof *v);
  TLI_TRY(tli_sym_eigvals(w, v, d));
  const double big = fmax(fabs(w[0]), fabs(w[d - 1]));
  if (!(w[0] >= -(double)d * DBL_EPSILON * big))
    return tli_fail(TL_E_INVALID_ARG,
                    "%s: '%s' is not positive semi-definite (smallest "
                    "eigenvalue %g, largest %g)",
                    fn, what, w[0], w[d - 1]);
  return TL_OK;
}

tl_status tl_frechet_distance_gaussian(double *out, const double *mu1,
                                       const double *cov1, const double *mu2,
                                       const double *cov2, size_t d) {
  static const char fn[] = "tl_frechet_distance_gaussian";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_check_matrix(fn, "mu1", mu1, 1, d, 1));
  TLI_TRY(tli_check_matrix(fn, "mu2", mu2, 1, d, 1));
  TLI_TRY(tli_check_matrix(fn, "cov1", cov1, d, d, 1));
  TLI_TRY(tli_check_matrix(fn, "cov2", cov2, d, d, 1));
  double *buf;
  TLI_TRY(tli_frechet_alloc(&buf, d, 0));
  double *c1 = buf, *c2 = c1 + d * d, *work = c2 + d * d + 2 * d;
  tl_status s = tli_check_covariance(c1, cov1, d, fn, "cov1", work);
  if (s == TL_OK)
    s = tli_check_covariance(c2, cov2, d, fn, "cov2", work);
  if (s == TL_OK) {
    /* Scaled as tl_frechet_distance: the means by sc, the covariances by
     * sc twice (m bounds both |mu| and sqrt|cov|). */
    const double m =
        fmax(fmax(tli_max_abs(mu1, d), tli_max_abs(mu2, d)),
             sqrt(fmax(tli_max_abs(c1, d * d), tli_max_abs(c2, d * d))));
    const tli_scale sc = tli_data_scale(m);
    for (size_t i = 0; i < d * d; i++) {
      c1[i] = tli_scaled(tli_scaled(c1[i], sc), sc);
      c2[i] = tli_scaled(tli_scaled(c2[i], sc), sc);
    }
    s = tli_frechet(out, fn, mu1, c1, "cov1", mu2, c2, d, sc, sc, work);
  }
  tli_free(buf);
  return s;
}
