/* Internal: the term-distribution similarity measures shared by
 * tl_term_similarity and tl_selection_features. */
#ifndef TLI_METRICS_TERMDIST_H
#define TLI_METRICS_TERMDIST_H

#include <stddef.h>

#include "tl/core.h"

/* out[0..6) = JS, Renyi(alpha), cosine, Euclidean, L1, Bhattacharyya of
 * validated distributions p and q (non-negative, positive sums), through the
 * Part 1 measures of metrics.h so both parts share one definition. */
tl_status tli_term_similarity(double *out, const double *p, const double *q,
                              size_t n, double alpha);

/* Checks a distribution argument: non-NULL, finite, >= 0, positive sum.
 * Writes the sum to *sum, or, when it exceeds DBL_MAX, the sum of the halved
 * values with *halved = 1: p_i / sum p is then (p_i / 2) / *sum. */
tl_status tli_check_distribution(const char *fn, const char *what,
                                 const double *p, size_t n, double *sum,
                                 int *halved);

#endif
