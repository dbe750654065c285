/* Internal: AWD-LSTM activation regularisation (Merity et al. 2017), as
 * fastai's RNNRegularizer computes it.
 *
 *   AR  = alpha * mean(h_dropped^2)        over every element of the LAST
 *         layer's output after its (locked) dropout, shape (T, B, H)
 *   TAR = beta * mean((h[t] - h[t-1])^2)   over every element of the
 *         (T-1, B, H) differences of the RAW last-layer output (before
 *         dropout)
 * Defaults in AWD-LSTM/fastai: alpha 2, beta 1.
 *
 * Each returns the penalty (summed in double) and, when dh is not NULL, ADDS
 * its gradient to dh (the same shape as h), so it lands on top of the
 * gradient coming from the loss. */
#ifndef TLI_KERNELS_REGULARIZE_H
#define TLI_KERNELS_REGULARIZE_H

#include <stddef.h>

#define TLI_AR_ALPHA_DEFAULT 2.0f
#define TLI_TAR_BETA_DEFAULT 1.0f

/* alpha * sum(h^2) / n; dh[i] += 2 alpha h[i] / n. n == 0 or alpha == 0
 * gives 0 and leaves dh alone. */
float tli_ar_penalty(float *dh, const float *h, size_t n, float alpha);

/* h is time-major: t steps of bh = B * H values. beta * sum over s >= 1 of
 * (h[s] - h[s-1])^2 / ((t-1) * bh), with its gradient added to dh. t < 2,
 * bh == 0 or beta == 0 gives 0 and leaves dh alone (fastai skips the term
 * for a single step). */
float tli_tar_penalty(float *dh, const float *h, size_t t, size_t bh,
                      float beta);

#endif
