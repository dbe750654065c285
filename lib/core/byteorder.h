/* Internal: explicit little-endian encoding for everything libtl writes to
 * bytes that may cross machines (checkpoints, optimizer state), whatever the
 * host's byte order. */
#ifndef TLI_CORE_BYTEORDER_H
#define TLI_CORE_BYTEORDER_H

#include <stddef.h>
#include <stdint.h>

static inline void tli_store_le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static inline void tli_store_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t tli_load_le16(const unsigned char *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t tli_load_le32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}
static inline uint64_t tli_load_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

/* Converts n elements of elem_size bytes (1, 4 or 8) between host order
 * and little-endian; the same operation both ways. */
void tli_to_le(unsigned char *dst, const void *src, size_t n, size_t elem_size);
void tli_from_le(void *dst, const unsigned char *src, size_t n,
                 size_t elem_size);

#endif
