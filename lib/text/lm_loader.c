/* The language-model batch stream (fastai's LMDataLoader, AWD-LSTM's
 * variable-length BPTT): see include/tl/text.h. Every buffer is allocated
 * at create; an epoch start rebuilds the stream in place. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "tl/text.h"

struct tl_lm_loader {
  tl_lm_loader_options opts;
  int64_t *ids;    /* the documents, concatenated as given */
  size_t *doc_off; /* n_docs + 1 offsets into ids */
  size_t *order;   /* this epoch's document order */
  int64_t *stream; /* this epoch's joined stream, n_stream ids */
  int64_t *x, *y;  /* (cap_t, B) batch buffers */
  size_t n_docs, n_stream, row_len, cap_t, pos;
  uint64_t epoch;
  int in_epoch;
  tli_rng rng;
};

TLI_VERSION_SIZES(tl_lm_loader_options_sizes, TL_LM_LOADER_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_lm_loader_options, seed),        /* v1 */
                  TLI_FIELD_END(tl_lm_loader_options, world_size)); /* v2 */

tl_status tl_lm_loader_options_init(tl_lm_loader_options *out,
                                    unsigned int version) {
  static const tl_lm_loader_options defaults = TL_LM_LOADER_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_lm_loader_options_sizes,
                          "tl_lm_loader_options_init");
}

void tl_lm_loader_free(tl_lm_loader *loader) {
  if (loader == NULL)
    return;
  tli_free(loader->ids);
  tli_free(loader->doc_off);
  tli_free(loader->order);
  tli_free(loader->stream);
  tli_free(loader->x);
  tli_free(loader->y);
  tli_free(loader);
}

/* Longest window: bptt + 10 sd, and never below the minimum of 5. */
static size_t tli_max_window(size_t bptt) { return (bptt > 5 ? bptt : 5) + 50; }

tl_status tl_lm_loader_create(tl_lm_loader **out, const int64_t *const *docs,
                              const size_t *lens, size_t n_docs,
                              size_t vocab_size,
                              const tl_lm_loader_options *options) {
  const char *fn = "tl_lm_loader_create";
  TLI_CHECK_PTR(fn, out);
  tl_lm_loader_options options_copy = TL_LM_LOADER_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options, tl_lm_loader_options_sizes,
                             fn, "options"));
  options = &options_copy;
  TLI_CHECK(n_docs > 0, TL_E_INVALID_ARG, "%s: the corpus is empty (n_docs 0)",
            fn);
  TLI_CHECK_PTR(fn, docs);
  TLI_CHECK_PTR(fn, lens);
  TLI_CHECK(options->batch_size > 0, TL_E_INVALID_ARG,
            "%s: options->batch_size must be >= 1 (got 0)", fn);
  TLI_CHECK(options->bptt > 0, TL_E_INVALID_ARG,
            "%s: options->bptt must be >= 1 (got 0)", fn);
  TLI_CHECK(options->world_size > 0, TL_E_INVALID_ARG,
            "%s: options->world_size must be >= 1 (got 0)", fn);
  TLI_CHECK(options->rank < options->world_size, TL_E_INVALID_ARG,
            "%s: options->rank %zu is outside [0, world_size %zu)", fn,
            options->rank, options->world_size);
  TLI_CHECK(options->bos_id < 0 || (uint64_t)options->bos_id < vocab_size,
            TL_E_INVALID_ARG,
            "%s: options->bos_id %lld is outside the vocabulary [0, %zu)", fn,
            (long long)options->bos_id, vocab_size);
  const size_t extra = options->bos_id >= 0 ? 1 : 0;
  size_t total = 0;
  for (size_t d = 0; d < n_docs; d++) {
    TLI_CHECK(lens[d] > 0, TL_E_INVALID_ARG, "%s: document %zu is empty", fn,
              d);
    TLI_CHECK(docs[d] != NULL, TL_E_INVALID_ARG,
              "%s: document %zu is NULL (length %zu)", fn, d, lens[d]);
    for (size_t i = 0; i < lens[d]; i++)
      TLI_CHECK(docs[d][i] >= 0 && (uint64_t)docs[d][i] < vocab_size,
                TL_E_INVALID_ARG,
                "%s: document %zu, position %zu: id %lld is outside the "
                "vocabulary [0, %zu)",
                fn, d, i, (long long)docs[d][i], vocab_size);
    TLI_CHECK(lens[d] <= SIZE_MAX / 4 - total - extra, TL_E_NOMEM,
              "%s: the corpus is too large", fn);
    total += lens[d] + extra;
  }
  const size_t B = options->batch_size;
  /* Sharded: the stream is cut into the rows of every rank (text.h). */
  size_t rows;
  TLI_CHECK(tli_mul_size(&rows, B, options->world_size), TL_E_INVALID_ARG,
            "%s: options->batch_size %zu * world_size %zu overflows size_t", fn,
            B, options->world_size);
  const size_t row_len = (total - 1) / rows;
  TLI_CHECK(row_len >= 1, TL_E_INVALID_ARG,
            "%s: options->batch_size %zu is too large: the corpus has %zu "
            "tokens, and each of the %zu rows (batch_size * world_size %zu) "
            "needs at least 2",
            fn, B, total, rows, options->world_size);
  TLI_CHECK(options->bptt <= row_len, TL_E_INVALID_ARG,
            "%s: options->bptt %zu is longer than a row (%zu tokens: %zu "
            "tokens in %zu rows)",
            fn, options->bptt, row_len, total, rows);
  size_t cap_t =
      options->variable_length ? tli_max_window(options->bptt) : options->bptt;
  if (cap_t > row_len)
    cap_t = row_len;
  size_t cells;
  TLI_CHECK(tli_mul_size(&cells, cap_t, B), TL_E_NOMEM,
            "%s: batch buffers overflow size_t", fn);
  tl_lm_loader *ld = NULL;
  TLI_TRY(tli_alloc_checked((void **)&ld, 1, sizeof *ld, fn));
  memset(ld, 0, sizeof *ld);
  tl_status s =
      tli_alloc_checked((void **)&ld->ids, total, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->doc_off, n_docs + 1, sizeof(size_t),
                          fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->order, n_docs, sizeof(size_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->stream, total, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->x, cells, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->y, cells, sizeof(int64_t), fn);
  if (s != TL_OK) {
    tl_lm_loader_free(ld);
    return s;
  }
  ld->opts = options_copy;
  ld->n_docs = n_docs;
  ld->n_stream = total;
  ld->row_len = row_len;
  ld->cap_t = cap_t;
  size_t o = 0;
  for (size_t d = 0; d < n_docs; d++) {
    ld->doc_off[d] = o;
    memcpy(ld->ids + o, docs[d], lens[d] * sizeof(int64_t));
    o += lens[d];
  }
  ld->doc_off[n_docs] = o;
  tl_lm_loader_restart(ld);
  *out = ld;
  return TL_OK;
}

tl_status tl_lm_loader_restart(tl_lm_loader *loader) {
  TLI_CHECK_PTR("tl_lm_loader_restart", loader);
  tli_rng_seed(&loader->rng, loader->opts.seed);
  loader->epoch = 0;
  loader->in_epoch = 0;
  loader->pos = 0;
  return TL_OK;
}

static void tli_start_epoch(tl_lm_loader *ld) {
  for (size_t d = 0; d < ld->n_docs; d++)
    ld->order[d] = d;
  if (ld->opts.shuffle) /* Fisher-Yates, from the back */
    for (size_t d = ld->n_docs; d > 1; d--) {
      const size_t j = (size_t)tli_rng_below(&ld->rng, d);
      const size_t t = ld->order[d - 1];
      ld->order[d - 1] = ld->order[j];
      ld->order[j] = t;
    }
  size_t o = 0;
  for (size_t k = 0; k < ld->n_docs; k++) {
    const size_t d = ld->order[k];
    if (ld->opts.bos_id >= 0)
      ld->stream[o++] = ld->opts.bos_id;
    const size_t len = ld->doc_off[d + 1] - ld->doc_off[d];
    memcpy(ld->stream + o, ld->ids + ld->doc_off[d], len * sizeof(int64_t));
    o += len;
  }
  if (ld->opts.backwards)
    for (size_t i = 0, j = ld->n_stream - 1; i < j; i++, j--) {
      const int64_t t = ld->stream[i];
      ld->stream[i] = ld->stream[j];
      ld->stream[j] = t;
    }
  ld->pos = 0;
  ld->in_epoch = 1;
  ld->epoch++;
}

static size_t tli_window(tl_lm_loader *ld) {
  const size_t bptt = ld->opts.bptt;
  if (!ld->opts.variable_length)
    return bptt;
  const double base =
      tli_rng_uniform(&ld->rng) < 0.95 ? (double)bptt : (double)bptt / 2.0;
  /* int(np.random.normal(bptt, 5)) truncates toward zero. */
  const double draw = trunc(base + 5.0 * tli_rng_normal(&ld->rng));
  size_t t = draw < 5.0 ? 5 : (size_t)draw;
  const size_t cap = tli_max_window(bptt);
  return t > cap ? cap : t;
}

tl_status tl_lm_loader_next(const int64_t **out_x, const int64_t **out_y,
                            size_t *out_len, tl_lm_loader *loader) {
  const char *fn = "tl_lm_loader_next";
  TLI_CHECK_PTR(fn, out_x);
  TLI_CHECK_PTR(fn, out_y);
  TLI_CHECK_PTR(fn, out_len);
  TLI_CHECK_PTR(fn, loader);
  tl_lm_loader *ld = loader;
  if (!ld->in_epoch)
    tli_start_epoch(ld);
  if (ld->pos >= ld->row_len) {
    ld->in_epoch = 0; /* the next call starts the next epoch */
    *out_x = *out_y = NULL;
    *out_len = 0;
    return TL_OK;
  }
  size_t t = tli_window(ld);
  if (t > ld->row_len - ld->pos)
    t = ld->row_len - ld->pos;
  const size_t B = ld->opts.batch_size;
  /* This rank's rows are the global rows rank * B .. rank * B + B - 1. */
  const int64_t *rows = ld->stream + ld->opts.rank * B * ld->row_len;
  for (size_t b = 0; b < B; b++) {
    const int64_t *row = rows + b * ld->row_len + ld->pos;
    for (size_t k = 0; k < t; k++) {
      ld->x[k * B + b] = row[k];
      ld->y[k * B + b] = row[k + 1];
    }
  }
  ld->pos += t;
  *out_x = ld->x;
  *out_y = ld->y;
  *out_len = t;
  return TL_OK;
}

tl_status tl_lm_loader_row_len(size_t *out, const tl_lm_loader *loader) {
  TLI_CHECK_PTR("tl_lm_loader_row_len", out);
  TLI_CHECK_PTR("tl_lm_loader_row_len", loader);
  *out = loader->row_len;
  return TL_OK;
}

tl_status tl_lm_loader_epoch(uint64_t *out, const tl_lm_loader *loader) {
  TLI_CHECK_PTR("tl_lm_loader_epoch", out);
  TLI_CHECK_PTR("tl_lm_loader_epoch", loader);
  *out = loader->epoch;
  return TL_OK;
}
