/* The target side of the ULMFiT example in ids: the task's passages and the
 * target-domain documents tokenized with fastai's rules and encoded with
 * the target vocabulary (built, as fastai's TextDataLoaders builds the LM
 * data's, from the training documents only: nothing of the validation or
 * test documents leaks into it). */
#ifndef ULMFIT_TASK_H
#define ULMFIT_TASK_H

#include <stddef.h>
#include <stdint.h>

#include <tl/tl.h>

#include "corpora.h"

typedef struct ul_task {
  tl_vocab *vocab;
  size_t vocab_size;
  /* Target documents (corpora.target order): ids, lengths, sides,
   * classes. */
  int64_t **doc_ids;
  size_t *doc_lens;
  ul_side *doc_side;
  int64_t *doc_label;
  size_t n_docs;
  /* Passages (corpora.passages order): ids, lengths, labels, and the
   * tokenized texts for the bag of words. */
  int64_t **ids;
  size_t *lens;
  int64_t *labels;
  size_t n;
  tl_text_corpus *corpus;
  /* Passage indices per side (UL_TRAIN, UL_VALID, UL_TEST) and their
   * labels in the same order. */
  size_t *side_idx[3];
  int64_t *side_labels[3];
  size_t n_side[3];
} ul_task;

/* Tokenizes c's target documents and passages with `threads` threads and
 * builds the vocabulary of the UL_TRAIN documents (fastai's make_vocab:
 * min_freq, at most max_vocab). Returns 0, or -1 with a message. */
int ul_task_build(ul_task *t, const ul_corpora *c, size_t min_freq,
                  size_t max_vocab, int threads, char *err, size_t errcap);

/* Frees what ul_task_build allocated; a zeroed struct is fine. */
void ul_task_free(ul_task *t);

/* ids of one document of corpus encoded with vocab into a new array
 * (*out, *out_len; an empty document gets a 1-element array and length
 * 0). Returns 0 or -1 (out of memory or a library error). */
int ul_encode_doc(int64_t **out, size_t *out_len, const tl_vocab *vocab,
                  const tl_text_corpus *corpus, size_t doc);

#endif
