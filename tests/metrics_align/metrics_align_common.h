/* Shared by the metrics_align test files (one Check test case per concern,
 * each in its own file, composed in test_metrics_align.c): includes, tolerances
 * and helpers. */
#ifndef TLT_METRICS_ALIGN_COMMON_H
#define TLT_METRICS_ALIGN_COMMON_H

/* Each file uses part of the golden fixtures and helpers. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <float.h>
#include <math.h>
#include <string.h>

#include "../fixtures/metrics_align_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/align_util.h"
#include "metrics/proxy_a.h"
#include "tl_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Element-wise relative error against the scale of the whole array, so
 * entries near 0 in an O(1) matrix compare sensibly. */
static inline void assert_array_rel(const double *got, const double *want,
                                    size_t n, double rel) {
  double scale = 0.0;
  for (size_t i = 0; i < n; i++)
    scale = fmax(scale, fabs(want[i]));
  TLT_ASSERT_ARRAY_CLOSE(got, want, n, rel, scale);
}

static inline void sample_cov(double *cov, const double *x, size_t n,
                              size_t d) {
  double *mean = tli_alloc(d * sizeof *mean);
  double *work = tli_alloc(n * d * sizeof *work);
  tli_mean_cov(mean, cov, x, n, d, work);
  tli_free(work);
  tli_free(mean);
}
#pragma GCC diagnostic pop

TCase *metrics_align_case_coral(void);
TCase *metrics_align_case_frechet(void);
TCase *metrics_align_case_termdist(void);
TCase *metrics_align_case_selection(void);
TCase *metrics_align_case_pca(void);
TCase *metrics_align_case_procrustes(void);
TCase *metrics_align_case_csls(void);
TCase *metrics_align_case_proxy_a(void);

#endif
