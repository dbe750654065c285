/* The checkpoint format byte for byte: CRC32 and byte order helpers, the
 * documented bytes of tests/fixtures/gen_ckpt.py's independent writer, round
 * trips through files. */
#include "ckpt_file_common.h"

/* ---- CRC32 and byte order ----------------------------------------------- */

static uint32_t crc32_bitwise(const unsigned char *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++)
      crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

START_TEST(crc32_matches_zlib_and_a_bitwise_reference) {
  ck_assert_uint_eq(tli_crc32(0, "123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq(tli_crc32(0, "", 0), 0);
  /* zlib.crc32(b"The quick brown fox jumps over the lazy dog") */
  const char *fox = "The quick brown fox jumps over the lazy dog";
  ck_assert_uint_eq(tli_crc32(0, fox, strlen(fox)), 0x414FA339u);
  unsigned char buf[1000];
  tli_rng rng;
  tli_rng_seed(&rng, 3);
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)tli_rng_next(&rng);
  /* Every table entry is exercised by 1000 random bytes; incremental use
   * equals one pass, as with zlib. */
  ck_assert_uint_eq(tli_crc32(0, buf, sizeof buf),
                    crc32_bitwise(buf, sizeof buf));
  ck_assert_uint_eq(tli_crc32(tli_crc32(0, buf, 333), buf + 333, 667),
                    tli_crc32(0, buf, sizeof buf));
  for (unsigned v = 0; v < 256; v++) {
    const unsigned char byte = (unsigned char)v;
    ck_assert_uint_eq(tli_crc32(0, &byte, 1), crc32_bitwise(&byte, 1));
  }
}
END_TEST

START_TEST(little_endian_helpers_fix_the_byte_order) {
  unsigned char b[8];
  tli_store_le32(b, 0x01020304u);
  ck_assert(b[0] == 4 && b[1] == 3 && b[2] == 2 && b[3] == 1);
  ck_assert_uint_eq(tli_load_le32(b), 0x01020304u);
  tli_store_le64(b, UINT64_C(0x0102030405060708));
  for (int i = 0; i < 8; i++)
    ck_assert_uint_eq(b[i], 8 - i);
  ck_assert(tli_load_le64(b) == UINT64_C(0x0102030405060708));
  /* Tensor conversion: 1.0f is 0x3F800000, on disk 00 00 80 3F. */
  const float one = 1.0f;
  unsigned char f[4];
  tli_to_le(f, &one, 1, 4);
  ck_assert(f[0] == 0 && f[1] == 0 && f[2] == 0x80 && f[3] == 0x3F);
  float back = 0;
  tli_from_le(&back, f, 1, 4);
  ck_assert(back == 1.0f);
  const double d = -2.0; /* 0xC000000000000000 */
  unsigned char g[8];
  tli_to_le(g, &d, 1, 8);
  ck_assert(g[7] == 0xC0 && g[0] == 0);
}
END_TEST

/* ---- the format, byte for byte ------------------------------------------ */

START_TEST(save_buffer_writes_the_documented_bytes) {
  tl_ckpt *c = golden_checkpoint();
  size_t size = 0;
  unsigned char *img = save_image(c, &size);
  ck_assert_uint_eq(size, sizeof ckpt_golden_tiny);
  for (size_t i = 0; i < size; i++)
    ck_assert_msg(img[i] == ckpt_golden_tiny[i],
                  "byte %zu is 0x%02x, the Python writer has 0x%02x", i, img[i],
                  ckpt_golden_tiny[i]);
  /* The documented landmarks, spelled out. */
  ck_assert_int_eq(memcmp(img, "\x89TLCKPT\n", 8), 0);
  ck_assert(img[12] == 4 && img[13] == 3 && img[14] == 2 && img[15] == 1);
  ck_assert_uint_eq(tli_load_le64(img + 16), size);
  for (size_t i = 0; i < 4; i++)
    ck_assert_uint_eq(tli_load_le64(tensor_entry(img, i) + 80) % 64, 0);
  /* w[0] = 0.5f = 0x3F000000 at the first data offset, little-endian. */
  const unsigned char *w = img + tli_load_le64(tensor_entry(img, 0) + 80);
  ck_assert(w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0x3F);
  free(img);
  tl_ckpt_free(c);
}
END_TEST

START_TEST(golden_file_loads_with_every_field) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(
      tl_ckpt_load_buffer(&c, ckpt_golden_tiny, sizeof ckpt_golden_tiny, NULL));
  size_t n = 0;
  TLT_ASSERT_OK(tl_ckpt_tensor_count(&n, c));
  ck_assert_uint_eq(n, 4);
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&info, c, 0));
  ck_assert_str_eq(info.name, "w");
  ck_assert_int_eq(info.dtype, TL_CKPT_F32);
  ck_assert_uint_eq(info.rank, 2);
  ck_assert(info.shape[0] == 2 && info.shape[1] == 3 && info.shape[2] == 0);
  ck_assert_uint_eq(info.numel, 6);
  ck_assert_uint_eq(info.nbytes, 24);
  ck_assert_uint_eq(info.group, 0);
  const void *data = NULL;
  TLT_ASSERT_OK(tl_ckpt_tensor_data(&data, c, 0));
  ck_assert_uint_eq((uintptr_t)data % 64, 0);
  const float want_w[6] = {0.5f, -1.0f, 2.0f, 3.25f, -0.125f, 1e-3f};
  ck_assert_int_eq(memcmp(data, want_w, sizeof want_w), 0);
  size_t idx = 0;
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, c, "ids"));
  ck_assert_uint_eq(idx, 1);
  TLT_ASSERT_OK(tl_ckpt_tensor_data(&data, c, 1));
  ck_assert(((const int64_t *)data)[1] == -2);
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&info, c, 1));
  ck_assert_uint_eq(info.group, TL_CKPT_NO_GROUP);
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&info, c, 3));
  ck_assert_uint_eq(info.rank, 0);
  ck_assert_uint_eq(info.numel, 1);
  ck_assert_uint_eq(info.group, 1);
  TLT_ASSERT_OK(tl_ckpt_tensor_data(&data, c, 3));
  ck_assert(*(const double *)data == 3.5);

  size_t nv = 0;
  const char *tok = NULL;
  TLT_ASSERT_OK(tl_ckpt_vocab_size(&nv, c));
  ck_assert_uint_eq(nv, 3);
  TLT_ASSERT_OK(tl_ckpt_vocab_token(&tok, c, 0));
  ck_assert_str_eq(tok, "<unk>");
  TLT_ASSERT_OK(tl_ckpt_vocab_token(&tok, c, 2));
  ck_assert_str_eq(tok, "");
  const char *v = NULL, *k = NULL;
  TLT_ASSERT_OK(tl_ckpt_get_meta(&v, c, "arch"));
  ck_assert_str_eq(v, "AWD_LSTM");
  TLT_ASSERT_OK(tl_ckpt_meta_at(&k, &v, c, 1));
  ck_assert_str_eq(k, "lang");
  ck_assert_str_eq(v, "en");
  uint64_t step = 0;
  TLT_ASSERT_OK(tl_ckpt_get_step(&step, c));
  ck_assert(step == 42);
  const void *bytes = NULL;
  size_t nbytes = 0;
  uint32_t sub = 0;
  TLT_ASSERT_OK(
      tl_ckpt_get_section(&bytes, &nbytes, &sub, c, TL_CKPT_SECTION_OPTIM));
  ck_assert_uint_eq(nbytes, 3);
  ck_assert_uint_eq(sub, 2);
  ck_assert_int_eq(memcmp(bytes, "\x01\x02\x03", 3), 0);
  TLT_ASSERT_OK(
      tl_ckpt_get_section(&bytes, &nbytes, &sub, c, TL_CKPT_SECTION_RNG));
  ck_assert_uint_eq(nbytes, 32);
  ck_assert(tli_load_le64((const unsigned char *)bytes + 24) == 4);
  tl_ckpt_free(c);
}
END_TEST

START_TEST(round_trip_through_a_file_keeps_everything) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  /* Every dtype, rank 8, an empty tensor, and a tensor big enough to cross
   * the writer's 64 KiB staging buffer. */
  const size_t n_big = 40000;
  float *big = malloc(n_big * sizeof *big);
  for (size_t i = 0; i < n_big; i++)
    big[i] = (float)i * 0.25f - 7.0f;
  const size_t s_big[1] = {n_big};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "big", TL_CKPT_F32, 1, s_big, big));
  const size_t s8[8] = {1, 2, 1, 1, 2, 1, 1, 1};
  const int32_t i32[4] = {-1, 2, INT32_MIN, INT32_MAX};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "rank8", TL_CKPT_I32, 8, s8, i32));
  const size_t s0[2] = {0, 5};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "empty", TL_CKPT_F64, 2, s0, NULL));
  TLT_ASSERT_OK(tl_ckpt_set_vocab(c, NULL, 0)); /* present but empty */

  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/model.tlc", dir);
  TLT_ASSERT_OK(tl_ckpt_save(c, path));
  ck_assert_int_eq(count_temp_files(dir), 0);
  tl_ckpt *back = NULL;
  TLT_ASSERT_OK(tl_ckpt_load(&back, path, NULL));
  size_t n = 0;
  TLT_ASSERT_OK(tl_ckpt_tensor_count(&n, back));
  ck_assert_uint_eq(n, 3);
  const void *data = NULL;
  TLT_ASSERT_OK(tl_ckpt_tensor_data(&data, back, 0));
  ck_assert_int_eq(memcmp(data, big, n_big * sizeof *big), 0);
  TLT_ASSERT_OK(tl_ckpt_tensor_data(&data, back, 1));
  ck_assert_int_eq(memcmp(data, i32, sizeof i32), 0);
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&info, back, 1));
  ck_assert_uint_eq(info.rank, 8);
  ck_assert_uint_eq(info.shape[4], 2);
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&info, back, 2));
  ck_assert_uint_eq(info.numel, 0);
  ck_assert_uint_eq(info.shape[1], 5);
  size_t nv = 99;
  TLT_ASSERT_OK(tl_ckpt_vocab_size(&nv, back));
  ck_assert_uint_eq(nv, 0);
  uint64_t step;
  TLT_ASSERT_FAILS(tl_ckpt_get_step(&step, back), TL_E_NOT_FOUND, "step");
  const void *bytes;
  size_t nbytes;
  TLT_ASSERT_FAILS(
      tl_ckpt_get_section(&bytes, &nbytes, NULL, back, TL_CKPT_SECTION_OPTIM),
      TL_E_NOT_FOUND, "kind 4");
  /* Re-saving what was loaded gives the same bytes. */
  size_t s1, s2;
  unsigned char *a = save_image(c, &s1), *b = save_image(back, &s2);
  ck_assert_uint_eq(s1, s2);
  ck_assert_int_eq(memcmp(a, b, s1), 0);
  free(a);
  free(b);
  unlink(path);
  rmdir(dir);
  free(big);
  tl_ckpt_free(back);
  tl_ckpt_free(c);
}
END_TEST

TCase *ckpt_file_tcase_ckpt_bytes(void);
TCase *ckpt_file_tcase_ckpt_bytes(void) {
  TCase *tc = tcase_create("format");
  tcase_add_test(tc, crc32_matches_zlib_and_a_bitwise_reference);
  tcase_add_test(tc, little_endian_helpers_fix_the_byte_order);
  tcase_add_test(tc, save_buffer_writes_the_documented_bytes);
  tcase_add_test(tc, golden_file_loads_with_every_field);
  tcase_add_test(tc, round_trip_through_a_file_keeps_everything);
  return tc;
}
