/* Term distributions over a shared vocabulary and the six similarity
 * measures Ruder & Plank (2017) use to compare them, taken from the
 * divergence part of metrics.h. */
#include "metrics/termdist.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "metrics/align_util.h"
#include "tl/metrics.h"

tl_status tli_check_distribution(const char *fn, const char *what,
                                 const double *p, size_t n, double *sum,
                                 int *halved) {
  if (p == NULL)
    return tli_fail(TL_E_INVALID_ARG, "%s: argument '%s' is NULL", fn, what);
  TLI_TRY(tli_check_values_finite(fn, what, p, n));
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(p[i] >= 0.0, TL_E_INVALID_ARG,
              "%s: '%s' has a negative entry (%g) at index %zu", fn, what, p[i],
              i);
    s += p[i];
  }
  TLI_CHECK(s > 0.0, TL_E_INVALID_ARG, "%s: '%s' sums to 0", fn, what);
  /* Finite values whose sum exceeds DBL_MAX: the sum of the values halved
   * (exact) is finite; callers normalise by p / 2 / that. */
  *halved = !isfinite(s);
  if (*halved) {
    s = 0.0;
    for (size_t i = 0; i < n; i++)
      s += 0.5 * p[i];
  }
  *sum = s;
  return TL_OK;
}

tl_status tli_term_similarity(double *out, const double *p, const double *q,
                              size_t n, double alpha) {
  double tv;
  TLI_TRY(tl_js_divergence(&out[TL_SELECTION_FEATURE_JENSEN_SHANNON], p, q, n,
                           0.0));
  TLI_TRY(tl_renyi_divergence(&out[TL_SELECTION_FEATURE_RENYI], p, q, n, alpha,
                              0.0));
  TLI_TRY(tl_cosine_similarity(&out[TL_SELECTION_FEATURE_COSINE], p, q, n));
  TLI_TRY(tl_euclidean(&out[TL_SELECTION_FEATURE_EUCLIDEAN], p, q, n));
  TLI_TRY(tl_total_variation(&tv, p, q, n));
  out[TL_SELECTION_FEATURE_VARIATIONAL] =
      2.0 * tv; /* Ruder & Plank's L1, not TV = L1/2 */
  TLI_TRY(tl_bhattacharyya(&out[TL_SELECTION_FEATURE_BHATTACHARYYA], p, q, n));
  return TL_OK;
}

tl_status tl_term_distribution(double *out, const int64_t *ids, size_t n,
                               size_t vocab_size, double smoothing) {
  static const char fn[] = "tl_term_distribution";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(ids != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'ids' is NULL", fn);
  TLI_CHECK(vocab_size >= 1, TL_E_INVALID_ARG, "%s: vocab_size must be >= 1",
            fn);
  TLI_CHECK(vocab_size <= SIZE_MAX / sizeof *out, TL_E_INVALID_ARG,
            "%s: vocab_size = %zu is larger than any array of doubles", fn,
            vocab_size);
  TLI_CHECK(isfinite(smoothing) && smoothing >= 0.0, TL_E_INVALID_ARG,
            "%s: smoothing must be finite and >= 0 (got %g)", fn, smoothing);
  /* A total beyond DBL_MAX would divide every count to 0. */
  TLI_CHECK(isfinite((double)n + smoothing * (double)vocab_size),
            TL_E_INVALID_ARG, "%s: smoothing %g times vocab_size %zu overflows",
            fn, smoothing, vocab_size);
  TLI_CHECK(n > 0 || smoothing > 0.0, TL_E_INVALID_ARG,
            "%s: no tokens (n = 0) and no smoothing: the distribution is "
            "undefined",
            fn);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(ids[i] >= 0 && (uint64_t)ids[i] < (uint64_t)vocab_size,
              TL_E_INVALID_ARG,
              "%s: ids[%zu] = %lld is outside the vocabulary [0, %zu)", fn, i,
              (long long)ids[i], vocab_size);
  for (size_t v = 0; v < vocab_size; v++)
    out[v] = smoothing;
  for (size_t i = 0; i < n; i++)
    out[ids[i]] += 1.0;
  const double total = (double)n + smoothing * (double)vocab_size;
  for (size_t v = 0; v < vocab_size; v++)
    out[v] /= total;
  return TL_OK;
}

tl_status tl_term_similarity(double *out, const double *p, const double *q,
                             size_t n, double alpha) {
  static const char fn[] = "tl_term_similarity";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(n >= 1, TL_E_INVALID_ARG, "%s: n must be >= 1", fn);
  size_t bytes;
  TLI_CHECK(tli_mul_size(&bytes, n, 2 * sizeof(double)), TL_E_INVALID_ARG,
            "%s: n = %zu is too large", fn, n);
  TLI_CHECK(isfinite(alpha) && alpha > 0.0 && alpha != 1.0, TL_E_INVALID_ARG,
            "%s: alpha must be finite, > 0 and != 1 (got %g)", fn, alpha);
  double sp, sq;
  int hp, hq;
  TLI_TRY(tli_check_distribution(fn, "p", p, n, &sp, &hp));
  TLI_TRY(tli_check_distribution(fn, "q", q, n, &sq, &hq));
  double *buf;
  TLI_TRY(tli_alloc_checked((void **)&buf, n, 2 * sizeof *buf,
                            "normalised distributions"));
  for (size_t i = 0; i < n; i++) {
    buf[i] = (hp ? 0.5 * p[i] : p[i]) / sp;
    buf[n + i] = (hq ? 0.5 * q[i] : q[i]) / sq;
  }
  const tl_status st = tli_term_similarity(out, buf, buf + n, n, alpha);
  tli_free(buf);
  return st;
}
