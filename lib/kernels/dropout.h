/* Internal: dropout masks and their application, drawn from the caller's
 * seeded tli_rng.
 *
 * A mask is an array of float scales: 0 for a dropped unit, 1/(1-p) for a
 * kept one ("inverted" dropout, as torch and fastai: the expectation of the
 * output equals the input, and evaluation needs no rescaling). The same mask
 * multiplies the forward input and the backward gradient.
 *
 * The three kinds AWD-LSTM uses differ only in the mask's shape and in how
 * it is broadcast:
 *   standard   mask of n elements, one per activation       tli_dropout_apply
 *   embedding  mask of vocab elements, one per word (row of the embedding
 *              matrix), passed as row_scale to tli_embedding_forward/backward
 *   locked     mask of B * F elements, one per (sequence, feature), shared by
 *              all T time steps tli_dropout_locked_apply Draw a fresh mask per
 * forward; keep it for the backward.
 *
 * p = 0 gives a mask of exact 1.0f and draws nothing from the rng, so the
 * result equals no dropout bit for bit. */
#ifndef TLI_KERNELS_DROPOUT_H
#define TLI_KERNELS_DROPOUT_H

#include <stddef.h>

#include "core/rng.h"

/* mask[i] = 0 with probability p, else 1/(1-p), i < n; one
 * tli_rng_uniform_f draw per element (dropped when the draw is < p) when
 * p > 0. Precondition: 0 <= p < 1. */
void tli_dropout_mask(float *mask, size_t n, float p, tli_rng *rng);

/* y[i] = x[i] * mask[i], i < n. y may alias x. Forward (x = input) and
 * backward (x = dy, y = dx: dx = dy * mask, WRITTEN, not accumulated). */
void tli_dropout_apply(float *y, const float *x, const float *mask, size_t n);

/* Locked (variational) dropout over a time-major (T, B, F) tensor, given as
 * t steps of bf = B * F values: y[s][j] = x[s][j] * mask[j] for every step s.
 * mask has bf elements. y may alias x. Also the backward (dx = dy * mask,
 * written), as tli_dropout_apply. */
void tli_dropout_locked_apply(float *y, const float *x, const float *mask,
                              size_t t, size_t bf);

#endif
