/* A tokenized corpus: many documents through the tokenizer, on a pool of
 * threads. Each document is tokenized on its own by one worker's
 * tl_tokenizer, so the result does not depend on the thread count; workers
 * take contiguous blocks of documents and stop at their first failure, so
 * the lowest failing document is known after the join. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/text.h"

typedef struct tli_doc {
  char *bytes; /* the tokens, each NUL-terminated */
  size_t *off; /* n + 1 offsets into bytes */
  size_t n;
} tli_doc;

struct tl_text_corpus {
  tli_doc *docs;
  size_t n_docs, n_tokens;
};

typedef struct tli_worker {
  const char *const *texts;
  const size_t *lens;
  tli_doc *docs;
  size_t lo, hi;
  const tl_tokenizer_options *options;
  size_t failed_doc; /* SIZE_MAX: none */
  tl_status status;
  char message[512];
} tli_worker;

/* Copies the tokenizer's last run into d. */
static tl_status tli_keep(tli_doc *d, const tl_tokenizer *tok, size_t n) {
  size_t bytes = 0, len;
  const char *t;
  for (size_t i = 0; i < n; i++) {
    TLI_TRY(tl_tokenizer_token(&t, &len, tok, i));
    bytes += len + 1;
  }
  TLI_TRY(tli_alloc_checked((void **)&d->off, n + 1, sizeof *d->off,
                            "tl_text_corpus_tokenize: offsets"));
  tl_status s = tli_alloc_checked((void **)&d->bytes, bytes ? bytes : 1, 1,
                                  "tl_text_corpus_tokenize: tokens");
  if (s != TL_OK) {
    tli_free(d->off);
    d->off = NULL;
    return s;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    tl_tokenizer_token(&t, &len, tok, i);
    d->off[i] = o;
    memcpy(d->bytes + o, t, len + 1);
    o += len + 1;
  }
  d->off[n] = o;
  d->n = n;
  return TL_OK;
}

static void *tli_work(void *arg) {
  tli_worker *w = arg;
  tl_tokenizer *tok = NULL;
  w->status = tl_tokenizer_create(&tok, w->options);
  if (w->status != TL_OK) {
    w->failed_doc = w->lo;
    snprintf(w->message, sizeof w->message, "%s", tl_last_error());
    return NULL;
  }
  for (size_t d = w->lo; d < w->hi; d++) {
    size_t n = 0;
    tl_status s = w->texts[d] == NULL && w->lens[d] > 0
                      ? tli_fail(TL_E_INVALID_ARG,
                                 "text is NULL with length %zu", w->lens[d])
                      : tl_tokenizer_run(&n, tok, w->texts[d], w->lens[d]);
    if (s == TL_OK)
      s = tli_keep(&w->docs[d], tok, n);
    if (s != TL_OK) {
      w->status = s;
      w->failed_doc = d;
      snprintf(w->message, sizeof w->message, "%s", tl_last_error());
      break;
    }
  }
  tl_tokenizer_free(tok);
  return NULL;
}

void tl_text_corpus_free(tl_text_corpus *corpus) {
  if (corpus == NULL)
    return;
  for (size_t d = 0; d < corpus->n_docs; d++) {
    tli_free(corpus->docs[d].bytes);
    tli_free(corpus->docs[d].off);
  }
  tli_free(corpus->docs);
  tli_free(corpus);
}

#define TLI_MAX_THREADS 256

tl_status tl_text_corpus_tokenize(tl_text_corpus **out,
                                  const char *const *texts, const size_t *lens,
                                  size_t n_docs,
                                  const tl_tokenizer_options *options,
                                  size_t n_threads) {
  const char *fn = "tl_text_corpus_tokenize";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(texts != NULL || n_docs == 0, TL_E_INVALID_ARG,
            "%s: argument 'texts' is NULL", fn);
  TLI_CHECK(lens != NULL || n_docs == 0, TL_E_INVALID_ARG,
            "%s: argument 'lens' is NULL", fn);
  TLI_CHECK(n_threads >= 1 && n_threads <= TLI_MAX_THREADS, TL_E_INVALID_ARG,
            "%s: n_threads must be in [1, %d] (got %zu)", fn, TLI_MAX_THREADS,
            n_threads);
  /* The options are checked once here, not in every worker. */
  tl_tokenizer *probe = NULL;
  TLI_TRY(tl_tokenizer_create(&probe, options));
  tl_tokenizer_free(probe);
  tl_text_corpus *c = NULL;
  TLI_TRY(tli_alloc_checked((void **)&c, 1, sizeof *c, fn));
  memset(c, 0, sizeof *c);
  tl_status s = tli_alloc_checked((void **)&c->docs, n_docs ? n_docs : 1,
                                  sizeof *c->docs, fn);
  if (s != TL_OK) {
    tli_free(c);
    return s;
  }
  memset(c->docs, 0, (n_docs ? n_docs : 1) * sizeof *c->docs);
  c->n_docs = n_docs;
  if (n_threads > n_docs)
    n_threads = n_docs ? n_docs : 1;
  /* Worker records and thread ids on the heap (zeroed), not the stack: the
   * caller may be a thread with a small stack. */
  tli_worker *workers = tli_calloc(n_threads, sizeof *workers);
  pthread_t *threads = tli_calloc(n_threads, sizeof *threads);
  int *started = tli_calloc(n_threads, sizeof *started);
  if (workers == NULL || threads == NULL || started == NULL) {
    tli_free(workers);
    tli_free(threads);
    tli_free(started);
    tl_text_corpus_free(c);
    return tli_fail(TL_E_NOMEM, "%s: out of memory for %zu workers", fn,
                    n_threads);
  }
  for (size_t k = 0; k < n_threads; k++) {
    workers[k].texts = texts;
    workers[k].lens = lens;
    workers[k].docs = c->docs;
    workers[k].lo = n_docs * k / n_threads;
    workers[k].hi = n_docs * (k + 1) / n_threads;
    workers[k].options = options;
    workers[k].failed_doc = SIZE_MAX;
    workers[k].status = TL_OK;
    workers[k].message[0] = 0;
    started[k] = 0;
  }
  /* Worker 0 runs on the calling thread; a thread that cannot be started
   * has its block done here too, so the result never depends on it. */
  for (size_t k = 1; k < n_threads; k++)
    started[k] = pthread_create(&threads[k], NULL, tli_work, &workers[k]) == 0;
  tli_work(&workers[0]);
  for (size_t k = 1; k < n_threads; k++) {
    if (started[k])
      pthread_join(threads[k], NULL);
    else
      tli_work(&workers[k]);
  }
  size_t bad = SIZE_MAX, which = 0;
  for (size_t k = 0; k < n_threads; k++)
    if (workers[k].failed_doc < bad) {
      bad = workers[k].failed_doc;
      which = k;
    }
  if (bad != SIZE_MAX) {
    const tl_status st = workers[which].status;
    tl_text_corpus_free(c);
    const tl_status r =
        tli_fail(st, "%s: document %zu: %s", fn, bad, workers[which].message);
    tli_free(workers);
    tli_free(threads);
    tli_free(started);
    return r;
  }
  tli_free(workers);
  tli_free(threads);
  tli_free(started);
  for (size_t d = 0; d < n_docs; d++)
    c->n_tokens += c->docs[d].n;
  *out = c;
  return TL_OK;
}

tl_status tl_text_corpus_num_docs(size_t *out, const tl_text_corpus *corpus) {
  TLI_CHECK_PTR("tl_text_corpus_num_docs", out);
  TLI_CHECK_PTR("tl_text_corpus_num_docs", corpus);
  *out = corpus->n_docs;
  return TL_OK;
}

tl_status tl_text_corpus_doc_len(size_t *out, const tl_text_corpus *corpus,
                                 size_t doc) {
  TLI_CHECK_PTR("tl_text_corpus_doc_len", out);
  TLI_CHECK_PTR("tl_text_corpus_doc_len", corpus);
  TLI_CHECK(doc < corpus->n_docs, TL_E_INVALID_ARG,
            "tl_text_corpus_doc_len: document %zu is out of range (%zu "
            "documents)",
            doc, corpus->n_docs);
  *out = corpus->docs[doc].n;
  return TL_OK;
}

tl_status tl_text_corpus_token(const char **out, size_t *out_len,
                               const tl_text_corpus *corpus, size_t doc,
                               size_t index) {
  const char *fn = "tl_text_corpus_token";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, corpus);
  TLI_CHECK(doc < corpus->n_docs, TL_E_INVALID_ARG,
            "%s: document %zu is out of range (%zu documents)", fn, doc,
            corpus->n_docs);
  const tli_doc *d = &corpus->docs[doc];
  TLI_CHECK(index < d->n, TL_E_INVALID_ARG,
            "%s: document %zu, token %zu is out of range (%zu tokens)", fn, doc,
            index, d->n);
  *out = d->bytes + d->off[index];
  if (out_len)
    *out_len = d->off[index + 1] - d->off[index] - 1;
  return TL_OK;
}
