/* Squared MMD with a Gaussian kernel (Gretton et al. 2012, eqs. 3 and 5).
 * Squared distances come from |x|^2 + |y|^2 - 2 x.y, one dgemm per block of
 * rows, so no n x m matrix is ever stored. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "metrics/check.h"
#include "tl/metrics.h"

/* Rows per dgemm block: a block of 128 x (n + m) doubles stays modest. */
#define TLI_MMD_BLOCK 128

TLI_VERSION_SIZES(mmd_options_sizes, TL_MMD_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_mmd_options, unbiased));

tl_status tl_mmd_options_init(tl_mmd_options *out, unsigned int version) {
  static const tl_mmd_options defaults = TL_MMD_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, mmd_options_sizes,
                          "tl_mmd_options_init");
}

static void tli_row_norms(double *out, const double *x, size_t n, size_t d) {
  for (size_t i = 0; i < n; i++)
    out[i] = tli_ddot(d, x + i * d, x + i * d);
}

/* Squared distances between rows [r0, r0 + rows) of A and all nb rows of B
 * into blk (rows x nb), clamped at 0 (the Gram form can round below). */
static void tli_sqdist_block(double *blk, const double *a, const double *na,
                             size_t r0, size_t rows, const double *b,
                             const double *nb, size_t cols, size_t d) {
  tli_dgemm(0, 1, rows, cols, d, -2.0, a + r0 * d, d, b, d, 0.0, blk, cols);
  for (size_t i = 0; i < rows; i++) {
    double *row = blk + i * cols;
    for (size_t j = 0; j < cols; j++) {
      const double v = row[j] + na[r0 + i] + nb[j];
      row[j] = v > 0.0 ? v : 0.0;
    }
  }
}

/* How tli_kernel_sum treats i == j when A is B. */
enum { TLI_CROSS = 0, TLI_SAME_WITH_DIAG, TLI_SAME_NO_DIAG };

/* sum over i, j of exp(-|a_i - b_j|^2 * gamma). When A is B the diagonal is
 * exactly 1 per row (the Gram form would round it) or left out. */
static double tli_kernel_sum(double *blk, const double *a, const double *na,
                             size_t n, const double *b, const double *nb,
                             size_t m, size_t d, double gamma, int mode) {
  double total = 0.0;
  for (size_t r0 = 0; r0 < n; r0 += TLI_MMD_BLOCK) {
    const size_t rows = n - r0 < TLI_MMD_BLOCK ? n - r0 : TLI_MMD_BLOCK;
    tli_sqdist_block(blk, a, na, r0, rows, b, nb, m, d);
    for (size_t i = 0; i < rows; i++) {
      const double *row = blk + i * m;
      double s = 0.0;
      for (size_t j = 0; j < m; j++)
        s += exp(-row[j] * gamma);
      if (mode != TLI_CROSS) /* swap the rounded diagonal for its value */
        s += (mode == TLI_SAME_WITH_DIAG ? 1.0 : 0.0) -
             exp(-row[r0 + i] * gamma);
      total += s;
    }
  }
  return total;
}

/* The k-th smallest of x[0..n) (0-based), reordering x (quickselect with a
 * median-of-three pivot; Hoare partition). */
static double tli_select(double *x, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    double a = x[lo], b = x[mid], c = x[hi];
    const double pivot =
        a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = lo, j = hi;
    for (;;) {
      while (x[i] < pivot)
        i++;
      while (x[j] > pivot)
        j--;
      if (i >= j)
        break;
      const double t = x[i];
      x[i] = x[j];
      x[j] = t;
      i++;
      j--;
    }
    /* Now x[lo..j] <= pivot <= x[j+1..hi]. */
    if (k <= j)
      hi = j;
    else
      lo = j + 1;
  }
  return x[k];
}

/* Median of the squared distances over all unordered pairs of distinct rows
 * of [X; Y]. */
static tl_status tli_median_sqdist(double *out, const double *x, size_t n,
                                   const double *y, size_t m, size_t d,
                                   const double *norms) {
  const size_t N = n + m;
  size_t pairs;
  if (!tli_mul_size(&pairs, N, N - 1))
    return tli_fail(TL_E_NOMEM, "tl_mmd2: %zu points have too many pairs", N);
  pairs /= 2;
  size_t zd;
  if (!tli_mul_size(&zd, N, d) || zd + pairs < pairs ||
      zd + pairs + TLI_MMD_BLOCK * N < zd + pairs)
    return tli_fail(TL_E_NOMEM, "tl_mmd2: median work size overflows");
  double *mem = NULL;
  TLI_TRY(tli_alloc_checked((void **)&mem, zd + pairs + TLI_MMD_BLOCK * N,
                            sizeof(double), "tl_mmd2: median heuristic"));
  double *z = mem, *all = z + zd, *blk = all + pairs;
  memcpy(z, x, n * d * sizeof *x);
  memcpy(z + n * d, y, m * d * sizeof *y);
  size_t at = 0;
  for (size_t r0 = 0; r0 < N; r0 += TLI_MMD_BLOCK) {
    const size_t rows = N - r0 < TLI_MMD_BLOCK ? N - r0 : TLI_MMD_BLOCK;
    tli_sqdist_block(blk, z, norms, r0, rows, z, norms, N, d);
    for (size_t i = 0; i < rows; i++)
      for (size_t j = r0 + i + 1; j < N; j++)
        all[at++] = blk[i * N + j];
  }
  const size_t half = pairs / 2;
  double med = tli_select(all, pairs, half);
  if (pairs % 2 == 0) {
    /* The lower middle is the largest of the elements left of `half`. */
    double lower = all[0];
    for (size_t i = 1; i < half; i++)
      lower = fmax(lower, all[i]);
    med = 0.5 * (med + lower);
  }
  tli_free(mem);
  *out = med;
  return TL_OK;
}

/* Argument checks of tl_mmd2 (options already defaulted). */
static tl_status tli_mmd_validate(const char *fn, const double *out,
                                  const double *x, size_t n, const double *y,
                                  size_t m, size_t d,
                                  const tl_mmd_options *options) {
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, x);
  TLI_CHECK_PTR(fn, y);
  TLI_CHECK(options->unbiased == 0 || options->unbiased == 1, TL_E_INVALID_ARG,
            "%s: options->unbiased must be 0 or 1 (got %d)", fn,
            options->unbiased);
  TLI_CHECK(isfinite(options->sigma) && options->sigma >= 0.0, TL_E_INVALID_ARG,
            "%s: options->sigma must be finite and > 0, or 0 for the median "
            "heuristic (got %g)",
            fn, options->sigma);
  TLI_CHECK(d > 0, TL_E_INVALID_ARG, "%s: d must be >= 1 (got 0)", fn);
  const size_t min_rows = options->unbiased ? 2 : 1;
  TLI_CHECK(n >= min_rows && m >= min_rows, TL_E_INVALID_ARG,
            "%s: x and y need at least %zu rows each%s (got n = %zu, m = %zu)",
            fn, min_rows, options->unbiased ? " for the unbiased estimate" : "",
            n, m);
  const size_t dims[] = {n + m, d};
  TLI_CHECK(n + m > n && tli_blas_dims_ok(dims, 2), TL_E_INVALID_ARG,
            "%s: n + m and d must each fit a BLAS int", fn);
  TLI_TRY(tli_check_finite(fn, "x", x, n * d));
  return tli_check_finite(fn, "y", y, m * d);
}

/* Data whose largest |entry| is within [2^-400, 2^400] is used as given:
 * squared norms and distances (at most 4 d 2^800) neither overflow nor
 * underflow. Other data is scaled by a power of two into [1, 2) (exact),
 * with sigma, which changes no kernel value (k depends on |x - y| /
 * sigma only), so data near 1e200 or 1e-300 gives the bits of the same
 * data near 1. */
#define TLI_MMD_SAFE_EXP 400

/* MMD^2 of validated, possibly scaled data with the bandwidth sigma > 0 in
 * the data's units; blk is TLI_MMD_BLOCK x (n + m) doubles, norms n + m. */
static tl_status tli_mmd_compute(double *out, const char *fn, double *blk,
                                 const double *norms, const double *x, size_t n,
                                 const double *y, size_t m, size_t d,
                                 double sigma, int ub) {
  const double gamma = 1.0 / (2.0 * sigma * sigma);
  TLI_CHECK(isfinite(gamma), TL_E_NUMERIC,
            "%s: options->sigma is too small for the data: 1 / (2 sigma^2) "
            "overflows even with the data rescaled (sigma / max|x, y| = %g)",
            fn, sigma);
  const int same = ub ? TLI_SAME_NO_DIAG : TLI_SAME_WITH_DIAG;
  const double *nx = norms, *ny = norms + n;
  const double kxx = tli_kernel_sum(blk, x, nx, n, x, nx, n, d, gamma, same);
  const double kyy = tli_kernel_sum(blk, y, ny, m, y, ny, m, d, gamma, same);
  const double kxy =
      tli_kernel_sum(blk, x, nx, n, y, ny, m, d, gamma, TLI_CROSS);
  const double dn = (double)n, dm = (double)m;
  const double pxx = ub ? dn * (dn - 1.0) : dn * dn;
  const double pyy = ub ? dm * (dm - 1.0) : dm * dm;
  double r = kxx / pxx + kyy / pyy - 2.0 * kxy / (dn * dm);
  if (!ub && r < 0.0)
    r = 0.0; /* the biased estimate is a squared norm: >= 0 */
  *out = r;
  return TL_OK;
}

/* The bandwidth in the (scaled) data's units: the given sigma scaled like
 * the data, or the median heuristic. */
static tl_status tli_mmd_sigma(double *out, const char *fn, const double *x,
                               size_t n, const double *y, size_t m, size_t d,
                               const double *norms, double sigma,
                               tli_scale sc) {
  if (sigma > 0.0) {
    /* May overflow to inf (sigma far above the data: every kernel is 1,
     * gamma 0) or underflow (caught as a gamma overflow). */
    *out = tli_scaled(sigma, sc);
    return TL_OK;
  }
  double med = 0.0;
  TLI_TRY(tli_median_sqdist(&med, x, n, y, m, d, norms));
  TLI_CHECK(med > 0.0, TL_E_NUMERIC,
            "%s: the median heuristic gives sigma = 0 (over half of the "
            "pooled pairs of rows of x and y coincide); pass options->sigma",
            fn);
  *out = sqrt(0.5 * med);
  return TL_OK;
}

tl_status tl_mmd2(double *out, double *out_sigma, const double *x, size_t n,
                  const double *y, size_t m, size_t d,
                  const tl_mmd_options *options) {
  static const char fn[] = "tl_mmd2";
  tl_mmd_options options_copy = TL_MMD_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, mmd_options_sizes, fn,
                             "options"));
  options = &options_copy;
  TLI_TRY(tli_mmd_validate(fn, out, x, n, y, m, d, options));

  /* Allocate: row norms, a distance block and, for data outside the safe
   * range, a scaled copy of x and y. */
  const size_t N = n + m;
  const tli_scale sc =
      tli_scale_range(fmax(tli_max_abs(x, n * d), tli_max_abs(y, m * d)),
                      -TLI_MMD_SAFE_EXP, TLI_MMD_SAFE_EXP);
  const int rescale = sc.f1 != 1.0 || sc.f2 != 1.0;
  const size_t copy = rescale ? N * d : 0; /* N * d fits: checked above */
  double *mem = NULL;
  TLI_TRY(tli_alloc_checked((void **)&mem, N + TLI_MMD_BLOCK * N + copy,
                            sizeof(double), "tl_mmd2: work memory"));
  double *norms = mem, *blk = mem + N;
  if (rescale) {
    double *xs = blk + TLI_MMD_BLOCK * N, *ys = xs + n * d;
    for (size_t i = 0; i < n * d; i++)
      xs[i] = tli_scaled(x[i], sc);
    for (size_t i = 0; i < m * d; i++)
      ys[i] = tli_scaled(y[i], sc);
    x = xs;
    y = ys;
  }

  /* Compute. */
  tli_row_norms(norms, x, n, d);
  tli_row_norms(norms + n, y, m, d);
  double sigma = 0.0, r = 0.0;
  tl_status st =
      tli_mmd_sigma(&sigma, fn, x, n, y, m, d, norms, options->sigma, sc);
  if (st == TL_OK)
    st = tli_mmd_compute(&r, fn, blk, norms, x, n, y, m, d, sigma,
                         options->unbiased);
  tli_free(mem);
  TLI_TRY(st);
  /* The bandwidth in the caller's units; the median of data near DBL_MAX
   * can exceed it (the overflow rule of metrics.h). */
  const double sigma_out =
      options->sigma > 0.0 ? options->sigma : tli_unscaled(sigma, sc);
  TLI_CHECK(out_sigma == NULL || isfinite(sigma_out), TL_E_NUMERIC,
            "%s: the median-heuristic sigma (%g * 2^%d) overflows; rescale x "
            "and y or pass out_sigma = NULL",
            fn, sigma, -(ilogb(sc.f1) + ilogb(sc.f2)));
  *out = r;
  if (out_sigma)
    *out_sigma = sigma_out;
  return TL_OK;
}
