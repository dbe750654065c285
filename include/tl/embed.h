/*
 * libtl embed: word embeddings trained from token ids (../docs/embed.md).
 *
 * tl_sgns_train is the skip-gram with negative sampling of Mikolov et al.
 * 2013 with the semantics of the reference word2vec.c (and of gensim's
 * Word2Vec(sg=1)):
 *   - each token of a document is a centre; the effective window is
 *     shrunk at random per centre to window - b, b uniform in [0, window);
 *   - for each context word c of the centre w, the input vector of c is
 *     trained to predict w against `negative` words drawn from the
 *     unigram distribution raised to ns_exponent (0.75); a draw equal to
 *     w is skipped, not drawn again, as in word2vec;
 *   - frequent words are sub-sampled with word2vec's keep probability
 *     (sqrt(f / sample) + 1) * sample / f, f = count / total count, before
 *     the windows are formed (so windows reach past dropped words);
 *   - the learning rate decays linearly from alpha to alpha *
 *     min_alpha_ratio over epochs passes of the corpus;
 *   - words whose count is below min_count are removed from the corpus.
 * One (context c, centre w, negatives n_k) step, with u = in[c], x = u . v
 * and sigma(x) = 1 / (1 + exp(-x)), saturated to 0 or 1 when |x| > 6 as
 * word2vec's table does:
 *   g_t = alpha * (label_t - sigma(u . out[t]))  (label 1 for w, 0 for n_k)
 *   e  += g_t out[t];  out[t] += g_t u          (for t = w, n_1, ..., n_k)
 *   in[c] += e
 * which is plain SGD on -log sigma(u . out[w]) - sum_k log sigma(-u .
 * out[n_k]) (out[t] updated in turn, as word2vec does).
 *
 * Documents are windows' boundaries: no window reaches across two
 * documents, and a document is cut into sentences of at most 1000 tokens
 * (word2vec's MAX_SENTENCE_LENGTH).
 *
 * Threads: n_threads 1 is deterministic (bit-identical results for one
 * seed on one platform). n_threads > 1 trains as word2vec does, Hogwild:
 * thread k trains the k-th contiguous slice of the corpus and all threads
 * update the shared matrices without locks, so results depend on timing
 * and are NOT reproducible, nor equal to the one-thread result. Threads
 * are started by the call and joined before it returns; none exists
 * otherwise (none is created when the library is loaded).
 */
#ifndef TL_EMBED_H
#define TL_EMBED_H

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options of tl_sgns_train. */
#define TL_SGNS_OPTIONS_VERSION 1
typedef struct tl_sgns_options {
  unsigned int version;   /* TL_SGNS_OPTIONS_VERSION */
  size_t dim;             /* vector size, >= 1 (default 100) */
  size_t window;          /* largest window, >= 1 (default 5) */
  size_t negative;        /* negative samples per pair, >= 1 (default 5) */
  double sample;          /* sub-sampling threshold, >= 0, 0: off (1e-3) */
  double alpha;           /* starting learning rate, > 0 (default 0.025) */
  double min_alpha_ratio; /* final rate / alpha, in [0, 1] (default 1e-4) */
  double ns_exponent;     /* unigram power of negatives, >= 0 (0.75) */
  uint64_t min_count;     /* words rarer than this are dropped, >= 1 (5) */
  size_t epochs;          /* passes over the corpus, >= 1 (default 5) */
  size_t n_threads;       /* Hogwild threads, 1..256 (default 1) */
  uint64_t seed;          /* the random streams (default 0) */
} tl_sgns_options;
/* The defaults of tl_sgns_options_init as a static initialiser (those of
 * word2vec.c and gensim): tl_sgns_options o = TL_SGNS_OPTIONS_INIT; */
#define TL_SGNS_OPTIONS_INIT                                                   \
  { TL_SGNS_OPTIONS_VERSION, 100, 5, 5, 1e-3, 0.025, 1e-4, 0.75, 5, 5, 1, 0 }

/* Fills *out with the defaults above for `version`. Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sgns_options_init(tl_sgns_options *out,
                                      unsigned int version);

/* Trains skip-gram with negative sampling embeddings on the token ids
 * ids[0..n_ids) (each in [0, vocab_size), as tl_vocab_encode gives them)
 * and writes the input-embedding matrix, row-major vocab_size x dim
 * float32, into out[0..n) (n must be vocab_size * dim). To initialise a
 * model's embedding layer, pass the pointer tl_model_param_view gives for
 * "<layer>.weight" (or copy with tl_model_param_set).
 *
 * doc_lengths[0..n_docs) splits ids into documents (they must sum to
 * n_ids; a length may be 0); NULL with n_docs 0: ids is one document.
 * counts[0..vocab_size) are the word counts behind min_count, the
 * sub-sampling frequencies and the negative distribution (a vocabulary
 * built on a larger corpus may give its own); NULL: counted from ids.
 * Rows of words dropped by min_count (and of words with no count) are 0;
 * the others start uniform in [-0.5 / dim, 0.5 / dim) as in word2vec.
 * options NULL: defaults.
 *
 * Errors (out is not written): TL_E_INVALID_ARG (NULL out or ids, n_ids
 * 0, doc_lengths NULL with n_docs > 0, an id outside [0, vocab_size)
 * naming its position, vocab_size 0, dim, window, negative, epochs,
 * min_count or n_threads 0 or too large, sample < 0, alpha <= 0,
 * min_alpha_ratio outside [0, 1], ns_exponent < 0 or any of them not
 * finite, no token with count >= min_count), TL_E_SHAPE (n != vocab_size
 * * dim, doc_lengths not summing to n_ids), TL_E_UNSUPPORTED (options
 * version), TL_E_NOMEM. */
TL_API tl_status tl_sgns_train(float *out, size_t n, const int64_t *ids,
                               size_t n_ids, const size_t *doc_lengths,
                               size_t n_docs, const uint64_t *counts,
                               size_t vocab_size,
                               const tl_sgns_options *options);

#ifdef __cplusplus
}
#endif

#endif
