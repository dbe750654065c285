#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ul_encode_doc(int64_t **out, size_t *out_len, const tl_vocab *vocab,
                  const tl_text_corpus *corpus, size_t doc) {
  size_t n = 0;
  if (tl_text_corpus_doc_len(&n, corpus, doc) != TL_OK)
    return -1;
  int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids)
    return -1;
  if (n && tl_vocab_encode_doc(ids, n, vocab, corpus, doc) != TL_OK) {
    free(ids);
    return -1;
  }
  *out = ids;
  *out_len = n;
  return 0;
}

void ul_task_free(ul_task *t) {
  for (size_t i = 0; t->doc_ids && i < t->n_docs; i++)
    free(t->doc_ids[i]);
  for (size_t i = 0; t->ids && i < t->n; i++)
    free(t->ids[i]);
  free(t->doc_ids);
  free(t->doc_lens);
  free(t->doc_side);
  free(t->doc_label);
  free(t->ids);
  free(t->lens);
  free(t->labels);
  for (int s = 0; s < 3; s++) {
    free(t->side_idx[s]);
    free(t->side_labels[s]);
  }
  tl_text_corpus_free(t->corpus);
  tl_vocab_free(t->vocab);
  memset(t, 0, sizeof *t);
}

int ul_task_build(ul_task *t, const ul_corpora *c, size_t min_freq,
                  size_t max_vocab, int threads, char *err, size_t errcap) {
  memset(t, 0, sizeof *t);
  if (errcap)
    err[0] = 0;
  tl_text_corpus *docs = NULL;
  tl_token_counts *counts = NULL;
  const char **texts =
      malloc((c->n_passages ? c->n_passages : 1) * sizeof *texts);
  size_t *tlens = malloc((c->n_passages ? c->n_passages : 1) * sizeof *tlens);
  int rc = texts && tlens ? 0 : -1;
  if (!rc && (tl_text_corpus_tokenize(&docs, (const char *const *)c->target,
                                      c->target_len, c->n_target, NULL,
                                      threads) != TL_OK ||
              tl_token_counts_create(&counts) != TL_OK))
    rc = -1;
  /* The vocabulary of the training documents only. */
  const char **toks = NULL;
  size_t cap = 0;
  for (size_t d = 0; !rc && d < c->n_target; d++) {
    if (c->target_side[d] != UL_TRAIN)
      continue;
    size_t n = 0;
    rc = tl_text_corpus_doc_len(&n, docs, d) == TL_OK ? 0 : -1;
    if (!rc && n > cap) {
      const char **g = realloc(toks, n * sizeof *toks);
      rc = g ? 0 : -1;
      if (g)
        toks = g, cap = n;
    }
    for (size_t i = 0; !rc && i < n; i++)
      rc = tl_text_corpus_token(&toks[i], NULL, docs, d, i) == TL_OK ? 0 : -1;
    if (!rc)
      rc = tl_token_counts_add(counts, toks, n) == TL_OK ? 0 : -1;
  }
  free(toks);
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = min_freq;
  vo.max_vocab = max_vocab;
  if (!rc && (tl_vocab_create_from_counts(&t->vocab, counts, &vo) != TL_OK ||
              tl_vocab_size(&t->vocab_size, t->vocab) != TL_OK))
    rc = -1;
  t->n_docs = c->n_target;
  t->doc_ids = calloc(t->n_docs, sizeof *t->doc_ids);
  t->doc_lens = calloc(t->n_docs, sizeof *t->doc_lens);
  t->doc_side = calloc(t->n_docs, sizeof *t->doc_side);
  t->doc_label = calloc(t->n_docs, sizeof *t->doc_label);
  if (!t->doc_ids || !t->doc_lens || !t->doc_side || !t->doc_label)
    rc = -1;
  for (size_t d = 0; !rc && d < t->n_docs; d++) {
    rc = ul_encode_doc(&t->doc_ids[d], &t->doc_lens[d], t->vocab, docs, d);
    t->doc_side[d] = c->target_side[d];
    t->doc_label[d] = c->target_label[d];
  }
  /* Passages. */
  t->n = c->n_passages;
  for (size_t i = 0; !rc && i < t->n; i++) {
    texts[i] = c->passages[i].text;
    tlens[i] = c->passages[i].len;
  }
  if (!rc && tl_text_corpus_tokenize(&t->corpus, texts, tlens, t->n, NULL,
                                     threads) != TL_OK)
    rc = -1;
  t->ids = calloc(t->n, sizeof *t->ids);
  t->lens = calloc(t->n, sizeof *t->lens);
  t->labels = calloc(t->n, sizeof *t->labels);
  for (int s = 0; s < 3; s++) {
    t->side_idx[s] = calloc(t->n, sizeof *t->side_idx[s]);
    t->side_labels[s] = calloc(t->n, sizeof *t->side_labels[s]);
    if (!t->side_idx[s] || !t->side_labels[s])
      rc = -1;
  }
  if (!t->ids || !t->lens || !t->labels)
    rc = -1;
  for (size_t i = 0; !rc && i < t->n; i++) {
    rc = ul_encode_doc(&t->ids[i], &t->lens[i], t->vocab, t->corpus, i);
    if (!rc && t->lens[i] == 0)
      rc = ul_fail(err, errcap, "passage %zu has no tokens", i);
    t->labels[i] = c->passages[i].label;
    const int s = (int)c->passages[i].side;
    t->side_labels[s][t->n_side[s]] = t->labels[i];
    t->side_idx[s][t->n_side[s]++] = i;
  }
  if (rc && errcap && !err[0])
    ul_fail(err, errcap, "preparing the task: %s",
            tl_last_error()[0] ? tl_last_error() : "out of memory");
  free(texts);
  free(tlens);
  tl_token_counts_free(counts);
  tl_text_corpus_free(docs);
  if (rc)
    ul_task_free(t);
  return rc;
}
