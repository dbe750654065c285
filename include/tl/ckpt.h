/*
 * libtl checkpoints: an in-memory table of named tensors plus optional
 * sections (vocabulary, layer groups, optimizer state, schedule step, RNG
 * state, metadata), and its file format (docs/format.md).
 *
 * A tl_ckpt is a container on its own: it needs no model, so converters and
 * tools can build, inspect and write checkpoints directly. Every tensor and
 * string added is copied; views returned stay valid until the checkpoint is
 * freed or the viewed item is replaced or removed.
 *
 * Files are little-endian whatever the host, 64-byte aligned, CRC32-checked.
 * tl_ckpt_save is atomic (temp file, fsync, rename, fsync of the directory):
 * a failed save leaves the previous file intact. Loading validates every
 * field before returning: a malformed file gives TL_E_FORMAT (an unknown
 * format version TL_E_UNSUPPORTED) with a message, never a crash, and the
 * loader allocates no more than a small multiple of the input's size.
 *
 * The second half of this header moves models, optimizer state and RNG
 * streams in and out of checkpoints (strict or partial loads, prefixes,
 * name maps, vocabulary remapping), for fine-tuning and exact resume.
 *
 * Thread-safety: distinct checkpoints may be used from different threads at
 * once; one checkpoint must not be modified while another thread uses it
 * (concurrent const calls on one checkpoint are safe). Calls that take a
 * model or optimizer follow that object's rules (include/tl/model.h).
 */
#ifndef TL_CKPT_H
#define TL_CKPT_H

#include "tl/core.h"
#include "tl/model.h"
#include "tl/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque checkpoint: named tensors in insertion order, metadata, an
 * optional vocabulary, step and opaque sections, all owned copies. Created
 * by tl_ckpt_create or a load, freed by tl_ckpt_free. */
typedef struct tl_ckpt tl_ckpt;

/* Element types of checkpoint tensors. Values are on disk: never changed. */
typedef enum tl_ckpt_dtype {
  TL_CKPT_F32 = 1, /* IEEE-754 binary32 */
  TL_CKPT_F64 = 2, /* IEEE-754 binary64 */
  TL_CKPT_I64 = 3, /* two's-complement int64 */
  TL_CKPT_U8 = 4,  /* uint8 (masks, raw bytes) */
  TL_CKPT_I32 = 5  /* two's-complement int32 */
} tl_ckpt_dtype;

/* Opaque sections set with tl_ckpt_set_section. Values are on disk. The
 * other section kinds of the format (vocabulary, metadata, layer groups,
 * schedule step) have typed accessors below. */
typedef enum tl_ckpt_section {
  TL_CKPT_SECTION_OPTIM = 4, /* optimizer state; subkind = optimizer kind */
  TL_CKPT_SECTION_RNG = 6    /* RNG state; subkind chosen by its writer */
} tl_ckpt_section;

/* Largest tensor rank the format holds. */
#define TL_CKPT_MAX_RANK 8
/* Longest tensor name, metadata key or value, or vocabulary token (bytes,
 * without the terminating NUL). */
#define TL_CKPT_MAX_STRING 65535u
/* tl_ckpt_tensor_desc.group of a tensor in no layer group. */
#define TL_CKPT_NO_GROUP 0xFFFFFFFFu

/* Description of one tensor, filled by tl_ckpt_tensor_info. The caller
 * sets version (TL_CKPT_TENSOR_DESC_VERSION, or use
 * TL_CKPT_TENSOR_DESC_INIT) so that the struct can grow at the end without
 * the library writing past an older caller's copy. name points into the
 * checkpoint (a view). */
#define TL_CKPT_TENSOR_DESC_VERSION 1
/* A tl_ckpt_tensor_desc with its version set and every other field 0:
 * tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT; */
#define TL_CKPT_TENSOR_DESC_INIT                                               \
  { TL_CKPT_TENSOR_DESC_VERSION, NULL, (tl_ckpt_dtype)0, 0, {0}, 0, 0, 0 }
typedef struct tl_ckpt_tensor_desc {
  unsigned int version; /* set by the caller */
  /* the tensor's name (a view into the checkpoint) */
  const char *name;
  /* element type */
  tl_ckpt_dtype dtype;
  size_t rank;                    /* 0 (a scalar) .. TL_CKPT_MAX_RANK */
  size_t shape[TL_CKPT_MAX_RANK]; /* shape[rank..] are 0 */
  size_t numel;                   /* product of shape (1 for a scalar) */
  size_t nbytes;                  /* numel * element size */
  uint32_t group;                 /* layer group or TL_CKPT_NO_GROUP */
} tl_ckpt_tensor_desc;

/* Bytes of one element of dtype, or 0 for an unknown dtype. */
TL_API size_t tl_ckpt_dtype_size(tl_ckpt_dtype dtype);

/* Creates an empty checkpoint. Free it with tl_ckpt_free.
 * Errors: TL_E_INVALID_ARG (out NULL), TL_E_NOMEM. */
TL_API tl_status tl_ckpt_create(tl_ckpt **out);

/* Frees a checkpoint and everything in it; NULL is a no-op. */
TL_API void tl_ckpt_free(tl_ckpt *ckpt);

/* ---- tensors ---------------------------------------------------------- */

/* Adds a tensor named `name` (non-empty, at most TL_CKPT_MAX_STRING bytes)
 * of `dtype` and `shape[0..rank)`, copying numel elements from data in host
 * byte order (data may be NULL only when numel is 0). Tensors keep the
 * order they were added in. Errors: TL_E_INVALID_ARG (NULL, bad dtype,
 * rank > TL_CKPT_MAX_RANK, a name already present), TL_E_NOMEM (including
 * a shape whose byte size overflows). */
TL_API tl_status tl_ckpt_add_tensor(tl_ckpt *ckpt, const char *name,
                                    tl_ckpt_dtype dtype, size_t rank,
                                    const size_t *shape, const void *data);

/* Removes the tensor at index; later tensors move down by one. Views of
 * the removed tensor become invalid. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_remove_tensor(tl_ckpt *ckpt, size_t index);

/* Number of tensors. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_tensor_count(size_t *out, const tl_ckpt *ckpt);

/* The index of the tensor called name. Errors: TL_E_INVALID_ARG,
 * TL_E_NOT_FOUND. */
TL_API tl_status tl_ckpt_find_tensor(size_t *out, const tl_ckpt *ckpt,
                                     const char *name);

/* Describes the tensor at index into *out, whose version the caller set.
 * Errors: TL_E_INVALID_ARG (index out of range), TL_E_UNSUPPORTED
 * (out->version unknown). */
TL_API tl_status tl_ckpt_tensor_info(tl_ckpt_tensor_desc *out,
                                     const tl_ckpt *ckpt, size_t index);

/* A read-only view of the tensor's elements in host byte order, aligned to
 * 64 bytes. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_tensor_data(const void **out, const tl_ckpt *ckpt,
                                     size_t index);

/* Puts the tensor at index into layer group `group` (any value but
 * TL_CKPT_NO_GROUP, which takes it out of every group). Groups are how
 * ULMFiT-style discriminative learning rates see a model: saved so a loader
 * can restore the layout. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_set_tensor_group(tl_ckpt *ckpt, size_t index,
                                          uint32_t group);

/* ---- metadata: free-form key/value strings ----------------------------- */

/* Sets key to value (both copied; key non-empty; each at most
 * TL_CKPT_MAX_STRING bytes), replacing an existing value. Errors:
 * TL_E_INVALID_ARG, TL_E_NOMEM. */
TL_API tl_status tl_ckpt_set_meta(tl_ckpt *ckpt, const char *key,
                                  const char *value);

/* The value of key (a view). Errors: TL_E_INVALID_ARG, TL_E_NOT_FOUND. */
TL_API tl_status tl_ckpt_get_meta(const char **out, const tl_ckpt *ckpt,
                                  const char *key);

/* Number of metadata entries and the index-th (key, value) pair, in the
 * order keys were first set. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_meta_count(size_t *out, const tl_ckpt *ckpt);
/* The index-th (key, value) pair (views into the checkpoint), index <
 * tl_ckpt_meta_count. Errors: TL_E_INVALID_ARG (NULL, index out of range). */
TL_API tl_status tl_ckpt_meta_at(const char **out_key, const char **out_value,
                                 const tl_ckpt *ckpt, size_t index);

/* ---- vocabulary: the token of each embedding row ------------------------ */

/* Replaces the vocabulary with copies of tokens[0..n) (each at most
 * TL_CKPT_MAX_STRING bytes; duplicates are allowed, as a tokenizer may have
 * them). n == 0 stores an empty vocabulary (tokens may then be NULL).
 * Errors: TL_E_INVALID_ARG, TL_E_NOMEM; on error the old one stays. */
TL_API tl_status tl_ckpt_set_vocab(tl_ckpt *ckpt, const char *const *tokens,
                                   size_t n);

/* Removes the vocabulary section. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_clear_vocab(tl_ckpt *ckpt);

/* Number of tokens. Errors: TL_E_INVALID_ARG, TL_E_NOT_FOUND (the
 * checkpoint has no vocabulary). */
TL_API tl_status tl_ckpt_vocab_size(size_t *out, const tl_ckpt *ckpt);

/* The index-th token (a view). Errors: TL_E_INVALID_ARG, TL_E_NOT_FOUND. */
TL_API tl_status tl_ckpt_vocab_token(const char **out, const tl_ckpt *ckpt,
                                     size_t index);

/* ---- schedule step ------------------------------------------------------ */

/* Records the schedule/optimizer step count. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_set_step(tl_ckpt *ckpt, uint64_t step);

/* The recorded step. Errors: TL_E_INVALID_ARG, TL_E_NOT_FOUND. */
TL_API tl_status tl_ckpt_get_step(uint64_t *out, const tl_ckpt *ckpt);

/* ---- opaque sections (optimizer state, RNG state) ----------------------- */

/* Stores a copy of bytes[0..size) as the section `kind` with a writer-
 * defined subkind (e.g. which optimizer), replacing an earlier one. The
 * bytes are written as given: their writer defines their byte order (libtl's
 * own writers use little-endian). bytes may be NULL when size is 0.
 * Errors: TL_E_INVALID_ARG (bad kind), TL_E_NOMEM. */
TL_API tl_status tl_ckpt_set_section(tl_ckpt *ckpt, tl_ckpt_section kind,
                                     uint32_t subkind, const void *bytes,
                                     size_t size);

/* A view of section `kind`: its bytes (aligned to 64), size and subkind
 * (out_subkind may be NULL). Errors: TL_E_INVALID_ARG, TL_E_NOT_FOUND. */
TL_API tl_status tl_ckpt_get_section(const void **out_bytes, size_t *out_size,
                                     uint32_t *out_subkind, const tl_ckpt *ckpt,
                                     tl_ckpt_section kind);

/* Removes section `kind` if present. Errors: TL_E_INVALID_ARG. */
TL_API tl_status tl_ckpt_clear_section(tl_ckpt *ckpt, tl_ckpt_section kind);

/* ---- saving ------------------------------------------------------------- */

/* Writes the checkpoint to path atomically: a temporary file in the same
 * directory is written, fsync'ed, renamed over path, and the directory is
 * fsync'ed. On any failure the temporary file is removed and a file that
 * was at path is left as it was. A symbolic link at path is followed: the
 * file it points to is replaced and the link stays a link. A path that
 * exists and is not a regular file (directory, device, FIFO) is refused
 * with TL_E_IO rather than replaced. A new file gets mode 0666 less the
 * umask; a replaced file keeps its permission bits (docs/format.md).
 * Errors: TL_E_INVALID_ARG, TL_E_IO (with the OS's reason), TL_E_NOMEM. */
TL_API tl_status tl_ckpt_save(const tl_ckpt *ckpt, const char *path);

/* The exact number of bytes tl_ckpt_save_buffer writes. Errors:
 * TL_E_INVALID_ARG, TL_E_NOMEM (the size overflows). */
TL_API tl_status tl_ckpt_serialized_size(size_t *out, const tl_ckpt *ckpt);

/* Writes the file image into out[0..capacity) (the same bytes tl_ckpt_save
 * puts on disk) and sets *out_written. Errors: TL_E_INVALID_ARG (including
 * capacity smaller than tl_ckpt_serialized_size; out is then untouched). */
TL_API tl_status tl_ckpt_save_buffer(void *out, size_t capacity,
                                     size_t *out_written, const tl_ckpt *ckpt);

/* ---- loading ------------------------------------------------------------ */

/* Options of tl_ckpt_load and tl_ckpt_load_buffer: how much to check and
 * how large an input to accept. */
#define TL_CKPT_LOAD_OPTIONS_VERSION 1
typedef struct tl_ckpt_load_options {
  unsigned int version; /* TL_CKPT_LOAD_OPTIONS_VERSION */
  int verify_data_crc;  /* check each tensor's and section's CRC32
                           (default 1); the header CRC is always checked */
  uint64_t max_size;    /* refuse inputs larger than this many bytes
                           (default 0: no limit) */
} tl_ckpt_load_options;
/* The defaults of tl_ckpt_load_options_init as a static initialiser:
 * tl_ckpt_load_options o = TL_CKPT_LOAD_OPTIONS_INIT; */
#define TL_CKPT_LOAD_OPTIONS_INIT                                              \
  { TL_CKPT_LOAD_OPTIONS_VERSION, 1, 0 }

/* Fills *out with the defaults at `version`. Errors: TL_E_INVALID_ARG,
 * TL_E_UNSUPPORTED (unknown version). */
TL_API tl_status tl_ckpt_load_options_init(tl_ckpt_load_options *out,
                                           unsigned int version);

/* Reads and validates the checkpoint at path into a new checkpoint (*out,
 * free with tl_ckpt_free; *out is untouched on failure). options may be
 * NULL for the defaults. Only a regular file is read: a FIFO, device,
 * socket or directory gives TL_E_IO at once, without blocking. Errors:
 * TL_E_INVALID_ARG, TL_E_UNSUPPORTED (options version, or a file of a newer
 * format version), TL_E_IO, TL_E_FORMAT (any malformation: the message says
 * which field), TL_E_NOMEM. */
TL_API tl_status tl_ckpt_load(tl_ckpt **out, const char *path,
                              const tl_ckpt_load_options *options);

/* As tl_ckpt_load, from the file image buf[0..size) (copied: buf may be
 * freed afterwards). */
TL_API tl_status tl_ckpt_load_buffer(tl_ckpt **out, const void *buf,
                                     size_t size,
                                     const tl_ckpt_load_options *options);

/* ========================================================================
 * Models, optimizers and RNG streams
 * ======================================================================== */

/* Subkind of the RNG section when libtl wrote it: a list of named xoshiro
 * RNG streams (docs/format.md). Models store theirs under their prefix. */
#define TL_CKPT_RNG_STREAMS 1u

/* Adds every parameter of model to ckpt as an f32 tensor named prefix +
 * the parameter's name (torch layout, e.g. "rnn.weight_ih_l0"; prefix NULL
 * means ""), with its layer's group as the tensor's layer group; every
 * buffer the same way (tl_model_num_buffers: a BatchNorm layer's
 * "<name>.running_mean" and "<name>.running_var" as f32 (F), and
 * "<name>.num_batches_tracked" as an i64 scalar, as torch's state_dict);
 * and the model's RNG state as the RNG stream named prefix (so dropout masks
 * continue exactly after a load). A decoder tied to another model's
 * embedding stores only its bias. Errors: TL_E_INVALID_ARG (NULL, a name
 * already in ckpt, a name too long), TL_E_STATE (the RNG section holds
 * something other than libtl streams), TL_E_NOMEM. On error ckpt is as it
 * was. */
TL_API tl_status tl_ckpt_store_model(tl_ckpt *ckpt, const tl_model *model,
                                     const char *prefix);

/* What a load could not match, reported through
 * tl_model_load_options.report once per name. */
typedef enum tl_load_issue {
  TL_LOAD_MISSING = 0,   /* a model parameter or buffer no tensor fills */
  TL_LOAD_UNEXPECTED = 1 /* a tensor (full checkpoint name) that fills none */
} tl_load_issue;

/* Receives each parameter a load could not fill and each tensor it did not
 * use (tl_model_load_options.report). name is valid only during the call;
 * payload is report_payload. It must not change the model or the
 * checkpoint being loaded. */
typedef void (*tl_load_report_fn)(void *payload, tl_load_issue issue,
                                  const char *name);

/* Options of tl_ckpt_restore_model and tl_model_load: strictness, which
 * tensors are considered and under which names, RNG restore, reporting. */
#define TL_MODEL_LOAD_OPTIONS_VERSION 1
typedef struct tl_model_load_options {
  unsigned int version; /* TL_MODEL_LOAD_OPTIONS_VERSION */
  /* 1 (default): every parameter and buffer must be filled and every
   * considered tensor used, else TL_E_NOT_FOUND and nothing changes
   * (torch's strict=True). 0: fill what matches, report the rest (a buffer
   * left unfilled keeps its value). */
  int strict;
  /* Only tensors whose names start with prefix are considered, matched
   * with the prefix removed (NULL: all tensors). Also names the RNG stream
   * restored. E.g. "0." loads the encoder of a fastai SequentialRNN. */
  const char *prefix;
  /* Explicit name map: the tensor named map_from[i] (after removing the
   * prefix) fills the parameter map_to[i]. Other tensors fill the parameter
   * of their own name. map_n 0: no map. */
  const char *const *map_from;
  /* map_to[i]: the parameter (or buffer) that map_from[i] fills (map_n
   * entries) */
  const char *const *map_to;
  /* entries of map_from and map_to; 0: no map */
  size_t map_n;
  /* 1 (default): restore the model's RNG state from the stream named
   * prefix if the checkpoint has it. */
  int restore_rng;
  /* Called for each missing parameter and unexpected tensor (NULL: not
   * reported), in both strict and non-strict mode, before the call
   * returns. */
  tl_load_report_fn report;
  /* passed unchanged to report */
  void *report_payload;
} tl_model_load_options;
/* The defaults of tl_model_load_options_init as a static initialiser:
 * tl_model_load_options o = TL_MODEL_LOAD_OPTIONS_INIT; */
#define TL_MODEL_LOAD_OPTIONS_INIT                                             \
  { TL_MODEL_LOAD_OPTIONS_VERSION, 1, NULL, NULL, NULL, 0, 1, NULL, NULL }

/* Fills *out with the defaults. Errors: TL_E_INVALID_ARG, TL_E_UNSUPPORTED. */
TL_API tl_status tl_model_load_options_init(tl_model_load_options *out,
                                            unsigned int version);

/* Copies parameters and buffers from ckpt into model (options NULL:
 * defaults). Every check runs before the model is touched: a failed call
 * leaves the model exactly as it was. A checkpoint written before buffers
 * existed loads into a model without BatchNorm exactly as before; into a
 * model with one, strict mode reports the buffers missing. Errors:
 * TL_E_INVALID_ARG (NULL, bad options, a map naming no parameter or
 * buffer, two tensors filling one parameter or buffer), TL_E_UNSUPPORTED
 * (options version), TL_E_NOT_FOUND (strict and something missing or
 * unexpected: the message names the first of each), TL_E_SHAPE (a tensor's
 * shape differs from its parameter's or buffer's; a count that is not an
 * i64 scalar), TL_E_FORMAT (a parameter or statistic tensor is not f32, a
 * malformed RNG stream), TL_E_NUMERIC (NaN/Inf values, a negative
 * running_var or count). */
TL_API tl_status tl_ckpt_restore_model(tl_model *model, const tl_ckpt *ckpt,
                                       const tl_model_load_options *options);

/* tl_ckpt_store_model (no prefix) then tl_ckpt_save: an atomic file. */
TL_API tl_status tl_model_save(const tl_model *model, const char *path);

/* tl_ckpt_load then tl_ckpt_restore_model. Errors: those of both. */
TL_API tl_status tl_model_load(tl_model *model, const char *path,
                               const tl_model_load_options *options);

/* Stores optim's state (moments, step counters; tl_optim_state_save) as
 * the optimizer section, subkind = its tl_optim_kind. The bytes are the
 * optimizer's own format (little-endian, like the rest of the file). Errors:
 * TL_E_INVALID_ARG, TL_E_STATE (a model changed structure), TL_E_NOMEM. */
TL_API tl_status tl_ckpt_store_optim(tl_ckpt *ckpt, const tl_optim *optim);

/* Restores optim's state from the optimizer section. Errors:
 * TL_E_INVALID_ARG, TL_E_NOT_FOUND (no section), TL_E_FORMAT (another
 * optimizer kind, or a state that does not fit the optimizer's parameter
 * layout: optim unchanged). */
TL_API tl_status tl_ckpt_restore_optim(tl_optim *optim, const tl_ckpt *ckpt);

/* Vocabulary remapping (fastai's match_embeds): the checkpoint's
 * vocabulary becomes new_vocab[0..n_new), and each tensor named in
 * names[0..n_names) (f32, first dimension = the old vocabulary size: an
 * embedding weight, an untied decoder weight, a decoder bias) gets n_new
 * rows: row j is the old row of new_vocab[j] when the old vocabulary has
 * that token (its last occurrence, as fastai's dictionary), else the mean
 * of all old rows. out_is_new (may be NULL) receives n_new flags, 1 for
 * the new tokens: pass them to tl_model_set_row_mask to train only those
 * rows. A decoder tied to the embedding follows it without being named.
 * Errors: TL_E_INVALID_ARG (NULL, n_new 0, a NULL token), TL_E_NOT_FOUND
 * (no vocabulary, a name not in ckpt), TL_E_SHAPE (a tensor whose first
 * dimension is not the old vocabulary size, or an empty old vocabulary),
 * TL_E_FORMAT (not f32), TL_E_NOMEM. On error ckpt is unchanged. */
TL_API tl_status tl_ckpt_remap_vocab(uint8_t *out_is_new, tl_ckpt *ckpt,
                                     const char *const *new_vocab, size_t n_new,
                                     const char *const *names, size_t n_names);

/* ---- architecture: models rebuilt from the file alone ---------------- */

/* Version of the architecture section's payload this library writes and
 * reads (docs/format.md, "Architecture section"). */
#define TL_CKPT_ARCH_REVISION 1
/* Most models one architecture section describes. */
#define TL_CKPT_ARCH_MAX_MODELS 64
/* Most layers of one model in an architecture section. */
#define TL_CKPT_ARCH_MAX_LAYERS 1024
/* Most parameter floats tl_ckpt_create_models builds without restoring
 * parameters (with restore_params the checkpoint's own tensors bound it). */
#define TL_CKPT_ARCH_MAX_FLOATS ((size_t)1 << 28)

/* Stores the structure of models[0..n) as the checkpoint's architecture
 * section (replacing an earlier one): for each model its prefix (the one
 * its parameters are stored under with tl_ckpt_store_model; at most 255
 * bytes, "" allowed) and, for each layer, its kind, name, group, input and
 * output features, the kind's settings (probabilities, sizes, flags:
 * docs/format.md) and the tie of a decoder to an embedding, which must be
 * in the same model or in one stored before it. Parameter values are not
 * part of it: store them with tl_ckpt_store_model. Trainable flags, masks
 * and modes are not stored. Errors: TL_E_INVALID_ARG (NULL, n 0 or above
 * TL_CKPT_ARCH_MAX_MODELS, a prefix too long or repeated, a model without
 * layers, a tie to a model not among models[0..i]), TL_E_UNSUPPORTED (a
 * layer kind that cannot be rebuilt, naming it), TL_E_NOMEM. On error ckpt
 * is unchanged. */
TL_API tl_status tl_ckpt_store_arch(tl_ckpt *ckpt,
                                    const tl_model *const *models,
                                    const char *const *prefixes, size_t n);

/* The number of models in the architecture section into *out. Errors:
 * TL_E_INVALID_ARG (NULL), TL_E_NOT_FOUND (no architecture section). */
TL_API tl_status tl_ckpt_arch_count(size_t *out, const tl_ckpt *ckpt);

/* The prefix of model `index` of the architecture section (a view into the
 * checkpoint). Errors: TL_E_INVALID_ARG (NULL, index out of range),
 * TL_E_NOT_FOUND (no section). */
TL_API tl_status tl_ckpt_arch_prefix(const char **out, const tl_ckpt *ckpt,
                                     size_t index);

/* Builds the n models of the architecture section (n must equal
 * tl_ckpt_arch_count) into out[0..n), in section order, through the public
 * tl_model_add_* calls (so every check of a hand-built model applies), with
 * their groups and ties; with restore_params 1 each model's parameters
 * (and RNG stream) are then restored strictly from the tensors under its
 * prefix (tl_ckpt_restore_model), with 0 they keep their fresh
 * initialisation (seed 0). The caller owns each model (tl_model_free). On
 * error no model is returned. Errors: TL_E_INVALID_ARG (NULL, n not the
 * section's count, restore_params not 0 or 1), TL_E_NOT_FOUND (no
 * architecture section; a parameter without a tensor), TL_E_FORMAT
 * (settings that no add call accepts, naming the model and the layer;
 * more parameters than the checkpoint's tensors hold, or than
 * TL_CKPT_ARCH_MAX_FLOATS without restore_params), TL_E_SHAPE, TL_E_NOMEM,
 * and those of tl_ckpt_restore_model. */
TL_API tl_status tl_ckpt_create_models(tl_model **out, size_t n,
                                       const tl_ckpt *ckpt, int restore_params);

#ifdef __cplusplus
}
#endif

#endif /* TL_CKPT_H */
