/* libFuzzer target for the checkpoint loader (tl_ckpt_load_buffer).
 *
 * The first input byte selects a mode. Bit 0 set: before loading, the
 * harness recomputes the header and blob CRCs wherever the (untrusted) index
 * lets it (fuzz_fix_crcs in fuzz_common.h), so mutations reach the
 * structural checks behind the CRCs instead of dying at the first checksum.
 * Bit 1 set: load with data CRCs off. Model-level parsing of the loaded
 * container is fuzz_ckpt_model.c's.
 * Invariants checked: a failed load returns no checkpoint and sets a
 * message; a successful one re-serialises to an image that loads again with
 * the same tensor count, and whose re-serialisation is byte-identical. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *reserialise(const tl_ckpt *c, size_t *size) {
  if (tl_ckpt_serialized_size(size, c) != TL_OK)
    abort();
  unsigned char *img = malloc(*size ? *size : 1);
  size_t written = 0;
  if (img == NULL || tl_ckpt_save_buffer(img, *size, &written, c) != TL_OK ||
      written != *size)
    abort();
  return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const unsigned mode = data[0];
  size--;
  unsigned char *buf = malloc(size ? size : 1);
  if (buf == NULL)
    return 0;
  memcpy(buf, data + 1, size);
  if (mode & 1)
    fuzz_fix_crcs(buf, size);
  tl_ckpt_load_options opts;
  tl_ckpt_load_options_init(&opts, TL_CKPT_LOAD_OPTIONS_VERSION);
  opts.verify_data_crc = !(mode & 2);

  tl_ckpt *c = NULL;
  const tl_status status = tl_ckpt_load_buffer(&c, buf, size, &opts);
  if (status != TL_OK) {
    if (c != NULL || tl_last_error()[0] == '\0')
      abort();
  } else {
    size_t n1 = 0, n2 = 0, s1 = 0, s2 = 0;
    unsigned char *img = reserialise(c, &s1);
    tl_ckpt *again = NULL;
    if (tl_ckpt_load_buffer(&again, img, s1, NULL) != TL_OK)
      abort();
    tl_ckpt_tensor_count(&n1, c);
    tl_ckpt_tensor_count(&n2, again);
    unsigned char *img2 = reserialise(again, &s2);
    if (n1 != n2 || s1 != s2 || memcmp(img, img2, s1) != 0)
      abort();
    free(img2);
    free(img);
    tl_ckpt_free(again);
    tl_ckpt_free(c);
  }
  free(buf);
  return 0;
}
