/* Class centroids and the maximum-cluster-difference confidence of
 * knowledge adaptation (Ruder, Ghaffari & Breslin 2017). */
#include <math.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/transfer.h"

tl_status tl_class_centroids(double *out, const float *x, const int64_t *labels,
                             size_t n, size_t d, size_t c) {
  static const char fn[] = "tl_class_centroids";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, x);
  TLI_CHECK_PTR(fn, labels);
  TLI_CHECK(n > 0 && d > 0 && c > 0, TL_E_INVALID_ARG,
            "%s: n (%zu), d (%zu) and c (%zu) must be > 0", fn, n, d, c);
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(labels[i] >= 0 && (uint64_t)labels[i] < c, TL_E_INVALID_ARG,
              "%s: labels[%zu] = %lld is outside [0, %zu)", fn, i,
              (long long)labels[i], c);
    for (size_t j = 0; j < d; j++)
      TLI_CHECK(isfinite(x[i * d + j]), TL_E_NUMERIC,
                "%s: x row %zu has a NaN or Inf", fn, i);
  }
  size_t *count = NULL;
  TLI_TRY(tli_alloc_checked((void **)&count, c, sizeof *count, fn));
  for (size_t k = 0; k < c; k++)
    count[k] = 0;
  for (size_t i = 0; i < n; i++)
    count[(size_t)labels[i]]++;
  for (size_t k = 0; k < c; k++)
    if (count[k] == 0) {
      tli_free(count);
      return tli_fail(TL_E_INVALID_ARG,
                      "%s: class %zu has no rows (no centroid)", fn, k);
    }
  for (size_t e = 0; e < c * d; e++)
    out[e] = 0.0;
  for (size_t i = 0; i < n; i++) {
    double *row = out + (size_t)labels[i] * d;
    for (size_t j = 0; j < d; j++)
      row[j] += (double)x[i * d + j];
  }
  for (size_t k = 0; k < c; k++)
    for (size_t j = 0; j < d; j++)
      out[k * d + j] /= (double)count[k];
  tli_free(count);
  return TL_OK;
}

/* The largest magnitude of v[0..d) (0 for a zero vector). */
static double max_abs(const double *v, size_t d) {
  double m = 0.0;
  for (size_t j = 0; j < d; j++)
    m = fabs(v[j]) > m ? fabs(v[j]) : m;
  return m;
}

tl_status tl_mcd_confidence(double *out_score, int64_t *out_nearest,
                            const float *h, size_t n, size_t d,
                            const double *centroids, size_t c) {
  static const char fn[] = "tl_mcd_confidence";
  TLI_CHECK_PTR(fn, out_score);
  TLI_CHECK_PTR(fn, h);
  TLI_CHECK_PTR(fn, centroids);
  TLI_CHECK(n > 0 && d > 0, TL_E_INVALID_ARG,
            "%s: n (%zu) and d (%zu) must be > 0", fn, n, d);
  TLI_CHECK(c >= 2, TL_E_INVALID_ARG,
            "%s: c is %zu; a cluster difference needs >= 2 centroids", fn, c);
  for (size_t k = 0; k < c; k++) {
    for (size_t j = 0; j < d; j++)
      TLI_CHECK(isfinite(centroids[k * d + j]), TL_E_NUMERIC,
                "%s: centroid %zu has a NaN or Inf", fn, k);
    TLI_CHECK(max_abs(centroids + k * d, d) > 0, TL_E_INVALID_ARG,
              "%s: centroid %zu is zero (no direction)", fn, k);
  }
  for (size_t i = 0; i < n; i++) {
    int nonzero = 0;
    for (size_t j = 0; j < d; j++) {
      TLI_CHECK(isfinite(h[i * d + j]), TL_E_NUMERIC,
                "%s: h row %zu has a NaN or Inf", fn, i);
      nonzero |= h[i * d + j] != 0;
    }
    TLI_CHECK(nonzero, TL_E_INVALID_ARG, "%s: h row %zu is zero (no direction)",
              fn, i);
  }
  /* Per centroid: its scale (largest magnitude) and the norm of the scaled
   * vector, which lies in [1, sqrt(d)]; likewise per row below. */
  double *cs = NULL;
  TLI_TRY(tli_alloc_checked((void **)&cs, 2 * c, sizeof *cs, fn));
  double *cnorm = cs + c;
  for (size_t k = 0; k < c; k++) {
    const double *v = centroids + k * d;
    cs[k] = max_abs(v, d);
    double ss = 0.0;
    for (size_t j = 0; j < d; j++)
      ss += (v[j] / cs[k]) * (v[j] / cs[k]);
    cnorm[k] = sqrt(ss);
  }
  for (size_t i = 0; i < n; i++) {
    const float *u = h + i * d;
    double hs = 0.0, hss = 0.0;
    for (size_t j = 0; j < d; j++)
      hs = fabs((double)u[j]) > hs ? fabs((double)u[j]) : hs;
    for (size_t j = 0; j < d; j++)
      hss += ((double)u[j] / hs) * ((double)u[j] / hs);
    const double hnorm = sqrt(hss);
    double first = -INFINITY, second = -INFINITY;
    size_t best = 0;
    for (size_t k = 0; k < c; k++) {
      const double *v = centroids + k * d;
      double dot = 0.0;
      for (size_t j = 0; j < d; j++)
        dot += ((double)u[j] / hs) * (v[j] / cs[k]);
      double s = dot / (hnorm * cnorm[k]);
      s = s > 1.0 ? 1.0 : (s < -1.0 ? -1.0 : s);
      if (s > first) {
        second = first;
        first = s;
        best = k;
      } else if (s > second) {
        second = s;
      }
    }
    out_score[i] = first - second;
    if (out_nearest)
      out_nearest[i] = (int64_t)best;
  }
  tli_free(cs);
  return TL_OK;
}
