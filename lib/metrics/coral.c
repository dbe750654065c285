/* CORAL: covariance distance (Deep CORAL loss) and the closed-form
 * whitening/re-colouring alignment of Sun, Feng & Saenko (2016). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "metrics/align_util.h"
#include "metrics/check.h"
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

/* Means are discarded; covariances go to cs and ct, computed on the data
 * read as tli_scaled(xs, ss) and tli_scaled(xt, st): scales from
 * tli_data_scale keep them finite and normal for data near DBL_MAX or in
 * the subnormals. */
static tl_status tli_coral_covs(double **out_buf, const char *fn,
                                const double *xs, size_t ns, const double *xt,
                                size_t nt, size_t d, size_t extra, tli_scale ss,
                                tli_scale st) {
  const size_t nmax = ns > nt ? ns : nt;
  /* d * d <= SIZE_MAX / 64 was checked, so only the data part can overflow. */
  size_t work;
  const size_t fixed = 2 * d * d + d + extra;
  if (!tli_mul_size(&work, nmax, d) || work > SIZE_MAX / sizeof(double) - fixed)
    return tli_fail(TL_E_NOMEM, "%s: the work size overflows (%zu x %zu)", fn,
                    nmax, d);
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, work + fixed, sizeof *buf,
                            "coral work"));
  double *cs = buf, *ct = cs + d * d, *mean = ct + d * d, *w = mean + d;
  tli_mean_cov_scaled(mean, cs, xs, ns, d, w, ss);
  tli_mean_cov_scaled(mean, ct, xt, nt, d, w, st);
  *out_buf = buf;
  return TL_OK;
}

tl_status tl_coral_distance(double *out, const double *xs, size_t ns,
                            const double *xt, size_t nt, size_t d) {
  static const char fn[] = "tl_coral_distance";
  TLI_TRY(tli_coral_check(fn, out, xs, ns, xt, nt, d));
  const tli_scale sc =
      tli_data_scale(fmax(tli_max_abs(xs, ns * d), tli_max_abs(xt, nt * d)));
  double *buf;
  TLI_TRY(tli_coral_covs(&buf, fn, xs, ns, xt, nt, d, 0, sc, sc));
  const double *cs = buf, *ct = buf + d * d;
  double sum = 0.0;
  for (size_t i = 0; i < d * d; i++) {
    const double diff = cs[i] - ct[i];
    sum += diff * diff;
  }
  tli_free(buf);
  /* The distance is of fourth order in the data: undo the scale four
   * times. Beyond DBL_MAX it is an error (the overflow rule of
   * metrics.h). */
  double r = sum / (4.0 * (double)d * (double)d);
  for (int i = 0; i < 4; i++)
    r = tli_unscaled(r, sc);
  TLI_CHECK(isfinite(r), TL_E_NUMERIC,
            "%s: the distance overflows (%g * 2^%d is beyond DBL_MAX): xs "
            "and xt hold values too large (up to %g); rescale them",
            fn, sum / (4.0 * (double)d * (double)d),
            -4 * (ilogb(sc.f1) + ilogb(sc.f2)),
            fmax(tli_max_abs(xs, ns * d), tli_max_abs(xt, nt * d)));
  *out = r;
  return TL_OK;
}

tl_status tl_coral_align(double *out, const double *xs, size_t ns,
                         const double *xt, size_t nt, size_t d, double lambda) {
  static const char fn[] = "tl_coral_align";
  TLI_TRY(tli_coral_check(fn, out, xs, ns, xt, nt, d));
  TLI_CHECK(isfinite(lambda) && lambda >= 0.0, TL_E_INVALID_ARG,
            "%s: lambda must be finite and >= 0 (got %g)", fn, lambda);
  TLI_CHECK(out != xs, TL_E_INVALID_ARG, "%s: 'out' must not alias 'xs'", fn);
  /* With xs scaled by 2^a and xt by 2^b (powers of two from
   * tli_data_scale, so that the covariances stay finite and normal) and
   * lambda by 2^2a and 2^2b in Cs and Ct, the factors give
   * A' = 2^(b - a) Cs^-1/2 Ct^1/2: A is A' times 2^(a - b), applied to xs
   * as given. */
  const tli_scale ss = tli_data_scale(tli_max_abs(xs, ns * d)),
                  st = tli_data_scale(tli_max_abs(xt, nt * d));
  const double lam_s = tli_scaled(tli_scaled(lambda, ss), ss),
               lam_t = tli_scaled(tli_scaled(lambda, st), st);
  TLI_CHECK(isfinite(lam_s) && isfinite(lam_t), TL_E_NUMERIC,
            "%s: lambda = %g is too large for the data (lambda times the "
            "power of two that normalises xs or xt overflows)",
            fn, lambda);
  double *buf;
  /* extra: eigen work (2 d^2 + d) and the product A = Cs^-1/2 Ct^1/2. */
  TLI_TRY(tli_coral_covs(&buf, fn, xs, ns, xt, nt, d, 3 * d * d + d, ss, st));
  double *cs = buf, *ct = cs + d * d;
  const size_t nmax = ns > nt ? ns : nt;
  double *eig = ct + d * d + d + nmax * d, *a = eig + 2 * d * d + d;
  for (size_t i = 0; i < d; i++) {
    cs[i * d + i] += lam_s;
    ct[i * d + i] += lam_t;
  }
  /* Cs must be invertible: its smallest eigenvalue must stand clear of
   * rounding noise relative to the largest. */
  tl_status s = tli_sym_pow(cs, d, -0.5, (double)d * DBL_EPSILON, fn,
                            "the source covariance (+ lambda I)", eig);
  if (s == TL_OK)
    s = tli_sym_pow(ct, d, 0.5, 0.0, fn, "the target covariance", eig);
  if (s == TL_OK) {
    tli_dgemm(0, 0, d, d, d, 1.0, cs, d, ct, d, 0.0, a, d);
    /* Undo the scales: times 2^(a - b) in one step (each alone may leave
     * the range); exact unless A itself is beyond it, which the check
     * below reports. */
    const int e = ilogb(ss.f1) + ilogb(ss.f2) - ilogb(st.f1) - ilogb(st.f2);
    for (size_t i = 0; i < d * d; i++)
      a[i] = ldexp(a[i], e);
    /* Into the centring work (free now, nmax x d) first: re-coloured rows
     * beyond DBL_MAX are an error (the overflow rule of metrics.h), and a
     * failed call leaves out untouched. */
    double *res = ct + d * d + d;
    tli_dgemm(0, 0, ns, d, d, 1.0, xs, d, a, d, 0.0, res, d);
    for (size_t i = 0; i < ns * d && s == TL_OK; i++)
      if (!isfinite(res[i]))
        s = tli_fail(TL_E_NUMERIC,
                     "%s: the aligned value out[%zu] overflows (xs holds "
                     "values up to %g); rescale xs and xt",
                     fn, i, tli_max_abs(xs, ns * d));
    if (s == TL_OK)
      memcpy(out, res, ns * d * sizeof *out);
  }
  tli_free(buf);
  return s;
}
