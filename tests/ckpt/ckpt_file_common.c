/* Helpers shared by the ckpt_file test files. */
#include "ckpt_file_common.h"

/* ---- helpers ------------------------------------------------------------ */

/* The checkpoint of tests/fixtures/gen_ckpt.py. */
tl_ckpt *golden_checkpoint(void) {
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
unsigned char *save_image(const tl_ckpt *c, size_t *size) {
  TLT_ASSERT_OK(tl_ckpt_serialized_size(size, c));
  unsigned char *img = malloc(*size);
  ck_assert_ptr_nonnull(img);
  size_t written = 0;
  TLT_ASSERT_OK(tl_ckpt_save_buffer(img, *size, &written, c));
  ck_assert_uint_eq(written, *size);
  return img;
}

unsigned char *golden_copy(void) {
  unsigned char *img = malloc(sizeof ckpt_golden_tiny);
  memcpy(img, ckpt_golden_tiny, sizeof ckpt_golden_tiny);
  return img;
}

/* Field addresses of the golden image, from docs/format.md. */
unsigned char *tensor_entry(unsigned char *img, size_t i) {
  return img + 64 + 104 * i;
}
unsigned char *section_entry(unsigned char *img, size_t i) {
  return img + 64 + 104 * tli_load_le32(img + 32) + 32 * i;
}
unsigned char *pool(unsigned char *img) {
  return section_entry(img, tli_load_le32(img + 36));
}

/* After editing the index, recomputes the header CRC so that the loader
 * reaches the check under test instead of stopping at the CRC. */
void fix_header_crc(unsigned char *img) {
  const size_t end = 64 + (size_t)tli_load_le64(img + 24);
  memset(img + 44, 0, 4);
  tli_store_le32(img + 44, tli_crc32(0, img, end));
}

void fix_section_crc(unsigned char *img, size_t i) {
  unsigned char *e = section_entry(img, i);
  tli_store_le32(e + 24, tli_crc32(0, img + tli_load_le64(e + 8),
                                   (size_t)tli_load_le64(e + 16)));
  fix_header_crc(img);
}

/* Loading img must fail with status and a message containing word. */
void assert_rejects(const unsigned char *img, size_t size, tl_status status,
                    const char *word) {
  tl_ckpt *c = NULL;
  TLT_ASSERT_FAILS(tl_ckpt_load_buffer(&c, img, size, NULL), status, word);
  ck_assert_ptr_null(c);
}

/* Loads img under the byte counter; returns the status and checks the sum
 * of all allocations and that nothing leaked. */
tl_status load_counted(const unsigned char *img, size_t size,
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

int count_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".tmp-") != NULL;
  closedir(d);
  return n;
}

void read_file(const char *path, unsigned char **out, size_t *size) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = malloc(*size ? *size : 1);
  ck_assert_uint_eq(fread(*out, 1, *size, f), *size);
  fclose(f);
}
