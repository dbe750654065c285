/* Internal: the pieces of tl_sgns_train that tests check one by one. */
#ifndef TLI_EMBED_SGNS_INTERNAL_H
#define TLI_EMBED_SGNS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/* Walker's alias table (Vose's construction) of the distribution w_i / sum
 * w over n entries (w_i >= 0, sum > 0): entry i keeps itself with
 * probability prob[i] and else gives alias[i]. Exact where word2vec's
 * 1e8-entry table rounds rare words, and O(1) per draw like it. */
typedef struct tli_alias {
  double *prob;
  uint32_t *alias;
  size_t n;
} tli_alias;

/* Builds the table into caller arrays prob[n], alias[n], using work[n]
 * (size_t) as the two worklists. n < 2^32. */
void tli_alias_build(tli_alias *t, double *prob, uint32_t *alias, size_t *work,
                     const double *w, size_t n);

/* One draw from one 64-bit random word: the high 32 bits pick the entry
 * (multiply-shift, bias below n / 2^32), the low 32 bits the coin. */
static inline uint32_t tli_alias_draw(const tli_alias *t, uint64_t r) {
  const uint32_t i = (uint32_t)(((r >> 32) * (uint64_t)t->n) >> 32);
  const double u = (double)(uint32_t)r * (1.0 / 4294967296.0);
  return u < t->prob[i] ? i : t->alias[i];
}

/* word2vec's sub-sampling keep probability of a word of `count` among
 * `total` words with threshold `sample` (> 0): with f = count / total,
 * min(1, (sqrt(f / sample) + 1) * sample / f). */
double tli_sgns_keep_prob(uint64_t count, uint64_t total, double sample);

/* The learning rate after `done` of `total` words (total = epochs * corpus
 * words): alpha * (1 - done / (total + 1)), floored at alpha * min_ratio
 * (word2vec's schedule). */
double tli_sgns_lr(double alpha, double min_ratio, uint64_t done,
                   uint64_t total);

/* One word2vec skip-gram step: input row `in` (the context word's), output
 * rows out + targets[t] * dim for t < n_targets, targets[0] the positive
 * (the centre word), the rest negatives; `work` holds dim floats. */
void tli_sgns_step(float *in, float *out, const uint32_t *targets,
                   size_t n_targets, size_t dim, float alpha, float *work);

#endif
