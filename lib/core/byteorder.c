#include "core/byteorder.h"

#include <string.h>

void tli_to_le(unsigned char *dst, const void *src, size_t n,
               size_t elem_size) {
  const unsigned char *s = src;
  if (elem_size == 4) {
    for (size_t i = 0; i < n; i++) {
      uint32_t v;
      memcpy(&v, s + 4 * i, 4);
      tli_store_le32(dst + 4 * i, v);
    }
  } else if (elem_size == 8) {
    for (size_t i = 0; i < n; i++) {
      uint64_t v;
      memcpy(&v, s + 8 * i, 8);
      tli_store_le64(dst + 8 * i, v);
    }
  } else if (n > 0) {
    memcpy(dst, src, n * elem_size);
  }
}

void tli_from_le(void *dst, const unsigned char *src, size_t n,
                 size_t elem_size) {
  unsigned char *d = dst;
  if (elem_size == 4) {
    for (size_t i = 0; i < n; i++) {
      const uint32_t v = tli_load_le32(src + 4 * i);
      memcpy(d + 4 * i, &v, 4);
    }
  } else if (elem_size == 8) {
    for (size_t i = 0; i < n; i++) {
      const uint64_t v = tli_load_le64(src + 8 * i);
      memcpy(d + 8 * i, &v, 8);
    }
  } else if (n > 0) {
    memcpy(dst, src, n * elem_size);
  }
}
