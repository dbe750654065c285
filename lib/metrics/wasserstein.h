/* Internal: the 1-D Wasserstein kernel shared by tl_wasserstein_1d, the
 * histogram variant and sliced Wasserstein. */
#ifndef TLI_METRICS_WASSERSTEIN_H
#define TLI_METRICS_WASSERSTEIN_H

#include <stddef.h>

#include "metrics/check.h"

/* integral_0^1 |F_u^-1(t) - F_v^-1(t)|^p dt (W_p^p) for sorted u (n >= 1)
 * and v (m >= 1), with every value read as tli_scaled(value, vs) (so the
 * result is W_p^p of the scaled values). uw and vw are weights described
 * by su and sv (tli_check_weights); NULL means uniform (su, sv ignored). One
 * merge pass over both quantile functions: O(n + m). */
double tli_wasserstein_sorted_pow(const double *u, const double *uw,
                                  tli_wsum su, size_t n, const double *v,
                                  const double *vw, tli_wsum sv, size_t m,
                                  double p, tli_scale vs);

/* The value scale of a W_p computation over values up to max_abs: the
 * identity while |u - v|^p can neither overflow nor underflow (max_abs
 * within 2^(+-900/p)), else the power of two that brings max_abs into
 * [1, 2); W_p of the scaled values, mapped back with tli_unscaled, is then
 * exact up to rounding whenever W_p itself is representable. */
tli_scale tli_wasserstein_scale(double max_abs, double p);

#endif
