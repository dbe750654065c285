#include "strtab.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static uint64_t tli_fnv1a(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

void tli_strtab_free(tli_strtab *t) {
  tli_free(t->arena);
  tli_free(t->off);
  tli_free(t->len);
  tli_free(t->count);
  tli_free(t->slots);
  memset(t, 0, sizeof *t);
}

static size_t tli_next_pow2(size_t x) {
  size_t p = 16;
  while (p < x)
    p *= 2;
  return p;
}

tl_status tli_strtab_reserve(tli_strtab *t, size_t entries, size_t bytes,
                             const char *fn) {
  TLI_CHECK(entries <= SIZE_MAX / 4 - t->n &&
                bytes <= SIZE_MAX / 4 - t->arena_len - entries,
            TL_E_NOMEM, "%s: too many tokens", fn);
  const size_t need_n = t->n + entries;
  const size_t need_bytes = t->arena_len + bytes + entries;
  /* Everything is allocated before anything is replaced, so a failure
   * leaves the table as it was. */
  size_t new_cap = t->cap, new_acap = t->arena_cap, new_slots = t->nslots;
  if (need_n > t->cap)
    new_cap = tli_next_pow2(need_n);
  if (need_bytes > t->arena_cap)
    new_acap = tli_next_pow2(need_bytes);
  if (2 * need_n > t->nslots)
    new_slots = tli_next_pow2(2 * need_n);
  void *off = NULL, *len = NULL, *count = NULL, *arena = NULL, *slots = NULL;
  tl_status s = TL_OK;
  if (new_cap != t->cap) {
    s = tli_alloc_checked(&off, new_cap, sizeof(size_t), fn);
    if (s == TL_OK)
      s = tli_alloc_checked(&len, new_cap, sizeof(size_t), fn);
    if (s == TL_OK)
      s = tli_alloc_checked(&count, new_cap, sizeof(uint64_t), fn);
  }
  if (s == TL_OK && new_acap != t->arena_cap)
    s = tli_alloc_checked(&arena, new_acap, 1, fn);
  if (s == TL_OK && new_slots != t->nslots)
    s = tli_alloc_checked(&slots, new_slots, sizeof(size_t), fn);
  if (s != TL_OK) {
    tli_free(off);
    tli_free(len);
    tli_free(count);
    tli_free(arena);
    tli_free(slots);
    return s;
  }
  if (off) {
    if (t->n) {
      memcpy(off, t->off, t->n * sizeof(size_t));
      memcpy(len, t->len, t->n * sizeof(size_t));
      memcpy(count, t->count, t->n * sizeof(uint64_t));
    }
    tli_free(t->off);
    tli_free(t->len);
    tli_free(t->count);
    t->off = off;
    t->len = len;
    t->count = count;
    t->cap = new_cap;
  }
  if (arena) {
    if (t->arena_len)
      memcpy(arena, t->arena, t->arena_len);
    tli_free(t->arena);
    t->arena = arena;
    t->arena_cap = new_acap;
  }
  if (slots) {
    size_t *sl = slots;
    memset(sl, 0, new_slots * sizeof *sl);
    for (size_t i = 0; i < t->n; i++) {
      size_t h =
          (size_t)tli_fnv1a(t->arena + t->off[i], t->len[i]) & (new_slots - 1);
      while (sl[h])
        h = (h + 1) & (new_slots - 1);
      sl[h] = i + 1;
    }
    tli_free(t->slots);
    t->slots = sl;
    t->nslots = new_slots;
  }
  return TL_OK;
}

size_t tli_strtab_find(const tli_strtab *t, const char *s, size_t len) {
  if (t->nslots == 0)
    return SIZE_MAX;
  size_t h = (size_t)tli_fnv1a(s, len) & (t->nslots - 1);
  while (t->slots[h]) {
    const size_t i = t->slots[h] - 1;
    if (t->len[i] == len && memcmp(t->arena + t->off[i], s, len) == 0)
      return i;
    h = (h + 1) & (t->nslots - 1);
  }
  return SIZE_MAX;
}

size_t tli_strtab_add(tli_strtab *t, const char *s, size_t len) {
  size_t h = (size_t)tli_fnv1a(s, len) & (t->nslots - 1);
  while (t->slots[h]) {
    const size_t i = t->slots[h] - 1;
    if (t->len[i] == len && memcmp(t->arena + t->off[i], s, len) == 0)
      return i;
    h = (h + 1) & (t->nslots - 1);
  }
  const size_t i = t->n++;
  t->off[i] = t->arena_len;
  t->len[i] = len;
  t->count[i] = 0;
  memcpy(t->arena + t->arena_len, s, len);
  t->arena[t->arena_len + len] = 0;
  t->arena_len += len + 1;
  t->slots[h] = i + 1;
  return i;
}
