/* Writing the checkpoint format (docs/format.md) to a buffer or, atomically,
 * to a file. The image is produced through a positional sink: tensor data
 * first (each blob's CRC is known only once it is written), then the header
 * and index at offset 0, whose CRC covers the blobs' CRCs. */
/* realpath(3) is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/ckpt_internal.h"
#include "ckpt/crc32.h"
#include "core/alloc.h"
#include "core/error.h"

/* Host <-> little-endian conversion, element by element through integer
 * shifts: the same code is right on any host, and on a little-endian one the
 * compiler reduces it to plain copies. */

/* ---- layout ------------------------------------------------------------- */

#define TLI_MAX_SECTIONS 7

typedef struct tli_out_section {
  uint32_t kind, subkind;
  const unsigned char *bytes;
  size_t size;
} tli_out_section;

typedef struct tli_layout {
  size_t index_size;  /* bytes after the fixed header */
  size_t pool_offset; /* of the string pool, from the start of the file */
  size_t file_size;
  size_t n_sections;
  tli_out_section sections[TLI_MAX_SECTIONS];
  unsigned char *owned[TLI_MAX_SECTIONS]; /* serialised payloads to free */
  unsigned char step[8];
} tli_layout;

static void tli_layout_free(tli_layout *layout) {
  for (size_t i = 0; i < TLI_MAX_SECTIONS; i++)
    tli_free(layout->owned[i]);
}

static int tli_add_size(size_t *acc, size_t v) {
  if (v > (size_t)-1 - *acc)
    return 0;
  *acc += v;
  return 1;
}

/* Rounds *v up to the data alignment; 0 on overflow. */
static int tli_align(size_t *v) {
  const size_t a = TLI_CKPT_DATA_ALIGN;
  if (*v > (size_t)-1 - (a - 1))
    return 0;
  *v = (*v + a - 1) / a * a;
  return 1;
}

/* Appends a u32 length, the bytes and a NUL: the string encoding of the
 * vocabulary and metadata sections. */
static unsigned char *tli_put_string(unsigned char *p, const char *s) {
  const size_t len = strlen(s);
  tli_store_le32(p, (uint32_t)len);
  memcpy(p + 4, s, len);
  p[4 + len] = '\0';
  return p + 5 + len;
}

static tl_status tli_payload(tli_layout *layout, uint32_t kind, size_t size,
                             unsigned char **out, const char *fn) {
  void *bytes = NULL;
  TLI_TRY(tli_alloc_checked(&bytes, size, 1, fn));
  layout->owned[layout->n_sections] = bytes;
  layout->sections[layout->n_sections] =
      (tli_out_section){kind, 0, bytes, size};
  layout->n_sections++;
  *out = bytes;
  return TL_OK;
}

static tl_status tli_build_sections(tli_layout *layout, const tl_ckpt *ckpt,
                                    const char *fn) {
  unsigned char *p;
  if (ckpt->has_vocab) {
    size_t size = 8;
    for (size_t i = 0; i < ckpt->n_vocab; i++)
      if (!tli_add_size(&size, 5 + strlen(ckpt->vocab[i])))
        return tli_fail(TL_E_NOMEM, "%s: vocabulary size overflows", fn);
    TLI_TRY(tli_payload(layout, TLI_CKPT_SEC_VOCAB, size, &p, fn));
    tli_store_le64(p, ckpt->n_vocab);
    p += 8;
    for (size_t i = 0; i < ckpt->n_vocab; i++)
      p = tli_put_string(p, ckpt->vocab[i]);
  }
  if (ckpt->n_meta > 0) {
    size_t size = 8;
    for (size_t i = 0; i < ckpt->n_meta; i++)
      if (!tli_add_size(&size, 10 + strlen(ckpt->meta_keys[i]) +
                                   strlen(ckpt->meta_values[i])))
        return tli_fail(TL_E_NOMEM, "%s: metadata size overflows", fn);
    TLI_TRY(tli_payload(layout, TLI_CKPT_SEC_META, size, &p, fn));
    tli_store_le64(p, ckpt->n_meta);
    p += 8;
    for (size_t i = 0; i < ckpt->n_meta; i++) {
      p = tli_put_string(p, ckpt->meta_keys[i]);
      p = tli_put_string(p, ckpt->meta_values[i]);
    }
  }
  size_t grouped = 0;
  for (size_t i = 0; i < ckpt->n_tensors; i++)
    grouped += ckpt->tensors[i].group != TL_CKPT_NO_GROUP;
  if (grouped > 0) {
    TLI_TRY(tli_payload(layout, TLI_CKPT_SEC_GROUPS, 8 + 8 * grouped, &p, fn));
    tli_store_le64(p, grouped);
    p += 8;
    for (size_t i = 0; i < ckpt->n_tensors; i++)
      if (ckpt->tensors[i].group != TL_CKPT_NO_GROUP) {
        tli_store_le32(p, (uint32_t)i);
        tli_store_le32(p + 4, ckpt->tensors[i].group);
        p += 8;
      }
  }
  if (ckpt->optim.present)
    layout->sections[layout->n_sections++] =
        (tli_out_section){TLI_CKPT_SEC_OPTIM, ckpt->optim.subkind,
                          ckpt->optim.bytes, ckpt->optim.size};
  if (ckpt->has_step) {
    tli_store_le64(layout->step, ckpt->step);
    layout->sections[layout->n_sections++] =
        (tli_out_section){TLI_CKPT_SEC_STEP, 0, layout->step, 8};
  }
  if (ckpt->rng.present)
    layout->sections[layout->n_sections++] = (tli_out_section){
        TLI_CKPT_SEC_RNG, ckpt->rng.subkind, ckpt->rng.bytes, ckpt->rng.size};
  if (ckpt->arch.present)
    layout->sections[layout->n_sections++] = (tli_out_section){
        TLI_CKPT_SEC_ARCH, 0, ckpt->arch.bytes, ckpt->arch.size};
  return TL_OK;
}

/* Fills *layout: sections serialised, sizes of the index and the file. The
 * blob offsets follow from walking tensors then sections with tli_align,
 * which the writer repeats. */
static tl_status tli_layout_build(tli_layout *layout, const tl_ckpt *ckpt,
                                  const char *fn) {
  memset(layout, 0, sizeof *layout);
  TLI_CHECK(ckpt->n_tensors <= UINT32_MAX, TL_E_INVALID_ARG,
            "%s: %zu tensors exceed the format's limit", fn, ckpt->n_tensors);
  tl_status status = tli_build_sections(layout, ckpt, fn);
  if (status != TL_OK) {
    tli_layout_free(layout);
    return status;
  }
  size_t size = ckpt->n_tensors * (size_t)TLI_CKPT_TENSOR_ENTRY_SIZE +
                layout->n_sections * TLI_CKPT_SECTION_ENTRY_SIZE;
  layout->pool_offset = TLI_CKPT_HEADER_SIZE + size;
  int ok = 1;
  for (size_t i = 0; i < ckpt->n_tensors; i++)
    ok &= tli_add_size(&size, ckpt->tensors[i].name_len + 1);
  layout->index_size = size;
  size_t cursor = TLI_CKPT_HEADER_SIZE;
  ok &= tli_add_size(&cursor, size);
  for (size_t i = 0; i < ckpt->n_tensors; i++)
    ok &= tli_align(&cursor) && tli_add_size(&cursor, ckpt->tensors[i].nbytes);
  for (size_t i = 0; i < layout->n_sections; i++)
    ok &= tli_align(&cursor) && tli_add_size(&cursor, layout->sections[i].size);
  layout->file_size = cursor;
  if (!ok) {
    tli_layout_free(layout);
    return tli_fail(TL_E_NOMEM, "%s: the file size overflows size_t", fn);
  }
  return TL_OK;
}

/* ---- writing through a sink --------------------------------------------- */

typedef struct tli_sink {
  tl_status (*write_at)(void *ctx, size_t offset, const void *bytes, size_t n);
  void *ctx;
} tli_sink;

#define TLI_STAGING_BYTES ((size_t)1 << 16)

/* Writes tensor t at offset in little-endian order; returns its CRC. */
static tl_status tli_write_tensor(const tli_sink *sink, unsigned char *staging,
                                  const tli_ckpt_tensor *t, size_t offset,
                                  uint32_t *crc) {
  const size_t elem = tl_ckpt_dtype_size(t->dtype);
  const size_t per_chunk = TLI_STAGING_BYTES / elem;
  const unsigned char *src = t->data;
  *crc = 0;
  for (size_t done = 0; done < t->numel;) {
    const size_t n = t->numel - done < per_chunk ? t->numel - done : per_chunk;
    tli_to_le(staging, src + done * elem, n, elem);
    *crc = tli_crc32(*crc, staging, n * elem);
    TLI_TRY(sink->write_at(sink->ctx, offset + done * elem, staging, n * elem));
    done += n;
  }
  return TL_OK;
}

static void tli_fill_header(unsigned char *image, const tl_ckpt *ckpt,
                            const tli_layout *layout) {
  memcpy(image, TLI_CKPT_MAGIC, TLI_CKPT_MAGIC_SIZE);
  tli_store_le32(image + 8, TLI_CKPT_FORMAT_VERSION);
  tli_store_le32(image + 12, TLI_CKPT_BYTE_ORDER_MARK);
  tli_store_le64(image + 16, layout->file_size);
  tli_store_le64(image + 24, layout->index_size);
  tli_store_le32(image + 32, (uint32_t)ckpt->n_tensors);
  tli_store_le32(image + 36, (uint32_t)layout->n_sections);
  /* flags (40), crc (44) and reserved (48..64) stay zero here. */
}

static tl_status tli_write_image(const tl_ckpt *ckpt, const tli_layout *layout,
                                 const tli_sink *sink, const char *fn) {
  const size_t head_size = TLI_CKPT_HEADER_SIZE + layout->index_size;
  void *head_mem = NULL, *staging = NULL;
  tl_status status = tli_alloc_checked(&head_mem, head_size, 1, fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&staging, TLI_STAGING_BYTES, 1, fn);
  if (status != TL_OK) {
    tli_free(head_mem);
    return status;
  }
  unsigned char *head = head_mem;
  memset(head, 0, head_size);
  tli_fill_header(head, ckpt, layout);

  size_t cursor = head_size, pool = 0;
  unsigned char *entry = head + TLI_CKPT_HEADER_SIZE;
  for (size_t i = 0; i < ckpt->n_tensors && status == TL_OK; i++) {
    const tli_ckpt_tensor *t = &ckpt->tensors[i];
    tli_align(&cursor); /* cannot overflow: the layout checked the sum */
    uint32_t crc = 0;
    status = tli_write_tensor(sink, staging, t, cursor, &crc);
    tli_store_le64(entry + 0, pool);
    tli_store_le32(entry + 8, (uint32_t)t->name_len);
    entry[12] = (unsigned char)t->dtype;
    entry[13] = (unsigned char)t->rank;
    for (size_t d = 0; d < t->rank; d++)
      tli_store_le64(entry + 16 + 8 * d, t->shape[d]);
    tli_store_le64(entry + 80, cursor);
    tli_store_le64(entry + 88, t->nbytes);
    tli_store_le32(entry + 96, crc);
    memcpy(head + layout->pool_offset + pool, t->name, t->name_len + 1);
    pool += t->name_len + 1;
    cursor += t->nbytes;
    entry += TLI_CKPT_TENSOR_ENTRY_SIZE;
  }
  for (size_t i = 0; i < layout->n_sections && status == TL_OK; i++) {
    const tli_out_section *s = &layout->sections[i];
    tli_align(&cursor);
    if (s->size > 0)
      status = sink->write_at(sink->ctx, cursor, s->bytes, s->size);
    tli_store_le32(entry + 0, s->kind);
    tli_store_le32(entry + 4, s->subkind);
    tli_store_le64(entry + 8, cursor);
    tli_store_le64(entry + 16, s->size);
    tli_store_le32(entry + 24, tli_crc32(0, s->bytes, s->size));
    cursor += s->size;
    entry += TLI_CKPT_SECTION_ENTRY_SIZE;
  }
  if (status == TL_OK) {
    tli_store_le32(head + TLI_CKPT_HEADER_CRC_OFFSET,
                   tli_crc32(0, head, head_size));
    status = sink->write_at(sink->ctx, 0, head, head_size);
  }
  tli_free(staging);
  tli_free(head_mem);
  return status;
}

/* ---- the buffer path ---------------------------------------------------- */

typedef struct tli_buffer_sink {
  unsigned char *buf;
  size_t capacity;
} tli_buffer_sink;

static tl_status tli_buffer_write_at(void *ctx, size_t offset,
                                     const void *bytes, size_t n) {
  tli_buffer_sink *sink = ctx;
  if (offset > sink->capacity || n > sink->capacity - offset)
    return tli_fail(TL_E_INTERNAL, "tl_ckpt_save_buffer: write past the "
                                   "image size (a libtl bug)");
  memcpy(sink->buf + offset, bytes, n);
  return TL_OK;
}

tl_status tl_ckpt_serialized_size(size_t *out, const tl_ckpt *ckpt) {
  TLI_CHECK_PTR("tl_ckpt_serialized_size", out);
  TLI_CHECK_PTR("tl_ckpt_serialized_size", ckpt);
  tli_layout layout;
  TLI_TRY(tli_layout_build(&layout, ckpt, "tl_ckpt_serialized_size"));
  *out = layout.file_size;
  tli_layout_free(&layout);
  return TL_OK;
}

tl_status tl_ckpt_save_buffer(void *out, size_t capacity, size_t *out_written,
                              const tl_ckpt *ckpt) {
  static const char fn[] = "tl_ckpt_save_buffer";
  TLI_CHECK_PTR(fn, out_written);
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, out);
  tli_layout layout;
  TLI_TRY(tli_layout_build(&layout, ckpt, fn));
  if (capacity < layout.file_size) {
    const size_t need = layout.file_size;
    tli_layout_free(&layout);
    return tli_fail(TL_E_INVALID_ARG,
                    "%s: capacity %zu is smaller than the %zu bytes needed "
                    "(tl_ckpt_serialized_size)",
                    fn, capacity, need);
  }
  /* Alignment gaps between blobs are zero. */
  memset(out, 0, layout.file_size);
  tli_buffer_sink target = {out, layout.file_size};
  const tli_sink sink = {tli_buffer_write_at, &target};
  const tl_status status = tli_write_image(ckpt, &layout, &sink, fn);
  if (status == TL_OK)
    *out_written = layout.file_size;
  tli_layout_free(&layout);
  return status;
}

/* ---- the atomic file path ----------------------------------------------- */

static ssize_t tli_sys_pwrite(void *payload, int fd, const void *buf, size_t n,
                              off_t offset) {
  (void)payload;
  return pwrite(fd, buf, n, offset);
}
static int tli_sys_fsync(void *payload, int fd) {
  (void)payload;
  return fsync(fd);
}
static int tli_sys_rename(void *payload, const char *from, const char *to) {
  (void)payload;
  return rename(from, to);
}

void tli_ckpt_fileops_default(tli_ckpt_fileops *out) {
  out->pwrite = tli_sys_pwrite;
  out->fsync = tli_sys_fsync;
  out->rename = tli_sys_rename;
  out->payload = NULL;
}

typedef struct tli_file_sink {
  int fd;
  const tli_ckpt_fileops *ops;
  const char *path;
} tli_file_sink;

static tl_status tli_file_write_at(void *ctx, size_t offset, const void *bytes,
                                   size_t n) {
  const tli_file_sink *sink = ctx;
  const unsigned char *p = bytes;
  while (n > 0) {
    if ((uint64_t)offset > (uint64_t)INT64_MAX)
      return tli_fail(TL_E_IO, "tl_ckpt_save: offset %zu is beyond off_t",
                      offset);
    const ssize_t w =
        sink->ops->pwrite(sink->ops->payload, sink->fd, p, n, (off_t)offset);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return tli_fail(TL_E_IO, "tl_ckpt_save: writing '%s' failed: %s",
                      sink->path, w < 0 ? strerror(errno) : "no progress");
    p += w;
    offset += (size_t)w;
    n -= (size_t)w;
  }
  return TL_OK;
}

/* The directory holding path ("." for a bare name), for the final fsync
 * that makes the rename durable. */
static char *tli_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    return tli_ckpt_strndup(".", 1);
  if (slash == path)
    return tli_ckpt_strndup("/", 1);
  return tli_ckpt_strndup(path, (size_t)(slash - path));
}

static tl_status tli_fsync_dir(const char *path) {
  char *dir = tli_dirname(path);
  TLI_CHECK(dir != NULL, TL_E_NOMEM, "tl_ckpt_save: out of memory");
  const int fd = open(dir, O_RDONLY | O_DIRECTORY);
  tl_status status = TL_OK;
  /* Some file systems cannot fsync a directory (EINVAL): the rename is then
   * as durable as that file system makes it, and the save stands. */
  if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP))
    status = tli_fail(TL_E_IO,
                      "tl_ckpt_save: '%s' was written but syncing its "
                      "directory '%s' failed: %s",
                      path, dir, strerror(errno));
  if (fd >= 0)
    close(fd);
  tli_free(dir);
  return status;
}

/* Writes, flushes and closes the temporary file fd. */
static tl_status tli_write_temp(int fd, const tl_ckpt *ckpt,
                                const tli_layout *layout, const char *path,
                                const tli_ckpt_fileops *ops) {
  static const char fn[] = "tl_ckpt_save";
  tli_file_sink target = {fd, ops, path};
  const tli_sink sink = {tli_file_write_at, &target};
  tl_status status = TL_OK;
  if (ftruncate(fd, (off_t)layout->file_size) != 0)
    status = tli_fail(TL_E_IO, "%s: preparing the file for '%s' failed: %s", fn,
                      path, strerror(errno));
  if (status == TL_OK)
    status = tli_write_image(ckpt, layout, &sink, fn);
  if (status == TL_OK && ops->fsync(ops->payload, fd) != 0)
    status = tli_fail(TL_E_IO, "%s: flushing '%s' to disk failed: %s", fn, path,
                      strerror(errno));
  if (close(fd) != 0 && status == TL_OK)
    status = tli_fail(TL_E_IO, "%s: closing the file for '%s' failed: %s", fn,
                      path, strerror(errno));
  return status;
}

/* The file a save replaces, into *out (tli_alloc'd): path itself, or the
 * file a symbolic link at path resolves to, so the link stays a link and
 * points to the new checkpoint. Anything else that exists and is not a
 * regular file (a device, a directory, a FIFO) is refused: the rename would
 * replace it with a regular file. *mode is the permission bits of the file
 * replaced, or -1 when there is none. */
static tl_status tli_save_target(char **out, long *mode, const char *path) {
  static const char fn[] = "tl_ckpt_save";
  struct stat st;
  const char *target = path;
  char *resolved = NULL;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    TLI_TRY(tli_alloc_checked((void **)&resolved, PATH_MAX, 1, fn));
    if (realpath(path, resolved) != NULL) {
      target = resolved;
    } else if (errno != ENOENT) {
      tli_free(resolved);
      return tli_fail(TL_E_IO, "%s: cannot resolve the link '%s': %s", fn, path,
                      strerror(errno));
    } else {
      /* A dangling link: write the file it names, as open(2) would. */
      const ssize_t n = readlink(path, resolved, PATH_MAX - 1);
      if (n < 0 || resolved[0] != '/') {
        tli_free(resolved);
        return tli_fail(TL_E_IO,
                        "%s: '%s' is a dangling symbolic link; pass the "
                        "path of the file to write",
                        fn, path);
      }
      resolved[n] = '\0';
      target = resolved;
    }
  }
  *mode = -1;
  if (stat(target, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      tli_free(resolved);
      return tli_fail(TL_E_IO,
                      "%s: '%s' exists and is not a regular file (a directory "
                      "or a device): refusing to replace it",
                      fn, path);
    }
    /* The permission bits only: set-user-ID and set-group-ID bits are not
     * carried onto a freshly written file. */
    *mode = (long)(st.st_mode & 0777);
  }
  if (resolved == NULL) {
    const size_t len = strlen(path) + 1;
    TLI_TRY(tli_alloc_checked((void **)&resolved, len, 1, fn));
    memcpy(resolved, path, len);
  }
  *out = resolved;
  return TL_OK;
}

/* The temporary file's name is path + ".tmp-" + 6 characters. */
static const char tli_temp_suffix[] = ".tmp-XXXXXX";

/* Creates the temporary file: temp holds path in its first path_len bytes
 * and gets the suffix. Not mkstemp, which makes the file 0600 whatever the
 * umask: open(2) with 0666 lets the kernel apply the umask, which cannot be
 * read without setting it (process-wide, racy with other threads). The
 * name mixes the process id, a per-process counter and the clock; O_EXCL
 * makes a clash (another process, a stale file) a retry, never a reuse.
 * Returns the descriptor, or -1 with errno set. */
static int tli_create_temp(char *temp, size_t path_len) {
  static const char chars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static atomic_uint_fast64_t counter;
  for (int attempt = 0; attempt < 100; attempt++) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* splitmix64 of the three: any change in one changes every character. */
    uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^
                 atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed) ^
                 ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    x ^= x >> 31;
    memcpy(temp + path_len, tli_temp_suffix, sizeof tli_temp_suffix);
    char *r = temp + path_len + sizeof tli_temp_suffix - 7;
    for (int i = 0; i < 6; i++, x /= 62)
      r[i] = chars[x % 62];
    const int fd =
        open(temp, O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

tl_status tli_ckpt_save_with(const tl_ckpt *ckpt, const char *path_arg,
                             const tli_ckpt_fileops *ops) {
  static const char fn[] = "tl_ckpt_save";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK(path_arg != NULL, TL_E_INVALID_ARG, "%s: argument 'path' is NULL",
            fn);
  TLI_CHECK_PTR(fn, ops);
  TLI_CHECK(path_arg[0] != '\0', TL_E_INVALID_ARG, "%s: path is empty", fn);
  char *path = NULL;
  long keep_mode = -1;
  TLI_TRY(tli_save_target(&path, &keep_mode, path_arg));
  tli_layout layout;
  const tl_status built = tli_layout_build(&layout, ckpt, fn);
  if (built != TL_OK) {
    tli_free(path);
    return built;
  }

  const size_t path_len = strlen(path);
  char *temp = tli_alloc(path_len + sizeof tli_temp_suffix);
  if (temp == NULL) {
    tli_layout_free(&layout);
    tli_free(path);
    return tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  }
  memcpy(temp, path, path_len);
  tl_status status = TL_OK;
  const int fd = tli_create_temp(temp, path_len);
  if (fd < 0) {
    status = tli_fail(TL_E_IO,
                      "%s: cannot create a temporary file next to "
                      "'%s': %s",
                      fn, path, strerror(errno));
  } else {
    /* Replacing a file keeps its mode (a private checkpoint stays
     * private); a new file has the mode open(2) gave it. fchmod on our
     * own descriptor: no umask toggling, which is process-wide. */
    if (keep_mode >= 0 && fchmod(fd, (mode_t)keep_mode) != 0)
      status =
          tli_fail(TL_E_IO, "%s: giving the new '%s' mode %03lo failed: %s", fn,
                   path, (unsigned long)keep_mode, strerror(errno));
    if (status == TL_OK)
      status = tli_write_temp(fd, ckpt, &layout, path, ops);
    else
      close(fd);
    if (status == TL_OK && ops->rename(ops->payload, temp, path) != 0)
      status = tli_fail(TL_E_IO,
                        "%s: renaming the new file onto '%s' "
                        "failed: %s",
                        fn, path, strerror(errno));
    if (status != TL_OK)
      unlink(temp);
    else
      status = tli_fsync_dir(path);
  }
  tli_free(temp);
  tli_free(path);
  tli_layout_free(&layout);
  return status;
}

tl_status tl_ckpt_save(const tl_ckpt *ckpt, const char *path) {
  tli_ckpt_fileops ops;
  tli_ckpt_fileops_default(&ops);
  return tli_ckpt_save_with(ckpt, path, &ops);
}
