/* Token counts and the vocabulary (fastai 2.7's make_vocab and
 * Numericalize), on the insertion-ordered string table of strtab.c. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "strtab.h"
#include "tl/text.h"

#define TLI_FAKE "xxfake"

struct tl_token_counts {
  tli_strtab tab;
};

struct tl_vocab {
  tli_strtab tab;      /* distinct tokens */
  const char **tokens; /* id -> token (views into tab) */
  int64_t *id_of;      /* tab index -> id; -1 for "xxfake" */
  size_t n;
  int64_t unk;
};

tl_status tl_token_counts_create(tl_token_counts **out) {
  TLI_CHECK_PTR("tl_token_counts_create", out);
  tl_token_counts *c = NULL;
  TLI_TRY(tli_alloc_checked((void **)&c, 1, sizeof *c,
                            "tl_token_counts_create: counts"));
  memset(c, 0, sizeof *c);
  *out = c;
  return TL_OK;
}

void tl_token_counts_free(tl_token_counts *counts) {
  if (counts == NULL)
    return;
  tli_strtab_free(&counts->tab);
  tli_free(counts);
}

tl_status tl_token_counts_add(tl_token_counts *counts,
                              const char *const *tokens, size_t n) {
  const char *fn = "tl_token_counts_add";
  TLI_CHECK_PTR(fn, counts);
  TLI_CHECK(tokens != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'tokens' is NULL with n %zu", fn, n);
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(tokens[i] != NULL, TL_E_INVALID_ARG, "%s: tokens[%zu] is NULL",
              fn, i);
    bytes += strlen(tokens[i]);
  }
  TLI_TRY(tli_strtab_reserve(&counts->tab, n, bytes, fn));
  for (size_t i = 0; i < n; i++)
    counts->tab
        .count[tli_strtab_add(&counts->tab, tokens[i], strlen(tokens[i]))]++;
  return TL_OK;
}

tl_status tl_token_counts_add_run(tl_token_counts *counts,
                                  const tl_tokenizer *tok) {
  const char *fn = "tl_token_counts_add_run";
  TLI_CHECK_PTR(fn, counts);
  TLI_CHECK_PTR(fn, tok);
  size_t n = 0, bytes = 0, len;
  const char *t;
  TLI_TRY(tl_tokenizer_count(&n, tok));
  for (size_t i = 0; i < n; i++) {
    TLI_TRY(tl_tokenizer_token(&t, &len, tok, i));
    bytes += len;
  }
  TLI_TRY(tli_strtab_reserve(&counts->tab, n, bytes, fn));
  for (size_t i = 0; i < n; i++) {
    TLI_TRY(tl_tokenizer_token(&t, &len, tok, i));
    counts->tab.count[tli_strtab_add(&counts->tab, t, len)]++;
  }
  return TL_OK;
}

tl_status tl_token_counts_size(size_t *out, const tl_token_counts *counts) {
  TLI_CHECK_PTR("tl_token_counts_size", out);
  TLI_CHECK_PTR("tl_token_counts_size", counts);
  *out = counts->tab.n;
  return TL_OK;
}

tl_status tl_token_counts_get(uint64_t *out, const tl_token_counts *counts,
                              const char *token) {
  TLI_CHECK_PTR("tl_token_counts_get", out);
  TLI_CHECK_PTR("tl_token_counts_get", counts);
  TLI_CHECK_PTR("tl_token_counts_get", token);
  const size_t i = tli_strtab_find(&counts->tab, token, strlen(token));
  *out = i == SIZE_MAX ? 0 : counts->tab.count[i];
  return TL_OK;
}

TLI_VERSION_SIZES(tl_vocab_options_sizes, TL_VOCAB_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_vocab_options,
                                pad_multiple)); /* version 1 */

tl_status tl_vocab_options_init(tl_vocab_options *out, unsigned int version) {
  static const tl_vocab_options defaults = TL_VOCAB_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_vocab_options_sizes,
                          "tl_vocab_options_init");
}

void tl_vocab_free(tl_vocab *vocab) {
  if (vocab == NULL)
    return;
  tli_strtab_free(&vocab->tab);
  tli_free(vocab->tokens);
  tli_free(vocab->id_of);
  tli_free(vocab);
}

/* Builds a vocabulary from list[0..n); dup_ok allows repeated "xxfake".
 * The caller has checked the tokens are non-NULL. */
static tl_status tli_vocab_build(tl_vocab **out, const char *const *list,
                                 size_t n, const char *fn) {
  tl_vocab *v = NULL;
  TLI_TRY(tli_alloc_checked((void **)&v, 1, sizeof *v, fn));
  memset(v, 0, sizeof *v);
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++)
    bytes += strlen(list[i]);
  tl_status s = tli_strtab_reserve(&v->tab, n, bytes, fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&v->tokens, n ? n : 1, sizeof *v->tokens,
                          fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&v->id_of, n ? n : 1, sizeof *v->id_of, fn);
  if (s != TL_OK) {
    tl_vocab_free(v);
    return s;
  }
  v->n = n;
  v->unk = -1;
  for (size_t i = 0; i < n; i++) {
    const size_t len = strlen(list[i]);
    const size_t before = v->tab.n;
    const size_t k = tli_strtab_add(&v->tab, list[i], len);
    const int fake = strcmp(list[i], TLI_FAKE) == 0;
    if (k < before && !fake) {
      const int64_t first = v->id_of[k];
      tl_vocab_free(v);
      return tli_fail(TL_E_INVALID_ARG,
                      "%s: tokens[%zu] '%s' duplicates tokens[%lld]", fn, i,
                      list[i], (long long)first);
    }
    if (k == before)
      v->id_of[k] = fake ? -1 : (int64_t)i;
    v->tokens[i] = tli_strtab_str(&v->tab, k);
  }
  const size_t u = tli_strtab_find(&v->tab, "xxunk", 5);
  if (u == SIZE_MAX) {
    tl_vocab_free(v);
    return tli_fail(TL_E_INVALID_ARG,
                    "%s: the vocabulary has no 'xxunk' (unknown tokens need "
                    "an id)",
                    fn);
  }
  v->unk = v->id_of[u];
  *out = v;
  return TL_OK;
}

tl_status tl_vocab_create(tl_vocab **out, const char *const *tokens, size_t n) {
  const char *fn = "tl_vocab_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, tokens);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(tokens[i] != NULL, TL_E_INVALID_ARG, "%s: tokens[%zu] is NULL",
              fn, i);
  return tli_vocab_build(out, tokens, n, fn);
}

typedef struct tli_rank {
  uint64_t count;
  size_t index;
} tli_rank;

/* Count descending, then first seen: Counter.most_common's order. */
static int tli_rank_cmp(const void *a, const void *b) {
  const tli_rank *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

tl_status tl_vocab_create_from_counts(tl_vocab **out,
                                      const tl_token_counts *counts,
                                      const tl_vocab_options *options) {
  const char *fn = "tl_vocab_create_from_counts";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, counts);
  tl_vocab_options options_copy = TL_VOCAB_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, tl_vocab_options_sizes, fn,
                             "options"));
  options = &options_copy;
  TLI_CHECK(options->max_vocab >= TL_TEXT_NUM_SPECIALS, TL_E_INVALID_ARG,
            "%s: options->max_vocab must be >= %d (the special tokens; got "
            "%zu)",
            fn, TL_TEXT_NUM_SPECIALS, options->max_vocab);
  const tli_strtab *t = &counts->tab;
  const size_t pad = options->pad_multiple;
  TLI_CHECK(options->max_vocab <= SIZE_MAX / 2 && pad <= SIZE_MAX / 4,
            TL_E_INVALID_ARG,
            "%s: options->max_vocab or pad_multiple is too "
            "large",
            fn);
  tli_rank *rank = NULL;
  const char **list = NULL;
  const size_t cap = options->max_vocab + TL_TEXT_NUM_SPECIALS + pad + 1;
  TLI_TRY(tli_alloc_checked((void **)&rank, t->n ? t->n : 1, sizeof *rank, fn));
  tl_status s = tli_alloc_checked((void **)&list, cap, sizeof *list, fn);
  if (s != TL_OK) {
    tli_free(rank);
    return s;
  }
  for (size_t i = 0; i < t->n; i++) {
    rank[i].count = t->count[i];
    rank[i].index = i;
  }
  qsort(rank, t->n, sizeof *rank, tli_rank_cmp);
  size_t m = 0;
  for (size_t k = 0; k < TL_TEXT_NUM_SPECIALS; k++)
    list[m++] = tl_text_special(k);
  const size_t top = t->n < options->max_vocab ? t->n : options->max_vocab;
  for (size_t r = 0; r < top && m < options->max_vocab; r++) {
    if (rank[r].count < options->min_freq)
      break; /* sorted by count: the rest are rarer */
    const char *tok = tli_strtab_str(t, rank[r].index);
    int special = 0;
    for (size_t k = 0; k < TL_TEXT_NUM_SPECIALS; k++)
      special |= strcmp(tok, tl_text_special(k)) == 0;
    if (!special)
      list[m++] = tok;
  }
  if (pad)
    for (size_t k = pad - m % pad; k > 0; k--)
      list[m++] = TLI_FAKE;
  s = tli_vocab_build(out, list, m, fn);
  tli_free(rank);
  tli_free(list);
  return s;
}

tl_status tl_vocab_size(size_t *out, const tl_vocab *vocab) {
  TLI_CHECK_PTR("tl_vocab_size", out);
  TLI_CHECK_PTR("tl_vocab_size", vocab);
  *out = vocab->n;
  return TL_OK;
}

tl_status tl_vocab_token(const char **out, const tl_vocab *vocab, int64_t id) {
  TLI_CHECK_PTR("tl_vocab_token", out);
  TLI_CHECK_PTR("tl_vocab_token", vocab);
  TLI_CHECK(id >= 0 && (uint64_t)id < vocab->n, TL_E_INVALID_ARG,
            "tl_vocab_token: id %lld is outside the vocabulary [0, %zu)",
            (long long)id, vocab->n);
  *out = vocab->tokens[id];
  return TL_OK;
}

tl_status tl_vocab_tokens(const char *const **out, const tl_vocab *vocab) {
  TLI_CHECK_PTR("tl_vocab_tokens", out);
  TLI_CHECK_PTR("tl_vocab_tokens", vocab);
  *out = vocab->tokens;
  return TL_OK;
}

static int64_t tli_lookup(const tl_vocab *v, const char *s, size_t len) {
  const size_t k = tli_strtab_find(&v->tab, s, len);
  if (k == SIZE_MAX || v->id_of[k] < 0)
    return v->unk;
  return v->id_of[k];
}

tl_status tl_vocab_id(int64_t *out, const tl_vocab *vocab, const char *token,
                      size_t len) {
  TLI_CHECK_PTR("tl_vocab_id", out);
  TLI_CHECK_PTR("tl_vocab_id", vocab);
  TLI_CHECK(token != NULL || len == 0, TL_E_INVALID_ARG,
            "tl_vocab_id: argument 'token' is NULL with len %zu", len);
  *out = tli_lookup(vocab, token ? token : "", len);
  return TL_OK;
}

tl_status tl_vocab_encode(int64_t *out, size_t n, const tl_vocab *vocab,
                          const char *const *tokens) {
  const char *fn = "tl_vocab_encode";
  TLI_CHECK(out != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with n %zu", fn, n);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK(tokens != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'tokens' is NULL with n %zu", fn, n);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(tokens[i] != NULL, TL_E_INVALID_ARG, "%s: tokens[%zu] is NULL",
              fn, i);
  for (size_t i = 0; i < n; i++)
    out[i] = tli_lookup(vocab, tokens[i], strlen(tokens[i]));
  return TL_OK;
}

tl_status tl_vocab_encode_run(int64_t *out, size_t n, const tl_vocab *vocab,
                              const tl_tokenizer *tok) {
  const char *fn = "tl_vocab_encode_run";
  TLI_CHECK(out != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with n %zu", fn, n);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK_PTR(fn, tok);
  size_t count = 0;
  TLI_TRY(tl_tokenizer_count(&count, tok));
  TLI_CHECK(n == count, TL_E_SHAPE,
            "%s: n is %zu but the last run gave %zu tokens", fn, n, count);
  for (size_t i = 0; i < n; i++) {
    const char *t;
    size_t len;
    TLI_TRY(tl_tokenizer_token(&t, &len, tok, i));
    out[i] = tli_lookup(vocab, t, len);
  }
  return TL_OK;
}

tl_status tl_vocab_decode(char *out, size_t cap, size_t *out_len,
                          const tl_vocab *vocab, const int64_t *ids, size_t n) {
  const char *fn = "tl_vocab_decode";
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK(ids != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'ids' is NULL with n %zu", fn, n);
  TLI_CHECK(out != NULL || cap == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with cap %zu", fn, cap);
  size_t need = 0;
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(ids[i] >= 0 && (uint64_t)ids[i] < vocab->n, TL_E_INVALID_ARG,
              "%s: ids[%zu] = %lld is outside the vocabulary [0, %zu)", fn, i,
              (long long)ids[i], vocab->n);
    need += strlen(vocab->tokens[ids[i]]) + (i > 0);
  }
  if (out_len)
    *out_len = need;
  if (out == NULL)
    return TL_OK;
  TLI_CHECK(cap > need, TL_E_INVALID_ARG,
            "%s: cap %zu is too small (%zu bytes needed with the NUL)", fn, cap,
            need + 1);
  char *o = out;
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      *o++ = ' ';
    const size_t len = strlen(vocab->tokens[ids[i]]);
    memcpy(o, vocab->tokens[ids[i]], len);
    o += len;
  }
  *o = 0;
  return TL_OK;
}

tl_status tl_token_counts_add_corpus(tl_token_counts *counts,
                                     const tl_text_corpus *corpus) {
  const char *fn = "tl_token_counts_add_corpus";
  TLI_CHECK_PTR(fn, counts);
  TLI_CHECK_PTR(fn, corpus);
  size_t nd = 0, n = 0, bytes = 0, len, total = 0;
  const char *t;
  TLI_TRY(tl_text_corpus_num_docs(&nd, corpus));
  for (size_t d = 0; d < nd; d++) {
    TLI_TRY(tl_text_corpus_doc_len(&n, corpus, d));
    for (size_t i = 0; i < n; i++) {
      TLI_TRY(tl_text_corpus_token(&t, &len, corpus, d, i));
      bytes += len;
    }
    total += n;
  }
  TLI_TRY(tli_strtab_reserve(&counts->tab, total, bytes, fn));
  for (size_t d = 0; d < nd; d++) {
    TLI_TRY(tl_text_corpus_doc_len(&n, corpus, d));
    for (size_t i = 0; i < n; i++) {
      TLI_TRY(tl_text_corpus_token(&t, &len, corpus, d, i));
      counts->tab.count[tli_strtab_add(&counts->tab, t, len)]++;
    }
  }
  return TL_OK;
}

tl_status tl_vocab_encode_doc(int64_t *out, size_t n, const tl_vocab *vocab,
                              const tl_text_corpus *corpus, size_t doc) {
  const char *fn = "tl_vocab_encode_doc";
  TLI_CHECK(out != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with n %zu", fn, n);
  TLI_CHECK_PTR(fn, vocab);
  TLI_CHECK_PTR(fn, corpus);
  size_t count = 0;
  TLI_TRY(tl_text_corpus_doc_len(&count, corpus, doc));
  TLI_CHECK(n == count, TL_E_SHAPE,
            "%s: n is %zu but document %zu has %zu tokens", fn, n, doc, count);
  for (size_t i = 0; i < n; i++) {
    const char *t;
    size_t len;
    TLI_TRY(tl_text_corpus_token(&t, &len, corpus, doc, i));
    out[i] = tli_lookup(vocab, t, len);
  }
  return TL_OK;
}
