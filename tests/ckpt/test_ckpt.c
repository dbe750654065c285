/* lib/transfer/ckpt*.c, crc32.c: the checkpoint container, its file format
 * (byte for byte against an independent Python writer), the validation of
 * hostile input, allocation bounds and atomic saving. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../fixtures/ckpt_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "tl_test.h"
#include "transfer/ckpt.h"
#include "transfer/crc32.h"

/* ---- helpers ------------------------------------------------------------ */

/* The checkpoint of tests/fixtures/gen_ckpt.py. */
static tl_ckpt *golden_checkpoint(void) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  const float w[6] = {0.5f, -1.0f, 2.0f, 3.25f, -0.125f, 1e-3f};
  const int64_t ids[2] = {1, -2};
  const uint8_t mask[3] = {1, 0, 1};
  const double b = 3.5;
  const size_t sw[2] = {2, 3}, sids[1] = {2}, smask[1] = {3};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "w", TL_CKPT_F32, 2, sw, w));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "ids", TL_CKPT_I64, 1, sids, ids));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "mask", TL_CKPT_U8, 1, smask, mask));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "b", TL_CKPT_F64, 0, NULL, &b));
  TLT_ASSERT_OK(tl_ckpt_set_tensor_group(c, 0, 0));
  TLT_ASSERT_OK(tl_ckpt_set_tensor_group(c, 3, 1));
  const char *vocab[3] = {"<unk>", "the", ""};
  TLT_ASSERT_OK(tl_ckpt_set_vocab(c, vocab, 3));
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, "arch", "AWD_LSTM"));
  TLT_ASSERT_OK(tl_ckpt_set_meta(c, "lang", "en"));
  const unsigned char optim[3] = {1, 2, 3};
  TLT_ASSERT_OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_OPTIM, 2, optim, 3));
  TLT_ASSERT_OK(tl_ckpt_set_step(c, 42));
  unsigned char rng[32];
  for (int i = 0; i < 4; i++)
    tli_store_le64(rng + 8 * i, (uint64_t)(i + 1));
  TLT_ASSERT_OK(tl_ckpt_set_section(c, TL_CKPT_SECTION_RNG, 1, rng, 32));
  return c;
}

/* Serialises c into a new malloc'ed image. */
static unsigned char *save_image(const tl_ckpt *c, size_t *size) {
  TLT_ASSERT_OK(tl_ckpt_serialized_size(size, c));
  unsigned char *img = malloc(*size);
  ck_assert_ptr_nonnull(img);
  size_t written = 0;
  TLT_ASSERT_OK(tl_ckpt_save_buffer(img, *size, &written, c));
  ck_assert_uint_eq(written, *size);
  return img;
}

static unsigned char *golden_copy(void) {
  unsigned char *img = malloc(sizeof ckpt_golden_tiny);
  memcpy(img, ckpt_golden_tiny, sizeof ckpt_golden_tiny);
  return img;
}

/* Field addresses of the golden image, from docs/format.md. */
static unsigned char *tensor_entry(unsigned char *img, size_t i) {
  return img + 64 + 104 * i;
}
static unsigned char *section_entry(unsigned char *img, size_t i) {
  return img + 64 + 104 * tli_load_le32(img + 32) + 32 * i;
}
static unsigned char *pool(unsigned char *img) {
  return section_entry(img, tli_load_le32(img + 36));
}

/* After editing the index, recomputes the header CRC so that the loader
 * reaches the check under test instead of stopping at the CRC. */
static void fix_header_crc(unsigned char *img) {
  const size_t end = 64 + (size_t)tli_load_le64(img + 24);
  memset(img + 44, 0, 4);
  tli_store_le32(img + 44, tli_crc32(0, img, end));
}

static void fix_section_crc(unsigned char *img, size_t i) {
  unsigned char *e = section_entry(img, i);
  tli_store_le32(e + 24, tli_crc32(0, img + tli_load_le64(e + 8),
                                   (size_t)tli_load_le64(e + 16)));
  fix_header_crc(img);
}

/* Loading img must fail with status and a message containing word. */
static void assert_rejects(const unsigned char *img, size_t size,
                           tl_status status, const char *word) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_load_buffer(&c, img, size, NULL), status, word);
  ck_assert_ptr_null(c);
}

/* Loads img under the byte counter; returns the status and checks the sum
 * of all allocations and that nothing leaked. */
static tl_status load_counted(const unsigned char *img, size_t size,
                              size_t *allocated) {
  /* The loader's total allocation must be bounded by its input's size. */
  tlt_counter counter;
  tlt_counter_install(&counter);
  tl_ckpt *c = NULL;
  const tl_status s = tl_ckpt_load_buffer(&c, img, size, NULL);
  *allocated = counter.bytes;
  tl_ckpt_free(c);
  tl_set_allocator(NULL);
  ck_assert_uint_eq(counter.allocs, counter.frees);
  return s;
}

static int count_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".tmp-") != NULL;
  closedir(d);
  return n;
}

static void read_file(const char *path, unsigned char **out, size_t *size) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = malloc(*size ? *size : 1);
  ck_assert_uint_eq(fread(*out, 1, *size, f), *size);
  fclose(f);
}

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

/* ---- hostile input ------------------------------------------------------ */

START_TEST(every_truncation_is_rejected_within_the_allocation_bound) {
  const size_t full = sizeof ckpt_golden_tiny;
  for (size_t len = 0; len < full; len++) {
    size_t allocated = 0;
    const tl_status s = load_counted(ckpt_golden_tiny, len, &allocated);
    ck_assert_msg(s == TL_E_FORMAT, "prefix of %zu bytes gave %s", len,
                  tl_status_string(s));
    ck_assert_msg(allocated <= 4 * len + 4096,
                  "prefix of %zu bytes allocated %zu bytes", len, allocated);
  }
  assert_rejects(ckpt_golden_tiny, 10, TL_E_FORMAT, "truncated");
  assert_rejects(ckpt_golden_tiny, full - 1, TL_E_FORMAT, "truncated");
  size_t allocated = 0;
  TLT_ASSERT_OK(load_counted(ckpt_golden_tiny, full, &allocated));
  ck_assert_uint_le(allocated, 4 * full + 4096);
  /* Trailing garbage is not silently ignored. */
  unsigned char *longer = malloc(full + 1);
  memcpy(longer, ckpt_golden_tiny, full);
  longer[full] = 0;
  assert_rejects(longer, full + 1, TL_E_FORMAT, "trailing");
  free(longer);
}
END_TEST

START_TEST(every_single_byte_flip_is_detected) {
  /* The CRCs plus the zero-padding rule cover every byte of the file. */
  const size_t full = sizeof ckpt_golden_tiny;
  unsigned char *img = golden_copy();
  for (size_t i = 0; i < full; i++) {
    img[i] ^= 0x40;
    tl_ckpt *c = NULL;
    const tl_status s = tl_ckpt_load_buffer(&c, img, full, NULL);
    ck_assert_msg(s != TL_OK, "flipping byte %zu was not detected", i);
    ck_assert_ptr_null(c);
    img[i] ^= 0x40;
  }
  free(img);
}
END_TEST

START_TEST(header_fields_are_checked) {
  const size_t full = sizeof ckpt_golden_tiny;
  unsigned char *img = golden_copy();
  img[1] = 'X';
  assert_rejects(img, full, TL_E_FORMAT, "magic");
  free(img);

  img = golden_copy();
  tli_store_le32(img + 8, 2);
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_UNSUPPORTED, "format version 2");
  free(img);

  img = golden_copy(); /* a big-endian writer's marker */
  tli_store_le32(img + 12, 0x04030201u);
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "byte-order");
  free(img);

  img = golden_copy();
  img[45] ^= 1;
  assert_rejects(img, full, TL_E_FORMAT, "header CRC");
  free(img);

  img = golden_copy();
  tli_store_le32(img + 40, 1);
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "flags");
  free(img);

  img = golden_copy(); /* index larger than the file */
  tli_store_le64(img + 24, UINT64_MAX - 10);
  assert_rejects(img, full, TL_E_FORMAT, "index");
  free(img);

  /* A count far beyond what the index can hold: rejected before any
   * allocation proportional to it. */
  img = golden_copy();
  tli_store_le32(img + 32, 0xFFFFFFFFu);
  fix_header_crc(img);
  size_t allocated = 0;
  ck_assert_int_eq(load_counted(img, full, &allocated), TL_E_FORMAT);
  ck_assert_uint_le(allocated, 4096);
  assert_rejects(img, full, TL_E_FORMAT, "do not fit");
  free(img);
}
END_TEST

START_TEST(tensor_entries_are_checked) {
  const size_t full = sizeof ckpt_golden_tiny;
  struct {
    size_t field;   /* offset within tensor entry 0 */
    int width;      /* 1, 4 or 8 bytes */
    uint64_t value; /* new value */
    tl_status status;
    const char *word;
  } cases[] = {
      {12, 1, 0, TL_E_FORMAT, "unknown dtype 0"},
      {12, 1, 6, TL_E_FORMAT, "unknown dtype 6"},
      {13, 1, 9, TL_E_FORMAT, "rank 9"},
      {13, 1, 1, TL_E_FORMAT, "past its rank"},  /* dims[1] = 3 left */
      {14, 1, 1, TL_E_FORMAT, "reserved"},       /* reserved u16 */
      {100, 1, 1, TL_E_FORMAT, "reserved"},      /* reserved u32 */
      {8, 4, 0, TL_E_FORMAT, "name of 0 bytes"}, /* empty name */
      {8, 4, 70000, TL_E_FORMAT, "70000 bytes"}, /* over the limit */
      {0, 8, 1000, TL_E_FORMAT, "string pool"},  /* name outside pool */
      {8, 4, 2, TL_E_FORMAT, "NUL-terminated"},  /* "w" + NUL read as 2 */
      {16, 8, UINT64_C(1) << 62, TL_E_FORMAT, "overflows"},
      {16, 8, 4, TL_E_FORMAT, "its shape needs 48"}, /* size mismatch */
      {80, 8, 0x2c1, TL_E_FORMAT, "not a multiple of 64"},
      {80, 8, 64, TL_E_FORMAT, "overlaps the index"},
      {80, 8, UINT64_C(1) << 40, TL_E_FORMAT, "past the end"},
      {88, 8, UINT64_MAX, TL_E_FORMAT, "stores"},
      {96, 4, 0x12345678, TL_E_FORMAT, "CRC mismatch in tensor 'w'"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    unsigned char *img = golden_copy();
    unsigned char *f = tensor_entry(img, 0) + cases[k].field;
    if (cases[k].width == 1)
      f[0] = (unsigned char)cases[k].value;
    else if (cases[k].width == 4)
      tli_store_le32(f, (uint32_t)cases[k].value);
    else
      tli_store_le64(f, cases[k].value);
    fix_header_crc(img);
    size_t allocated = 0;
    ck_assert_int_eq(load_counted(img, full, &allocated), cases[k].status);
    ck_assert_uint_le(allocated, 4 * full + 4096);
    assert_rejects(img, full, cases[k].status, cases[k].word);
    free(img);
  }
}
END_TEST

START_TEST(overlaps_and_duplicate_names_are_rejected) {
  /* Two tensors with equal contents: pointing the second at the first's
   * data keeps its CRC right, so only the overlap check can catch it. */
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  const float x[4] = {1, 2, 3, 4};
  const size_t s[1] = {4};
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "a", TL_CKPT_F32, 1, s, x));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(c, "b", TL_CKPT_F32, 1, s, x));
  size_t size = 0;
  unsigned char *img = save_image(c, &size);
  unsigned char *copy = malloc(size);

  memcpy(copy, img, size);
  memcpy(tensor_entry(copy, 1) + 80, tensor_entry(copy, 0) + 80, 8);
  fix_header_crc(copy);
  assert_rejects(copy, size, TL_E_FORMAT, "overlap");

  memcpy(copy, img, size); /* rename "b" to "a" in the string pool */
  unsigned char *p = pool(copy);
  ck_assert(p[0] == 'a' && p[2] == 'b');
  p[2] = 'a';
  fix_header_crc(copy);
  assert_rejects(copy, size, TL_E_FORMAT, "two tensors are named 'a'");

  memcpy(copy, img, size); /* a stray byte in the alignment padding */
  copy[tli_load_le64(tensor_entry(copy, 0) + 80) + 16] = 1;
  assert_rejects(copy, size, TL_E_FORMAT, "padding");
  free(copy);
  free(img);
  tl_ckpt_free(c);
}
END_TEST

START_TEST(sections_are_checked) {
  const size_t full = sizeof ckpt_golden_tiny;
  /* Section order in the golden file: vocab, meta, groups, optim, step, rng */
  unsigned char *img = golden_copy();
  tli_store_le32(section_entry(img, 1), 1); /* meta relabelled as vocab */
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "appears twice");
  free(img);

  img = golden_copy();
  tli_store_le32(section_entry(img, 5), 77); /* unknown critical kind */
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_UNSUPPORTED, "kind 77");
  free(img);

  img = golden_copy(); /* unknown ancillary kind: skipped */
  tli_store_le32(section_entry(img, 5), 0x80000077u);
  fix_header_crc(img);
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_load_buffer(&c, img, full, NULL));
  const void *bytes;
  size_t nbytes;
  TLT_ASSERT_FAILS(
      tl_ckpt_get_section(&bytes, &nbytes, NULL, c, TL_CKPT_SECTION_RNG),
      TL_E_NOT_FOUND, "kind 6");
  tl_ckpt_free(c);
  free(img);

  img = golden_copy();
  tli_store_le32(section_entry(img, 4) + 4, 3); /* step with a subkind */
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "subkind 3");
  free(img);

  img = golden_copy();
  section_entry(img, 0)[24] ^= 1;
  fix_header_crc(img);
  assert_rejects(img, full, TL_E_FORMAT, "CRC mismatch in section '1'");
  free(img);

  /* Payload contents, with the section CRC fixed up each time. */
  struct {
    size_t section, at; /* byte offset inside the payload */
    int width;
    uint64_t value;
    const char *word;
  } cases[] = {
      {0, 0, 8, UINT64_C(1) << 60, "claims"}, /* absurd vocab count */
      {0, 0, 8, 4, "token 3"},                /* more tokens than stored */
      {0, 0, 8, 2, "stray bytes"},            /* fewer */
      {0, 17, 1, 'x', "token 0"},             /* "<unk>" loses its NUL */
      {0, 13, 1, 0, "token 0"},               /* a NUL inside "<unk>" */
      {0, 8, 4, 70000, "token 0"},            /* length over the limit */
      {1, 0, 8, UINT64_C(1) << 40, "claims"},
      {1, 30, 4, 5, "metadata entry 1"}, /* "lang" claims 5 bytes */
      {2, 8, 4, 9, "names tensor 9"},
      {2, 16, 4, 0, "increasing"},
      {2, 12, 4, 0xFFFFFFFFu, "reserved group"},
      {4, 0, 1, 0, ""}, /* placeholder replaced below: step size */
  };
  for (size_t k = 0; k + 1 < sizeof cases / sizeof cases[0]; k++) {
    img = golden_copy();
    unsigned char *payload =
        img + tli_load_le64(section_entry(img, cases[k].section) + 8) +
        cases[k].at;
    if (cases[k].width == 1)
      payload[0] = (unsigned char)cases[k].value;
    else if (cases[k].width == 4)
      tli_store_le32(payload, (uint32_t)cases[k].value);
    else
      tli_store_le64(payload, cases[k].value);
    fix_section_crc(img, cases[k].section);
    size_t allocated = 0;
    ck_assert_msg(load_counted(img, full, &allocated) == TL_E_FORMAT,
                  "case %zu loaded", k);
    ck_assert_uint_le(allocated, 4 * full + 4096);
    assert_rejects(img, full, TL_E_FORMAT, cases[k].word);
    free(img);
  }

  /* Duplicate metadata keys: "lang" renamed "arch". */
  img = golden_copy();
  unsigned char *meta = img + tli_load_le64(section_entry(img, 1) + 8);
  ck_assert_int_eq(memcmp(meta + 8 + 4, "arch", 4), 0);
  ck_assert_int_eq(memcmp(meta + 30 + 4, "lang", 4), 0);
  memcpy(meta + 30 + 4, "arch", 4);
  fix_section_crc(img, 1);
  assert_rejects(img, full, TL_E_FORMAT, "'arch' appears twice");
  free(img);

  /* An empty metadata key: from {"a": ""}, rewrite the payload as
   * {"": ""} and shorten the section by the one byte that frees. */
  {
    tl_ckpt *m = NULL;
    TLT_ASSERT_OK(tl_ckpt_create(&m));
    TLT_ASSERT_OK(tl_ckpt_set_meta(m, "a", ""));
    size_t msize = 0;
    unsigned char *mimg = save_image(m, &msize);
    unsigned char *e = section_entry(mimg, 0);
    unsigned char *pl = mimg + tli_load_le64(e + 8);
    ck_assert_uint_eq(tli_load_le64(e + 16), 19);
    static const unsigned char empty_pair[11] = {0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0, 0};
    memcpy(pl + 8, empty_pair, sizeof empty_pair);
    tli_store_le64(e + 16, 18);
    fix_section_crc(mimg, 0);
    assert_rejects(mimg, msize, TL_E_FORMAT, "empty key");
    free(mimg);
    tl_ckpt_free(m);
  }

  /* The step payload must be exactly 8 bytes. */
  img = golden_copy();
  tli_store_le64(section_entry(img, 4) + 16, 4);
  fix_section_crc(img, 4);
  assert_rejects(img, full, TL_E_FORMAT, "step section has 4 bytes");
  free(img);
}
END_TEST

/* ---- atomic saving ------------------------------------------------------ */

/* File operations that fail at a chosen point. */
typedef struct failing_ops {
  size_t write_budget; /* bytes written before pwrite fails with ENOSPC */
  int fail_fsync, fail_rename;
} failing_ops;

static ssize_t failing_pwrite(void *payload, int fd, const void *buf, size_t n,
                              off_t offset) {
  failing_ops *f = payload;
  if (f->write_budget == 0) {
    errno = ENOSPC;
    return -1;
  }
  /* Partial writes, as a nearly full disk gives, exercise the retry loop. */
  const size_t take = n < f->write_budget ? n : f->write_budget;
  const size_t chunk = take > 100 ? 100 : take;
  f->write_budget -= chunk;
  return pwrite(fd, buf, chunk, offset);
}
static int failing_fsync(void *payload, int fd) {
  if (((failing_ops *)payload)->fail_fsync) {
    errno = EIO;
    return -1;
  }
  return fsync(fd);
}
static int failing_rename(void *payload, const char *from, const char *to) {
  if (((failing_ops *)payload)->fail_rename) {
    errno = EXDEV;
    return -1;
  }
  return rename(from, to);
}

START_TEST(failed_saves_leave_the_previous_file_intact) {
  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  tl_ckpt *old = golden_checkpoint();
  TLT_ASSERT_OK(tl_ckpt_save(old, path));
  unsigned char *before;
  size_t before_size;
  read_file(path, &before, &before_size);
  ck_assert_uint_eq(before_size, sizeof ckpt_golden_tiny);

  tl_ckpt *next = golden_checkpoint();
  TLT_ASSERT_OK(tl_ckpt_set_meta(next, "epoch", "2"));
  /* A dry run measures how many bytes a save writes. */
  char scratch[300];
  snprintf(scratch, sizeof scratch, "%s/scratch.tlc", dir);
  failing_ops measure = {SIZE_MAX, 0, 0};
  tli_ckpt_fileops measure_ops = {failing_pwrite, failing_fsync, failing_rename,
                                  &measure};
  TLT_ASSERT_OK(tli_ckpt_save_with(next, scratch, &measure_ops));
  unlink(scratch);
  const size_t written = SIZE_MAX - measure.write_budget;
  const struct {
    failing_ops ops;
    const char *word;
  } cases[] = {
      {{0, 0, 0}, "No space left"},           /* the very first write */
      {{300, 0, 0}, "No space left"},         /* halfway */
      {{written - 1, 0, 0}, "No space left"}, /* the last byte */
      {{SIZE_MAX, 1, 0}, "flushing"},         /* fsync */
      {{SIZE_MAX, 0, 1}, "renaming"},         /* rename */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    failing_ops f = cases[k].ops;
    tli_ckpt_fileops ops = {failing_pwrite, failing_fsync, failing_rename, &f};
    TLT_ASSERT_FAILS(tli_ckpt_save_with(next, path, &ops), TL_E_IO,
                     cases[k].word);
    unsigned char *after;
    size_t after_size;
    read_file(path, &after, &after_size);
    ck_assert_uint_eq(after_size, before_size);
    ck_assert_int_eq(memcmp(after, before, before_size), 0);
    free(after);
    ck_assert_msg(count_temp_files(dir) == 0, "case %zu left a temp file", k);
  }
  /* The same ops with no failure replace the file. */
  failing_ops ok = {SIZE_MAX, 0, 0};
  tli_ckpt_fileops ops = {failing_pwrite, failing_fsync, failing_rename, &ok};
  TLT_ASSERT_OK(tli_ckpt_save_with(next, path, &ops));
  tl_ckpt *back = NULL;
  const char *v = NULL;
  TLT_ASSERT_OK(tl_ckpt_load(&back, path, NULL));
  TLT_ASSERT_OK(tl_ckpt_get_meta(&v, back, "epoch"));
  ck_assert_str_eq(v, "2");
  ck_assert_int_eq(count_temp_files(dir), 0);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  /* Created under the process umask, then replaced: the mode it had. */
  const mode_t mask = umask(0);
  umask(mask);
  ck_assert_int_eq(st.st_mode & 0777, 0666 & ~mask);

  char missing[300];
  snprintf(missing, sizeof missing, "%s/no/such/dir/m.tlc", dir);
  TLT_ASSERT_FAILS(tl_ckpt_save(next, missing), TL_E_IO, "temporary file");
  /* A directory, or a device or FIFO, is never replaced by the rename. */
  char sub[300];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  TLT_ASSERT_FAILS(tl_ckpt_save(next, sub), TL_E_IO, "not a regular file");
  ck_assert_int_eq(stat(sub, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  rmdir(sub);
  char fifo[300];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  ck_assert_int_eq(mkfifo(fifo, 0644), 0);
  TLT_ASSERT_FAILS(tl_ckpt_save(next, fifo), TL_E_IO, "not a regular file");
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  unlink(fifo);
  ck_assert_int_eq(count_temp_files(dir), 0);
  /* Saving through a symbolic link replaces the file it points to and
   * leaves the link a link ("latest -> run3.tlc" keeps working). */
  char link[300];
  snprintf(link, sizeof link, "%s/latest.tlc", dir);
  ck_assert_int_eq(symlink(path, link), 0);
  tl_ckpt *empty = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&empty));
  TLT_ASSERT_OK(tl_ckpt_save(empty, link));
  tl_ckpt_free(empty);
  ck_assert_int_eq(lstat(link, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  tl_ckpt *via = NULL;
  size_t n_via = 1;
  TLT_ASSERT_OK(tl_ckpt_load(&via, path, NULL));
  TLT_ASSERT_OK(tl_ckpt_tensor_count(&n_via, via));
  ck_assert_uint_eq(n_via, 0); /* the target now holds the empty checkpoint */
  tl_ckpt_free(via);
  unlink(link);
  ck_assert_int_eq(count_temp_files(dir), 0);

  tl_ckpt_free(back);
  tl_ckpt_free(next);
  tl_ckpt_free(old);
  free(before);
  unlink(path);
  rmdir(dir);
}
END_TEST

/* SIGALRM only interrupts: a load stuck in open(2) then returns EINTR
 * instead of hanging the suite, and the test fails on its message. */
static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig) {
  (void)sig;
  alarm_fired = 1;
}

/* Milliseconds since an arbitrary point. */
static double now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

START_TEST(loading_a_fifo_or_device_fails_at_once) {
  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char fifo[256];
  snprintf(fifo, sizeof fifo, "%s/f", dir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  struct sigaction sa, old_sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: open(2) returns EINTR */
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGALRM, &sa, &old_sa), 0);
  alarm_fired = 0;
  alarm(3);
  /* No writer ever opens the FIFO: a blocking open would wait forever. */
  const double t0 = now_ms();
  tl_ckpt *c = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, fifo, NULL), TL_E_IO, "not a regular file");
  ck_assert_ptr_null(c);
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_FAILS(tl_model_load(m, fifo, NULL), TL_E_IO, "not a regular file");
  /* A character device (readable, endless) and a directory the same way. */
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, "/dev/zero", NULL), TL_E_IO,
                   "not a regular file");
  TLT_ASSERT_FAILS(tl_ckpt_load(&c, dir, NULL), TL_E_IO, "not a regular file");
  const double elapsed = now_ms() - t0;
  alarm(0);
  ck_assert_int_eq(sigaction(SIGALRM, &old_sa, NULL), 0);
  ck_assert_msg(!alarm_fired, "a load blocked until the alarm");
  ck_assert_msg(elapsed < 1000.0, "the loads took %.0f ms", elapsed);
  /* Nothing was consumed from the FIFO: a writer can still connect. */
  struct stat st;
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  /* The file behind a link to a regular file still loads. */
  char path[256], link[256];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  snprintf(link, sizeof link, "%s/latest", dir);
  tl_ckpt *g = golden_checkpoint();
  TLT_ASSERT_OK(tl_ckpt_save(g, path));
  ck_assert_int_eq(symlink(path, link), 0);
  TLT_ASSERT_OK(tl_ckpt_load(&c, link, NULL));
  tl_ckpt_free(c);
  tl_ckpt_free(g);
  tl_model_free(m);
  unlink(link);
  unlink(path);
  unlink(fifo);
  rmdir(dir);
}
END_TEST

/* The permission bits of path. */
static mode_t file_mode(const char *path) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return st.st_mode & 07777;
}

START_TEST(saves_honour_the_umask_and_keep_a_replaced_files_mode) {
  char dir[] = "/tmp/tl_ckpt_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/m.tlc", dir);
  tl_ckpt *c = golden_checkpoint();
  const mode_t saved_mask = umask(0);
  /* A new file: 0666 less the umask, as open(2) and fopen would make it. */
  const mode_t masks[] = {022, 077, 002, 027, 0};
  for (size_t k = 0; k < sizeof masks / sizeof masks[0]; k++) {
    umask(masks[k]);
    TLT_ASSERT_OK(tl_ckpt_save(c, path));
    ck_assert_msg(file_mode(path) == (0666 & ~masks[k]),
                  "umask %03o gave mode %03o", (unsigned)masks[k],
                  (unsigned)file_mode(path));
    unlink(path);
  }
  /* Re-saving a private checkpoint under a permissive umask keeps it
   * private, and a shared one under umask 077 keeps it shared. */
  const mode_t modes[] = {0600, 0640, 0444, 0664, 0755};
  const mode_t umasks[] = {0, 077, 022, 077, 0};
  for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
    umask(022);
    TLT_ASSERT_OK(tl_ckpt_save(c, path));
    ck_assert_int_eq(chmod(path, modes[k]), 0);
    umask(umasks[k]);
    TLT_ASSERT_OK(tl_ckpt_save(c, path));
    ck_assert_msg(file_mode(path) == modes[k],
                  "re-saving a %03o file under umask %03o gave %03o",
                  (unsigned)modes[k], (unsigned)umasks[k],
                  (unsigned)file_mode(path));
    unlink(path);
  }
  /* Through a symbolic link the mode of the file it points to is kept (the
   * link's own bits mean nothing). */
  char link[256];
  snprintf(link, sizeof link, "%s/latest", dir);
  umask(022);
  TLT_ASSERT_OK(tl_ckpt_save(c, path));
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(symlink(path, link), 0);
  umask(0);
  TLT_ASSERT_OK(tl_ckpt_save(c, link));
  ck_assert_int_eq(file_mode(path), 0600);
  /* tl_model_save goes through the same path. */
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 2, 2, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_save(m, path));
  ck_assert_int_eq(file_mode(path), 0600);
  tl_model_free(m);
  umask(saved_mask);
  ck_assert_int_eq(count_temp_files(dir), 0);
  tl_ckpt_free(c);
  unlink(link);
  unlink(path);
  rmdir(dir);
}
END_TEST

static Suite *ckpt_suite(void) {
  Suite *s = suite_create("ckpt");
  TCase *tc = tcase_create("ckpt");
  tcase_add_test(tc, crc32_matches_zlib_and_a_bitwise_reference);
  tcase_add_test(tc, little_endian_helpers_fix_the_byte_order);
  tcase_add_test(tc, save_buffer_writes_the_documented_bytes);
  tcase_add_test(tc, golden_file_loads_with_every_field);
  tcase_add_test(tc, round_trip_through_a_file_keeps_everything);
  tcase_add_test(tc, table_operations_and_their_errors);
  tcase_add_test(tc, load_options_are_versioned);
  tcase_add_test(tc, every_truncation_is_rejected_within_the_allocation_bound);
  tcase_add_test(tc, every_single_byte_flip_is_detected);
  tcase_add_test(tc, header_fields_are_checked);
  tcase_add_test(tc, tensor_entries_are_checked);
  tcase_add_test(tc, overlaps_and_duplicate_names_are_rejected);
  tcase_add_test(tc, sections_are_checked);
  tcase_add_test(tc, failed_saves_leave_the_previous_file_intact);
  tcase_add_test(tc, loading_a_fifo_or_device_fails_at_once);
  tcase_add_test(tc, saves_honour_the_umask_and_keep_a_replaced_files_mode);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tlt_run(ckpt_suite()); }
