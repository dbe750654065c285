/* SentencePiece through libtl against Debian's python3-sentencepiece on the
 * committed test model (tests/fixtures/gen_spm.py). Skipped, with a
 * message, when libtl was built without SentencePiece. */
#include "tl_test.h"

#include "../fixtures/spm_golden.h"

#ifndef TLT_SPM_MODEL
#error "TLT_SPM_MODEL (the test model's path) must be defined by meson"
#endif

static int have_spm(void) {
  tl_spm *m = NULL;
  const tl_status s = tl_spm_load(&m, TLT_SPM_MODEL);
  tl_spm_free(m);
  return s != TL_E_UNSUPPORTED;
}

START_TEST(matches_python) {
  tl_spm *m = NULL;
  TLT_ASSERT_OK(tl_spm_load(&m, TLT_SPM_MODEL));
  size_t size;
  TLT_ASSERT_OK(tl_spm_size(&size, m));
  ck_assert_uint_eq(size, SPM_SIZE);
  for (size_t c = 0; c < SPM_N_CASES; c++) {
    const spm_case *k = &spm_cases[c];
    size_t n = 0;
    TLT_ASSERT_OK(tl_spm_encode(NULL, 0, &n, m, k->text, k->len));
    ck_assert_uint_eq(n, k->n);
    int64_t ids[256];
    TLT_ASSERT_OK(tl_spm_encode(ids, 256, &n, m, k->text, k->len));
    for (size_t i = 0; i < n; i++) {
      ck_assert_int_eq(ids[i], k->ids[i]);
      const char *piece;
      TLT_ASSERT_OK(tl_spm_piece(&piece, m, ids[i]));
      ck_assert_str_eq(piece, k->pieces[i]);
    }
    char text[512];
    size_t len;
    TLT_ASSERT_OK(tl_spm_decode(text, sizeof text, &len, m, ids, n));
    ck_assert_str_eq(text, k->decoded);
  }
  tl_spm_free(m);
}
END_TEST

START_TEST(bad_input) {
  tl_spm *m = NULL;
  TLT_ASSERT_FAILS(tl_spm_load(&m, "/nonexistent/x.model"), TL_E_IO,
                   "/nonexistent/x.model");
  char junk[] = "/tmp/tl_spm_junk_XXXXXX";
  FILE *f = fdopen(mkstemp(junk), "w");
  fputs("this is not a model", f);
  fclose(f);
  TLT_ASSERT_FAILS(tl_spm_load(&m, junk), TL_E_FORMAT, "not a SentencePiece");
  remove(junk);
  ck_assert_ptr_null(m);
  TLT_ASSERT_OK(tl_spm_load(&m, TLT_SPM_MODEL));
  size_t n;
  int64_t ids[4];
  TLT_ASSERT_FAILS(tl_spm_encode(ids, 4, &n, m, "ab\xff", 3), TL_E_FORMAT,
                   "byte offset 2");
  TLT_ASSERT_FAILS(
      tl_spm_encode(ids, 1, &n, m, spm_cases[0].text, spm_cases[0].len),
      TL_E_INVALID_ARG, "cap 1");
  const int64_t bad[2] = {3, SPM_SIZE};
  char out[64];
  TLT_ASSERT_FAILS(tl_spm_decode(out, sizeof out, NULL, m, bad, 2),
                   TL_E_INVALID_ARG, "ids[1]");
  const char *p;
  TLT_ASSERT_FAILS(tl_spm_piece(&p, m, -1), TL_E_INVALID_ARG, "id -1");
  tl_spm_free(m);
}
END_TEST

int main(void) {
  if (!have_spm()) {
    printf("SKIP: libtl was built without SentencePiece (%s)\n",
           tl_last_error());
    return 77; /* meson's skip code */
  }
  Suite *s = suite_create("spm");
  TCase *tc = tcase_create("spm");
  tcase_add_test(tc, matches_python);
  tcase_add_test(tc, bad_input);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
