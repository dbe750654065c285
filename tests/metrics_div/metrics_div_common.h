/* Shared by the metrics_div test files (one Check test case per concern,
 * each in its own file, composed in test_metrics_div.c): includes, tolerances
 * and helpers. */
#ifndef TLT_METRICS_DIV_COMMON_H
#define TLT_METRICS_DIV_COMMON_H

/* Each file uses part of the golden fixtures and helpers. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/metrics_div_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/fastlog.h"
#include "metrics/logsums.h"
#include "metrics/sort.h"
#include "tl_test.h"

/* Closed forms against SciPy/POT/numpy: relative error < 1e-10. */
#define TIGHT 1e-10
/* Iterative Sinkhorn against POT. */
#define SINKHORN_TOL 1e-6

static const double ln2 = 0.69314718055994530942;

/* Random positive distribution of n bins from rng (scale arbitrary). */
static inline void random_dist(double *out, size_t n, tli_rng *rng) {
  for (size_t i = 0; i < n; i++)
    out[i] = tli_rng_uniform(rng) + 1e-3;
}
#pragma GCC diagnostic pop

TCase *metrics_div_case_divergences(void);
TCase *metrics_div_case_fast_paths(void);
TCase *metrics_div_case_wasserstein(void);
TCase *metrics_div_case_sliced(void);
TCase *metrics_div_case_sinkhorn(void);
TCase *metrics_div_case_mmd(void);

#endif
