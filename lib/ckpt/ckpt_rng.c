/* The RNG section as libtl writes it (subkind TL_CKPT_RNG_STREAMS): named
 * xoshiro256** states, so a model (or several, under their prefixes)
 * continues its dropout masks exactly after a load. Payload:
 *   u64 count, then count x (string name, u64 s[0..4)), all little-endian,
 * strings as elsewhere in the format (u32 length, bytes, NUL). A state of
 * four zero words is refused (TL_E_FORMAT): xoshiro never leaves it. */
#include <string.h>

#include "ckpt/ckpt_internal.h"
#include "core/alloc.h"
#include "core/error.h"

/* Reads the entry at *pos: 1 read, 0 malformed. */
static int tli_stream_at(const unsigned char *p, size_t size, size_t *pos,
                         const char **name, size_t *name_len, tli_rng *rng) {
  if (size - *pos < 4)
    return 0;
  const size_t len = tli_load_le32(p + *pos);
  if (len > TL_CKPT_MAX_STRING || size - *pos - 4 < len + 1 + 32)
    return 0;
  const char *s = (const char *)p + *pos + 4;
  if (s[len] != '\0' || memchr(s, '\0', len) != NULL)
    return 0;
  const unsigned char *words = p + *pos + 5 + len;
  for (int i = 0; i < 4; i++)
    rng->s[i] = tli_load_le64(words + 8 * i);
  *name = s;
  *name_len = len;
  *pos += 5 + len + 32;
  return 1;
}

/* Walks the streams payload; calls back for each entry. Checks the count
 * and that the entries fill the payload exactly. */
typedef int (*tli_stream_fn)(void *ctx, size_t index, const char *name,
                             size_t name_len, const tli_rng *rng);

static tl_status tli_streams_walk(const tli_ckpt_blob *blob, tli_stream_fn f,
                                  void *ctx, const char *fn) {
  const unsigned char *p = blob->bytes;
  const size_t size = blob->size;
  TLI_CHECK(size >= 8, TL_E_FORMAT,
            "%s: the RNG streams section is shorter "
            "than its count",
            fn);
  const uint64_t count = tli_load_le64(p);
  TLI_CHECK(count <= (size - 8) / 37, TL_E_FORMAT,
            "%s: the RNG streams section claims %llu streams in %zu bytes", fn,
            (unsigned long long)count, size);
  size_t pos = 8;
  for (size_t i = 0; i < (size_t)count; i++) {
    const char *name;
    size_t len;
    tli_rng rng;
    TLI_CHECK(tli_stream_at(p, size, &pos, &name, &len, &rng), TL_E_FORMAT,
              "%s: RNG stream %zu is malformed", fn, i);
    /* xoshiro256** has one fixed point: from the all-zero state it emits
     * zeros forever (every dropout mask frozen). No seed reaches it. */
    TLI_CHECK((rng.s[0] | rng.s[1] | rng.s[2] | rng.s[3]) != 0, TL_E_FORMAT,
              "%s: RNG stream %zu ('%.*s') has the all-zero xoshiro256** "
              "state, which only ever yields zeros",
              fn, i, (int)(len < 64 ? len : 64), name);
    if (f != NULL && !f(ctx, i, name, len, &rng))
      break;
  }
  TLI_CHECK(f != NULL || pos == size, TL_E_FORMAT,
            "%s: stray bytes after the RNG streams", fn);
  return TL_OK;
}

typedef struct tli_find_ctx {
  const char *name;
  tli_rng *out;
  int found;
  size_t index;
} tli_find_ctx;

static int tli_find_cb(void *ctx, size_t index, const char *name,
                       size_t name_len, const tli_rng *rng) {
  tli_find_ctx *c = ctx;
  if (strlen(c->name) == name_len && memcmp(c->name, name, name_len) == 0) {
    *c->out = *rng;
    c->found = 1;
    c->index = index;
  }
  return 1; /* keep walking: the last entry of a name wins, and all are
               validated */
}

tl_status tli_ckpt_rng_find(const tl_ckpt *ckpt, const char *name, tli_rng *out,
                            int *found, const char *fn) {
  *found = 0;
  const tli_ckpt_blob *blob = &ckpt->rng;
  if (!blob->present || blob->subkind != TL_CKPT_RNG_STREAMS)
    return TL_OK;
  TLI_TRY(tli_streams_walk(blob, NULL, NULL, fn)); /* exact size */
  tli_rng rng;
  tli_find_ctx ctx = {name, &rng, 0, 0};
  TLI_TRY(tli_streams_walk(blob, tli_find_cb, &ctx, fn));
  if (ctx.found) {
    *out = rng;
    *found = 1;
  }
  return TL_OK;
}

static unsigned char *tli_put_stream(unsigned char *p, const char *name,
                                     size_t len, const tli_rng *rng) {
  tli_store_le32(p, (uint32_t)len);
  memcpy(p + 4, name, len);
  p[4 + len] = '\0';
  for (int i = 0; i < 4; i++)
    tli_store_le64(p + 5 + len + 8 * i, rng->s[i]);
  return p + 5 + len + 32;
}

typedef struct tli_copy_ctx {
  unsigned char *p;
  const char *skip; /* the name being replaced */
} tli_copy_ctx;

static int tli_copy_cb(void *ctx, size_t index, const char *name,
                       size_t name_len, const tli_rng *rng) {
  tli_copy_ctx *c = ctx;
  (void)index;
  if (!(strlen(c->skip) == name_len && memcmp(c->skip, name, name_len) == 0))
    c->p = tli_put_stream(c->p, name, name_len, rng);
  return 1;
}

typedef struct tli_count_ctx {
  const char *skip;
  size_t kept, bytes;
} tli_count_ctx;

static int tli_count_cb(void *ctx, size_t index, const char *name,
                        size_t name_len, const tli_rng *rng) {
  tli_count_ctx *c = ctx;
  (void)index;
  (void)rng;
  if (!(strlen(c->skip) == name_len && memcmp(c->skip, name, name_len) == 0)) {
    c->kept++;
    c->bytes += 37 + name_len;
  }
  return 1;
}

tl_status tli_ckpt_rng_with(const tl_ckpt *ckpt, const char *name,
                            const tli_rng *rng, void **out_bytes,
                            size_t *out_size, const char *fn) {
  const tli_ckpt_blob *blob = &ckpt->rng;
  const size_t len = strlen(name);
  TLI_CHECK(len <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
            "%s: the RNG stream name is longer than %u bytes", fn,
            TL_CKPT_MAX_STRING);
  TLI_CHECK(!blob->present || blob->subkind == TL_CKPT_RNG_STREAMS, TL_E_STATE,
            "%s: the checkpoint's RNG section has subkind %u, not libtl's "
            "RNG streams (%u)",
            fn, (unsigned)blob->subkind, TL_CKPT_RNG_STREAMS);
  tli_count_ctx counted = {name, 0, 0};
  if (blob->present) {
    TLI_TRY(tli_streams_walk(blob, NULL, NULL, fn));
    TLI_TRY(tli_streams_walk(blob, tli_count_cb, &counted, fn));
  }
  const size_t size = 8 + counted.bytes + 37 + len;
  void *bytes = NULL;
  TLI_TRY(tli_alloc_checked(&bytes, size, 1, fn));
  unsigned char *p = bytes;
  tli_store_le64(p, counted.kept + 1);
  tli_copy_ctx copy = {p + 8, name};
  if (blob->present)
    tli_streams_walk(blob, tli_copy_cb, &copy, fn); /* validated above */
  tli_put_stream(copy.p, name, len, rng);
  *out_bytes = bytes;
  *out_size = size;
  return TL_OK;
}
