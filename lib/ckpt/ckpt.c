/* The in-memory checkpoint: a table of named tensors, metadata, vocabulary,
 * step and opaque sections. Everything is copied in; views point into it.
 * Reading and writing the file format live in ckpt_read.c / ckpt_write.c. */
#include "ckpt/ckpt_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"

size_t tl_ckpt_dtype_size(tl_ckpt_dtype dtype) {
  switch (dtype) {
  case TL_CKPT_F32: return 4;
  case TL_CKPT_F64: return 8;
  case TL_CKPT_I64: return 8;
  case TL_CKPT_U8: return 1;
  case TL_CKPT_I32: return 4;
  }
  return 0;
}

char *tli_ckpt_strndup(const char *s, size_t len) {
  char *copy = tli_alloc(len + 1);
  if (copy != NULL) {
    if (len > 0)
      memcpy(copy, s, len);
    copy[len] = '\0';
  }
  return copy;
}

void tli_ckpt_free_strings(char **list, size_t n) {
  if (list == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    tli_free(list[i]);
  tli_free(list);
}

tli_ckpt_blob *tli_ckpt_blob_of(tl_ckpt *ckpt, tl_ckpt_section kind) {
  switch (kind) {
  case TL_CKPT_SECTION_OPTIM: return &ckpt->optim;
  case TL_CKPT_SECTION_RNG: return &ckpt->rng;
  }
  return NULL;
}

/* Grows *array (of elem bytes each, capacity *cap) to hold n elements. */
static tl_status tli_grow(void **array, size_t *cap, size_t n, size_t elem,
                          const char *fn) {
  if (n <= *cap)
    return TL_OK;
  size_t want = *cap < 8 ? 8 : *cap;
  while (want < n)
    want = want > ((size_t)-1) / 2 ? n : want * 2;
  void *grown = NULL;
  TLI_TRY(tli_alloc_checked(&grown, want, elem, fn));
  if (*cap > 0)
    memcpy(grown, *array, *cap * elem);
  tli_free(*array);
  *array = grown;
  *cap = want;
  return TL_OK;
}

tl_status tli_ckpt_reserve_tensors(tl_ckpt *ckpt, size_t n, const char *fn) {
  void *array = ckpt->tensors;
  tl_status status =
      tli_grow(&array, &ckpt->cap_tensors, n, sizeof(tli_ckpt_tensor), fn);
  ckpt->tensors = array;
  return status;
}

tl_status tli_ckpt_reserve_meta(tl_ckpt *ckpt, size_t n, const char *fn) {
  size_t cap = ckpt->cap_meta;
  void *keys = ckpt->meta_keys;
  TLI_TRY(tli_grow(&keys, &cap, n, sizeof(char *), fn));
  ckpt->meta_keys = keys;
  cap = ckpt->cap_meta;
  void *values = ckpt->meta_values;
  TLI_TRY(tli_grow(&values, &cap, n, sizeof(char *), fn));
  ckpt->meta_values = values;
  ckpt->cap_meta = cap;
  return TL_OK;
}

tl_status tl_ckpt_create(tl_ckpt **out) {
  TLI_CHECK_PTR("tl_ckpt_create", out);
  void *ckpt = NULL;
  TLI_TRY(tli_alloc_checked(&ckpt, 1, sizeof(tl_ckpt), "tl_ckpt_create"));
  memset(ckpt, 0, sizeof(tl_ckpt));
  *out = ckpt;
  return TL_OK;
}

void tl_ckpt_free(tl_ckpt *ckpt) {
  if (ckpt == NULL)
    return;
  for (size_t i = 0; i < ckpt->n_tensors; i++) {
    tli_free(ckpt->tensors[i].name);
    tli_free(ckpt->tensors[i].data);
  }
  tli_free(ckpt->tensors);
  tli_ckpt_free_strings(ckpt->meta_keys, ckpt->n_meta);
  tli_ckpt_free_strings(ckpt->meta_values, ckpt->n_meta);
  tli_ckpt_free_strings(ckpt->vocab, ckpt->n_vocab);
  tli_free(ckpt->optim.bytes);
  tli_free(ckpt->rng.bytes);
  tli_free(ckpt->arch.bytes);
  tli_free(ckpt);
}

/* ---- tensors ---------------------------------------------------------- */

const tli_ckpt_tensor *tli_ckpt_find(const tl_ckpt *ckpt, const char *name,
                                     size_t *index) {
  for (size_t i = 0; i < ckpt->n_tensors; i++)
    if (strcmp(ckpt->tensors[i].name, name) == 0) {
      if (index != NULL)
        *index = i;
      return &ckpt->tensors[i];
    }
  return NULL;
}

tl_status tl_ckpt_add_tensor(tl_ckpt *ckpt, const char *name,
                             tl_ckpt_dtype dtype, size_t rank,
                             const size_t *shape, const void *data) {
  static const char fn[] = "tl_ckpt_add_tensor";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, name);
  const size_t name_len = strlen(name);
  TLI_CHECK(name_len > 0 && name_len <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
            "%s: name must have 1 to %u bytes (got %zu)", fn,
            TL_CKPT_MAX_STRING, name_len);
  const size_t elem = tl_ckpt_dtype_size(dtype);
  TLI_CHECK(elem != 0, TL_E_INVALID_ARG, "%s: dtype %d is not a tl_ckpt_dtype",
            fn, (int)dtype);
  TLI_CHECK(rank <= TL_CKPT_MAX_RANK, TL_E_INVALID_ARG,
            "%s: rank must be <= %d (got %zu)", fn, TL_CKPT_MAX_RANK, rank);
  TLI_CHECK(rank == 0 || shape != NULL, TL_E_INVALID_ARG,
            "%s: argument 'shape' is NULL with rank %zu", fn, rank);
  size_t numel = 1;
  for (size_t d = 0; d < rank; d++)
    TLI_CHECK(tli_mul_size(&numel, numel, shape[d]), TL_E_NOMEM,
              "%s: the shape of '%s' overflows size_t", fn, name);
  size_t nbytes;
  TLI_CHECK(tli_mul_size(&nbytes, numel, elem), TL_E_NOMEM,
            "%s: the byte size of '%s' overflows size_t", fn, name);
  TLI_CHECK(numel == 0 || data != NULL, TL_E_INVALID_ARG,
            "%s: argument 'data' is NULL for %zu elements", fn, numel);
  TLI_CHECK(tli_ckpt_find(ckpt, name, NULL) == NULL, TL_E_INVALID_ARG,
            "%s: a tensor named '%s' is already in the checkpoint", fn, name);

  TLI_TRY(tli_ckpt_reserve_tensors(ckpt, ckpt->n_tensors + 1, fn));
  tli_ckpt_tensor t;
  memset(&t, 0, sizeof t);
  t.name = tli_ckpt_strndup(name, name_len);
  void *copy = NULL;
  tl_status status = tli_alloc_checked(&copy, nbytes, 1, fn);
  if (t.name == NULL || status != TL_OK) {
    tli_free(t.name);
    tli_free(copy);
    return tli_fail(TL_E_NOMEM, "%s: out of memory copying '%s' (%zu bytes)",
                    fn, name, nbytes);
  }
  if (nbytes > 0)
    memcpy(copy, data, nbytes);
  t.data = copy;
  t.name_len = name_len;
  t.dtype = dtype;
  t.rank = rank;
  for (size_t d = 0; d < rank; d++)
    t.shape[d] = shape[d];
  t.numel = numel;
  t.nbytes = nbytes;
  t.group = TL_CKPT_NO_GROUP;
  ckpt->tensors[ckpt->n_tensors++] = t;
  return TL_OK;
}

tl_status tl_ckpt_remove_tensor(tl_ckpt *ckpt, size_t index) {
  TLI_CHECK_PTR("tl_ckpt_remove_tensor", ckpt);
  TLI_CHECK(index < ckpt->n_tensors, TL_E_INVALID_ARG,
            "tl_ckpt_remove_tensor: index %zu out of range (%zu tensors)",
            index, ckpt->n_tensors);
  tli_free(ckpt->tensors[index].name);
  tli_free(ckpt->tensors[index].data);
  memmove(&ckpt->tensors[index], &ckpt->tensors[index + 1],
          (ckpt->n_tensors - index - 1) * sizeof(tli_ckpt_tensor));
  ckpt->n_tensors--;
  return TL_OK;
}

tl_status tl_ckpt_tensor_count(size_t *out, const tl_ckpt *ckpt) {
  TLI_CHECK_PTR("tl_ckpt_tensor_count", out);
  TLI_CHECK_PTR("tl_ckpt_tensor_count", ckpt);
  *out = ckpt->n_tensors;
  return TL_OK;
}

tl_status tl_ckpt_find_tensor(size_t *out, const tl_ckpt *ckpt,
                              const char *name) {
  TLI_CHECK_PTR("tl_ckpt_find_tensor", out);
  TLI_CHECK_PTR("tl_ckpt_find_tensor", ckpt);
  TLI_CHECK_PTR("tl_ckpt_find_tensor", name);
  TLI_CHECK(tli_ckpt_find(ckpt, name, out) != NULL, TL_E_NOT_FOUND,
            "tl_ckpt_find_tensor: no tensor named '%s'", name);
  return TL_OK;
}

TLI_VERSION_SIZES(tensor_desc_sizes, TL_CKPT_TENSOR_DESC_VERSION,
                  TLI_FIELD_END(tl_ckpt_tensor_desc, group));

tl_status tl_ckpt_tensor_info(tl_ckpt_tensor_desc *out, const tl_ckpt *ckpt,
                              size_t index) {
  TLI_CHECK_PTR("tl_ckpt_tensor_info", out);
  TLI_CHECK_PTR("tl_ckpt_tensor_info", ckpt);
  TLI_CHECK(index < ckpt->n_tensors, TL_E_INVALID_ARG,
            "tl_ckpt_tensor_info: index %zu out of range (%zu tensors)", index,
            ckpt->n_tensors);
  const tli_ckpt_tensor *t = &ckpt->tensors[index];
  /* Filled in a current struct; the caller gets the bytes its version
   * defines. */
  tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT;
  d.name = t->name;
  d.dtype = t->dtype;
  d.rank = t->rank;
  for (size_t i = 0; i < t->rank; i++)
    d.shape[i] = t->shape[i];
  d.numel = t->numel;
  d.nbytes = t->nbytes;
  d.group = t->group;
  return tli_options_write(out, &d, tensor_desc_sizes,
                           TLI_VERSIONS(tensor_desc_sizes),
                           "tl_ckpt_tensor_info", "out");
}

tl_status tl_ckpt_tensor_data(const void **out, const tl_ckpt *ckpt,
                              size_t index) {
  TLI_CHECK_PTR("tl_ckpt_tensor_data", out);
  TLI_CHECK_PTR("tl_ckpt_tensor_data", ckpt);
  TLI_CHECK(index < ckpt->n_tensors, TL_E_INVALID_ARG,
            "tl_ckpt_tensor_data: index %zu out of range (%zu tensors)", index,
            ckpt->n_tensors);
  *out = ckpt->tensors[index].data;
  return TL_OK;
}

tl_status tl_ckpt_set_tensor_group(tl_ckpt *ckpt, size_t index,
                                   uint32_t group) {
  TLI_CHECK_PTR("tl_ckpt_set_tensor_group", ckpt);
  TLI_CHECK(index < ckpt->n_tensors, TL_E_INVALID_ARG,
            "tl_ckpt_set_tensor_group: index %zu out of range (%zu tensors)",
            index, ckpt->n_tensors);
  ckpt->tensors[index].group = group;
  return TL_OK;
}

/* ---- metadata ---------------------------------------------------------- */

static int tli_meta_index(const tl_ckpt *ckpt, const char *key, size_t *out) {
  for (size_t i = 0; i < ckpt->n_meta; i++)
    if (strcmp(ckpt->meta_keys[i], key) == 0) {
      *out = i;
      return 1;
    }
  return 0;
}

tl_status tl_ckpt_set_meta(tl_ckpt *ckpt, const char *key, const char *value) {
  static const char fn[] = "tl_ckpt_set_meta";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, key);
  TLI_CHECK_PTR(fn, value);
  const size_t key_len = strlen(key), value_len = strlen(value);
  TLI_CHECK(key_len > 0 && key_len <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
            "%s: key must have 1 to %u bytes (got %zu)", fn, TL_CKPT_MAX_STRING,
            key_len);
  TLI_CHECK(value_len <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
            "%s: value must have at most %u bytes (got %zu)", fn,
            TL_CKPT_MAX_STRING, value_len);
  char *value_copy = tli_ckpt_strndup(value, value_len);
  TLI_CHECK(value_copy != NULL, TL_E_NOMEM, "%s: out of memory", fn);
  size_t i;
  if (tli_meta_index(ckpt, key, &i)) {
    tli_free(ckpt->meta_values[i]);
    ckpt->meta_values[i] = value_copy;
    return TL_OK;
  }
  char *key_copy = tli_ckpt_strndup(key, key_len);
  tl_status status = key_copy != NULL
                         ? tli_ckpt_reserve_meta(ckpt, ckpt->n_meta + 1, fn)
                         : tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
  if (status != TL_OK) {
    tli_free(key_copy);
    tli_free(value_copy);
    return status;
  }
  ckpt->meta_keys[ckpt->n_meta] = key_copy;
  ckpt->meta_values[ckpt->n_meta] = value_copy;
  ckpt->n_meta++;
  return TL_OK;
}

tl_status tl_ckpt_get_meta(const char **out, const tl_ckpt *ckpt,
                           const char *key) {
  TLI_CHECK_PTR("tl_ckpt_get_meta", out);
  TLI_CHECK_PTR("tl_ckpt_get_meta", ckpt);
  TLI_CHECK_PTR("tl_ckpt_get_meta", key);
  size_t i;
  TLI_CHECK(tli_meta_index(ckpt, key, &i), TL_E_NOT_FOUND,
            "tl_ckpt_get_meta: no metadata key '%s'", key);
  *out = ckpt->meta_values[i];
  return TL_OK;
}

tl_status tl_ckpt_meta_count(size_t *out, const tl_ckpt *ckpt) {
  TLI_CHECK_PTR("tl_ckpt_meta_count", out);
  TLI_CHECK_PTR("tl_ckpt_meta_count", ckpt);
  *out = ckpt->n_meta;
  return TL_OK;
}

tl_status tl_ckpt_meta_at(const char **out_key, const char **out_value,
                          const tl_ckpt *ckpt, size_t index) {
  TLI_CHECK_PTR("tl_ckpt_meta_at", out_key);
  TLI_CHECK_PTR("tl_ckpt_meta_at", out_value);
  TLI_CHECK_PTR("tl_ckpt_meta_at", ckpt);
  TLI_CHECK(index < ckpt->n_meta, TL_E_INVALID_ARG,
            "tl_ckpt_meta_at: index %zu out of range (%zu entries)", index,
            ckpt->n_meta);
  *out_key = ckpt->meta_keys[index];
  *out_value = ckpt->meta_values[index];
  return TL_OK;
}

/* ---- vocabulary -------------------------------------------------------- */

tl_status tl_ckpt_set_vocab(tl_ckpt *ckpt, const char *const *tokens,
                            size_t n) {
  static const char fn[] = "tl_ckpt_set_vocab";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK(n == 0 || tokens != NULL, TL_E_INVALID_ARG,
            "%s: argument 'tokens' is NULL with n = %zu", fn, n);
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(tokens[i] != NULL, TL_E_INVALID_ARG, "%s: tokens[%zu] is NULL",
              fn, i);
    TLI_CHECK(strlen(tokens[i]) <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
              "%s: tokens[%zu] is longer than %u bytes", fn, i,
              TL_CKPT_MAX_STRING);
  }
  void *list = NULL;
  TLI_TRY(tli_alloc_checked(&list, n, sizeof(char *), fn));
  char **copy = list;
  for (size_t i = 0; i < n; i++) {
    copy[i] = tli_ckpt_strndup(tokens[i], strlen(tokens[i]));
    if (copy[i] == NULL) {
      tli_ckpt_free_strings(copy, i);
      return tli_fail(TL_E_NOMEM, "%s: out of memory copying %zu tokens", fn,
                      n);
    }
  }
  tli_ckpt_free_strings(ckpt->vocab, ckpt->n_vocab);
  ckpt->vocab = copy;
  ckpt->n_vocab = n;
  ckpt->has_vocab = 1;
  return TL_OK;
}

tl_status tl_ckpt_clear_vocab(tl_ckpt *ckpt) {
  TLI_CHECK_PTR("tl_ckpt_clear_vocab", ckpt);
  tli_ckpt_free_strings(ckpt->vocab, ckpt->n_vocab);
  ckpt->vocab = NULL;
  ckpt->n_vocab = 0;
  ckpt->has_vocab = 0;
  return TL_OK;
}

tl_status tl_ckpt_vocab_size(size_t *out, const tl_ckpt *ckpt) {
  TLI_CHECK_PTR("tl_ckpt_vocab_size", out);
  TLI_CHECK_PTR("tl_ckpt_vocab_size", ckpt);
  TLI_CHECK(ckpt->has_vocab, TL_E_NOT_FOUND,
            "tl_ckpt_vocab_size: the checkpoint has no vocabulary");
  *out = ckpt->n_vocab;
  return TL_OK;
}

tl_status tl_ckpt_vocab_token(const char **out, const tl_ckpt *ckpt,
                              size_t index) {
  TLI_CHECK_PTR("tl_ckpt_vocab_token", out);
  TLI_CHECK_PTR("tl_ckpt_vocab_token", ckpt);
  TLI_CHECK(ckpt->has_vocab, TL_E_NOT_FOUND,
            "tl_ckpt_vocab_token: the checkpoint has no vocabulary");
  TLI_CHECK(index < ckpt->n_vocab, TL_E_INVALID_ARG,
            "tl_ckpt_vocab_token: index %zu out of range (%zu tokens)", index,
            ckpt->n_vocab);
  *out = ckpt->vocab[index];
  return TL_OK;
}

/* ---- step and opaque sections ------------------------------------------ */

tl_status tl_ckpt_set_step(tl_ckpt *ckpt, uint64_t step) {
  TLI_CHECK_PTR("tl_ckpt_set_step", ckpt);
  ckpt->step = step;
  ckpt->has_step = 1;
  return TL_OK;
}

tl_status tl_ckpt_get_step(uint64_t *out, const tl_ckpt *ckpt) {
  TLI_CHECK_PTR("tl_ckpt_get_step", out);
  TLI_CHECK_PTR("tl_ckpt_get_step", ckpt);
  TLI_CHECK(ckpt->has_step, TL_E_NOT_FOUND,
            "tl_ckpt_get_step: the checkpoint has no schedule step");
  *out = ckpt->step;
  return TL_OK;
}

tl_status tl_ckpt_set_section(tl_ckpt *ckpt, tl_ckpt_section kind,
                              uint32_t subkind, const void *bytes,
                              size_t size) {
  static const char fn[] = "tl_ckpt_set_section";
  TLI_CHECK_PTR(fn, ckpt);
  tli_ckpt_blob *blob = tli_ckpt_blob_of(ckpt, kind);
  TLI_CHECK(blob != NULL, TL_E_INVALID_ARG,
            "%s: kind %d is not an opaque tl_ckpt_section", fn, (int)kind);
  TLI_CHECK(size == 0 || bytes != NULL, TL_E_INVALID_ARG,
            "%s: argument 'bytes' is NULL with size %zu", fn, size);
  void *copy = NULL;
  TLI_TRY(tli_alloc_checked(&copy, size, 1, fn));
  if (size > 0)
    memcpy(copy, bytes, size);
  tli_free(blob->bytes);
  blob->bytes = copy;
  blob->size = size;
  blob->subkind = subkind;
  blob->present = 1;
  return TL_OK;
}

tl_status tl_ckpt_get_section(const void **out_bytes, size_t *out_size,
                              uint32_t *out_subkind, const tl_ckpt *ckpt,
                              tl_ckpt_section kind) {
  static const char fn[] = "tl_ckpt_get_section";
  TLI_CHECK_PTR(fn, out_bytes);
  TLI_CHECK_PTR(fn, out_size);
  TLI_CHECK_PTR(fn, ckpt);
  const tli_ckpt_blob *blob = tli_ckpt_blob_of((tl_ckpt *)ckpt, kind);
  TLI_CHECK(blob != NULL, TL_E_INVALID_ARG,
            "%s: kind %d is not an opaque tl_ckpt_section", fn, (int)kind);
  TLI_CHECK(blob->present, TL_E_NOT_FOUND,
            "%s: the checkpoint has no section of kind %d", fn, (int)kind);
  *out_bytes = blob->bytes;
  *out_size = blob->size;
  if (out_subkind != NULL)
    *out_subkind = blob->subkind;
  return TL_OK;
}

tl_status tl_ckpt_clear_section(tl_ckpt *ckpt, tl_ckpt_section kind) {
  TLI_CHECK_PTR("tl_ckpt_clear_section", ckpt);
  tli_ckpt_blob *blob = tli_ckpt_blob_of(ckpt, kind);
  TLI_CHECK(blob != NULL, TL_E_INVALID_ARG,
            "tl_ckpt_clear_section: kind %d is not an opaque tl_ckpt_section",
            (int)kind);
  tli_free(blob->bytes);
  memset(blob, 0, sizeof *blob);
  return TL_OK;
}
