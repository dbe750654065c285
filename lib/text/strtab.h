/* Internal: an insertion-ordered set of byte strings with a count each
 * (open addressing, FNV-1a), behind tl_token_counts and tl_vocab. */
#ifndef TLI_TEXT_STRTAB_H
#define TLI_TEXT_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "tl/core.h"

typedef struct tli_strtab {
  char *arena; /* the strings, each NUL-terminated */
  size_t arena_len, arena_cap;
  size_t *off, *len;
  uint64_t *count;
  size_t n, cap;
  size_t *slots; /* 0 empty, else entry index + 1; nslots a power of 2 */
  size_t nslots;
} tli_strtab;

void tli_strtab_free(tli_strtab *t);

/* Makes room for `entries` more strings of `bytes` bytes in all (NULs
 * not counted), so that that many tli_strtab_add calls cannot fail. fn
 * names the caller in the TL_E_NOMEM message. */
tl_status tli_strtab_reserve(tli_strtab *t, size_t entries, size_t bytes,
                             const char *fn);

/* Index of s[0..len), or SIZE_MAX. */
size_t tli_strtab_find(const tli_strtab *t, const char *s, size_t len);

/* Index of s, added (count 0) if new; needs room (tli_strtab_reserve). */
size_t tli_strtab_add(tli_strtab *t, const char *s, size_t len);

static inline const char *tli_strtab_str(const tli_strtab *t, size_t i) {
  return t->arena + t->off[i];
}

#endif
