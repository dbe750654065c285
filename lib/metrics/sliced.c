/* Sliced Wasserstein: project both clouds on k directions with one dgemm per
 * cloud (k x d times d x n: each projection lands in a contiguous row), sort
 * each row, and merge quantile functions per direction. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "metrics/check.h"
#include "metrics/sort.h"
#include "metrics/wasserstein.h"
#include "tl/metrics.h"

TLI_VERSION_SIZES(sliced_options_sizes, TL_SLICED_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_sliced_options, seed));

tl_status tl_sliced_options_init(tl_sliced_options *out, unsigned int version) {
  static const tl_sliced_options defaults = TL_SLICED_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, sliced_options_sizes,
                          "tl_sliced_options_init");
}

/* Fills k rows of d standard normals, each divided by its norm. A row of
 * norm 0 (never seen in practice) is drawn again. */
static void tli_directions(double *out, size_t k, size_t d, uint64_t seed) {
  tli_rng rng;
  tli_rng_seed(&rng, seed);
  for (size_t r = 0; r < k; r++) {
    double *row = out + r * d;
    double norm2;
    do {
      norm2 = 0.0;
      for (size_t c = 0; c < d; c++) {
        row[c] = tli_rng_normal(&rng);
        norm2 += row[c] * row[c];
      }
    } while (!(norm2 > 0.0));
    const double inv = 1.0 / sqrt(norm2);
    for (size_t c = 0; c < d; c++)
      row[c] *= inv;
  }
}

tl_status tl_sliced_directions(double *out, size_t k, size_t d, uint64_t seed) {
  static const char fn[] = "tl_sliced_directions";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(k > 0, TL_E_INVALID_ARG, "%s: k must be >= 1 (got 0)", fn);
  TLI_CHECK(d > 0, TL_E_INVALID_ARG, "%s: d must be >= 1 (got 0)", fn);
  size_t kd;
  TLI_CHECK(tli_mul_size(&kd, k, d), TL_E_NOMEM,
            "%s: k x d = %zu x %zu overflows size_t", fn, k, d);
  tli_directions(out, k, d, seed);
  return TL_OK;
}

/* Validates a point cloud and its optional weights. */
static tl_status tli_check_cloud(const char *fn, const char *name,
                                 const char *wname, const double *x, size_t n,
                                 size_t d, const double *w, tli_wsum *sum) {
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: %s has no rows (n = 0)", fn, name);
  size_t nd;
  TLI_CHECK(tli_mul_size(&nd, n, d), TL_E_NOMEM,
            "%s: %s is %zu x %zu, which overflows size_t", fn, name, n, d);
  TLI_TRY(tli_check_finite(fn, name, x, nd));
  if (w)
    return tli_check_weights(fn, wname, w, n, sum);
  *sum = tli_wsum_of((double)n);
  return TL_OK;
}

/* Checks everything tl_sliced_wasserstein_projected needs except the
 * projections themselves. */
static tl_status tli_check_sliced(const char *fn, double *out, const double *x,
                                  size_t n, const double *xw, const double *y,
                                  size_t m, const double *yw, size_t d,
                                  size_t k, tli_wsum *sx, tli_wsum *sy) {
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, x);
  TLI_CHECK_PTR(fn, y);
  TLI_CHECK(d > 0, TL_E_INVALID_ARG, "%s: d must be >= 1 (got 0)", fn);
  TLI_CHECK(k > 0, TL_E_INVALID_ARG,
            "%s: the number of projections must be >= 1 (got 0)", fn);
  const size_t dims[] = {n, m, d, k};
  TLI_CHECK(tli_blas_dims_ok(dims, 4), TL_E_INVALID_ARG,
            "%s: n, m, d and k must each fit a BLAS int", fn);
  TLI_TRY(tli_check_cloud(fn, "x", "x_weights", x, n, d, xw, sx));
  return tli_check_cloud(fn, "y", "y_weights", y, m, d, yw, sy);
}

/* The shared body once everything is validated: P (k x d) given. */
static tl_status tli_sliced(const char *fn, double *out, const double *x,
                            size_t n, const double *xw, tli_wsum sx,
                            const double *y, size_t m, const double *yw,
                            tli_wsum sy, size_t d, const double *proj, size_t k,
                            double p) {
  const size_t big = n > m ? n : m;
  /* Points near DBL_MAX overflow in the projections and their differences,
   * subnormal ones lose digits: project copies scaled by a power of two
   * that brings the largest |coordinate| into [1, 2) (no copy for ordinary
   * data), and map the distance back at the end. */
  const tli_scale sc = tli_wasserstein_scale(
      fmax(tli_max_abs(x, n * d), tli_max_abs(y, m * d)), p);
  const int rescale = sc.f1 != 1.0 || sc.f2 != 1.0;
  /* k (n + m) projections, weights copies n + m, radix work 3 big, scaled
   * points (n + m) d (n d and m d fit: validated). */
  size_t kn, total;
  const size_t copy = rescale ? n * d + m * d : 0;
  if (!tli_mul_size(&kn, k, n + m) || (total = kn + n + m + 3 * big) < kn ||
      total + copy < total) /* wrapped */
    return tli_fail(TL_E_NOMEM,
                    "%s: %zu projections of %zu + %zu points "
                    "overflow size_t",
                    fn, k, n, m);
  double *mem = NULL;
  TLI_TRY(tli_alloc_checked((void **)&mem, total + copy, sizeof(double),
                            "tl_sliced_wasserstein: projection buffers"));
  double *px = mem, *py = px + k * n, *wx = py + k * m, *wy = wx + n;
  double *work_w = wy + m;
  uint64_t *work_k = (uint64_t *)(void *)(work_w + big);
  if (rescale) {
    double *xs = mem + total, *ys = xs + n * d;
    for (size_t i = 0; i < n * d; i++)
      xs[i] = tli_scaled(x[i], sc);
    for (size_t i = 0; i < m * d; i++)
      ys[i] = tli_scaled(y[i], sc);
    x = xs;
    y = ys;
  }

  tli_dgemm(0, 1, k, n, d, 1.0, proj, d, x, d, 0.0, px, n);
  tli_dgemm(0, 1, k, m, d, 1.0, proj, d, y, d, 0.0, py, m);
  double sum = 0.0;
  for (size_t r = 0; r < k; r++) {
    double *rx = px + r * n, *ry = py + r * m;
    /* Sorting permutes the weights: start every direction from a copy. */
    if (xw)
      memcpy(wx, xw, n * sizeof *xw);
    if (yw)
      memcpy(wy, yw, m * sizeof *yw);
    tli_sort_f64(rx, xw ? wx : NULL, n, work_k, work_w);
    tli_sort_f64(ry, yw ? wy : NULL, m, work_k, work_w);
    sum += tli_wasserstein_sorted_pow(rx, xw ? wx : NULL, sx, n, ry,
                                      yw ? wy : NULL, sy, m, p,
                                      tli_scale_for(1.0));
  }
  tli_free(mem);
  const double mean = sum / (double)k;
  const double r = tli_unscaled(p == 2.0 ? sqrt(mean) : pow(mean, 1.0 / p), sc);
  /* The overflow rule of metrics.h: a distance beyond DBL_MAX (or huge
   * projections) is an error, not +inf. */
  TLI_CHECK(isfinite(mean) && isfinite(r), TL_E_NUMERIC,
            "%s: the distance overflows (mean W_p^p = %g with p = %g, on "
            "points scaled by 2^%d): the points or projections are too large "
            "to represent; rescale them",
            fn, mean, p, ilogb(sc.f1) + ilogb(sc.f2));
  *out = r;
  return TL_OK;
}

tl_status tl_sliced_wasserstein_projected(double *out, const double *x,
                                          size_t n, const double *x_weights,
                                          const double *y, size_t m,
                                          const double *y_weights, size_t d,
                                          const double *projections, size_t k,
                                          double p) {
  static const char fn[] = "tl_sliced_wasserstein_projected";
  TLI_CHECK_PTR(fn, projections);
  TLI_TRY(tli_check_order(fn, p));
  tli_wsum sx, sy;
  TLI_TRY(tli_check_sliced(fn, out, x, n, x_weights, y, m, y_weights, d, k, &sx,
                           &sy));
  TLI_TRY(tli_check_finite(fn, "projections", projections, k * d));
  return tli_sliced(fn, out, x, n, x_weights, sx, y, m, y_weights, sy, d,
                    projections, k, p);
}

tl_status tl_sliced_wasserstein(double *out, const double *x, size_t n,
                                const double *x_weights, const double *y,
                                size_t m, const double *y_weights, size_t d,
                                const tl_sliced_options *options) {
  static const char fn[] = "tl_sliced_wasserstein";
  tl_sliced_options options_copy = TL_SLICED_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, sliced_options_sizes, fn,
                             "options"));
  options = &options_copy;
  TLI_TRY(tli_check_order(fn, options->p));
  const size_t k = options->n_projections;
  tli_wsum sx, sy;
  TLI_TRY(tli_check_sliced(fn, out, x, n, x_weights, y, m, y_weights, d, k, &sx,
                           &sy));
  size_t kd;
  TLI_CHECK(tli_mul_size(&kd, k, d), TL_E_NOMEM,
            "%s: n_projections x d = %zu x %zu overflows size_t", fn, k, d);
  double *proj = NULL;
  TLI_TRY(tli_alloc_checked((void **)&proj, kd, sizeof(double),
                            "tl_sliced_wasserstein: directions"));
  tli_directions(proj, k, d, options->seed);
  const tl_status s = tli_sliced(fn, out, x, n, x_weights, sx, y, m, y_weights,
                                 sy, d, proj, k, options->p);
  tli_free(proj);
  return s;
}
