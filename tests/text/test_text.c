/* The text layer: the tokenizer against the golden token lists of
 * tests/fixtures/gen_text.py (fastai 2.7 rules), its errors and its
 * buffer reuse. */
#include "tl_test.h"

#include "../fixtures/text_golden.h"
#include "../fixtures/text_metrics_golden.h"

/* splitmix64, for the random-input tests. */
typedef struct tli_test_rng {
  uint64_t s;
} tli_test_rng;

static uint64_t tlt_next(tli_test_rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static tl_tokenizer *make_tok(int replace_invalid) {
  tl_tokenizer_options o;
  TLT_ASSERT_OK(tl_tokenizer_options_init(&o, TL_TOKENIZER_OPTIONS_VERSION));
  o.replace_invalid = replace_invalid;
  tl_tokenizer *tok = NULL;
  TLT_ASSERT_OK(tl_tokenizer_create(&tok, &o));
  return tok;
}

static void check_tokens(tl_tokenizer *tok, size_t index, const char *text,
                         size_t len, const char *const *want, size_t n) {
  size_t count = 0;
  TLT_ASSERT_OK(tl_tokenizer_run(&count, tok, text, len));
  for (size_t k = 0; k < count && k < n; k++) {
    const char *t;
    size_t tl;
    TLT_ASSERT_OK(tl_tokenizer_token(&t, &tl, tok, k));
    ck_assert_msg(tl == strlen(want[k]) && memcmp(t, want[k], tl) == 0,
                  "case %zu token %zu: got '%s', want '%s'", index, k, t,
                  want[k]);
  }
  ck_assert_msg(count == n, "case %zu: %zu tokens, want %zu", index, count, n);
}

START_TEST(golden) {
  tl_tokenizer *strict = make_tok(0), *lenient = make_tok(1);
  for (size_t i = 0; i < TEXT_N_CASES; i++) {
    const text_case *c = &text_cases[i];
    check_tokens(c->replace_invalid ? lenient : strict, i, c->text, c->len,
                 c->tokens, c->n_tokens);
  }
  tl_tokenizer_free(strict);
  tl_tokenizer_free(lenient);
}
END_TEST

START_TEST(eos_no_bos) {
  tl_tokenizer_options o;
  TLT_ASSERT_OK(tl_tokenizer_options_init(&o, TL_TOKENIZER_OPTIONS_VERSION));
  o.add_bos = 0;
  o.add_eos = 1;
  tl_tokenizer *tok = NULL;
  TLT_ASSERT_OK(tl_tokenizer_create(&tok, &o));
  check_tokens(tok, 0, text_eos_input, strlen(text_eos_input), text_eos_tokens,
               TEXT_EOS_N);
  tl_tokenizer_free(tok);
}
END_TEST

START_TEST(invalid_utf8) {
  tl_tokenizer *tok = make_tok(0);
  size_t n = 0;
  for (size_t i = 0; i < TEXT_N_CASES; i++) {
    const text_case *c = &text_cases[i];
    if (!c->replace_invalid)
      continue;
    TLT_ASSERT_FAILS(tl_tokenizer_run(&n, tok, c->text, c->len), TL_E_FORMAT,
                     "byte offset");
  }
  /* The offset is the first bad byte. */
  TLT_ASSERT_FAILS(tl_tokenizer_run(&n, tok, "ab\xe2\x82", 4), TL_E_FORMAT,
                   "offset 2");
  TLT_ASSERT_FAILS(tl_tokenizer_run(&n, tok, "abc\xff", 4), TL_E_FORMAT,
                   "offset 3");
  size_t count = 7;
  TLT_ASSERT_OK(tl_tokenizer_count(&count, tok));
  ck_assert_uint_eq(count, 0); /* a failed run leaves no stale tokens */
  tl_tokenizer_free(tok);
}
END_TEST

START_TEST(bad_args) {
  tl_tokenizer *tok = make_tok(0);
  size_t n;
  const char *t;
  TLT_ASSERT_FAILS(tl_tokenizer_run(NULL, tok, "a", 1), TL_E_INVALID_ARG,
                   "out_count");
  TLT_ASSERT_FAILS(tl_tokenizer_run(&n, NULL, "a", 1), TL_E_INVALID_ARG, "tok");
  TLT_ASSERT_FAILS(tl_tokenizer_run(&n, tok, NULL, 1), TL_E_INVALID_ARG,
                   "text");
  TLT_ASSERT_OK(tl_tokenizer_run(&n, tok, NULL, 0));
  ck_assert_uint_eq(n, 1); /* xxbos */
  TLT_ASSERT_FAILS(tl_tokenizer_token(&t, NULL, tok, 1), TL_E_INVALID_ARG,
                   "index 1");
  tl_tokenizer_options o;
  TLT_ASSERT_FAILS(tl_tokenizer_options_init(&o, 99), TL_E_UNSUPPORTED,
                   "version 99");
  TLT_ASSERT_OK(tl_tokenizer_options_init(&o, TL_TOKENIZER_OPTIONS_VERSION));
  o.version = 7;
  tl_tokenizer *t2 = NULL;
  TLT_ASSERT_FAILS(tl_tokenizer_create(&t2, &o), TL_E_UNSUPPORTED,
                   "options->version");
  ck_assert_ptr_null(t2);
  ck_assert_str_eq(tl_text_special(0), "xxunk");
  ck_assert_str_eq(tl_text_special(8), "xxmaj");
  ck_assert_ptr_null(tl_text_special(9));
  tl_tokenizer_free(tok);
  tl_tokenizer_free(NULL);
}
END_TEST

/* Once the buffers fit a corpus, tokenizing it again allocates nothing. */
START_TEST(no_alloc_after_warmup) {
  tlt_counter c;
  tlt_counter_install(&c);
  tl_tokenizer *tok = make_tok(1);
  size_t n;
  for (size_t i = 0; i < TEXT_N_CASES; i++)
    TLT_ASSERT_OK(
        tl_tokenizer_run(&n, tok, text_cases[i].text, text_cases[i].len));
  const size_t before = c.allocs;
  for (size_t i = 0; i < TEXT_N_CASES; i++)
    TLT_ASSERT_OK(
        tl_tokenizer_run(&n, tok, text_cases[i].text, text_cases[i].len));
  ck_assert_uint_eq(c.allocs, before);
  tl_tokenizer_free(tok);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

/* Every allocation failure is reported, never a crash or a leak. */
START_TEST(alloc_failures) {
  tlt_counter c;
  for (size_t budget = 0; budget < 12; budget++) {
    tlt_counter_install_budget(&c, budget);
    tl_tokenizer *tok = NULL;
    if (tl_tokenizer_create(&tok, NULL) == TL_OK) {
      size_t n;
      const tl_status s =
          tl_tokenizer_run(&n, tok, text_cases[0].text, text_cases[0].len);
      ck_assert(s == TL_OK || s == TL_E_NOMEM);
      tl_tokenizer_free(tok);
    }
    ck_assert_uint_eq(c.allocs, c.frees);
  }
  tl_set_allocator(NULL);
}
END_TEST

/* ---- random input never crashes and keeps the invariants ---------------- */

/* Random bytes (mostly from tricky pieces, sometimes raw) through the
 * tokenizer: lenient runs always succeed with non-empty tokens that never
 * hold U+0020; strict runs give the same tokens or TL_E_FORMAT naming an
 * offset. Under ASan and UBSan this is the suite's fuzzing of the
 * tokenizer. */
START_TEST(random_texts_keep_invariants) {
  static const char *const bits[] = {"&",
                                     "&amp",
                                     "&#",
                                     "&#x",
                                     "&#1234567890;",
                                     "&#xD800;",
                                     "&notin",
                                     "&nbsp;",
                                     "#",
                                     "/",
                                     "\\",
                                     "\\n",
                                     "<br />",
                                     "<unk>",
                                     " @.@ ",
                                     "...",
                                     "..",
                                     ".",
                                     "'",
                                     "n't",
                                     "'s",
                                     "\xe2\x80\x99",
                                     "xx",
                                     "xxbos",
                                     "xxup",
                                     "A",
                                     "AB",
                                     "a",
                                     "\xce\xa3",
                                     "\xc4\xb0",
                                     "\xe2\x80\xa6",
                                     "\xff",
                                     "\xc0",
                                     "\xe2\x82",
                                     "\xf0\x9f\x98",
                                     " ",
                                     "  ",
                                     "\t",
                                     "\n",
                                     "\xc2\xa0",
                                     "-",
                                     "+",
                                     "1",
                                     "9",
                                     ",",
                                     "$",
                                     "(",
                                     ")",
                                     "\"",
                                     "~"};
  const size_t nbits = sizeof bits / sizeof bits[0];
  tl_tokenizer *strict = make_tok(0), *lenient = make_tok(1);
  tli_test_rng rng = {0x9e3779b97f4a7c15ull};
  char buf[512];
  for (int iter = 0; iter < 3000; iter++) {
    size_t len = 0;
    const size_t parts = 1 + tlt_next(&rng) % 24;
    for (size_t k = 0; k < parts && len < 400; k++) {
      if (tlt_next(&rng) % 8 == 0) {
        buf[len++] = (char)(tlt_next(&rng) & 0xFF);
      } else {
        const char *b = bits[tlt_next(&rng) % nbits];
        const size_t bl = strlen(b);
        memcpy(buf + len, b, bl);
        len += bl;
      }
    }
    size_t n_l = 0, n_s = 0;
    TLT_ASSERT_OK(tl_tokenizer_run(&n_l, lenient, buf, len));
    for (size_t i = 0; i < n_l; i++) {
      const char *t;
      size_t tl;
      TLT_ASSERT_OK(tl_tokenizer_token(&t, &tl, lenient, i));
      ck_assert_uint_gt(tl, 0);
      ck_assert_ptr_null(memchr(t, ' ', tl));
    }
    /* Strict: the same tokens when the text is valid, else TL_E_FORMAT
     * naming an offset. */
    tl_clear_error();
    const tl_status s = tl_tokenizer_run(&n_s, strict, buf, len);
    if (s != TL_OK) {
      ck_assert_int_eq(s, TL_E_FORMAT);
      ck_assert_ptr_nonnull(strstr(tl_last_error(), "byte offset"));
      continue;
    }
    ck_assert_uint_eq(n_s, n_l);
    for (size_t i = 0; i < n_s; i++) {
      const char *a, *b;
      TLT_ASSERT_OK(tl_tokenizer_token(&a, NULL, strict, i));
      TLT_ASSERT_OK(tl_tokenizer_token(&b, NULL, lenient, i));
      ck_assert_str_eq(a, b);
    }
  }
  tl_tokenizer_free(strict);
  tl_tokenizer_free(lenient);
}
END_TEST

/* ---- vocabulary ---------------------------------------------------------- */

static tl_token_counts *fixture_counts(void) {
  tl_token_counts *counts = NULL;
  TLT_ASSERT_OK(tl_token_counts_create(&counts));
  tl_tokenizer *tok = make_tok(0);
  size_t n;
  for (size_t i = 0; i < TEXT_N_VALID; i++) {
    TLT_ASSERT_OK(
        tl_tokenizer_run(&n, tok, text_cases[i].text, text_cases[i].len));
    TLT_ASSERT_OK(tl_token_counts_add_run(counts, tok));
  }
  tl_tokenizer_free(tok);
  return counts;
}

START_TEST(vocab_golden) {
  tl_token_counts *counts = fixture_counts();
  for (size_t c = 0; c < VOCAB_N_CASES; c++) {
    const vocab_case *vc = &vocab_cases[c];
    tl_vocab_options o;
    TLT_ASSERT_OK(tl_vocab_options_init(&o, TL_VOCAB_OPTIONS_VERSION));
    o.min_freq = vc->min_freq;
    o.max_vocab = vc->max_vocab;
    o.pad_multiple = vc->pad_multiple;
    tl_vocab *v = NULL;
    TLT_ASSERT_OK(tl_vocab_create_from_counts(&v, counts, &o));
    size_t n;
    TLT_ASSERT_OK(tl_vocab_size(&n, v));
    ck_assert_msg(n == vc->n, "case %zu: size %zu, want %zu", c, n, vc->n);
    for (size_t i = 0; i < n; i++) {
      const char *t;
      TLT_ASSERT_OK(tl_vocab_token(&t, v, (int64_t)i));
      ck_assert_msg(strcmp(t, vc->tokens[i]) == 0,
                    "case %zu id %zu: '%s', want '%s'", c, i, t, vc->tokens[i]);
    }
    tl_vocab_free(v);
  }
  /* The defaults are fastai's (min_freq 3, max_vocab 60000, pad 8). */
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create_from_counts(&v, counts, NULL));
  size_t n;
  TLT_ASSERT_OK(tl_vocab_size(&n, v));
  ck_assert_uint_eq(n, vocab_cases[0].n);
  tl_vocab_free(v);
  tl_token_counts_free(counts);
}
END_TEST

START_TEST(vocab_encode_decode) {
  tl_token_counts *counts = fixture_counts();
  uint64_t cnt = 0;
  TLT_ASSERT_OK(tl_token_counts_get(&cnt, counts, "xxbos"));
  ck_assert_uint_eq(cnt, TEXT_COUNT_XXBOS);
  TLT_ASSERT_OK(tl_token_counts_get(&cnt, counts, "the"));
  ck_assert_uint_eq(cnt, TEXT_COUNT_THE);
  TLT_ASSERT_OK(tl_token_counts_get(&cnt, counts, "never-seen"));
  ck_assert_uint_eq(cnt, 0);
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create_from_counts(&v, counts, NULL));
  tl_tokenizer *tok = make_tok(0);
  size_t n;
  TLT_ASSERT_OK(tl_tokenizer_run(&n, tok, "The cat and the zyzzyva.", 24));
  int64_t ids[16];
  TLT_ASSERT_OK(tl_vocab_encode_run(ids, n, v, tok));
  ck_assert_int_eq(ids[0], 2); /* xxbos */
  ck_assert_int_eq(ids[1], 8); /* xxmaj */
  int64_t unk;
  TLT_ASSERT_OK(tl_vocab_id(&unk, v, "zyzzyva", 7));
  ck_assert_int_eq(unk, 0);
  TLT_ASSERT_OK(tl_vocab_id(&unk, v, "xxfake", 6));
  ck_assert_int_eq(unk, 0); /* padding is never an encoding */
  const char *words[] = {"the", "and", "zyzzyva"};
  int64_t ids2[3];
  TLT_ASSERT_OK(tl_vocab_encode(ids2, 3, v, words));
  ck_assert_int_eq(ids2[2], 0);
  const char *t;
  TLT_ASSERT_OK(tl_vocab_token(&t, v, ids2[0]));
  ck_assert_str_eq(t, "the");
  char buf[64];
  size_t len;
  TLT_ASSERT_OK(tl_vocab_decode(NULL, 0, &len, v, ids2, 3));
  ck_assert_uint_eq(len, strlen("the and xxunk"));
  TLT_ASSERT_OK(tl_vocab_decode(buf, sizeof buf, &len, v, ids2, 3));
  ck_assert_str_eq(buf, "the and xxunk");
  /* errors */
  memset(buf, 'Q', sizeof buf);
  TLT_ASSERT_FAILS(tl_vocab_decode(buf, 5, &len, v, ids2, 3), TL_E_INVALID_ARG,
                   "14 bytes needed");
  ck_assert_int_eq(buf[0], 'Q');
  int64_t bad[3] = {1, 99999, 2};
  TLT_ASSERT_FAILS(tl_vocab_decode(buf, sizeof buf, &len, v, bad, 3),
                   TL_E_INVALID_ARG, "ids[1] = 99999");
  TLT_ASSERT_FAILS(tl_vocab_token(&t, v, -1), TL_E_INVALID_ARG, "id -1");
  TLT_ASSERT_FAILS(tl_vocab_encode_run(ids, n + 1, v, tok), TL_E_SHAPE, "n is");
  const char *with_null[] = {"a", NULL};
  TLT_ASSERT_FAILS(tl_vocab_encode(ids2, 2, v, with_null), TL_E_INVALID_ARG,
                   "tokens[1]");
  TLT_ASSERT_FAILS(tl_token_counts_add(counts, with_null, 2), TL_E_INVALID_ARG,
                   "tokens[1]");
  TLT_ASSERT_OK(tl_token_counts_get(&cnt, counts, "a"));
  const uint64_t before = cnt;
  TLT_ASSERT_FAILS(tl_token_counts_add(counts, with_null, 2), TL_E_INVALID_ARG,
                   "tokens[1]");
  TLT_ASSERT_OK(tl_token_counts_get(&cnt, counts, "a"));
  ck_assert_uint_eq(cnt, before);
  tl_vocab_options o;
  TLT_ASSERT_OK(tl_vocab_options_init(&o, TL_VOCAB_OPTIONS_VERSION));
  o.max_vocab = 8;
  tl_vocab *v2 = NULL;
  TLT_ASSERT_FAILS(tl_vocab_create_from_counts(&v2, counts, &o),
                   TL_E_INVALID_ARG, "max_vocab");
  TLT_ASSERT_FAILS(tl_vocab_options_init(&o, 2), TL_E_UNSUPPORTED, "version 2");
  tl_tokenizer_free(tok);
  tl_vocab_free(v);
  tl_token_counts_free(counts);
}
END_TEST

START_TEST(vocab_from_list) {
  const char *ok[] = {"xxunk", "xxpad", "a", "b", "xxfake", "xxfake"};
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create(&v, ok, 6));
  int64_t id;
  TLT_ASSERT_OK(tl_vocab_id(&id, v, "b", 1));
  ck_assert_int_eq(id, 3);
  tl_vocab_free(v);
  const char *dup[] = {"xxunk", "a", "b", "a"};
  v = NULL;
  TLT_ASSERT_FAILS(tl_vocab_create(&v, dup, 4), TL_E_INVALID_ARG,
                   "tokens[3] 'a' duplicates tokens[1]");
  ck_assert_ptr_null(v);
  const char *no_unk[] = {"a", "b"};
  TLT_ASSERT_FAILS(tl_vocab_create(&v, no_unk, 2), TL_E_INVALID_ARG, "xxunk");
  TLT_ASSERT_FAILS(tl_vocab_create(&v, no_unk, 0), TL_E_INVALID_ARG, "n");
  const char *nul[] = {"xxunk", NULL};
  TLT_ASSERT_FAILS(tl_vocab_create(&v, nul, 2), TL_E_INVALID_ARG, "tokens[1]");
  ck_assert_ptr_null(v);
}
END_TEST

/* The vocabulary goes into a checkpoint's vocabulary section and comes
 * back identical after a save and load. */
START_TEST(vocab_checkpoint) {
  tl_token_counts *counts = fixture_counts();
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create_from_counts(&v, counts, NULL));
  const char *const *toks;
  size_t n;
  TLT_ASSERT_OK(tl_vocab_tokens(&toks, v));
  TLT_ASSERT_OK(tl_vocab_size(&n, v));
  tl_ckpt *ck = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&ck));
  TLT_ASSERT_OK(tl_ckpt_set_vocab(ck, toks, n));
  size_t size, written;
  TLT_ASSERT_OK(tl_ckpt_serialized_size(&size, ck));
  void *buf = malloc(size);
  TLT_ASSERT_OK(tl_ckpt_save_buffer(buf, size, &written, ck));
  tl_ckpt *back = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&back, buf, written, NULL));
  size_t m;
  TLT_ASSERT_OK(tl_ckpt_vocab_size(&m, back));
  ck_assert_uint_eq(m, n);
  const char **list = malloc(m * sizeof *list);
  for (size_t i = 0; i < m; i++)
    TLT_ASSERT_OK(tl_ckpt_vocab_token(&list[i], back, i));
  tl_vocab *v2 = NULL;
  TLT_ASSERT_OK(tl_vocab_create(&v2, list, m));
  for (size_t i = 0; i < m; i++) {
    const char *a, *b;
    TLT_ASSERT_OK(tl_vocab_token(&a, v, (int64_t)i));
    TLT_ASSERT_OK(tl_vocab_token(&b, v2, (int64_t)i));
    ck_assert_str_eq(a, b);
    int64_t ia, ib;
    TLT_ASSERT_OK(tl_vocab_id(&ia, v, a, strlen(a)));
    TLT_ASSERT_OK(tl_vocab_id(&ib, v2, b, strlen(b)));
    ck_assert_int_eq(ia, ib);
  }
  free(list);
  free(buf);
  tl_vocab_free(v2);
  tl_ckpt_free(back);
  tl_ckpt_free(ck);
  tl_vocab_free(v);
  tl_token_counts_free(counts);
}
END_TEST

/* Allocation failures in counting leave the counts as they were. */
START_TEST(vocab_alloc_failures) {
  const char *words[] = {"a", "b", "a", "c"};
  tlt_counter c;
  for (size_t budget = 0; budget < 16; budget++) {
    tlt_counter_install_budget(&c, budget);
    tl_token_counts *counts = NULL;
    if (tl_token_counts_create(&counts) == TL_OK) {
      if (tl_token_counts_add(counts, words, 4) == TL_OK) {
        uint64_t k;
        TLT_ASSERT_OK(tl_token_counts_get(&k, counts, "a"));
        ck_assert_uint_eq(k, 2);
        tl_vocab *v = NULL;
        if (tl_vocab_create_from_counts(&v, counts, NULL) == TL_OK)
          tl_vocab_free(v);
      } else {
        size_t sz;
        TLT_ASSERT_OK(tl_token_counts_size(&sz, counts));
        ck_assert_uint_eq(sz, 0);
      }
      tl_token_counts_free(counts);
    }
    ck_assert_uint_eq(c.allocs, c.frees);
  }
  tl_set_allocator(NULL);
}
END_TEST

/* ---- language-model stream ---------------------------------------------- */

/* Document d is [100 + d, 1, 2, ..., len_d - 1]: its first id names it. */
#define LM_DOCS 23
static int64_t lm_store[LM_DOCS][64];
static const int64_t *lm_docs[LM_DOCS];
static size_t lm_lens[LM_DOCS];

static void lm_fixture(void) {
  for (size_t d = 0; d < LM_DOCS; d++) {
    lm_lens[d] = 5 + (d * 7) % 37;
    lm_store[d][0] = 100 + (int64_t)d;
    for (size_t i = 1; i < lm_lens[d]; i++)
      lm_store[d][i] = (int64_t)i;
    lm_docs[d] = lm_store[d];
  }
}

static tl_lm_loader *lm_make(size_t bs, size_t bptt, int variable, int shuffle,
                             int backwards, int64_t bos, uint64_t seed) {
  tl_lm_loader_options o;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  o.batch_size = bs;
  o.bptt = bptt;
  o.variable_length = variable;
  o.shuffle = shuffle;
  o.backwards = backwards;
  o.bos_id = bos;
  o.seed = seed;
  tl_lm_loader *ld = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o));
  return ld;
}

/* Runs one epoch and rebuilds each row (x over the epoch plus the last y),
 * checking y is x shifted by one; returns the number of batches. rows has
 * room for bs * (row_len + 1). */
static size_t lm_epoch(tl_lm_loader *ld, size_t bs, int64_t *rows,
                       size_t *lens_out, size_t max_batches) {
  size_t row_len;
  TLT_ASSERT_OK(tl_lm_loader_row_len(&row_len, ld));
  size_t pos = 0, nb = 0;
  for (;;) {
    const int64_t *x, *y;
    size_t t;
    TLT_ASSERT_OK(tl_lm_loader_next(&x, &y, &t, ld));
    if (t == 0)
      break;
    ck_assert_uint_le(pos + t, row_len);
    for (size_t k = 0; k < t; k++)
      for (size_t b = 0; b < bs; b++) {
        rows[b * (row_len + 1) + pos + k] = x[k * bs + b];
        rows[b * (row_len + 1) + pos + k + 1] = y[k * bs + b];
        if (k + 1 < t)
          ck_assert_int_eq(y[k * bs + b], x[(k + 1) * bs + b]);
      }
    if (nb < max_batches && lens_out)
      lens_out[nb] = t;
    pos += t;
    nb++;
  }
  ck_assert_uint_eq(pos, row_len);
  return nb;
}

/* The stream as the loader must build it for a given document order. */
static size_t lm_join(int64_t *out, const size_t *order, int64_t bos) {
  size_t o = 0;
  for (size_t k = 0; k < LM_DOCS; k++) {
    if (bos >= 0)
      out[o++] = bos;
    for (size_t i = 0; i < lm_lens[order[k]]; i++)
      out[o++] = lm_docs[order[k]][i];
  }
  return o;
}

START_TEST(lm_rows_follow_stream) {
  lm_fixture();
  size_t ident[LM_DOCS];
  for (size_t d = 0; d < LM_DOCS; d++)
    ident[d] = d;
  int64_t stream[LM_DOCS * 65];
  const size_t n = lm_join(stream, ident, 2);
  for (int backwards = 0; backwards <= 1; backwards++) {
    const size_t bs = 4, bptt = 10;
    tl_lm_loader *ld = lm_make(bs, bptt, 0, 0, backwards, 2, 0);
    size_t row_len;
    TLT_ASSERT_OK(tl_lm_loader_row_len(&row_len, ld));
    ck_assert_uint_eq(row_len, (n - 1) / bs);
    int64_t *rows = malloc(bs * (row_len + 1) * sizeof *rows);
    size_t lens[64];
    const size_t nb = lm_epoch(ld, bs, rows, lens, 64);
    ck_assert_uint_eq(nb, (row_len + bptt - 1) / bptt);
    for (size_t k = 0; k + 1 < nb; k++)
      ck_assert_uint_eq(lens[k], bptt);
    for (size_t b = 0; b < bs; b++)
      for (size_t i = 0; i <= row_len; i++) {
        const size_t at = b * row_len + i;
        const int64_t want = backwards ? stream[n - 1 - at] : stream[at];
        ck_assert_msg(rows[b * (row_len + 1) + i] == want,
                      "backwards %d row %zu pos %zu", backwards, b, i);
      }
    free(rows);
    tl_lm_loader_free(ld);
  }
}
END_TEST

/* Each epoch is the documents in a new order (whole, bos first), the same
 * for the same seed. */
START_TEST(lm_shuffle_deterministic) {
  lm_fixture();
  const size_t bs = 3;
  tl_lm_loader *a = lm_make(bs, 12, 1, 1, 0, 2, 7);
  tl_lm_loader *b = lm_make(bs, 12, 1, 1, 0, 2, 7);
  tl_lm_loader *c = lm_make(bs, 12, 1, 1, 0, 2, 8);
  size_t row_len;
  TLT_ASSERT_OK(tl_lm_loader_row_len(&row_len, a));
  int64_t *ra = malloc(bs * (row_len + 1) * sizeof *ra);
  int64_t *rb = malloc(bs * (row_len + 1) * sizeof *rb);
  int64_t *rc = malloc(bs * (row_len + 1) * sizeof *rc);
  int64_t first_docs[2][LM_DOCS];
  for (int e = 0; e < 2; e++) {
    size_t la[128], lb[128];
    const size_t na = lm_epoch(a, bs, ra, la, 128);
    const size_t nb = lm_epoch(b, bs, rb, lb, 128);
    lm_epoch(c, bs, rc, NULL, 0);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(la, lb, (na < 128 ? na : 128) * sizeof *la) == 0);
    ck_assert(memcmp(ra, rb, bs * (row_len + 1) * sizeof *ra) == 0);
    ck_assert(memcmp(ra, rc, bs * (row_len + 1) * sizeof *ra) != 0);
    /* Recover the document order from row 0 and the row joins, and check
     * every document appears whole after its bos. */
    int64_t *flat = malloc(bs * row_len * sizeof *flat);
    for (size_t r = 0; r < bs; r++)
      memcpy(flat + r * row_len, ra + r * (row_len + 1),
             row_len * sizeof *flat);
    size_t i = 0, k = 0;
    while (i + 1 < bs * row_len) {
      ck_assert_int_eq(flat[i], 2);
      const int64_t name = flat[i + 1];
      ck_assert(name >= 100 && name < 100 + LM_DOCS);
      const size_t d = (size_t)(name - 100);
      first_docs[e][k++] = name;
      for (size_t j = 1; j < lm_lens[d] && i + 1 + j < bs * row_len; j++)
        ck_assert_int_eq(flat[i + 1 + j], (int64_t)j);
      i += 1 + lm_lens[d];
    }
    free(flat);
  }
  /* Two epochs, two orders. */
  ck_assert(memcmp(first_docs[0], first_docs[1], 4 * sizeof(int64_t)) != 0);
  uint64_t ep;
  TLT_ASSERT_OK(tl_lm_loader_epoch(&ep, a));
  ck_assert_uint_eq(ep, 2);
  /* restart replays epoch 0 exactly */
  TLT_ASSERT_OK(tl_lm_loader_restart(b));
  lm_epoch(b, bs, rb, NULL, 0);
  tl_lm_loader_restart(a);
  lm_epoch(a, bs, ra, NULL, 0);
  ck_assert(memcmp(ra, rb, bs * (row_len + 1) * sizeof *ra) == 0);
  free(ra);
  free(rb);
  free(rc);
  tl_lm_loader_free(a);
  tl_lm_loader_free(b);
  tl_lm_loader_free(c);
}
END_TEST

/* Window lengths: bptt w.p. 0.95 else bptt / 2, plus N(0, 5), >= 5. */
START_TEST(lm_variable_windows) {
  /* One long document so that there are many windows; bptt 200 puts the
   * half-length windows (mean 100) 20 sd away from the others. */
  static int64_t big[420000];
  for (size_t i = 0; i < 420000; i++)
    big[i] = (int64_t)(i % 50);
  const int64_t *docs[1] = {big};
  const size_t lens[1] = {420000};
  tl_lm_loader_options o;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  o.batch_size = 1;
  o.bptt = 200;
  o.seed = 3;
  tl_lm_loader *ld = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&ld, docs, lens, 1, 50, &o));
  size_t n = 0, half = 0, minlen = 1000, maxlen = 0, pending = 0;
  double sum_full = 0.0, sq_full = 0.0;
  size_t n_full = 0;
  /* Each window is counted when the next arrives, so the last one, cut to
   * what is left of the rows, is left out. */
  for (;;) {
    const int64_t *x, *y;
    size_t t;
    TLT_ASSERT_OK(tl_lm_loader_next(&x, &y, &t, ld));
    if (t == 0)
      break;
    const size_t w = pending;
    pending = t;
    if (w == 0)
      continue;
    n++;
    minlen = w < minlen ? w : minlen;
    maxlen = w > maxlen ? w : maxlen;
    if (w < 150) {
      half++;
    } else {
      n_full++;
      sum_full += (double)w;
      sq_full += (double)w * (double)w;
    }
  }
  ck_assert_uint_gt(n, 2000);
  ck_assert_uint_ge(minlen, 5);
  ck_assert_uint_le(maxlen, 250);
  const double frac_half = (double)half / (double)n;
  ck_assert_msg(frac_half > 0.035 && frac_half < 0.065, "half %g", frac_half);
  /* int() truncation lowers the mean by about 0.5 */
  const double mean_full = sum_full / (double)n_full;
  const double sd_full = sqrt(sq_full / (double)n_full - mean_full * mean_full);
  ck_assert_msg(fabs(mean_full - 199.5) < 0.4, "mean %g", mean_full);
  ck_assert_msg(fabs(sd_full - 5.0) < 0.3, "sd %g", sd_full);
  tl_lm_loader_free(ld);
}
END_TEST

START_TEST(lm_no_alloc_per_batch) {
  lm_fixture();
  tlt_counter c;
  tlt_counter_install(&c);
  tl_lm_loader *ld = lm_make(3, 8, 1, 1, 1, 2, 1);
  const size_t after_create = c.allocs;
  for (int e = 0; e < 3; e++) {
    const int64_t *x, *y;
    size_t t;
    do
      TLT_ASSERT_OK(tl_lm_loader_next(&x, &y, &t, ld));
    while (t);
  }
  ck_assert_uint_eq(c.allocs, after_create);
  tl_lm_loader_free(ld);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

START_TEST(lm_bad_input) {
  lm_fixture();
  tl_lm_loader_options o;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  ck_assert_uint_eq(o.batch_size, 64);
  ck_assert_uint_eq(o.bptt, 70);
  o.batch_size = 4;
  o.bptt = 10;
  tl_lm_loader *ld = NULL;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, 0, 200, &o),
                   TL_E_INVALID_ARG, "corpus is empty");
  size_t lens[LM_DOCS];
  memcpy(lens, lm_lens, sizeof lens);
  lens[5] = 0;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "document 5 is empty");
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 110, &o),
                   TL_E_INVALID_ARG, "document 10, position 0: id 110");
  lm_store[3][4] = -2;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "document 3, position 4: id -2");
  lm_fixture();
  o.batch_size = 0;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "batch_size");
  o.batch_size = 100000;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "batch_size 100000 is too large");
  o.batch_size = 4;
  o.bptt = 0;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "bptt");
  o.bptt = 100000;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "longer than a row");
  o.bptt = 10;
  o.bos_id = 500;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG, "bos_id 500");
  o.bos_id = -1;
  o.version = 9;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_UNSUPPORTED, "version 9");
  ck_assert_ptr_null(ld);
  const int64_t *x, *y;
  size_t t;
  TLT_ASSERT_FAILS(tl_lm_loader_next(&x, &y, &t, NULL), TL_E_INVALID_ARG,
                   "loader");
  tl_lm_loader_free(NULL);
}
END_TEST

/* Sharded (options v2): for W ranks of batch_size 2, every step's batches
 * stacked in rank order are the batch of one loader with batch_size 2 W,
 * window lengths included, over two epochs; all ranks end an epoch
 * together, so every row of the stream (every token but the dropped tail)
 * is read by exactly one rank. */
static tl_lm_loader *lm_make_shard(size_t bs, size_t rank, size_t world) {
  tl_lm_loader_options o;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  o.batch_size = bs;
  o.bptt = 6;
  o.seed = 11;
  o.rank = rank;
  o.world_size = world;
  tl_lm_loader *ld = NULL;
  TLT_ASSERT_OK(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o));
  return ld;
}

START_TEST(lm_sharded_ranks_stack_to_the_global_batch) {
  lm_fixture();
  for (size_t W = 2; W <= 3; W++) {
    const size_t bs = 2;
    tl_lm_loader *global = lm_make_shard(bs * W, 0, 1);
    tl_lm_loader *rank[3] = {NULL, NULL, NULL};
    for (size_t r = 0; r < W; r++)
      rank[r] = lm_make_shard(bs, r, W);
    size_t grl = 0, rl = 0;
    TLT_ASSERT_OK(tl_lm_loader_row_len(&grl, global));
    TLT_ASSERT_OK(tl_lm_loader_row_len(&rl, rank[W - 1]));
    ck_assert_uint_eq(rl, grl);
    size_t total = 0;
    for (size_t d = 0; d < LM_DOCS; d++)
      total += lm_lens[d];
    ck_assert_uint_eq(rl, (total - 1) / (bs * W));
    for (int epoch = 0; epoch < 2; epoch++) {
      size_t seen = 0, steps = 0;
      for (;;) {
        const int64_t *gx, *gy;
        size_t gt;
        TLT_ASSERT_OK(tl_lm_loader_next(&gx, &gy, &gt, global));
        for (size_t r = 0; r < W; r++) {
          const int64_t *x, *y;
          size_t t;
          TLT_ASSERT_OK(tl_lm_loader_next(&x, &y, &t, rank[r]));
          ck_assert_uint_eq(t, gt); /* same window on every rank */
          for (size_t k = 0; k < t; k++)
            for (size_t b = 0; b < bs; b++) {
              ck_assert_int_eq(x[k * bs + b], gx[k * bs * W + r * bs + b]);
              ck_assert_int_eq(y[k * bs + b], gy[k * bs * W + r * bs + b]);
            }
          seen += t * bs;
        }
        if (gt == 0)
          break;
        steps++;
      }
      ck_assert_uint_gt(steps, 2);
      ck_assert_uint_eq(seen, rl * bs * W); /* each row position once */
    }
    uint64_t e = 0;
    TLT_ASSERT_OK(tl_lm_loader_epoch(&e, rank[0]));
    ck_assert_uint_eq(e, 2);
    tl_lm_loader_free(global);
    for (size_t r = 0; r < W; r++)
      tl_lm_loader_free(rank[r]);
  }
}
END_TEST

START_TEST(lm_shard_bad_options) {
  lm_fixture();
  tl_lm_loader_options o;
  TLT_ASSERT_OK(tl_lm_loader_options_init(&o, TL_LM_LOADER_OPTIONS_VERSION));
  ck_assert_uint_eq(o.rank, 0);
  ck_assert_uint_eq(o.world_size, 1);
  o.batch_size = 2;
  o.bptt = 4;
  tl_lm_loader *ld = NULL;
  o.world_size = 0;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG,
                   "tl_lm_loader_create: options->world_size must be >= 1");
  o.world_size = 3;
  o.rank = 3;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG,
                   "options->rank 3 is outside [0, world_size 3)");
  /* 517 tokens: 300 ranks of 2 rows need 600 rows of 2 tokens. */
  o.rank = 0;
  o.world_size = 300;
  TLT_ASSERT_FAILS(tl_lm_loader_create(&ld, lm_docs, lm_lens, LM_DOCS, 200, &o),
                   TL_E_INVALID_ARG,
                   "each of the 600 rows (batch_size * world_size 300)");
  ck_assert_ptr_null(ld);
}
END_TEST

/* ---- classifier batches and splits ------------------------------------- */

static tl_clas_loader *clas_make(const int64_t *const *docs, const size_t *lens,
                                 const int64_t *labels, size_t n, size_t bs,
                                 size_t seq_len, int shuffle, uint64_t seed) {
  tl_clas_loader_options o;
  TLT_ASSERT_OK(
      tl_clas_loader_options_init(&o, TL_CLAS_LOADER_OPTIONS_VERSION));
  o.batch_size = bs;
  o.seq_len = seq_len;
  o.shuffle = shuffle;
  o.seed = seed;
  tl_clas_loader *ld = NULL;
  TLT_ASSERT_OK(tl_clas_loader_create(&ld, docs, lens, labels, n, 100, 3, &o));
  return ld;
}

/* Sorted by length (stable), padded as pad_input_chunk. */
START_TEST(clas_sorted_and_padded) {
  /* doc d = [10 + d, 10 + d, ...] of the given lengths */
  static const size_t lens[6] = {2, 7, 5, 7, 1, 3};
  static int64_t store[6][8];
  const int64_t *docs[6];
  const int64_t labels[6] = {0, 1, 2, 0, 1, 2};
  for (size_t d = 0; d < 6; d++) {
    for (size_t i = 0; i < lens[d]; i++)
      store[d][i] = 10 + (int64_t)d;
    docs[d] = store[d];
  }
  tl_clas_loader *ld = clas_make(docs, lens, labels, 6, 2, 3, 0, 0);
  /* by length, longest first, ties in order: 1 3 2 5 0 4 */
  static const size_t want_docs[6] = {1, 3, 2, 5, 0, 4};
  /* batch 1: docs 2 (5) and 5 (3): doc 5 is 2 short -> 0 chunks before,
   * 2 pads after. batch 2: docs 0 (2) and 4 (1): doc 4 is 1 short -> 1
   * after. A doc 4 short with seq_len 3 gets 3 before and 1 after: see
   * the second loader below. */
  static const int64_t want_x1[5][2] = {
      {12, 15}, {12, 15}, {12, 15}, {12, 1}, {12, 1}};
  for (int epoch = 0; epoch < 2; epoch++) {
    for (size_t k = 0; k < 3; k++) {
      const int64_t *x, *y;
      const size_t *dd;
      size_t T, b;
      TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &T, &b, &dd, ld));
      ck_assert_uint_eq(b, 2);
      ck_assert_uint_eq(dd[0], want_docs[2 * k]);
      ck_assert_uint_eq(dd[1], want_docs[2 * k + 1]);
      ck_assert_int_eq(y[0], labels[dd[0]]);
      ck_assert_uint_eq(T, lens[dd[0]]);
      if (k == 1)
        for (size_t t = 0; t < 5; t++)
          for (size_t i = 0; i < 2; i++)
            ck_assert_int_eq(x[t * 2 + i], want_x1[t][i]);
    }
    const int64_t *x, *y;
    size_t T, b;
    TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &T, &b, NULL, ld));
    ck_assert_uint_eq(b, 0);
  }
  tl_clas_loader_free(ld);
  /* seq_len 3, a document 4 short: 3 pads before, 1 after. */
  const size_t lens2[2] = {7, 3};
  const int64_t *docs2[2] = {store[1], store[5]};
  ld = clas_make(docs2, lens2, labels, 2, 2, 3, 0, 0);
  const int64_t *x, *y;
  size_t T, b;
  TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &T, &b, NULL, ld));
  static const int64_t want2[7] = {1, 1, 1, 15, 15, 15, 1};
  for (size_t t = 0; t < 7; t++)
    ck_assert_int_eq(x[t * 2 + 1], want2[t]);
  tl_clas_loader_free(ld);
}
END_TEST

/* Shuffled epochs: every document once, the longest in the first batch,
 * each chunk of 50 batches sorted, the same for the same seed. */
START_TEST(clas_shuffled_epochs) {
  enum { N = 1000, BS = 4 };
  static int64_t store[N][40];
  static const int64_t *docs[N];
  static size_t lens[N];
  static int64_t labels[N];
  for (size_t d = 0; d < N; d++) {
    lens[d] = 1 + (d * 37) % 39;
    for (size_t i = 0; i < lens[d]; i++)
      store[d][i] = (int64_t)(d % 100);
    docs[d] = store[d];
    labels[d] = (int64_t)(d % 3);
  }
  lens[517] = 40; /* the unique longest */
  tl_clas_loader *a = clas_make(docs, lens, labels, N, BS, 72, 1, 11);
  tl_clas_loader *b = clas_make(docs, lens, labels, N, BS, 72, 1, 11);
  static size_t seen[2][N];
  for (int e = 0; e < 2; e++) {
    size_t pos = 0, nb = 0;
    static uint8_t hit[N];
    memset(hit, 0, sizeof hit);
    for (;;) {
      const int64_t *x, *y, *x2, *y2;
      const size_t *dd, *dd2;
      size_t T, bsz, T2, bsz2;
      TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &T, &bsz, &dd, a));
      TLT_ASSERT_OK(tl_clas_loader_next(&x2, &y2, &T2, &bsz2, &dd2, b));
      ck_assert_uint_eq(bsz, bsz2);
      if (bsz == 0)
        break;
      ck_assert_uint_eq(T, T2);
      ck_assert(memcmp(dd, dd2, bsz * sizeof *dd) == 0);
      if (nb == 0) {
        ck_assert_uint_eq(dd[0], 517);
        ck_assert_uint_eq(T, 40);
      }
      for (size_t i = 0; i < bsz; i++) {
        ck_assert(!hit[dd[i]]);
        hit[dd[i]] = 1;
        seen[e][pos++] = dd[i];
        if (i > 0)
          ck_assert_uint_le(lens[dd[i]], lens[dd[i - 1]]);
      }
      nb++;
    }
    ck_assert_uint_eq(pos, N);
    ck_assert_uint_eq(nb, N / BS);
  }
  ck_assert(memcmp(seen[0], seen[1], sizeof seen[0]) != 0);
  tl_clas_loader_free(a);
  tl_clas_loader_free(b);
}
END_TEST

START_TEST(clas_no_alloc_and_errors) {
  static const size_t lens[3] = {3, 1, 2};
  static const int64_t d0[3] = {4, 5, 6}, d1[1] = {7}, d2[2] = {8, 9};
  const int64_t *docs[3] = {d0, d1, d2};
  int64_t labels[3] = {0, 2, 1};
  tlt_counter c;
  tlt_counter_install(&c);
  tl_clas_loader *ld = clas_make(docs, lens, labels, 3, 2, 72, 1, 5);
  const size_t after = c.allocs;
  for (int e = 0; e < 3; e++) {
    const int64_t *x, *y;
    size_t T, b;
    do
      TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &T, &b, NULL, ld));
    while (b);
  }
  ck_assert_uint_eq(c.allocs, after);
  tl_clas_loader_free(ld);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
  tl_clas_loader_options o;
  TLT_ASSERT_OK(
      tl_clas_loader_options_init(&o, TL_CLAS_LOADER_OPTIONS_VERSION));
  ld = NULL;
  labels[2] = 3;
  TLT_ASSERT_FAILS(
      tl_clas_loader_create(&ld, docs, lens, labels, 3, 100, 3, &o),
      TL_E_INVALID_ARG, "document 2: label 3");
  labels[2] = 1;
  TLT_ASSERT_FAILS(tl_clas_loader_create(&ld, docs, lens, labels, 3, 9, 3, &o),
                   TL_E_INVALID_ARG, "document 2, position 1: id 9");
  const size_t lens0[3] = {3, 0, 2};
  TLT_ASSERT_FAILS(
      tl_clas_loader_create(&ld, docs, lens0, labels, 3, 100, 3, &o),
      TL_E_INVALID_ARG, "document 1 is empty");
  TLT_ASSERT_FAILS(
      tl_clas_loader_create(&ld, docs, lens, labels, 0, 100, 3, &o),
      TL_E_INVALID_ARG, "corpus is empty");
  o.batch_size = 0;
  TLT_ASSERT_FAILS(
      tl_clas_loader_create(&ld, docs, lens, labels, 3, 100, 3, &o),
      TL_E_INVALID_ARG, "batch_size");
  o.batch_size = 2;
  o.pad_id = 100;
  TLT_ASSERT_FAILS(
      tl_clas_loader_create(&ld, docs, lens, labels, 3, 100, 3, &o),
      TL_E_INVALID_ARG, "pad_id 100");
  ck_assert_ptr_null(ld);
  /* max_len keeps the first tokens, and then ids past it are not read */
  o.pad_id = 1;
  o.max_len = 1;
  o.shuffle = 0;
  TLT_ASSERT_OK(tl_clas_loader_create(&ld, docs, lens, labels, 3, 100, 3, &o));
  const int64_t *x, *y;
  size_t T, b;
  TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &T, &b, NULL, ld));
  ck_assert_uint_eq(T, 1);
  ck_assert_int_eq(x[0], 4);
  tl_clas_loader_free(ld);
}
END_TEST

/* Sharded classifier batches (options v2): rank r's share of each global
 * batch of the one-process loader with batch_size W * bs is the slice
 * [floor(r n / W), floor((r + 1) n / W)); every document once per epoch. */
static tl_clas_loader *clas_make_shard(size_t n, size_t bs, size_t rank,
                                       size_t world, tl_status expect) {
  static int64_t labels[LM_DOCS];
  for (size_t d = 0; d < LM_DOCS; d++)
    labels[d] = (int64_t)(d % 3);
  tl_clas_loader_options o;
  TLT_ASSERT_OK(
      tl_clas_loader_options_init(&o, TL_CLAS_LOADER_OPTIONS_VERSION));
  o.batch_size = bs;
  o.seq_len = 4;
  o.seed = 5;
  o.rank = rank;
  o.world_size = world;
  tl_clas_loader *ld = NULL;
  tl_status s =
      tl_clas_loader_create(&ld, lm_docs, lm_lens, labels, n, 200, 3, &o);
  ck_assert_msg(s == expect, "%s", tl_last_error());
  return ld;
}

START_TEST(clas_sharded_shares_of_the_global_batch) {
  lm_fixture();
  for (size_t W = 2; W <= 3; W++) {
    const size_t bs = 2, n = LM_DOCS; /* 23 % 4 = 3, 23 % 6 = 5: >= W */
    tl_clas_loader *global = clas_make_shard(n, bs * W, 0, 1, TL_OK);
    tl_clas_loader *rank[3] = {NULL, NULL, NULL};
    for (size_t r = 0; r < W; r++)
      rank[r] = clas_make_shard(n, bs, r, W, TL_OK);
    for (int epoch = 0; epoch < 2; epoch++) {
      size_t count[LM_DOCS] = {0};
      for (;;) {
        const int64_t *gx, *gy, *x, *y;
        const size_t *gdocs, *docs;
        size_t gt, gb, t, b;
        TLT_ASSERT_OK(tl_clas_loader_next(&gx, &gy, &gt, &gb, &gdocs, global));
        for (size_t r = 0; r < W; r++) {
          TLT_ASSERT_OK(tl_clas_loader_next(&x, &y, &t, &b, &docs, rank[r]));
          const size_t lo = r * gb / W, hi = (r + 1) * gb / W;
          ck_assert_uint_eq(b, hi - lo);
          ck_assert(gb == 0 || b >= 1); /* no rank idles while others step */
          for (size_t i = 0; i < b; i++) {
            ck_assert_uint_eq(docs[i], gdocs[lo + i]);
            ck_assert_int_eq(y[i], gy[lo + i]);
            count[docs[i]]++;
            /* The document's first id after its whole chunks of padding
             * (pad_first, seq_len 4): padded to the share's longest. */
            const size_t before = ((t - lm_lens[docs[i]]) / 4) * 4;
            ck_assert_int_eq(x[before * b + i], lm_docs[docs[i]][0]);
          }
        }
        if (gb == 0)
          break;
      }
      for (size_t d = 0; d < n; d++)
        ck_assert_uint_eq(count[d], 1);
    }
    tl_clas_loader_free(global);
    for (size_t r = 0; r < W; r++)
      tl_clas_loader_free(rank[r]);
  }
  /* 22 documents in global batches of 6 leave 4 >= 3 ranks; 19 leave 1. */
  tl_clas_loader_free(clas_make_shard(22, 2, 1, 3, TL_OK));
  ck_assert_ptr_null(clas_make_shard(19, 2, 1, 3, TL_E_INVALID_ARG));
  ck_assert_ptr_nonnull(
      strstr(tl_last_error(), "19 documents in global batches of 6 (batch_size "
                              "2 * world_size 3) leave 1 for the last batch"));
  ck_assert_ptr_null(clas_make_shard(19, 2, 3, 3, TL_E_INVALID_ARG));
  ck_assert_ptr_nonnull(strstr(tl_last_error(), "options->rank 3 is outside"));
  ck_assert_ptr_null(clas_make_shard(19, 2, 0, 0, TL_E_INVALID_ARG));
}
END_TEST

START_TEST(split_stratified) {
  enum { N = 1003 };
  static int64_t labels[N];
  size_t per[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < N; i++) {
    const size_t r = (i * 7) % 10; /* uneven classes: 5, 3, 1, 1 in 10 */
    labels[i] = r < 5 ? 0 : r < 8 ? 1 : r < 9 ? 2 : 3;
    per[labels[i]]++;
  }
  static uint8_t v1[N], v2[N], v3[N];
  TLT_ASSERT_OK(tl_text_split_stratified(v1, labels, N, 4, 0.2, 1));
  TLT_ASSERT_OK(tl_text_split_stratified(v2, labels, N, 4, 0.2, 1));
  TLT_ASSERT_OK(tl_text_split_stratified(v3, labels, N, 4, 0.2, 2));
  ck_assert(memcmp(v1, v2, N) == 0);
  ck_assert(memcmp(v1, v3, N) != 0);
  for (size_t c = 0; c < 4; c++) {
    size_t k = 0;
    for (size_t i = 0; i < N; i++)
      k += labels[i] == (int64_t)c && v1[i];
    ck_assert_uint_eq(k, (size_t)floor(0.2 * (double)per[c] + 0.5));
  }
  TLT_ASSERT_FAILS(tl_text_split_stratified(v1, labels, N, 4, 1.5, 1),
                   TL_E_INVALID_ARG, "valid_frac");
  TLT_ASSERT_FAILS(tl_text_split_stratified(v1, labels, N, 3, 0.2, 1),
                   TL_E_INVALID_ARG, "label 3");
  size_t idx[40];
  TLT_ASSERT_OK(tl_text_subset_per_class(idx, 40, labels, N, 4, 10, 9));
  for (size_t c = 0; c < 4; c++)
    for (size_t j = 0; j < 10; j++) {
      ck_assert_int_eq(labels[idx[c * 10 + j]], (int64_t)c);
      if (j)
        ck_assert_uint_lt(idx[c * 10 + j - 1], idx[c * 10 + j]);
    }
  TLT_ASSERT_FAILS(tl_text_subset_per_class(idx, 39, labels, N, 4, 10, 9),
                   TL_E_INVALID_ARG, "cap 39");
  const int64_t few[3] = {0, 0, 1};
  TLT_ASSERT_FAILS(tl_text_subset_per_class(idx, 40, few, 3, 2, 2, 9),
                   TL_E_INVALID_ARG, "class 1 has 1 documents");
}
END_TEST

/* ---- metrics (scikit-learn and PyTorch goldens) ------------------------- */

START_TEST(metrics_classification) {
  uint64_t cm[TM_K * TM_K];
  TLT_ASSERT_OK(tl_confusion_matrix(cm, TM_K, tm_pred, tm_target, TM_N));
  for (size_t i = 0; i < TM_K * TM_K; i++)
    ck_assert_uint_eq(cm[i], tm_confusion[i]);
  double acc, macro, p[TM_K], r[TM_K], f[TM_K];
  TLT_ASSERT_OK(tl_classification_metrics(&acc, &macro, p, r, f, TM_K, tm_pred,
                                          tm_target, TM_N));
  TLT_ASSERT_CLOSE(acc, tm_accuracy, 1e-15, 1e-300);
  TLT_ASSERT_CLOSE(macro, tm_macro_f1, 1e-14, 1e-300);
  TLT_ASSERT_ARRAY_CLOSE(p, tm_precision, TM_K, 1e-15, 1e-300);
  TLT_ASSERT_ARRAY_CLOSE(r, tm_recall, TM_K, 1e-15, 1e-300);
  TLT_ASSERT_ARRAY_CLOSE(f, tm_f1, TM_K, 1e-15, 1e-300);
  ck_assert(p[4] == 0.0); /* never predicted: zero_division = 0 */
  TLT_ASSERT_OK(tl_classification_metrics(NULL, &macro, NULL, NULL, NULL, TM_K,
                                          tm_pred, tm_target, TM_N));
  int64_t bad[3] = {0, 1, 7};
  TLT_ASSERT_FAILS(tl_confusion_matrix(cm, TM_K, bad, tm_target, 3),
                   TL_E_INVALID_ARG, "pred[2] = 7");
  TLT_ASSERT_FAILS(tl_classification_metrics(&acc, NULL, NULL, NULL, NULL, TM_K,
                                             tm_pred, bad, 3),
                   TL_E_INVALID_ARG, "target[2] = 7");
  TLT_ASSERT_FAILS(tl_classification_metrics(&acc, NULL, NULL, NULL, NULL, TM_K,
                                             tm_pred, tm_target, 0),
                   TL_E_INVALID_ARG, "n must be");
}
END_TEST

START_TEST(metrics_lm) {
  double nll;
  uint64_t hits;
  TLT_ASSERT_OK(
      tl_lm_batch_metrics(&nll, &hits, tm_logits, tm_lm_targets, TM_M, TM_V));
  TLT_ASSERT_CLOSE(nll, tm_nll_sum, 1e-13, 1e-300);
  ck_assert_uint_eq(hits, tm_hits);
  double ppl;
  TLT_ASSERT_OK(tl_perplexity(&ppl, nll, TM_M));
  TLT_ASSERT_CLOSE(ppl, exp(tm_nll_sum / TM_M), 1e-13, 1e-300);
  float bad[TM_V];
  memcpy(bad, tm_logits, sizeof bad);
  bad[3] = NAN;
  TLT_ASSERT_FAILS(
      tl_lm_batch_metrics(&nll, &hits, bad, tm_lm_targets, 1, TM_V),
      TL_E_NUMERIC, "position 0, id 3");
  const int64_t far[1] = {TM_V};
  TLT_ASSERT_FAILS(tl_lm_batch_metrics(&nll, &hits, tm_logits, far, 1, TM_V),
                   TL_E_INVALID_ARG, "targets[0]");
  TLT_ASSERT_FAILS(tl_perplexity(&ppl, 1.0, 0), TL_E_INVALID_ARG, "count");
}
END_TEST

/* ---- corpus: threads give the serial result ----------------------------- */

START_TEST(corpus_threads_match_serial) {
  static const char *texts[TEXT_N_VALID];
  static size_t lens[TEXT_N_VALID];
  for (size_t i = 0; i < TEXT_N_VALID; i++) {
    texts[i] = text_cases[i].text;
    lens[i] = text_cases[i].len;
  }
  tl_text_corpus *c1 = NULL, *c4 = NULL;
  TLT_ASSERT_OK(
      tl_text_corpus_tokenize(&c1, texts, lens, TEXT_N_VALID, NULL, 1));
  TLT_ASSERT_OK(
      tl_text_corpus_tokenize(&c4, texts, lens, TEXT_N_VALID, NULL, 4));
  size_t nd;
  TLT_ASSERT_OK(tl_text_corpus_num_docs(&nd, c4));
  ck_assert_uint_eq(nd, TEXT_N_VALID);
  for (size_t d = 0; d < TEXT_N_VALID; d++) {
    size_t n1, n4;
    TLT_ASSERT_OK(tl_text_corpus_doc_len(&n1, c1, d));
    TLT_ASSERT_OK(tl_text_corpus_doc_len(&n4, c4, d));
    ck_assert_uint_eq(n1, text_cases[d].n_tokens);
    ck_assert_uint_eq(n4, n1);
    for (size_t i = 0; i < n1; i++) {
      const char *a, *b;
      TLT_ASSERT_OK(tl_text_corpus_token(&a, NULL, c1, d, i));
      TLT_ASSERT_OK(tl_text_corpus_token(&b, NULL, c4, d, i));
      ck_assert_str_eq(a, text_cases[d].tokens[i]);
      ck_assert_str_eq(b, a);
    }
  }
  /* counts from the corpus are the counts from the runs */
  tl_token_counts *counts = NULL;
  TLT_ASSERT_OK(tl_token_counts_create(&counts));
  TLT_ASSERT_OK(tl_token_counts_add_corpus(counts, c4));
  uint64_t k;
  TLT_ASSERT_OK(tl_token_counts_get(&k, counts, "the"));
  ck_assert_uint_eq(k, TEXT_COUNT_THE);
  tl_vocab *v = NULL;
  TLT_ASSERT_OK(tl_vocab_create_from_counts(&v, counts, NULL));
  size_t vn;
  TLT_ASSERT_OK(tl_vocab_size(&vn, v));
  ck_assert_uint_eq(vn, vocab_cases[0].n);
  size_t n0;
  TLT_ASSERT_OK(tl_text_corpus_doc_len(&n0, c4, 0));
  int64_t ids[64];
  TLT_ASSERT_OK(tl_vocab_encode_doc(ids, n0, v, c4, 0));
  ck_assert_int_eq(ids[0], 2);
  TLT_ASSERT_FAILS(tl_vocab_encode_doc(ids, n0 + 1, v, c4, 0), TL_E_SHAPE,
                   "document 0");
  TLT_ASSERT_FAILS(tl_vocab_encode_doc(ids, n0, v, c4, TEXT_N_VALID),
                   TL_E_INVALID_ARG, "out of range");
  tl_vocab_free(v);
  tl_token_counts_free(counts);
  tl_text_corpus_free(c1);
  tl_text_corpus_free(c4);
}
END_TEST

START_TEST(corpus_errors_name_document) {
  const char *texts[6] = {"fine", "also fine",    "bad \xff here",
                          "ok",   "bad \xc0 too", "end"};
  size_t lens[6];
  for (size_t i = 0; i < 6; i++)
    lens[i] = strlen(texts[i]);
  tl_text_corpus *c = NULL;
  for (size_t threads = 1; threads <= 6; threads++)
    TLT_ASSERT_FAILS(tl_text_corpus_tokenize(&c, texts, lens, 6, NULL, threads),
                     TL_E_FORMAT,
                     "document 2: tl_tokenizer_run: text is not "
                     "valid UTF-8 at byte offset 4");
  ck_assert_ptr_null(c);
  TLT_ASSERT_FAILS(tl_text_corpus_tokenize(&c, texts, lens, 6, NULL, 0),
                   TL_E_INVALID_ARG, "n_threads");
  tl_tokenizer_options o;
  TLT_ASSERT_OK(tl_tokenizer_options_init(&o, TL_TOKENIZER_OPTIONS_VERSION));
  o.replace_invalid = 1;
  TLT_ASSERT_OK(tl_text_corpus_tokenize(&c, texts, lens, 6, &o, 3));
  tl_text_corpus_free(c);
  /* an empty corpus is a valid (empty) corpus */
  TLT_ASSERT_OK(tl_text_corpus_tokenize(&c, NULL, NULL, 0, NULL, 2));
  size_t nd = 9;
  TLT_ASSERT_OK(tl_text_corpus_num_docs(&nd, c));
  ck_assert_uint_eq(nd, 0);
  tl_text_corpus_free(c);
}
END_TEST

START_TEST(corpus_alloc_failures) {
  const char *texts[3] = {"One two.", "THREE four", "five"};
  const size_t lens[3] = {8, 10, 4};
  tlt_counter c;
  for (size_t budget = 0; budget < 40; budget++) {
    tlt_counter_install_budget(&c, budget);
    tl_text_corpus *corpus = NULL;
    const tl_status s =
        tl_text_corpus_tokenize(&corpus, texts, lens, 3, NULL, 1);
    ck_assert(s == TL_OK || s == TL_E_NOMEM);
    tl_text_corpus_free(corpus);
    ck_assert_uint_eq(c.allocs, c.frees);
  }
  tl_set_allocator(NULL);
}
END_TEST

static Suite *text_suite(void) {
  Suite *s = suite_create("text");
  TCase *tc = tcase_create("tokenizer");
  tcase_add_test(tc, golden);
  tcase_add_test(tc, eos_no_bos);
  tcase_add_test(tc, invalid_utf8);
  tcase_add_test(tc, bad_args);
  tcase_add_test(tc, no_alloc_after_warmup);
  tcase_add_test(tc, alloc_failures);
  tcase_add_test(tc, random_texts_keep_invariants);
  suite_add_tcase(s, tc);
  TCase *tv = tcase_create("vocab");
  tcase_add_test(tv, vocab_golden);
  tcase_add_test(tv, vocab_encode_decode);
  tcase_add_test(tv, vocab_from_list);
  tcase_add_test(tv, vocab_checkpoint);
  tcase_add_test(tv, vocab_alloc_failures);
  suite_add_tcase(s, tv);
  TCase *tlm = tcase_create("lm_loader");
  tcase_add_test(tlm, lm_rows_follow_stream);
  tcase_add_test(tlm, lm_shuffle_deterministic);
  tcase_add_test(tlm, lm_variable_windows);
  tcase_add_test(tlm, lm_no_alloc_per_batch);
  tcase_add_test(tlm, lm_bad_input);
  tcase_add_test(tlm, lm_sharded_ranks_stack_to_the_global_batch);
  tcase_add_test(tlm, lm_shard_bad_options);
  suite_add_tcase(s, tlm);
  TCase *tc2 = tcase_create("classifier");
  tcase_add_test(tc2, clas_sorted_and_padded);
  tcase_add_test(tc2, clas_shuffled_epochs);
  tcase_add_test(tc2, clas_no_alloc_and_errors);
  tcase_add_test(tc2, split_stratified);
  tcase_add_test(tc2, clas_sharded_shares_of_the_global_batch);
  suite_add_tcase(s, tc2);
  TCase *tm = tcase_create("metrics");
  tcase_add_test(tm, metrics_classification);
  tcase_add_test(tm, metrics_lm);
  suite_add_tcase(s, tm);
  TCase *tcp = tcase_create("corpus");
  tcase_add_test(tcp, corpus_threads_match_serial);
  tcase_add_test(tcp, corpus_errors_name_document);
  tcase_add_test(tcp, corpus_alloc_failures);
  suite_add_tcase(s, tcp);
  return s;
}

int main(void) { return tlt_run(text_suite()); }
