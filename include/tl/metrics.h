/*
 * libtl metrics: domain similarity and adaptation on plain arrays.
 * Divergences and distances between distributions, Wasserstein and optimal
 * transport, MMD, CORAL, data selection, PCA and cross-lingual alignment.
 *
 * All functions are pure: they read their inputs, write their outputs and
 * keep no state, so any of them may be called from any thread at once.
 * Distribution measures compute in double precision.
 */
#ifndef TL_METRICS_H
#define TL_METRICS_H

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Part 1: divergences, distances, Wasserstein, sliced Wasserstein, Sinkhorn,
 * MMD.
 * ------------------------------------------------------------------------ */

/* (end of part 1) */

/* ------------------------------------------------------------------------
 * Part 2: proxy A-distance, CORAL, Frechet distance, term distributions and
 * data selection, PCA, Procrustes alignment, CSLS retrieval.
 * ------------------------------------------------------------------------ */

/* (end of part 2) */

#ifdef __cplusplus
}
#endif

#endif /* TL_METRICS_H */
