/* Internal: the proxy A-distance classifier on an explicit split, so tests
 * can compare it with an independent implementation on the same rows. */
#ifndef TLI_METRICS_PROXY_A_H
#define TLI_METRICS_PROXY_A_H

#include <stddef.h>

#include "tl/metrics.h"

/* perm (ns + nt entries) orders the rows of [xs; xt]: perm[0..ntrain) train,
 * the rest are held out. Index r < ns is source row r, else target row
 * r - ns. Writes the held-out error, and if weights is non-NULL the d
 * weights and then the bias of the classifier (standardised features).
 * Inputs must be validated; 1 <= ntrain < ns + nt. */
tl_status tli_proxy_a_run(double *out_err, double *weights, const double *xs,
                          size_t ns, const double *xt, size_t nt, size_t d,
                          const size_t *perm, size_t ntrain,
                          const tl_proxy_a_options *o);

#endif
