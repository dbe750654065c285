/* Internal: softmax, log-softmax, softmax cross-entropy with ignore_index,
 * and accuracy. logits are (n, c) row-major; targets are int64 class ids.
 *
 * Every softmax uses the max-shifted log-sum-exp, so large logits neither
 * overflow nor lose the small ones; sums run in double.
 *
 * Preconditions: c >= 1; every target is in [0, c) or equals ignore_index
 * (the model checks with tli_loss_find_bad_target). */
#ifndef TLI_KERNELS_LOSS_H
#define TLI_KERNELS_LOSS_H

#include <stddef.h>
#include <stdint.h>

/* torch's default ignore_index. Any negative value works as "ignore"
 * (targets are never negative otherwise). */
#define TLI_IGNORE_INDEX_DEFAULT (-100)

/* Position of the first target that is neither in [0, c) nor ignore_index,
 * or n when all are valid. */
size_t tli_loss_find_bad_target(const int64_t *targets, size_t n, size_t c,
                                int64_t ignore_index);

/* The index of the first NaN or infinite element of x[0..n), or n when
 * every one is finite (vectorised: the validation of a large logit array
 * costs about a memory pass). */
size_t tli_find_nonfinite(const float *x, size_t n);

/* out row i = log_softmax(logits row i). out may alias logits. */
void tli_log_softmax(float *out, const float *logits, size_t n, size_t c);

/* out row i = softmax(logits row i). out may alias logits. */
void tli_softmax(float *out, const float *logits, size_t n, size_t c);

/* Mean cross-entropy, as F.cross_entropy(logits, targets,
 * ignore_index=ignore_index, reduction='mean'): the mean of
 * -log_softmax(logits)[i, targets[i]] over the rows whose target is not
 * ignore_index. Returns the loss; *out_count (if not NULL) gets the number of
 * counted rows.
 *
 * If dlogits is not NULL it is WRITTEN (not accumulated) with the gradient of
 * the returned loss times grad_scale (1 for a plain loss; a multi-task or
 * loss-scaling weight otherwise): (softmax - onehot) * grad_scale / count for
 * counted rows, 0 for ignored rows. dlogits may alias logits (the logits are
 * then consumed).
 *
 * All targets ignored (count 0): torch returns NaN (0/0); libtl returns loss
 * 0 and a zero gradient, so a batch of pure padding is a no-op step. */
float tli_cross_entropy(float *dlogits, const float *logits,
                        const int64_t *targets, size_t n, size_t c,
                        int64_t ignore_index, float grad_scale,
                        size_t *out_count);

/* Fraction of counted rows (target != ignore_index) whose argmax equals the
 * target; argmax ties go to the first (lowest) class, as torch.argmax.
 * *out_correct and *out_count (each optional) get the raw counts. Count 0
 * gives 0. */
float tli_accuracy(const float *logits, const int64_t *targets, size_t n,
                   size_t c, int64_t ignore_index, size_t *out_correct,
                   size_t *out_count);

#endif
