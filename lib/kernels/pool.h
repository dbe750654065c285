/* Internal: masked concat pooling for a variable-length, time-major batch
 * (ULMFiT's classifier head input).
 *
 * h is (T, B, H). Sequence b has lengths[b] real steps at the START,
 * steps [0, lengths[b]), and padding AFTER them (end padding; fastai's
 * classification batches in some versions pad at the start instead: libtl
 * always pads at the end and takes explicit lengths). Padding steps are never
 * read, so their contents do not matter.
 *
 * out (B, 3H), row b = [ h[len-1, b, :] | max over s < len of h[s, b, :] |
 *                        mean over s < len of h[s, b, :] ].
 *
 * Preconditions: 1 <= lengths[b] <= T (the model checks with
 * tli_concat_pool_find_bad_length). */
#ifndef TLI_KERNELS_POOL_H
#define TLI_KERNELS_POOL_H

#include <stddef.h>

/* Position of the first length that is 0 or greater than t, or b when all
 * are valid. */
size_t tli_concat_pool_find_bad_length(const size_t *lengths, size_t b,
                                       size_t t);

/* Forward. argmax (B * H) receives, per (b, j), the time step of the max,
 * the FIRST such step on ties (strict > while scanning forward); the backward
 * needs it, inference may pass NULL. out must not alias h. */
void tli_concat_pool_forward(float *out, size_t *argmax, const float *h,
                             const size_t *lengths, size_t t, size_t b,
                             size_t hdim);

/* Backward: dh (T, B, H) += the gradient of out given dout (B, 3H): the
 * "last" part goes to step len-1, the "max" part to step argmax (only), the
 * "mean" part is spread as dout / len over steps [0, len). Padding steps get
 * nothing (left as they are). ACCUMULATES. */
void tli_concat_pool_backward(float *dh, const float *dout,
                              const size_t *argmax, const size_t *lengths,
                              size_t t, size_t b, size_t hdim);

#endif
