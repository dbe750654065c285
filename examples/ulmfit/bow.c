#include "bow.h"
#include "corpora.h"
#include "logreg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ul_bow_options_default(ul_bow_options *o) {
  o->max_features = 10000;
  o->C = 1.0;
  o->iterations = 300;
  o->lr = 0.05;
  o->seed = 0;
}

/* Ids below this are xxunk, xxpad and xxbos: not words of the text. The
 * other special tokens (xxmaj, xxup, ...) are kept as features. */
enum { FIRST_FEATURE_ID = 3 };

/* The feature vocabulary: the max_features most frequent tokens of the
 * training documents (TfidfVectorizer's max_features), as a tl_vocab. */
static int feature_vocab(tl_vocab **out, const tl_text_corpus *corpus,
                         const size_t *train, size_t n_train,
                         size_t max_features, char *err, size_t errcap) {
  tl_token_counts *counts = NULL;
  const char **toks = NULL;
  size_t cap = 0;
  int rc = tl_token_counts_create(&counts) == TL_OK ? 0 : -1;
  for (size_t i = 0; !rc && i < n_train; i++) {
    size_t n;
    rc = tl_text_corpus_doc_len(&n, corpus, train[i]) == TL_OK ? 0 : -1;
    if (!rc && n > cap) {
      const char **grown = realloc(toks, n * sizeof *toks);
      rc = grown ? 0 : -1;
      if (grown) {
        toks = grown;
        cap = n;
      }
    }
    for (size_t t = 0; !rc && t < n; t++)
      rc = tl_text_corpus_token(&toks[t], NULL, corpus, train[i], t) == TL_OK
               ? 0
               : -1;
    if (!rc)
      rc = tl_token_counts_add(counts, toks, n) == TL_OK ? 0 : -1;
  }
  tl_vocab_options vo = TL_VOCAB_OPTIONS_INIT;
  vo.min_freq = 1;
  vo.max_vocab = max_features + TL_TEXT_NUM_SPECIALS;
  vo.pad_multiple = 0;
  if (!rc)
    rc = tl_vocab_create_from_counts(out, counts, &vo) == TL_OK ? 0 : -1;
  if (rc)
    ul_fail(err, errcap, "bag of words: %s", tl_last_error());
  free(toks);
  tl_token_counts_free(counts);
  return rc;
}

/* Raw term counts of the documents docs[r]: x[r * n_feat + f]. */
static int count_rows(float *x, size_t n_feat, const tl_vocab *vocab,
                      const tl_text_corpus *corpus, const size_t *docs,
                      size_t n_docs) {
  int64_t *ids = NULL;
  size_t cap = 0;
  for (size_t r = 0; r < n_docs; r++) {
    size_t n;
    if (tl_text_corpus_doc_len(&n, corpus, docs[r]) != TL_OK)
      return free(ids), -1;
    if (n > cap) {
      int64_t *grown = realloc(ids, n * sizeof *ids);
      if (!grown)
        return free(ids), -1;
      ids = grown;
      cap = n;
    }
    if (n && tl_vocab_encode_doc(ids, n, vocab, corpus, docs[r]) != TL_OK)
      return free(ids), -1;
    float *row = x + r * n_feat;
    memset(row, 0, n_feat * sizeof *row);
    for (size_t t = 0; t < n; t++)
      if (ids[t] >= FIRST_FEATURE_ID)
        row[ids[t] - FIRST_FEATURE_ID] += 1.0f;
  }
  free(ids);
  return 0;
}

/* Counts to tf-idf in place: each row times idf, scaled to unit L2 norm. */
static void tfidf_scale(float *x, size_t n_rows, size_t n_feat,
                        const double *idf) {
  for (size_t r = 0; r < n_rows; r++) {
    float *row = x + r * n_feat;
    double norm = 0;
    for (size_t f = 0; f < n_feat; f++) {
      row[f] = (float)(row[f] * idf[f]);
      norm += (double)row[f] * row[f];
    }
    if (norm > 0) {
      const double inv = 1.0 / sqrt(norm);
      for (size_t f = 0; f < n_feat; f++)
        row[f] = (float)(row[f] * inv);
    }
  }
}

int ul_bow_fit_predict(int64_t *pred, const tl_text_corpus *corpus,
                       const int64_t *labels, size_t n_classes,
                       const size_t *train, size_t n_train, const size_t *test,
                       size_t n_test, const ul_bow_options *o, char *err,
                       size_t errcap) {
  if (!n_train || !n_test || n_classes < 2 || !(o->C > 0))
    return ul_fail(err, errcap, "bag of words: empty training or test set");
  tl_vocab *vocab = NULL;
  if (feature_vocab(&vocab, corpus, train, n_train, o->max_features, err,
                    errcap))
    return -1;
  size_t vsize = 0;
  tl_vocab_size(&vsize, vocab);
  const size_t n_feat = vsize > FIRST_FEATURE_ID ? vsize - FIRST_FEATURE_ID : 1;
  double *idf = calloc(n_feat, sizeof *idf);
  float *x = malloc(n_train * n_feat * sizeof *x);
  float *xt = malloc(n_test * n_feat * sizeof *xt);
  int64_t *y = malloc(n_train * sizeof *y);
  int rc = idf && x && xt && y ? 0 : -1;
  /* Document frequencies over the training rows' raw counts, then
   * TfidfVectorizer's smooth idf. */
  if (!rc)
    rc = count_rows(x, n_feat, vocab, corpus, train, n_train);
  if (!rc)
    rc = count_rows(xt, n_feat, vocab, corpus, test, n_test);
  if (!rc) {
    for (size_t r = 0; r < n_train; r++)
      for (size_t f = 0; f < n_feat; f++)
        idf[f] += x[r * n_feat + f] != 0.0f; /* df, turned into idf below */
    for (size_t f = 0; f < n_feat; f++)
      idf[f] = log((1.0 + (double)n_train) / (1.0 + idf[f])) + 1.0;
    tfidf_scale(x, n_train, n_feat, idf);
    tfidf_scale(xt, n_test, n_feat, idf);
  }
  for (size_t r = 0; !rc && r < n_train; r++)
    y[r] = labels[train[r]];
  ul_logreg_options lo;
  ul_logreg_options_default(&lo);
  lo.C = o->C;
  lo.iterations = o->iterations;
  lo.lr = o->lr;
  lo.seed = o->seed;
  if (rc)
    ul_fail(err, errcap, "bag of words: out of memory");
  else
    rc = ul_logreg_fit_predict(pred, NULL, x, y, n_train, n_feat, xt, n_test,
                               n_classes, &lo, err, errcap);
  tl_vocab_free(vocab);
  free(idf);
  free(x);
  free(xt);
  free(y);
  return rc;
}
