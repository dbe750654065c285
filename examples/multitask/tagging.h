/* What the tagging examples share (examples/multitask.c,
 * examples/self_training.c): a vocabulary of some sentences' words, batches
 * of tagged sentences, seeded shuffles and streams of batches sorted by
 * length within chunks. */
#ifndef MULTITASK_TAGGING_H
#define MULTITASK_TAGGING_H

#include <stddef.h>
#include <stdint.h>

#include "brown_pos.h"

/* splitmix64: the examples' own shuffles (libtl's RNG is internal). */
uint64_t tg_next_u64(uint64_t *state);
/* Fisher-Yates shuffle of a[0..n) with tg_next_u64. */
void tg_shuffle(size_t *a, size_t n, uint64_t *state);
/* malloc that exits with a message when memory runs out. */
void *tg_xmalloc(size_t n);

/* Token ids of the whole corpus under the vocabulary of the words of
 * sentences[0..n) (case kept: capitals help tagging; words seen at least
 * twice, at most max_vocab, fastai's make_vocab with its special tokens).
 * *out_ids (n_tokens, malloc'd), *out_size, *out_pad (the id of xxpad).
 * Exits with libtl's message on failure. */
void tg_vocab_ids(int64_t **out_ids, size_t *out_size, int64_t *out_pad,
                  const bp_corpus *c, const size_t *sentences, size_t n,
                  size_t max_vocab);

/* A batch of sentences, time-major: ids and targets (T, B). */
typedef struct tg_batch {
  int64_t *ids, *target;
  size_t T, B;
} tg_batch;

/* Buffers for batches of up to max_b sentences of the corpus's longest
 * length (or longer inputs of up to max_t tokens). */
void tg_batch_alloc(tg_batch *b, const bp_corpus *c, size_t max_b,
                    size_t max_t);
void tg_batch_free(tg_batch *b);

/* Sentences idx[0..B) as a batch: ids[token], target[token] per token
 * (any per-token labels: gold tags, pseudo-labels, -1 for none); tokens
 * past cap dropped (cap 0: none); padding gets the pad id and target -1
 * (ignored by tl_cross_entropy with ignore_index -1). */
void tg_make_batch(tg_batch *b, const bp_corpus *c, const int64_t *ids,
                   const int64_t *target, int64_t pad, const size_t *idx,
                   size_t B, size_t cap);

/* Draws batches from a training set in epochs of a seeded permutation,
 * sorted by length within chunks of TG_SORT_CHUNK batches so that a
 * batch's inputs have similar lengths and little padding (fastai's
 * SortishSampler idea). */
#define TG_SORT_CHUNK 16
typedef struct tg_stream {
  size_t *order, n, pos;
  uint64_t rng;
  const size_t *len; /* length of each element, indexed by element */
} tg_stream;

/* A stream over elements[0..n) (copied) with lengths len[element]. */
void tg_stream_init(tg_stream *s, const size_t *elements, size_t n,
                    const size_t *len, uint64_t seed);
void tg_stream_free(tg_stream *s);
/* The next B elements (n >= B). */
const size_t *tg_stream_next(tg_stream *s, size_t B);

/* Sorts idx[0..n) by len[idx[i]] (stable for equal lengths is not
 * needed: qsort). */
void tg_sort_by_len(size_t *idx, size_t n, const size_t *len);

/* The index of the largest of x[0..n) (first on ties). */
size_t tg_argmax(const float *x, size_t n);

#endif
