/* Internal: the in-memory checkpoint, the on-disk layout constants of
 * docs/format.md, explicit little-endian byte access, and the file-system
 * seam that lets tests inject write failures into an atomic save. */
#ifndef TLI_TRANSFER_CKPT_H
#define TLI_TRANSFER_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/byteorder.h"
#include "tl/ckpt.h"

/* ---- on-disk layout (docs/format.md) ------------------------------------ */

#define TLI_CKPT_MAGIC "\x89TLCKPT\n"
#define TLI_CKPT_MAGIC_SIZE 8
#define TLI_CKPT_FORMAT_VERSION 1u
#define TLI_CKPT_BYTE_ORDER_MARK 0x01020304u
#define TLI_CKPT_HEADER_SIZE 64u
#define TLI_CKPT_TENSOR_ENTRY_SIZE 104u
#define TLI_CKPT_SECTION_ENTRY_SIZE 32u
#define TLI_CKPT_DATA_ALIGN 64u
/* Offset of the header CRC field, which is zero while the CRC is taken. */
#define TLI_CKPT_HEADER_CRC_OFFSET 44u

/* Section kinds on disk. Bit 31 marks an ancillary kind: a reader that does
 * not know it skips it; an unknown kind without the bit is an error. */
enum {
  TLI_CKPT_SEC_VOCAB = 1,
  TLI_CKPT_SEC_META = 2,
  TLI_CKPT_SEC_GROUPS = 3,
  TLI_CKPT_SEC_OPTIM = TL_CKPT_SECTION_OPTIM,
  TLI_CKPT_SEC_STEP = 5,
  TLI_CKPT_SEC_RNG = TL_CKPT_SECTION_RNG
};
#define TLI_CKPT_SEC_ANCILLARY 0x80000000u
/* The architecture section (tl_ckpt_store_arch): ancillary, so that a
 * reader older than it still loads the tensors and skips it. */
#define TLI_CKPT_SEC_ARCH (TLI_CKPT_SEC_ANCILLARY | 7u)

/* ---- the in-memory checkpoint ------------------------------------------- */

typedef struct tli_ckpt_tensor {
  char *name;
  size_t name_len;
  tl_ckpt_dtype dtype;
  size_t rank;
  size_t shape[TL_CKPT_MAX_RANK];
  size_t numel;
  size_t nbytes;
  uint32_t group;
  void *data; /* host byte order, nbytes (a 1-byte block when 0) */
} tli_ckpt_tensor;

typedef struct tli_ckpt_blob {
  int present;
  uint32_t subkind;
  void *bytes;
  size_t size;
} tli_ckpt_blob;

struct tl_ckpt {
  tli_ckpt_tensor *tensors;
  size_t n_tensors, cap_tensors;
  char **meta_keys, **meta_values;
  size_t n_meta, cap_meta;
  int has_vocab;
  char **vocab;
  size_t n_vocab;
  int has_step;
  uint64_t step;
  tli_ckpt_blob optim, rng;
  tli_ckpt_blob arch; /* the architecture payload, validated when loaded */
};

/* The tensor called name (and its index if index is not NULL), or NULL. */
const tli_ckpt_tensor *tli_ckpt_find(const tl_ckpt *ckpt, const char *name,
                                     size_t *index);
/* Allocates a copy of s[0..len) plus a NUL, or NULL. */
char *tli_ckpt_strndup(const char *s, size_t len);
/* Frees the strings of list[0..n) and the list. */
void tli_ckpt_free_strings(char **list, size_t n);
/* The blob of an opaque section kind, or NULL if kind is not one. */
tli_ckpt_blob *tli_ckpt_blob_of(tl_ckpt *ckpt, tl_ckpt_section kind);
/* Makes room for one more tensor / metadata entry. */
tl_status tli_ckpt_reserve_tensors(tl_ckpt *ckpt, size_t n, const char *fn);
tl_status tli_ckpt_reserve_meta(tl_ckpt *ckpt, size_t n, const char *fn);

/* ---- the file-system seam ----------------------------------------------- */

/* The system calls an atomic save makes. tl_ckpt_save uses the real ones;
 * tests pass versions that fail at a chosen point (disk full, fsync error,
 * rename refused) to prove the previous file survives. Each returns what the
 * POSIX call returns and sets errno on failure. */
typedef struct tli_ckpt_fileops {
  ssize_t (*pwrite)(void *payload, int fd, const void *buf, size_t n,
                    off_t offset);
  int (*fsync)(void *payload, int fd);
  int (*rename)(void *payload, const char *from, const char *to);
  void *payload;
} tli_ckpt_fileops;

/* The real system calls. */
void tli_ckpt_fileops_default(tli_ckpt_fileops *out);

/* tl_ckpt_save through ops. */
tl_status tli_ckpt_save_with(const tl_ckpt *ckpt, const char *path,
                             const tli_ckpt_fileops *ops);

/* ---- the architecture section (ckpt_arch.c) ----------------------------- */

/* Checks an architecture payload completely (structure, kinds, names,
 * groups, ties, setting counts); TL_E_FORMAT naming the field. */
tl_status tli_ckpt_arch_validate(const unsigned char *p, size_t size,
                                 const char *fn);

/* ---- RNG streams (the RNG section with subkind TL_CKPT_RNG_STREAMS) ---- */

#include "core/rng.h"

/* Finds the stream `name` in ckpt's RNG section. *found = 0 when there is
 * no section, the section is not libtl streams, or the name is absent.
 * TL_E_FORMAT if a streams section is malformed. */
tl_status tli_ckpt_rng_find(const tl_ckpt *ckpt, const char *name, tli_rng *out,
                            int *found, const char *fn);

/* Builds (allocates) the payload of the streams section with stream `name`
 * set to *rng (replaced or appended). TL_E_STATE if the RNG section holds
 * something else, TL_E_FORMAT if it is malformed. */
tl_status tli_ckpt_rng_with(const tl_ckpt *ckpt, const char *name,
                            const tli_rng *rng, void **out_bytes,
                            size_t *out_size, const char *fn);

#endif
