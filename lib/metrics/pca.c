/* PCA by the thin SVD of centred data (sklearn's svd_solver='full'
 * conventions) and instance selection by distance in the PCA subspace. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "metrics/align_util.h"
#include "metrics/check.h"
#include "tl/metrics.h"

/* Data whose largest |entry| is within [2^-400, 2^400] is centred as
 * given; other data is first scaled by a power of two into [1, 2) (exact),
 * so that the column sums and differences from the mean cannot overflow
 * (data near DBL_MAX) and the singular values stay far from the ends of the
 * range. Components and variance ratios do not depend on the scale; the
 * mean and the variances are mapped back, and a variance beyond DBL_MAX is
 * an error (the overflow rule of metrics.h). */
#define TLI_PCA_SAFE_EXP 400

/* Column means and centred copy of x read as tli_scaled(x, sc). */
static void tli_center_scaled(double *mean, double *xc, const double *x,
                              size_t n, size_t d, tli_scale sc) {
  memset(mean, 0, d * sizeof *mean);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      mean[j] += tli_scaled(x[i * d + j], sc);
  for (size_t j = 0; j < d; j++)
    mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++)
      xc[i * d + j] = tli_scaled(x[i * d + j], sc) - mean[j];
}

/* Fit on validated input. var and ratio may be NULL. */
static tl_status tli_pca_fit(const char *fn, double *mean, double *comps,
                             double *var, double *ratio, const double *x,
                             size_t n, size_t d, size_t k) {
  const size_t m = n < d ? n : d;
  size_t nd, nm, md;
  if (!tli_mul_size(&nd, n, d) || !tli_mul_size(&nm, n, m) ||
      !tli_mul_size(&md, m, d) || nd > SIZE_MAX / 8 - nm - md - m - d)
    return tli_fail(TL_E_NOMEM, "%s: the work size overflows (%zu x %zu)", fn,
                    n, d);
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, nd + nm + md + m + d, sizeof *buf,
                            "pca work"));
  double *xc = buf, *u = xc + nd, *vt = u + nm, *s = vt + md, *mu = s + m;
  const tli_scale sc =
      tli_scale_range(tli_max_abs(x, nd), -TLI_PCA_SAFE_EXP, TLI_PCA_SAFE_EXP);
  tli_center_scaled(mu, xc, x, n, d, sc);
  const tl_status st = tli_dgesvd(n, d, xc, s, u, vt);
  if (st != TL_OK) {
    tli_free(buf);
    if (st != TL_E_NUMERIC)
      return st;
    return tli_fail(st,
                    "%s: the SVD of the centred x (LAPACK dgesdd) did not "
                    "converge",
                    fn);
  }
  double total = 0.0;
  for (size_t r = 0; r < m; r++)
    total += s[r] * s[r] / (double)(n - 1);
  /* Variances in the caller's units: divided twice by the scale (var NULL:
   * the caller needs only the subspace). */
  for (size_t r = 0; var && r < k; r++) {
    const double v =
        tli_unscaled(tli_unscaled(s[r] * s[r] / (double)(n - 1), sc), sc);
    if (!isfinite(v)) {
      tli_free(buf);
      return tli_fail(TL_E_NUMERIC,
                      "%s: the variance of component %zu overflows (x holds "
                      "values up to %g: its variances exceed DBL_MAX); "
                      "rescale x",
                      fn, r, tli_max_abs(x, nd));
    }
  }
  for (size_t j = 0; j < d; j++)
    mean[j] = tli_unscaled(mu[j], sc);
  for (size_t r = 0; r < k; r++) {
    /* sklearn >= 1.5 svd_flip(u_based_decision=False): the entry of largest
     * magnitude in each component (the first of equals) is positive. */
    const double *row = vt + r * d;
    size_t best = 0;
    for (size_t j = 1; j < d; j++)
      if (fabs(row[j]) > fabs(row[best]))
        best = j;
    const double sign = row[best] < 0.0 ? -1.0 : 1.0;
    for (size_t j = 0; j < d; j++)
      comps[r * d + j] = sign * row[j];
    const double v = s[r] * s[r] / (double)(n - 1);
    if (var)
      var[r] = tli_unscaled(tli_unscaled(v, sc), sc);
    if (ratio)
      ratio[r] = total > 0.0 ? v / total : 0.0;
  }
  tli_free(buf);
  return TL_OK;
}

tl_status tl_pca_fit(double *out_mean, double *out_components,
                     double *out_variance, double *out_variance_ratio,
                     const double *x, size_t n, size_t d, size_t k) {
  static const char fn[] = "tl_pca_fit";
  TLI_CHECK_PTR(fn, out_mean);
  TLI_CHECK_PTR(fn, out_components);
  TLI_CHECK_PTR(fn, out_variance);
  TLI_TRY(tli_check_matrix(fn, "x", x, n, d, 2));
  const size_t m = n < d ? n : d;
  TLI_CHECK(k >= 1 && k <= m, TL_E_INVALID_ARG,
            "%s: k must be in [1, min(n, d) = %zu] (got %zu)", fn, m, k);
  return tli_pca_fit(fn, out_mean, out_components, out_variance,
                     out_variance_ratio, x, n, d, k);
}

static void tli_pca_project(double *out, const double *x, size_t m, size_t d,
                            const double *mean, const double *comps, size_t k,
                            double *row) {
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < d; j++)
      row[j] = x[i * d + j] - mean[j];
    tli_dgemv(0, k, d, 1.0, comps, d, row, 0.0, out + i * k);
  }
}

tl_status tl_pca_transform(double *out, const double *x, size_t m, size_t d,
                           const double *mean, const double *components,
                           size_t k) {
  static const char fn[] = "tl_pca_transform";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_check_matrix(fn, "x", x, m, d, 1));
  TLI_TRY(tli_check_matrix(fn, "mean", mean, 1, d, 1));
  TLI_CHECK(k >= 1, TL_E_INVALID_ARG, "%s: k must be >= 1", fn);
  TLI_TRY(tli_check_matrix(fn, "components", components, k, d, 1));
  size_t mk;
  TLI_CHECK(tli_mul_size(&mk, m, k), TL_E_INVALID_ARG,
            "%s: the output (%zu x %zu) is too large", fn, m, k);
  TLI_CHECK(mk <= SIZE_MAX / sizeof(double) - d, TL_E_INVALID_ARG,
            "%s: the output (%zu x %zu) is too large", fn, m, k);
  /* x - mean overflows for data near DBL_MAX of both signs: project data
   * and mean scaled by a power of two (tli_data_scale; identity for
   * ordinary data) and map the result back. The projections go to a work
   * copy first: one beyond DBL_MAX is an error (the overflow rule of
   * metrics.h) and leaves out untouched. */
  const tli_scale sc =
      tli_data_scale(fmax(tli_max_abs(x, m * d), tli_max_abs(mean, d)));
  double *row;
  TLI_TRY(tli_alloc_checked((void **)&row, d + mk, sizeof *row, "pca row"));
  double *res = row + d;
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < d; j++)
      row[j] = tli_scaled(x[i * d + j], sc) - tli_scaled(mean[j], sc);
    tli_dgemv(0, k, d, 1.0, components, d, row, 0.0, res + i * k);
  }
  for (size_t i = 0; i < mk; i++) {
    res[i] = tli_unscaled(res[i], sc);
    if (!isfinite(res[i])) {
      tli_free(row);
      return tli_fail(TL_E_NUMERIC,
                      "%s: the projection out[%zu] overflows (x holds values "
                      "up to %g, components up to %g)",
                      fn, i, tli_max_abs(x, m * d),
                      tli_max_abs(components, k * d));
    }
  }
  memcpy(out, res, mk * sizeof *out);
  tli_free(row);
  return TL_OK;
}

TLI_VERSION_SIZES(pca_select_options_sizes, TL_PCA_SELECT_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_pca_select_options, fit));

tl_status tl_pca_select_options_init(tl_pca_select_options *out,
                                     unsigned int version) {
  static const tl_pca_select_options defaults = TL_PCA_SELECT_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, pca_select_options_sizes,
                          "tl_pca_select_options_init");
}

tl_status tl_pca_select(size_t *out_indices, double *out_distances,
                        const double *xs, size_t ns, const double *xt,
                        size_t nt, size_t d, size_t k,
                        const tl_pca_select_options *opts);

/* tl_pca_select of validated data outside the range of tli_data_scale:
 * selects on copies scaled by sc (the ranking does not depend on the
 * scale; the projected distances would overflow or lose digits) and maps
 * the distances back; a distance beyond DBL_MAX is an error (the overflow
 * rule of metrics.h). Outputs are written only on success. */
static tl_status tli_pca_select_scaled(size_t *out_indices,
                                       double *out_distances, const double *xs,
                                       size_t ns, const double *xt, size_t nt,
                                       size_t d, size_t k,
                                       const tl_pca_select_options *opts,
                                       tli_scale sc) {
  static const char fn[] = "tl_pca_select";
  size_t count;
  if (ns > SIZE_MAX / 2 - nt || !tli_mul_size(&count, ns + nt, d) ||
      count > SIZE_MAX / 16 - 2 * k)
    return tli_fail(TL_E_NOMEM, "%s: the scaled copies overflow size_t", fn);
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, count + 2 * k, sizeof *buf,
                            "pca select scaled copies"));
  double *xs2 = buf, *xt2 = xs2 + ns * d, *dist = xt2 + nt * d;
  size_t *idx = (size_t *)(void *)(dist + k);
  for (size_t i = 0; i < ns * d; i++)
    xs2[i] = tli_scaled(xs[i], sc);
  for (size_t i = 0; i < nt * d; i++)
    xt2[i] = tli_scaled(xt[i], sc);
  tl_status st = tl_pca_select(idx, dist, xs2, ns, xt2, nt, d, k, opts);
  for (size_t i = 0; i < k && st == TL_OK; i++) {
    dist[i] = tli_unscaled(dist[i], sc);
    if (!isfinite(dist[i]) && out_distances)
      st = tli_fail(TL_E_NUMERIC,
                    "%s: the distance of source row %zu overflows (xs and xt "
                    "hold values up to %g); rescale them or pass "
                    "out_distances = NULL",
                    fn, idx[i],
                    fmax(tli_max_abs(xs, ns * d), tli_max_abs(xt, nt * d)));
  }
  if (st == TL_OK) {
    memcpy(out_indices, idx, k * sizeof *idx);
    if (out_distances)
      memcpy(out_distances, dist, k * sizeof *dist);
  }
  tli_free(buf);
  return st;
}

/* Distance of each projected source row to the target (criterion). */
static void tli_select_distances(double *dist, const double *zs, size_t ns,
                                 const double *zt, size_t nt, size_t c,
                                 tl_pca_select_criterion criterion,
                                 double *centroid) {
  if (criterion == TL_PCA_SELECT_CENTROID) {
    memset(centroid, 0, c * sizeof *centroid);
    for (size_t j = 0; j < nt; j++)
      for (size_t r = 0; r < c; r++)
        centroid[r] += zt[j * c + r] / (double)nt;
  }
  for (size_t i = 0; i < ns; i++) {
    const double *a = zs + i * c;
    if (criterion == TL_PCA_SELECT_CENTROID) {
      double s = 0.0;
      for (size_t r = 0; r < c; r++)
        s += (a[r] - centroid[r]) * (a[r] - centroid[r]);
      dist[i] = sqrt(s);
      continue;
    }
    double mean = 0.0;
    for (size_t j = 0; j < nt; j++) {
      double s = 0.0;
      for (size_t r = 0; r < c; r++)
        s += (a[r] - zt[j * c + r]) * (a[r] - zt[j * c + r]);
      mean += sqrt(s);
    }
    dist[i] = mean / (double)nt;
  }
}

tl_status tl_pca_select(size_t *out_indices, double *out_distances,
                        const double *xs, size_t ns, const double *xt,
                        size_t nt, size_t d, size_t k,
                        const tl_pca_select_options *opts) {
  static const char fn[] = "tl_pca_select";
  TLI_CHECK_PTR(fn, out_indices);
  TLI_TRY(tli_check_matrix(fn, "xs", xs, ns, d, 1));
  TLI_TRY(tli_check_matrix(fn, "xt", xt, nt, d, 1));
  TLI_CHECK(k >= 1 && k <= ns, TL_E_INVALID_ARG,
            "%s: k must be in [1, ns = %zu] (got %zu)", fn, ns, k);
  tl_pca_select_options opts_copy = TL_PCA_SELECT_OPTIONS_INIT;
  if (opts != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&opts_copy, opts, pca_select_options_sizes, fn,
                             "opts"));
  opts = &opts_copy;
  TLI_CHECK(opts->criterion == TL_PCA_SELECT_CENTROID ||
                opts->criterion == TL_PCA_SELECT_MEAN_DISTANCE,
            TL_E_INVALID_ARG, "%s: opts->criterion %d is unknown", fn,
            (int)opts->criterion);
  TLI_CHECK(opts->fit == TL_PCA_SELECT_FIT_TARGET ||
                opts->fit == TL_PCA_SELECT_FIT_BOTH,
            TL_E_INVALID_ARG, "%s: opts->fit %d is unknown", fn,
            (int)opts->fit);
  const int both = opts->fit == TL_PCA_SELECT_FIT_BOTH;
  TLI_CHECK(ns <= SIZE_MAX / 2 - nt, TL_E_INVALID_ARG, "%s: too many rows", fn);
  const size_t nfit = both ? ns + nt : nt;
  TLI_CHECK(tli_blas_dims_ok(&nfit, 1), TL_E_INVALID_ARG,
            "%s: %zu fitted rows are too many", fn, nfit);
  TLI_CHECK(nfit >= 2, TL_E_INVALID_ARG,
            "%s: the PCA needs at least 2 fitted rows (got %zu)", fn, nfit);
  const size_t maxc = nfit < d ? nfit : d;
  const size_t c = opts->n_components ? opts->n_components : maxc;
  TLI_CHECK(c <= maxc, TL_E_INVALID_ARG,
            "%s: opts->n_components must be <= min(fitted rows, d) = %zu "
            "(got %zu)",
            fn, maxc, c);

  const double big = fmax(tli_max_abs(xs, ns * d), tli_max_abs(xt, nt * d));
  const tli_scale sc = tli_data_scale(big);
  if (sc.f1 != 1.0 || sc.f2 != 1.0)
    return tli_pca_select_scaled(out_indices, out_distances, xs, ns, xt, nt, d,
                                 k, opts, sc);

  size_t nfd, need;
  const size_t fixed = d + c * d + c + c + ns;
  if (!tli_mul_size(&nfd, both ? nfit : 0, d) ||
      !tli_mul_size(&need, ns + nt, c) || need > SIZE_MAX / 16 - nfd - fixed)
    return tli_fail(TL_E_NOMEM, "%s: the work size overflows", fn);
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, nfd + need + fixed + d,
                            sizeof(double), "pca select work"));
  size_t *idx;
  tl_status st = tli_alloc_checked((void **)&idx, ns, 2 * sizeof(size_t),
                                   "pca select order");
  if (st != TL_OK) {
    tli_free(buf);
    return st;
  }
  double *mean = buf, *comps = mean + d, *var = comps + c * d, *cen = var + c;
  double *dist = cen + c, *zs = dist + ns, *zt = zs + ns * c,
         *row = zt + nt * c;
  double *xfit = row + d;
  const double *fitx = xt;
  if (both) {
    memcpy(xfit, xs, ns * d * sizeof *xfit);
    memcpy(xfit + ns * d, xt, nt * d * sizeof *xfit);
    fitx = xfit;
  }
  st = tli_pca_fit(fn, mean, comps, NULL, NULL, fitx, nfit, d, c);
  if (st == TL_OK) {
    tli_pca_project(zs, xs, ns, d, mean, comps, c, row);
    tli_pca_project(zt, xt, nt, d, mean, comps, c, row);
    tli_select_distances(dist, zs, ns, zt, nt, c, opts->criterion, cen);
    tli_rank_top(out_indices, dist, ns, k, 0, idx);
    if (out_distances)
      for (size_t i = 0; i < k; i++)
        out_distances[i] = dist[out_indices[i]];
  }
  tli_free(idx);
  tli_free(buf);
  return st;
}
