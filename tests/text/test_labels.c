/* The label vocabulary (lib/text/labels.c): classes and ids as Python's
 * sorted(set(labels)) gives them (fastai's CategoryMap), its text form in
 * a checkpoint's metadata, and bad input. The end-to-end match_embeds
 * test with tl_vocab is in test_match_embeds.c. */
#include "tl_test.h"

/* Documents' labels with the orderings that matter: upper case before lower
 * case, "10" before "9", the empty label, separators and a newline inside a
 * label, and a non-ASCII label (U+00E9, after every ASCII one). */
#define N_DOCS 14
static const char *const docs_labels[N_DOCS] = {
    "pos", "neg", "neu", "pos",   "Neg",         "z",   "\xc3\xa9",
    "10",  "9",   "",    "a:b;c", "line\nbreak", "neg", "\xc3\xa9"};

/* Written by Python 3.11:
 *   labs = ['pos', 'neg', 'neu', 'pos', 'Neg', 'z', 'é', '10', '9', '',
 *           'a:b;c', 'line\nbreak', 'neg', 'é']
 *   c = sorted(set(labs))
 *   -> ['', '10', '9', 'Neg', 'a:b;c', 'line\nbreak', 'neg', 'neu', 'pos',
 *       'z', 'é']
 *   [c.index(l) for l in labs]
 *   -> [8, 6, 7, 8, 3, 9, 10, 1, 2, 0, 4, 5, 6, 10] */
#define N_CLASSES 11
static const char *const want_classes[N_CLASSES] = {
    "",    "10",  "9",   "Neg", "a:b;c",   "line\nbreak",
    "neg", "neu", "pos", "z",   "\xc3\xa9"};
static const int64_t want_ids[N_DOCS] = {8, 6, 7, 8, 3, 9, 10,
                                         1, 2, 0, 4, 5, 6, 10};
/* 'v1;' + ''.join('%d:%s' % (len(x.encode()), x) for x in c) */
static const char want_text[] =
    "v1;0:2:101:93:Neg5:a:b;c10:line\nbreak3:neg3:neu3:pos1:z2:\xc3\xa9";

static void check_classes(const tl_label_vocab *lv) {
  size_t n = 0;
  TLT_ASSERT_OK(tl_label_vocab_size(&n, lv));
  ck_assert_uint_eq(n, N_CLASSES);
  for (int64_t id = 0; id < N_CLASSES; id++) {
    const char *lab = NULL;
    TLT_ASSERT_OK(tl_label_vocab_label(&lab, lv, id));
    ck_assert_str_eq(lab, want_classes[id]);
  }
}

START_TEST(sorted_like_python) {
  tl_label_vocab *lv = NULL;
  TLT_ASSERT_OK(tl_label_vocab_create(&lv, docs_labels, N_DOCS));
  check_classes(lv);
  int64_t ids[N_DOCS];
  TLT_ASSERT_OK(tl_label_vocab_encode(ids, lv, docs_labels, N_DOCS));
  for (size_t i = 0; i < N_DOCS; i++)
    ck_assert_int_eq(ids[i], want_ids[i]);
  /* encode of n 0 touches nothing. */
  TLT_ASSERT_OK(tl_label_vocab_encode(NULL, lv, NULL, 0));
  /* The order does not depend on the order of the documents. */
  const char *rev[N_DOCS];
  for (size_t i = 0; i < N_DOCS; i++)
    rev[i] = docs_labels[N_DOCS - 1 - i];
  tl_label_vocab *lv2 = NULL;
  TLT_ASSERT_OK(tl_label_vocab_create(&lv2, rev, N_DOCS));
  check_classes(lv2);
  tl_label_vocab_free(lv2);
  tl_label_vocab_free(lv);
  tl_label_vocab_free(NULL);
}
END_TEST

START_TEST(bad_input) {
  tl_label_vocab *lv = NULL;
  const char *with_null[3] = {"a", "b", NULL};
  TLT_ASSERT_FAILS(tl_label_vocab_create(&lv, with_null, 3), TL_E_INVALID_ARG,
                   "document 2: label is missing");
  ck_assert_ptr_null(lv);
  TLT_ASSERT_FAILS(tl_label_vocab_create(&lv, docs_labels, 0), TL_E_INVALID_ARG,
                   "'n'");
  TLT_ASSERT_FAILS(tl_label_vocab_create(NULL, docs_labels, 3),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_label_vocab_create(&lv, NULL, 3), TL_E_INVALID_ARG,
                   "'labels'");
  ck_assert_ptr_null(lv);

  TLT_ASSERT_OK(tl_label_vocab_create(&lv, docs_labels, N_DOCS));
  /* Unknown and missing labels name the document (the lowest failing one)
   * and leave out as it was. */
  const char *unknown[4] = {"pos", "neg", "posit", "nope"};
  int64_t out[4] = {-7, -7, -7, -7};
  TLT_ASSERT_FAILS(tl_label_vocab_encode(out, lv, unknown, 4), TL_E_INVALID_ARG,
                   "document 2: label 'posit' is not one of the 11 classes");
  const char *missing[3] = {"pos", NULL, "nope"};
  TLT_ASSERT_FAILS(tl_label_vocab_encode(out, lv, missing, 3), TL_E_INVALID_ARG,
                   "document 1: label is missing");
  /* Labels compare exactly: no case folding, no trimming. */
  const char *near[2] = {"POS", "pos "};
  TLT_ASSERT_FAILS(tl_label_vocab_encode(out, lv, near, 2), TL_E_INVALID_ARG,
                   "document 0: label 'POS'");
  for (size_t i = 0; i < 4; i++)
    ck_assert_int_eq(out[i], -7);
  TLT_ASSERT_FAILS(tl_label_vocab_encode(NULL, lv, unknown, 1),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_label_vocab_encode(out, lv, NULL, 1), TL_E_INVALID_ARG,
                   "'labels'");
  TLT_ASSERT_FAILS(tl_label_vocab_encode(out, NULL, unknown, 1),
                   TL_E_INVALID_ARG, "'lv'");

  const char *lab = "unchanged";
  TLT_ASSERT_FAILS(tl_label_vocab_label(&lab, lv, N_CLASSES), TL_E_INVALID_ARG,
                   "'id' is 11, outside [0, 11)");
  TLT_ASSERT_FAILS(tl_label_vocab_label(&lab, lv, -1), TL_E_INVALID_ARG,
                   "'id' is -1");
  ck_assert_str_eq(lab, "unchanged");
  TLT_ASSERT_FAILS(tl_label_vocab_label(NULL, lv, 0), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_label_vocab_label(&lab, NULL, 0), TL_E_INVALID_ARG,
                   "'lv'");
  size_t n = 0;
  TLT_ASSERT_FAILS(tl_label_vocab_size(NULL, lv), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_label_vocab_size(&n, NULL), TL_E_INVALID_ARG, "'lv'");
  tl_label_vocab_free(lv);
}
END_TEST

START_TEST(text_form_and_checkpoint) {
  tl_label_vocab *lv = NULL;
  TLT_ASSERT_OK(tl_label_vocab_create(&lv, docs_labels, N_DOCS));
  size_t len = 0;
  TLT_ASSERT_OK(tl_label_vocab_to_string(NULL, 0, &len, lv));
  ck_assert_uint_eq(len, sizeof want_text - 1);
  char buf[sizeof want_text];
  memset(buf, 'x', sizeof buf);
  /* One byte short (no room for the NUL) fails and writes nothing. */
  TLT_ASSERT_FAILS(tl_label_vocab_to_string(buf, len, NULL, lv),
                   TL_E_INVALID_ARG, "needs 60 bytes");
  ck_assert_int_eq(buf[0], 'x');
  TLT_ASSERT_FAILS(tl_label_vocab_to_string(NULL, 4, NULL, lv),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_label_vocab_to_string(buf, 4, NULL, NULL),
                   TL_E_INVALID_ARG, "'lv'");
  TLT_ASSERT_OK(tl_label_vocab_to_string(buf, sizeof buf, NULL, lv));
  ck_assert_mem_eq(buf, want_text, sizeof want_text);

  /* Through a checkpoint file image next to a tensor, and back. */
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  const float w[2] = {1, 2};
  const size_t shape[1] = {2};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "head.bias", TL_CKPT_F32, 1, shape, w));
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, TL_LABEL_VOCAB_META_KEY, buf));
  size_t size = 0, written = 0;
  TLT_ASSERT_OK(tl_ckpt_serialized_size(&size, c));
  unsigned char *img = malloc(size);
  ck_assert_ptr_nonnull(img);
  TLT_ASSERT_OK(tl_ckpt_save_buffer(img, size, &written, c));
  tl_ckpt *back = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&back, img, written, NULL));
  const char *text = NULL;
  TLT_ASSERT_OK(tl_ckpt_get_meta(&text, back, "labels"));
  tl_label_vocab *lv2 = NULL;
  TLT_ASSERT_OK(tl_label_vocab_from_string(&lv2, text));
  check_classes(lv2);
  int64_t ids[N_DOCS];
  TLT_ASSERT_OK(tl_label_vocab_encode(ids, lv2, docs_labels, N_DOCS));
  for (size_t i = 0; i < N_DOCS; i++)
    ck_assert_int_eq(ids[i], want_ids[i]);
  tl_label_vocab_free(lv2);
  free(img);
  tl_ckpt_free(back);
  tl_ckpt_free(c);
  tl_label_vocab_free(lv);
}
END_TEST

START_TEST(bad_text_form) {
  tl_label_vocab *lv = NULL;
  static const struct {
    const char *text;
    tl_status status;
    const char *word;
  } cases[] = {
      {"", TL_E_FORMAT, "does not start with \"v1;\""},
      {"v2;3:neg", TL_E_FORMAT, "does not start"},
      {"v1;", TL_E_FORMAT, "no labels"},
      {"v1;3neg", TL_E_FORMAT, "label 0 at byte offset 3: expected"},
      {"v1;:", TL_E_FORMAT, "label 0 at byte offset 3"},
      {"v1;3:neg03:pos", TL_E_FORMAT, "label 1 at byte offset 8"},
      {"v1;3:neg4:pos", TL_E_FORMAT, "length 4 runs past the end"},
      {"v1;3:pos3:neg", TL_E_FORMAT, "label 1 at byte offset 8 is not after"},
      {"v1;3:neg3:neg", TL_E_FORMAT, "sorted and distinct"},
      {"v1;3:neg2:ne", TL_E_FORMAT, "is not after label 0"},
      {"v1;3:neg3", TL_E_FORMAT, "expected a decimal length"},
      {"v1;99999999999999999999:x", TL_E_FORMAT, "does not fit a size_t"},
      {"v1;9999999999999999999:x", TL_E_FORMAT, "runs past the end"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    TLT_ASSERT_FAILS(tl_label_vocab_from_string(&lv, cases[i].text),
                     cases[i].status, cases[i].word);
    ck_assert_ptr_null(lv);
  }
  TLT_ASSERT_FAILS(tl_label_vocab_from_string(&lv, NULL), TL_E_INVALID_ARG,
                   "'text'");
  TLT_ASSERT_FAILS(tl_label_vocab_from_string(NULL, "v1;1:a"), TL_E_INVALID_ARG,
                   "'out'");
  /* The shortest valid forms: one empty label; a prefix before its
   * extension. */
  TLT_ASSERT_OK(tl_label_vocab_from_string(&lv, "v1;0:"));
  size_t n = 0;
  const char *lab = NULL;
  TLT_ASSERT_OK(tl_label_vocab_size(&n, lv));
  ck_assert_uint_eq(n, 1);
  TLT_ASSERT_OK(tl_label_vocab_label(&lab, lv, 0));
  ck_assert_str_eq(lab, "");
  tl_label_vocab_free(lv);
  lv = NULL;
  TLT_ASSERT_OK(tl_label_vocab_from_string(&lv, "v1;2:ne3:neg"));
  TLT_ASSERT_OK(tl_label_vocab_label(&lab, lv, 1));
  ck_assert_str_eq(lab, "neg");
  tl_label_vocab_free(lv);
}
END_TEST

/* Random texts near the format: never a crash, and every accepted text is
 * canonical (one encoding per class set), so writing it back gives the
 * same bytes. */
static uint64_t tlt_next(uint64_t *x) { /* xorshift64 */
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

START_TEST(random_text_forms) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  static const char alphabet[] = "v1;:09ab\n";
  size_t accepted = 0, refused = 0;
  for (int iter = 0; iter < 20000; iter++) {
    char text[64], back[64];
    size_t len = 0;
    memcpy(text, "v1;", 3);
    len = 3;
    /* 1 to 3 entries "n:bytes", n sometimes off by one. */
    for (uint64_t e = 0, ne = 1 + tlt_next(&x) % 3; e < ne; e++) {
      const size_t n = tlt_next(&x) % 4;
      const uint64_t r = tlt_next(&x) % 8;
      const size_t said = r == 0 ? n + 1 : r == 1 && n > 0 ? n - 1 : n;
      text[len++] = (char)('0' + said);
      text[len++] = ':';
      for (size_t k = 0; k < n; k++)
        text[len++] = alphabet[tlt_next(&x) % (sizeof alphabet - 1)];
    }
    if (tlt_next(&x) % 4 == 0) { /* one byte anywhere replaced */
      const size_t at = tlt_next(&x) % len;
      text[at] = alphabet[tlt_next(&x) % (sizeof alphabet - 1)];
    }
    text[len] = '\0';
    tl_label_vocab *lv = NULL;
    const tl_status s = tl_label_vocab_from_string(&lv, text);
    ck_assert_msg(s == TL_OK || s == TL_E_FORMAT, "'%s': %s", text,
                  tl_status_string(s));
    if (s != TL_OK) {
      ck_assert_ptr_null(lv);
      refused++;
      continue;
    }
    accepted++;
    TLT_ASSERT_OK(tl_label_vocab_to_string(back, sizeof back, NULL, lv));
    ck_assert_str_eq(back, text);
    tl_label_vocab_free(lv);
  }
  ck_assert_uint_gt(accepted, 1000);
  ck_assert_uint_gt(refused, 1000);
}
END_TEST

START_TEST(alloc_failures) {
  tlt_counter c;
  for (size_t budget = 0; budget < 16; budget++) {
    tlt_counter_install_budget(&c, budget);
    tl_label_vocab *lv = NULL, *lv2 = NULL;
    tl_status s = tl_label_vocab_create(&lv, docs_labels, N_DOCS);
    ck_assert(s == TL_OK || s == TL_E_NOMEM);
    ck_assert(s == TL_OK || lv == NULL);
    s = tl_label_vocab_from_string(&lv2, want_text);
    ck_assert(s == TL_OK || s == TL_E_NOMEM);
    ck_assert(s == TL_OK || lv2 == NULL);
    tl_label_vocab_free(lv);
    tl_label_vocab_free(lv2);
    ck_assert_uint_eq(c.allocs, c.frees);
  }
  tl_set_allocator(NULL);
}
END_TEST

TCase *labels_tcase_match_embeds(void);

static Suite *labels_suite(void) {
  Suite *s = suite_create("labels");
  TCase *tc = tcase_create("label_vocab");
  tcase_add_test(tc, sorted_like_python);
  tcase_add_test(tc, bad_input);
  tcase_add_test(tc, text_form_and_checkpoint);
  tcase_add_test(tc, bad_text_form);
  tcase_add_test(tc, random_text_forms);
  tcase_add_test(tc, alloc_failures);
  suite_add_tcase(s, tc);
  suite_add_tcase(s, labels_tcase_match_embeds());
  return s;
}

int main(void) { return tlt_run(labels_suite()); }
