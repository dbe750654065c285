/* The in-memory checkpoint table: tensors, metadata, vocabulary, sections,
 * their errors, and versioned load options. */
#include "ckpt_file_common.h"

/* ---- the in-memory table ------------------------------------------------ */

START_TEST(table_operations_and_their_errors) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_create(NULL), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  const float x[2] = {1, 2};
  const size_t s[1] = {2};
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(NULL, "a", TL_CKPT_F32, 1, s, x),
                   TL_E_INVALID_ARG, "'ckpt'");
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, NULL, TL_CKPT_F32, 1, s, x),
                   TL_E_INVALID_ARG, "'name'");
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "", TL_CKPT_F32, 1, s, x),
                   TL_E_INVALID_ARG, "name must have");
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "a", (tl_ckpt_dtype)9, 1, s, x),
                   TL_E_INVALID_ARG, "dtype 9");
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 9, s, x),
                   TL_E_INVALID_ARG, "rank");
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 1, NULL, x),
                   TL_E_INVALID_ARG, "'shape'");
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 1, s, NULL),
                   TL_E_INVALID_ARG, "'data'");
  const size_t huge[2] = {SIZE_MAX / 2, 3};
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 2, huge, x),
                   TL_E_NOMEM, "overflows");
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 1, s, x));
  TLT_ASSERT_FAILS(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 1, s, x),
                   TL_E_INVALID_ARG, "already");
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "b", TL_CKPT_F32, 1, s, x));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "c", TL_CKPT_U8, 0, NULL, "z"));
  size_t n = 0, idx = 0;
  TLT_ASSERT_FAILS(tl_ckpt_find_tensor(&idx, c, "zz"), TL_E_NOT_FOUND, "zz");
  TLT_ASSERT_FAILS(tl_ckpt_remove_tensor(c, 3), TL_E_INVALID_ARG, "index 3");
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(c, 0));
  TLT_ASSERT_OK(tl_ckpt_tensor_count(&n, c));
  ck_assert_uint_eq(n, 2);
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, c, "c"));
  ck_assert_uint_eq(idx, 1);
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  const void *data;
  TLT_ASSERT_FAILS(tl_ckpt_tensor_info(&info, c, 2), TL_E_INVALID_ARG,
                   "out of range");
  TLT_ASSERT_FAILS(tl_ckpt_tensor_data(&data, c, 2), TL_E_INVALID_ARG,
                   "out of range");
  TLT_ASSERT_FAILS(tl_ckpt_set_tensor_group(c, 2, 0), TL_E_INVALID_ARG,
                   "out of range");

  const char *v = NULL, *k = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_set_meta(c, "", "x"), TL_E_INVALID_ARG, "key");
  TLT_ASSERT_FAILS(tl_ckpt_set_meta(c, "k", NULL), TL_E_INVALID_ARG, "'value'");
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, "k", "1"));
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, "j", "2"));
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, "k", "3")); /* replaces, keeps order */
  TLT_ASSERT_OK(tl_ckpt_meta_count(&n, c));
  ck_assert_uint_eq(n, 2);
  TLT_ASSERT_OK(tl_ckpt_meta_at(&k, &v, c, 0));
  ck_assert_str_eq(k, "k");
  ck_assert_str_eq(v, "3");
  TLT_ASSERT_FAILS(tl_ckpt_get_meta(&v, c, "nope"), TL_E_NOT_FOUND, "nope");
  TLT_ASSERT_FAILS(tl_ckpt_meta_at(&k, &v, c, 2), TL_E_INVALID_ARG, "index");

  TLT_ASSERT_FAILS(tl_ckpt_vocab_size(&n, c), TL_E_NOT_FOUND, "vocabulary");
  const char *bad[2] = {"a", NULL};
  TLT_ASSERT_FAILS(tl_ckpt_set_vocab(c, bad, 2), TL_E_INVALID_ARG, "tokens[1]");
  TLT_ASSERT_FAILS(tl_ckpt_set_vocab(c, NULL, 2), TL_E_INVALID_ARG, "'tokens'");
  TLT_ASSERT_OK(tl_ckpt_set_vocab(c, bad, 1));
  TLT_ASSERT_FAILS(tl_ckpt_vocab_token(&v, c, 1), TL_E_INVALID_ARG, "index");
  TLT_ASSERT_OK(tl_ckpt_clear_vocab(c));
  TLT_ASSERT_FAILS(tl_ckpt_vocab_token(&v, c, 0), TL_E_NOT_FOUND, "vocabulary");

  const void *bytes;
  size_t nbytes;
  TLT_ASSERT_FAILS(tl_ckpt_set_section(c, (tl_ckpt_section)1, 0, "x", 1),
                   TL_E_INVALID_ARG, "kind 1");
  TLT_ASSERT_FAILS(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, 0, NULL, 4),
                   TL_E_INVALID_ARG, "'bytes'");
  TLT_ASSERT_OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, 7, "abcd", 4));
  TLT_ASSERT_OK(
      tl_ckpt_get_section(&bytes, &nbytes, NULL, c, TL_CKPT_SECTION_RNG));
  ck_assert_uint_eq(nbytes, 4);
  TLT_ASSERT_OK(tl_ckpt_clear_section(c, TL_CKPT_SECTION_RNG));
  TLT_ASSERT_FAILS(
      tl_ckpt_get_section(&bytes, &nbytes, NULL, c, TL_CKPT_SECTION_RNG),
      TL_E_NOT_FOUND, "kind 6");
  TLT_ASSERT_FAILS(tl_ckpt_clear_section(c, (tl_ckpt_section)5),
                   TL_E_INVALID_ARG, "kind 5");

  size_t size = 0, written = 0;
  TLT_ASSERT_OK(tl_ckpt_serialized_size(&size, c));
  unsigned char small[8] = {0};
  TLT_ASSERT_FAILS(tl_ckpt_save_buffer(small, sizeof small, &written, c),
                   TL_E_INVALID_ARG, "capacity 8");
  ck_assert_uint_eq(small[0], 0); /* untouched */
  TLT_ASSERT_FAILS(tl_ckpt_save(c, ""), TL_E_INVALID_ARG, "empty");
  TLT_ASSERT_FAILS(tl_ckpt_save(c, NULL), TL_E_INVALID_ARG, "'path'");
  ck_assert_uint_eq(tl_ckpt_dtype_size(TL_CKPT_I64), 8);
  ck_assert_uint_eq(tl_ckpt_dtype_size((tl_ckpt_dtype)0), 0);
  tl_ckpt_free(c);
  tl_ckpt_free(NULL);
}
END_TEST

START_TEST(load_options_are_versioned) {
  tl_ckpt_load_options o;
  TLT_ASSERT_FAILS(tl_ckpt_load_options_init(&o, 99), TL_E_UNSUPPORTED,
                   "version 99");
  TLT_ASSERT_OK(tl_ckpt_load_options_init(&o, TL_CKPT_LOAD_OPTIONS_VERSION));
  ck_assert_int_eq(o.verify_data_crc, 1);
  tl_ckpt *c = NULL;
  o.version = 7;
  TLT_ASSERT_FAILS(
      tl_ckpt_load_buffer(&c, ckpt_golden_tiny, sizeof ckpt_golden_tiny, &o),
      TL_E_UNSUPPORTED, "options->version 7");
  TLT_ASSERT_OK(tl_ckpt_load_options_init(&o, TL_CKPT_LOAD_OPTIONS_VERSION));
  o.max_size = 100;
  TLT_ASSERT_FAILS(
      tl_ckpt_load_buffer(&c, ckpt_golden_tiny, sizeof ckpt_golden_tiny, &o),
      TL_E_FORMAT, "max_size");
  /* With data CRCs off, a flipped data byte loads (the header CRC is still
   * checked); with them on it does not. */
  unsigned char *img = golden_copy();
  img[tli_load_le64(tensor_entry(img, 0) + 80)] ^= 0x01;
  TLT_ASSERT_OK(tl_ckpt_load_options_init(&o, TL_CKPT_LOAD_OPTIONS_VERSION));
  o.verify_data_crc = 0;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&c, img, sizeof ckpt_golden_tiny, &o));
  tl_ckpt_free(c);
  c = NULL;
  assert_rejects(img, sizeof ckpt_golden_tiny, TL_E_FORMAT, "CRC mismatch");
  TLT_ASSERT_FAILS(tl_ckpt_load_buffer(NULL, img, 1, NULL), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_ckpt_load_buffer(&c, NULL, 1, NULL), TL_E_INVALID_ARG,
                   "'buf'");
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, "/nonexistent/x.tlc", NULL), TL_E_IO,
                   "cannot open");
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, "/tmp", NULL), TL_E_IO,
                   "not a regular file");
  free(img);
}
END_TEST

TCase *ckpt_file_tcase_ckpt_table(void);
TCase *ckpt_file_tcase_ckpt_table(void) {
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, table_operations_and_their_errors);
  tcase_add_test(tc, load_options_are_versioned);
  return tc;
}
