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
  return s;
}

int main(void) { return tlt_run(text_suite()); }
