/* CORAL: covariance distance (Deep CORAL loss) and the closed-form
 * whitening/re-colouring alignment of Sun, Feng & Saenko (2016). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "metrics/align_util.h"
#include "tl/metrics.h"

static tl_status tli_coral_check(const char *fn, const void *out,
                                 const double *xs, size_t ns, const double *xt,
                                 size_t nt, size_t d) {
  if (out == NULL)
    return tli_fail(TL_E_INVALID_ARG, "%s: argument 'out' is NULL", fn);
  TLI_TRY(tli_check_matrix(fn, "xs", xs, ns, d, 2));
  TLI_TRY(tli_check_matrix(fn, "xt", xt, nt, d, 2));
  size_t dd;
  TLI_CHECK(tli_mul_size(&dd, d, d) && dd <= SIZE_MAX / 64, TL_E_INVALID_ARG,
            "%s: d = %zu is too large", fn, d);
  return TL_OK;
}

/* Means are discarded; covariances go to cs and ct. */
static tl_status tli_coral_covs(double **out_buf, const double *xs, size_t ns,
                                const double *xt, size_t nt, size_t d,
                                size_t extra) {
  const size_t nmax = ns > nt ? ns : nt;
  /* d * d <= SIZE_MAX / 64 was checked, so only the data part can overflow. */
  size_t work;
  const size_t fixed = 2 * d * d + d + extra;
  if (!tli_mul_size(&work, nmax, d) || work > SIZE_MAX / sizeof(double) - fixed)
    return tli_fail(TL_E_NOMEM, "coral: the work size overflows");
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, work + fixed, sizeof *buf,
                            "coral work"));
  double *cs = buf, *ct = cs + d * d, *mean = ct + d * d, *w = mean + d;
  tli_mean_cov(mean, cs, xs, ns, d, w);
  tli_mean_cov(mean, ct, xt, nt, d, w);
  *out_buf = buf;
  return TL_OK;
}

tl_status tl_coral_distance(double *out, const double *xs, size_t ns,
                            const double *xt, size_t nt, size_t d) {
  TLI_TRY(tli_coral_check("tl_coral_distance", out, xs, ns, xt, nt, d));
  double *buf;
  TLI_TRY(tli_coral_covs(&buf, xs, ns, xt, nt, d, 0));
  const double *cs = buf, *ct = buf + d * d;
  double sum = 0.0;
  for (size_t i = 0; i < d * d; i++) {
    const double diff = cs[i] - ct[i];
    sum += diff * diff;
  }
  tli_free(buf);
  *out = sum / (4.0 * (double)d * (double)d);
  return TL_OK;
}

tl_status tl_coral_align(double *out, const double *xs, size_t ns,
                         const double *xt, size_t nt, size_t d, double lambda) {
  static const char fn[] = "tl_coral_align";
  TLI_TRY(tli_coral_check(fn, out, xs, ns, xt, nt, d));
  TLI_CHECK(isfinite(lambda) && lambda >= 0.0, TL_E_INVALID_ARG,
            "%s: lambda must be finite and >= 0 (got %g)", fn, lambda);
  TLI_CHECK(out != xs, TL_E_INVALID_ARG, "%s: 'out' must not alias 'xs'", fn);
  double *buf;
  /* extra: eigen work (2 d^2 + d) and the product A = Cs^-1/2 Ct^1/2. */
  TLI_TRY(tli_coral_covs(&buf, xs, ns, xt, nt, d, 3 * d * d + d));
  double *cs = buf, *ct = cs + d * d;
  const size_t nmax = ns > nt ? ns : nt;
  double *eig = ct + d * d + d + nmax * d, *a = eig + 2 * d * d + d;
  for (size_t i = 0; i < d; i++) {
    cs[i * d + i] += lambda;
    ct[i * d + i] += lambda;
  }
  /* Cs must be invertible: its smallest eigenvalue must stand clear of
   * rounding noise relative to the largest. */
  tl_status s = tli_sym_pow(cs, d, -0.5, (double)d * DBL_EPSILON, fn,
                            "the source covariance (+ lambda I)", eig);
  if (s == TL_OK)
    s = tli_sym_pow(ct, d, 0.5, 0.0, fn, "the target covariance", eig);
  if (s == TL_OK) {
    tli_dgemm(0, 0, d, d, d, 1.0, cs, d, ct, d, 0.0, a, d);
    tli_dgemm(0, 0, ns, d, d, 1.0, xs, d, a, d, 0.0, out, d);
  }
  tli_free(buf);
  return s;
}
