/* The text layer: the tokenizer against the golden token lists of
 * tests/fixtures/gen_text.py (fastai 2.7 rules), its errors and its
 * buffer reuse. */
#include "tl_test.h"

#include "../fixtures/text_golden.h"

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

static Suite *text_suite(void) {
  Suite *s = suite_create("text");
  TCase *tc = tcase_create("tokenizer");
  tcase_add_test(tc, golden);
  tcase_add_test(tc, eos_no_bos);
  tcase_add_test(tc, invalid_utf8);
  tcase_add_test(tc, bad_args);
  tcase_add_test(tc, no_alloc_after_warmup);
  tcase_add_test(tc, alloc_failures);
  suite_add_tcase(s, tc);
  TCase *tv = tcase_create("vocab");
  tcase_add_test(tv, vocab_golden);
  tcase_add_test(tv, vocab_encode_decode);
  tcase_add_test(tv, vocab_from_list);
  tcase_add_test(tv, vocab_checkpoint);
  tcase_add_test(tv, vocab_alloc_failures);
  suite_add_tcase(s, tv);
  return s;
}

int main(void) { return tlt_run(text_suite()); }
