/* Reading the checkpoint format (docs/format.md). The input is untrusted:
 * every field is validated (header, CRCs, bounds, alignment, overlaps,
 * duplicate names, string termination) before a checkpoint is built, and
 * every count is checked against the bytes that would have to hold it, so
 * allocations stay within a small multiple of the input's size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt/ckpt_internal.h"
#include "ckpt/crc32.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"

TLI_VERSION_SIZES(load_options_sizes, TL_CKPT_LOAD_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_ckpt_load_options, max_size));

tl_status tl_ckpt_load_options_init(tl_ckpt_load_options *out,
                                    unsigned int version) {
  static const tl_ckpt_load_options defaults = TL_CKPT_LOAD_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, load_options_sizes,
                          "tl_ckpt_load_options_init");
}

static tl_status tli_options(tl_ckpt_load_options *out,
                             const tl_ckpt_load_options *given,
                             const char *fn) {
  const tl_ckpt_load_options defaults = TL_CKPT_LOAD_OPTIONS_INIT;
  *out = defaults;
  if (given == NULL)
    return TL_OK;
  return TLI_OPTIONS_COPY(out, given, load_options_sizes, fn, "options");
}

/* ---- validation of the header and the index ----------------------------- */

typedef struct tli_reader {
  const unsigned char *buf;
  size_t size;
  const char *fn;
  int verify_crc;
  uint32_t n_tensors, n_sections;
  size_t index_end; /* 64 + index size: where data may start */
  size_t pool_offset, pool_size;
} tli_reader;

typedef struct tli_span {
  size_t offset, size;
  size_t what; /* tensor index, or n_tensors + section index */
} tli_span;

typedef struct tli_name {
  const char *name;
  size_t index;
} tli_name;

static const unsigned char *tli_tensor_entry(const tli_reader *r, size_t i) {
  return r->buf + TLI_CKPT_HEADER_SIZE + i * TLI_CKPT_TENSOR_ENTRY_SIZE;
}

static const unsigned char *tli_section_entry(const tli_reader *r, size_t i) {
  return r->buf + TLI_CKPT_HEADER_SIZE +
         (size_t)r->n_tensors * TLI_CKPT_TENSOR_ENTRY_SIZE +
         i * TLI_CKPT_SECTION_ENTRY_SIZE;
}

static int tli_all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0)
      return 0;
  return 1;
}

static tl_status tli_check_header(tli_reader *r) {
  const unsigned char *b = r->buf;
  const char *fn = r->fn;
  TLI_CHECK(r->size >= TLI_CKPT_HEADER_SIZE, TL_E_FORMAT,
            "%s: truncated: %zu bytes, the header alone needs %u", fn, r->size,
            TLI_CKPT_HEADER_SIZE);
  TLI_CHECK(memcmp(b, TLI_CKPT_MAGIC, TLI_CKPT_MAGIC_SIZE) == 0, TL_E_FORMAT,
            "%s: not a libtl checkpoint (wrong magic bytes)", fn);
  const uint32_t version = tli_load_le32(b + 8);
  TLI_CHECK(version == TLI_CKPT_FORMAT_VERSION, TL_E_UNSUPPORTED,
            "%s: format version %u is not supported (this library reads "
            "version %u)",
            fn, version, TLI_CKPT_FORMAT_VERSION);
  TLI_CHECK(tli_load_le32(b + 12) == TLI_CKPT_BYTE_ORDER_MARK, TL_E_FORMAT,
            "%s: byte-order marker is 0x%08x, expected 0x%08x stored "
            "little-endian",
            fn, (unsigned)tli_load_le32(b + 12), TLI_CKPT_BYTE_ORDER_MARK);
  const uint64_t file_size = tli_load_le64(b + 16);
  TLI_CHECK(file_size <= r->size, TL_E_FORMAT,
            "%s: truncated: the header says %llu bytes, the input has %zu", fn,
            (unsigned long long)file_size, r->size);
  TLI_CHECK(file_size == r->size, TL_E_FORMAT,
            "%s: %llu bytes of trailing data after the checkpoint", fn,
            (unsigned long long)(r->size - file_size));
  TLI_CHECK(tli_load_le32(b + 40) == 0, TL_E_FORMAT,
            "%s: unknown header flags 0x%08x", fn,
            (unsigned)tli_load_le32(b + 40));
  TLI_CHECK(tli_all_zero(b + 48, 16), TL_E_FORMAT,
            "%s: reserved header bytes are not zero", fn);
  const uint64_t index_size = tli_load_le64(b + 24);
  TLI_CHECK(index_size <= r->size - TLI_CKPT_HEADER_SIZE, TL_E_FORMAT,
            "%s: the index (%llu bytes) runs past the end of the input", fn,
            (unsigned long long)index_size);
  r->n_tensors = tli_load_le32(b + 32);
  r->n_sections = tli_load_le32(b + 36);
  /* Both counts are < 2^32, so this u64 sum cannot overflow. */
  const uint64_t entries =
      (uint64_t)r->n_tensors * TLI_CKPT_TENSOR_ENTRY_SIZE +
      (uint64_t)r->n_sections * TLI_CKPT_SECTION_ENTRY_SIZE;
  TLI_CHECK(entries <= index_size, TL_E_FORMAT,
            "%s: %u tensor and %u section entries do not fit in an index of "
            "%llu bytes",
            fn, r->n_tensors, r->n_sections, (unsigned long long)index_size);
  r->index_end = TLI_CKPT_HEADER_SIZE + (size_t)index_size;
  r->pool_offset = TLI_CKPT_HEADER_SIZE + (size_t)entries;
  r->pool_size = (size_t)(index_size - entries);

  static const unsigned char zero[4] = {0, 0, 0, 0};
  uint32_t crc = tli_crc32(0, b, TLI_CKPT_HEADER_CRC_OFFSET);
  crc = tli_crc32(crc, zero, 4);
  crc = tli_crc32(crc, b + TLI_CKPT_HEADER_CRC_OFFSET + 4,
                  r->index_end - TLI_CKPT_HEADER_CRC_OFFSET - 4);
  const uint32_t stored = tli_load_le32(b + TLI_CKPT_HEADER_CRC_OFFSET);
  TLI_CHECK(crc == stored, TL_E_FORMAT,
            "%s: header CRC mismatch (stored 0x%08x, computed 0x%08x): the "
            "file is corrupt",
            fn, (unsigned)stored, (unsigned)crc);
  return TL_OK;
}

/* A blob (tensor data or section payload) at offset/size: aligned, after
 * the index, inside the input, and with the CRC it claims. */
static tl_status tli_check_blob(const tli_reader *r, uint64_t offset,
                                uint64_t size, uint32_t crc, const char *what,
                                const char *name) {
  const char *fn = r->fn;
  TLI_CHECK(offset % TLI_CKPT_DATA_ALIGN == 0, TL_E_FORMAT,
            "%s: %s '%s' starts at offset %llu, not a multiple of %u", fn, what,
            name, (unsigned long long)offset, TLI_CKPT_DATA_ALIGN);
  TLI_CHECK(offset >= r->index_end, TL_E_FORMAT,
            "%s: %s '%s' at offset %llu overlaps the index", fn, what, name,
            (unsigned long long)offset);
  TLI_CHECK(offset <= r->size && size <= r->size - offset, TL_E_FORMAT,
            "%s: %s '%s' (%llu bytes at offset %llu) runs past the end of "
            "the input (%zu bytes)",
            fn, what, name, (unsigned long long)size,
            (unsigned long long)offset, r->size);
  if (r->verify_crc) {
    const uint32_t got = tli_crc32(0, r->buf + offset, (size_t)size);
    TLI_CHECK(got == crc, TL_E_FORMAT,
              "%s: CRC mismatch in %s '%s' (stored 0x%08x, computed 0x%08x)",
              fn, what, name, (unsigned)crc, (unsigned)got);
  }
  return TL_OK;
}

static tl_status tli_check_tensor(const tli_reader *r, size_t i, tli_span *span,
                                  tli_name *name) {
  const char *fn = r->fn;
  const unsigned char *e = tli_tensor_entry(r, i);
  const uint64_t name_offset = tli_load_le64(e);
  const uint32_t name_len = tli_load_le32(e + 8);
  TLI_CHECK(name_len >= 1 && name_len <= TL_CKPT_MAX_STRING, TL_E_FORMAT,
            "%s: tensor %zu has a name of %u bytes (must be 1 to %u)", fn, i,
            (unsigned)name_len, TL_CKPT_MAX_STRING);
  TLI_CHECK(name_offset < r->pool_size && name_len < r->pool_size - name_offset,
            TL_E_FORMAT,
            "%s: the name of tensor %zu lies outside the string "
            "pool",
            fn, i);
  const char *s = (const char *)r->buf + r->pool_offset + name_offset;
  TLI_CHECK(s[name_len] == '\0' && memchr(s, '\0', name_len) == NULL,
            TL_E_FORMAT,
            "%s: the name of tensor %zu is not a NUL-terminated string of %u "
            "bytes",
            fn, i, (unsigned)name_len);
  const tl_ckpt_dtype dtype = (tl_ckpt_dtype)e[12];
  const size_t elem = tl_ckpt_dtype_size(dtype);
  TLI_CHECK(elem != 0, TL_E_FORMAT, "%s: tensor '%s' has unknown dtype %u", fn,
            s, (unsigned)e[12]);
  const unsigned rank = e[13];
  TLI_CHECK(rank <= TL_CKPT_MAX_RANK, TL_E_FORMAT,
            "%s: tensor '%s' has rank %u (at most %d)", fn, s, rank,
            TL_CKPT_MAX_RANK);
  TLI_CHECK(tli_load_le16(e + 14) == 0 && tli_all_zero(e + 100, 4) &&
                tli_all_zero(e + 16 + 8 * rank, 8 * (TL_CKPT_MAX_RANK - rank)),
            TL_E_FORMAT,
            "%s: tensor '%s' has non-zero reserved bytes or dimensions past "
            "its rank",
            fn, s);
  uint64_t numel = 1;
  for (unsigned d = 0; d < rank; d++) {
    const uint64_t dim = tli_load_le64(e + 16 + 8 * d);
    TLI_CHECK(dim <= SIZE_MAX && (dim == 0 || numel <= UINT64_MAX / dim),
              TL_E_FORMAT, "%s: the shape of tensor '%s' overflows", fn, s);
    numel *= dim;
  }
  TLI_CHECK(numel <= SIZE_MAX / elem, TL_E_FORMAT,
            "%s: the byte size of tensor '%s' overflows", fn, s);
  const uint64_t data_offset = tli_load_le64(e + 80);
  const uint64_t data_size = tli_load_le64(e + 88);
  TLI_CHECK(data_size == numel * elem, TL_E_FORMAT,
            "%s: tensor '%s' stores %llu bytes, its shape needs %llu", fn, s,
            (unsigned long long)data_size, (unsigned long long)(numel * elem));
  TLI_TRY(tli_check_blob(r, data_offset, data_size, tli_load_le32(e + 96),
                         "tensor", s));
  *span = (tli_span){(size_t)data_offset, (size_t)data_size, i};
  *name = (tli_name){s, i};
  return TL_OK;
}

static int tli_known_kind(uint32_t kind) {
  return kind >= TLI_CKPT_SEC_VOCAB && kind <= TLI_CKPT_SEC_RNG;
}

static tl_status tli_check_section(const tli_reader *r, size_t i,
                                   tli_span *span, uint64_t *seen) {
  const char *fn = r->fn;
  const unsigned char *e = tli_section_entry(r, i);
  const uint32_t kind = tli_load_le32(e);
  const uint32_t subkind = tli_load_le32(e + 4);
  char label[24];
  snprintf(label, sizeof label, "%u", (unsigned)kind);
  TLI_CHECK(tli_known_kind(kind) || (kind & TLI_CKPT_SEC_ANCILLARY),
            TL_E_UNSUPPORTED,
            "%s: section %zu has kind %u, which this library does not know "
            "and which is not marked ancillary",
            fn, i, (unsigned)kind);
  if (kind == TLI_CKPT_SEC_ARCH) {
    /* bit 63: the kinds above use bits 1..6 */
    TLI_CHECK(!(*seen & ((uint64_t)1 << 63)), TL_E_FORMAT,
              "%s: the architecture section appears twice", fn);
    *seen |= (uint64_t)1 << 63;
    TLI_CHECK(subkind == 0, TL_E_FORMAT,
              "%s: the architecture section has subkind %u (must be 0)", fn,
              (unsigned)subkind);
  }
  if (tli_known_kind(kind)) {
    TLI_CHECK(!(*seen & (1u << kind)), TL_E_FORMAT,
              "%s: section kind %u appears twice", fn, (unsigned)kind);
    *seen |= 1u << kind;
    const int typed = kind != TLI_CKPT_SEC_OPTIM && kind != TLI_CKPT_SEC_RNG;
    TLI_CHECK(!typed || subkind == 0, TL_E_FORMAT,
              "%s: section kind %u has subkind %u (must be 0)", fn,
              (unsigned)kind, (unsigned)subkind);
  }
  TLI_CHECK(tli_all_zero(e + 28, 4), TL_E_FORMAT,
            "%s: section %zu has non-zero reserved bytes", fn, i);
  const uint64_t offset = tli_load_le64(e + 8), size = tli_load_le64(e + 16);
  TLI_TRY(
      tli_check_blob(r, offset, size, tli_load_le32(e + 24), "section", label));
  *span = (tli_span){(size_t)offset, (size_t)size, r->n_tensors + i};
  return TL_OK;
}

static int tli_span_cmp(const void *a, const void *b) {
  const tli_span *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  return x->size < y->size ? -1 : x->size > y->size;
}

static int tli_name_cmp(const void *a, const void *b) {
  return strcmp(((const tli_name *)a)->name, ((const tli_name *)b)->name);
}

/* Blobs sorted by offset must not overlap, and every byte between them
 * (alignment padding) must be zero: with the CRCs this makes every byte of
 * the file checked, so any single corrupted byte is detected. */
static tl_status tli_check_layout(const tli_reader *r, tli_span *spans,
                                  size_t n) {
  qsort(spans, n, sizeof *spans, tli_span_cmp);
  size_t cursor = r->index_end;
  for (size_t i = 0; i <= n; i++) {
    const size_t next = i < n ? spans[i].offset : r->size;
    TLI_CHECK(next >= cursor, TL_E_FORMAT,
              "%s: data blocks overlap before offset %zu", r->fn, cursor);
    TLI_CHECK(tli_all_zero(r->buf + cursor, next - cursor), TL_E_FORMAT,
              "%s: padding bytes in [%zu, %zu) are not zero", r->fn, cursor,
              next);
    if (i < n)
      cursor = spans[i].offset + spans[i].size;
  }
  return TL_OK;
}

/* Checks every entry, then that no two blobs overlap and no two tensors
 * share a name (by sorting: linear checks would be quadratic in a hostile
 * file's entry count). */
static tl_status tli_check_index(const tli_reader *r) {
  const char *fn = r->fn;
  const size_t n_blobs = (size_t)r->n_tensors + r->n_sections;
  void *spans_mem = NULL, *names_mem = NULL;
  tl_status status =
      tli_alloc_checked(&spans_mem, n_blobs, sizeof(tli_span), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&names_mem, r->n_tensors, sizeof(tli_name), fn);
  tli_span *spans = spans_mem;
  tli_name *names = names_mem;
  for (size_t i = 0; i < r->n_tensors && status == TL_OK; i++)
    status = tli_check_tensor(r, i, &spans[i], &names[i]);
  uint64_t seen = 0;
  for (size_t i = 0; i < r->n_sections && status == TL_OK; i++)
    status = tli_check_section(r, i, &spans[r->n_tensors + i], &seen);
  if (status == TL_OK)
    status = tli_check_layout(r, spans, n_blobs);
  if (status == TL_OK && r->n_tensors > 1) {
    qsort(names, r->n_tensors, sizeof *names, tli_name_cmp);
    for (size_t i = 1; i < r->n_tensors && status == TL_OK; i++)
      if (strcmp(names[i - 1].name, names[i].name) == 0)
        status = tli_fail(TL_E_FORMAT, "%s: two tensors are named '%s'", fn,
                          names[i].name);
  }
  tli_free(spans_mem);
  tli_free(names_mem);
  return status;
}

/* ---- building the checkpoint -------------------------------------------- */

static tl_status tli_build_tensors(tl_ckpt *ckpt, const tli_reader *r) {
  void *array = NULL;
  TLI_TRY(
      tli_alloc_checked(&array, r->n_tensors, sizeof(tli_ckpt_tensor), r->fn));
  ckpt->tensors = array;
  ckpt->cap_tensors = r->n_tensors;
  for (size_t i = 0; i < r->n_tensors; i++) {
    const unsigned char *e = tli_tensor_entry(r, i);
    tli_ckpt_tensor t;
    memset(&t, 0, sizeof t);
    t.name_len = tli_load_le32(e + 8);
    t.dtype = (tl_ckpt_dtype)e[12];
    t.rank = e[13];
    t.numel = 1;
    for (size_t d = 0; d < t.rank; d++) {
      t.shape[d] = (size_t)tli_load_le64(e + 16 + 8 * d);
      t.numel *= t.shape[d];
    }
    t.nbytes = (size_t)tli_load_le64(e + 88);
    t.group = TL_CKPT_NO_GROUP;
    t.name = tli_ckpt_strndup((const char *)r->buf + r->pool_offset +
                                  (size_t)tli_load_le64(e),
                              t.name_len);
    t.data = tli_alloc(t.nbytes);
    if (t.name == NULL || t.data == NULL) {
      tli_free(t.name);
      tli_free(t.data);
      return tli_fail(TL_E_NOMEM, "%s: out of memory reading tensor %zu", r->fn,
                      i);
    }
    tli_from_le(t.data, r->buf + tli_load_le64(e + 80), t.numel,
                tl_ckpt_dtype_size(t.dtype));
    ckpt->tensors[ckpt->n_tensors++] = t;
  }
  return TL_OK;
}

/* Reads one string (u32 length, bytes, NUL) at *pos of p[0..size). */
static int tli_take_string(const unsigned char *p, size_t size, size_t *pos,
                           const char **out, size_t *out_len) {
  if (size - *pos < 4)
    return 0;
  const size_t len = tli_load_le32(p + *pos);
  if (len > TL_CKPT_MAX_STRING || size - *pos - 4 <= len)
    return 0;
  const char *s = (const char *)p + *pos + 4;
  if (s[len] != '\0' || memchr(s, '\0', len) != NULL)
    return 0;
  *out = s;
  *out_len = len;
  *pos += 5 + len;
  return 1;
}

/* Reads the count of a list section, bounded by the bytes that the count's
 * entries need at least (min_entry each), so a hostile count cannot make
 * the loader allocate beyond the input's size. */
static tl_status tli_take_count(size_t *out, const unsigned char *p,
                                size_t size, size_t min_entry, const char *what,
                                const char *fn) {
  TLI_CHECK(size >= 8, TL_E_FORMAT,
            "%s: the %s section is shorter than its "
            "count",
            fn, what);
  const uint64_t count = tli_load_le64(p);
  TLI_CHECK(count <= (size - 8) / min_entry, TL_E_FORMAT,
            "%s: the %s section claims %llu entries in %zu bytes", fn, what,
            (unsigned long long)count, size);
  *out = (size_t)count;
  return TL_OK;
}

static tl_status tli_build_vocab(tl_ckpt *ckpt, const unsigned char *p,
                                 size_t size, const char *fn) {
  size_t n;
  TLI_TRY(tli_take_count(&n, p, size, 5, "vocabulary", fn));
  void *list = NULL;
  TLI_TRY(tli_alloc_checked(&list, n, sizeof(char *), fn));
  ckpt->vocab = list;
  ckpt->has_vocab = 1;
  size_t pos = 8;
  for (size_t i = 0; i < n; i++) {
    const char *s;
    size_t len;
    TLI_CHECK(tli_take_string(p, size, &pos, &s, &len), TL_E_FORMAT,
              "%s: vocabulary token %zu is truncated, too long or not "
              "NUL-terminated",
              fn, i);
    ckpt->vocab[i] = tli_ckpt_strndup(s, len);
    TLI_CHECK(ckpt->vocab[i] != NULL, TL_E_NOMEM, "%s: out of memory", fn);
    ckpt->n_vocab = i + 1;
  }
  TLI_CHECK(pos == size, TL_E_FORMAT,
            "%s: %zu stray bytes after the vocabulary", fn, size - pos);
  return TL_OK;
}

static int tli_str_ptr_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static tl_status tli_build_meta(tl_ckpt *ckpt, const unsigned char *p,
                                size_t size, const char *fn) {
  size_t n;
  TLI_TRY(tli_take_count(&n, p, size, 10, "metadata", fn));
  if (n == 0) {
    TLI_CHECK(size == 8, TL_E_FORMAT, "%s: stray bytes after the metadata", fn);
    return TL_OK;
  }
  /* Exact sizes (no growth slack): allocation stays proportional to input. */
  void *keys = NULL, *values = NULL;
  TLI_TRY(tli_alloc_checked(&keys, n, sizeof(char *), fn));
  ckpt->meta_keys = keys;
  TLI_TRY(tli_alloc_checked(&values, n, sizeof(char *), fn));
  ckpt->meta_values = values;
  ckpt->cap_meta = n;
  size_t pos = 8;
  for (size_t i = 0; i < n; i++) {
    const char *key, *value;
    size_t key_len, value_len;
    TLI_CHECK(tli_take_string(p, size, &pos, &key, &key_len) &&
                  tli_take_string(p, size, &pos, &value, &value_len),
              TL_E_FORMAT,
              "%s: metadata entry %zu is truncated, too long or not "
              "NUL-terminated",
              fn, i);
    TLI_CHECK(key_len > 0, TL_E_FORMAT,
              "%s: metadata entry %zu has an empty "
              "key",
              fn, i);
    char *k = tli_ckpt_strndup(key, key_len);
    char *v = tli_ckpt_strndup(value, value_len);
    if (k == NULL || v == NULL) {
      tli_free(k);
      tli_free(v);
      return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
    }
    ckpt->meta_keys[i] = k;
    ckpt->meta_values[i] = v;
    ckpt->n_meta = i + 1;
  }
  TLI_CHECK(pos == size, TL_E_FORMAT, "%s: %zu stray bytes after the metadata",
            fn, size - pos);
  void *sorted_mem = NULL;
  TLI_TRY(tli_alloc_checked(&sorted_mem, n, sizeof(char *), fn));
  char **sorted = sorted_mem;
  memcpy(sorted, ckpt->meta_keys, n * sizeof(char *));
  qsort(sorted, n, sizeof(char *), tli_str_ptr_cmp);
  tl_status status = TL_OK;
  for (size_t i = 1; i < n && status == TL_OK; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0)
      status = tli_fail(TL_E_FORMAT, "%s: metadata key '%s' appears twice", fn,
                        sorted[i]);
  tli_free(sorted_mem);
  return status;
}

static tl_status tli_build_groups(tl_ckpt *ckpt, const unsigned char *p,
                                  size_t size, const char *fn) {
  size_t n;
  TLI_TRY(tli_take_count(&n, p, size, 8, "layer-group", fn));
  TLI_CHECK(size == 8 + 8 * n, TL_E_FORMAT,
            "%s: the layer-group section has %zu bytes, %zu entries need %zu",
            fn, size, n, 8 + 8 * n);
  for (size_t i = 0; i < n; i++) {
    const uint32_t tensor = tli_load_le32(p + 8 + 8 * i);
    const uint32_t group = tli_load_le32(p + 12 + 8 * i);
    TLI_CHECK(tensor < ckpt->n_tensors, TL_E_FORMAT,
              "%s: layer-group entry %zu names tensor %u of %zu", fn, i,
              (unsigned)tensor, ckpt->n_tensors);
    TLI_CHECK(i == 0 || tensor > tli_load_le32(p + 8 * i), TL_E_FORMAT,
              "%s: layer-group entries are not in increasing tensor order "
              "(entry %zu)",
              fn, i);
    TLI_CHECK(group != TL_CKPT_NO_GROUP, TL_E_FORMAT,
              "%s: layer-group entry %zu uses the reserved group 0x%08x", fn, i,
              (unsigned)group);
    ckpt->tensors[tensor].group = group;
  }
  return TL_OK;
}

static tl_status tli_build_blob(tli_ckpt_blob *blob, uint32_t subkind,
                                const unsigned char *p, size_t size,
                                const char *fn) {
  void *copy = NULL;
  TLI_TRY(tli_alloc_checked(&copy, size, 1, fn));
  if (size > 0)
    memcpy(copy, p, size);
  *blob = (tli_ckpt_blob){1, subkind, copy, size};
  return TL_OK;
}

static tl_status tli_build_section(tl_ckpt *ckpt, const tli_reader *r,
                                   size_t i) {
  const unsigned char *e = tli_section_entry(r, i);
  const uint32_t kind = tli_load_le32(e), subkind = tli_load_le32(e + 4);
  const unsigned char *p = r->buf + tli_load_le64(e + 8);
  const size_t size = (size_t)tli_load_le64(e + 16);
  switch (kind) {
  case TLI_CKPT_SEC_VOCAB: return tli_build_vocab(ckpt, p, size, r->fn);
  case TLI_CKPT_SEC_META: return tli_build_meta(ckpt, p, size, r->fn);
  case TLI_CKPT_SEC_GROUPS: return tli_build_groups(ckpt, p, size, r->fn);
  case TLI_CKPT_SEC_OPTIM:
    return tli_build_blob(&ckpt->optim, subkind, p, size, r->fn);
  case TLI_CKPT_SEC_STEP:
    TLI_CHECK(size == 8, TL_E_FORMAT,
              "%s: the step section has %zu bytes (must be 8)", r->fn, size);
    ckpt->step = tli_load_le64(p);
    ckpt->has_step = 1;
    return TL_OK;
  case TLI_CKPT_SEC_RNG:
    return tli_build_blob(&ckpt->rng, subkind, p, size, r->fn);
  case TLI_CKPT_SEC_ARCH:
    TLI_TRY(tli_ckpt_arch_validate(p, size, r->fn));
    return tli_build_blob(&ckpt->arch, subkind, p, size, r->fn);
  default: return TL_OK; /* an ancillary kind this version does not know */
  }
}

static tl_status tli_parse(tl_ckpt **out, const unsigned char *buf, size_t size,
                           const tl_ckpt_load_options *options,
                           const char *fn) {
  TLI_CHECK(options->max_size == 0 || size <= options->max_size, TL_E_FORMAT,
            "%s: the input has %zu bytes, more than options->max_size %llu", fn,
            size, (unsigned long long)options->max_size);
  tli_reader r;
  memset(&r, 0, sizeof r);
  r.buf = buf;
  r.size = size;
  r.fn = fn;
  r.verify_crc = options->verify_data_crc != 0;
  TLI_TRY(tli_check_header(&r));
  TLI_TRY(tli_check_index(&r));
  tl_ckpt *ckpt = NULL;
  TLI_TRY(tl_ckpt_create(&ckpt));
  tl_status status = tli_build_tensors(ckpt, &r);
  for (size_t i = 0; i < r.n_sections && status == TL_OK; i++)
    status = tli_build_section(ckpt, &r, i);
  if (status != TL_OK) {
    tl_ckpt_free(ckpt);
    return status;
  }
  *out = ckpt;
  return TL_OK;
}

tl_status tl_ckpt_load_buffer(tl_ckpt **out, const void *buf, size_t size,
                              const tl_ckpt_load_options *options) {
  static const char fn[] = "tl_ckpt_load_buffer";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, buf);
  tl_ckpt_load_options opts;
  TLI_TRY(tli_options(&opts, options, fn));
  return tli_parse(out, buf, size, &opts, fn);
}

/* Reads the whole regular file at path into a new buffer. O_NONBLOCK makes
 * the open itself return at once for a FIFO (a plain open waits for a
 * writer, forever if none comes) or a device that would wait for carrier;
 * the fstat then refuses anything but a regular file before a byte is read.
 * For a regular file O_NONBLOCK changes nothing, so the reads stay plain
 * blocking reads. O_NOCTTY: naming a terminal never makes it ours. */
static tl_status tli_read_file(void **out, size_t *out_size, const char *path,
                               const tl_ckpt_load_options *options,
                               const char *fn) {
  const int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  TLI_CHECK(fd >= 0, TL_E_IO, "%s: cannot open '%s': %s", fn, path,
            strerror(errno));
  struct stat st;
  tl_status status = TL_OK;
  if (fstat(fd, &st) != 0)
    status = tli_fail(TL_E_IO, "%s: cannot stat '%s': %s", fn, path,
                      strerror(errno));
  else if (!S_ISREG(st.st_mode))
    status = tli_fail(TL_E_IO,
                      "%s: '%s' is not a regular file (a FIFO, device, "
                      "socket or directory): refusing to read it",
                      fn, path);
  else if ((uint64_t)st.st_size > SIZE_MAX ||
           (options->max_size != 0 && (uint64_t)st.st_size > options->max_size))
    status = tli_fail(TL_E_FORMAT,
                      "%s: '%s' has %lld bytes, more than options->max_size "
                      "%llu allows",
                      fn, path, (long long)st.st_size,
                      (unsigned long long)options->max_size);
  const size_t size = status == TL_OK ? (size_t)st.st_size : 0;
  void *buf = NULL;
  if (status == TL_OK)
    status = tli_alloc_checked(&buf, size, 1, fn);
  for (size_t done = 0; status == TL_OK && done < size;) {
    const ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      status = tli_fail(TL_E_IO, "%s: reading '%s' failed: %s", fn, path,
                        n < 0 ? strerror(errno) : "the file shrank");
    else
      done += (size_t)n;
  }
  close(fd);
  if (status != TL_OK) {
    tli_free(buf);
    return status;
  }
  *out = buf;
  *out_size = size;
  return TL_OK;
}

tl_status tl_ckpt_load(tl_ckpt **out, const char *path,
                       const tl_ckpt_load_options *options) {
  static const char fn[] = "tl_ckpt_load";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, path);
  tl_ckpt_load_options opts;
  TLI_TRY(tli_options(&opts, options, fn));
  void *buf = NULL;
  size_t size = 0;
  TLI_TRY(tli_read_file(&buf, &size, path, &opts, fn));
  const tl_status status = tli_parse(out, buf, size, &opts, fn);
  tli_free(buf);
  return status;
}
