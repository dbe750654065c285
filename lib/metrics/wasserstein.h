/* Internal: the 1-D Wasserstein kernel shared by tl_wasserstein_1d, the
 * histogram variant and sliced Wasserstein. */
#ifndef TLI_METRICS_WASSERSTEIN_H
#define TLI_METRICS_WASSERSTEIN_H

#include <stddef.h>

/* integral_0^1 |F_u^-1(t) - F_v^-1(t)|^p dt (W_p^p) for sorted u (n >= 1)
 * and v (m >= 1). uw and vw are weights summing to su and sv (> 0); NULL
 * means uniform (su, sv ignored). One merge pass over both quantile
 * functions: O(n + m). */
double tli_wasserstein_sorted_pow(const double *u, const double *uw, double su,
                                  size_t n, const double *v, const double *vw,
                                  double sv, size_t m, double p);

#endif
