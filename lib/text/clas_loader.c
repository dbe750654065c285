/* Classifier batches (fastai 2.7's SortedDL and pad_input_chunk) and the
 * stratified split: see include/tl/text.h. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "tl/text.h"

struct tl_clas_loader {
  tl_clas_loader_options opts;
  int64_t *ids;       /* documents (truncated), concatenated */
  size_t *doc_off;    /* n_docs + 1 */
  int64_t *labels;    /* n_docs */
  size_t *order;      /* this epoch's document order */
  size_t *scratch;    /* n_docs: merge sort buffer */
  size_t *batch_perm; /* batch order (shuffle) */
  int64_t *x, *y;     /* (max_len_doc, B), (B) */
  size_t *docs_out;
  size_t n_docs, n_batches, longest, max_doc, next_batch;
  int in_epoch;
  tli_rng rng;
};

TLI_VERSION_SIZES(tl_clas_loader_options_sizes, TL_CLAS_LOADER_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_clas_loader_options, seed),        /* v1 */
                  TLI_FIELD_END(tl_clas_loader_options, world_size)); /* v2 */

tl_status tl_clas_loader_options_init(tl_clas_loader_options *out,
                                      unsigned int version) {
  static const tl_clas_loader_options defaults = TL_CLAS_LOADER_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, tl_clas_loader_options_sizes,
                          "tl_clas_loader_options_init");
}

void tl_clas_loader_free(tl_clas_loader *loader) {
  if (loader == NULL)
    return;
  tli_free(loader->ids);
  tli_free(loader->doc_off);
  tli_free(loader->labels);
  tli_free(loader->order);
  tli_free(loader->scratch);
  tli_free(loader->batch_perm);
  tli_free(loader->x);
  tli_free(loader->y);
  tli_free(loader->docs_out);
  tli_free(loader);
}

static size_t tli_len(const tl_clas_loader *ld, size_t d) {
  return ld->doc_off[d + 1] - ld->doc_off[d];
}

/* Stable merge sort of a[0..n) by length, longest first (Python's
 * sorted(key=len, reverse=True) keeps equal keys in order). */
static void tli_sort_by_len(const tl_clas_loader *ld, size_t *a, size_t n,
                            size_t *tmp) {
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      const size_t mid = lo + w < n ? lo + w : n;
      const size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = tli_len(ld, a[j]) > tli_len(ld, a[i]) ? a[j++] : a[i++];
      while (i < mid)
        tmp[k++] = a[i++];
      while (j < hi)
        tmp[k++] = a[j++];
    }
    memcpy(a, tmp, n * sizeof *a);
  }
}

tl_status tl_clas_loader_create(tl_clas_loader **out,
                                const int64_t *const *docs, const size_t *lens,
                                const int64_t *labels, size_t n_docs,
                                size_t vocab_size, size_t n_classes,
                                const tl_clas_loader_options *options) {
  const char *fn = "tl_clas_loader_create";
  TLI_CHECK_PTR(fn, out);
  tl_clas_loader_options options_copy = TL_CLAS_LOADER_OPTIONS_INIT;
  if (options != NULL)
    TLI_TRY(TLI_OPTIONS_COPY(&options_copy, options,
                             tl_clas_loader_options_sizes, fn, "options"));
  options = &options_copy;
  TLI_CHECK(n_docs > 0, TL_E_INVALID_ARG, "%s: the corpus is empty (n_docs 0)",
            fn);
  TLI_CHECK_PTR(fn, docs);
  TLI_CHECK_PTR(fn, lens);
  TLI_CHECK_PTR(fn, labels);
  TLI_CHECK(options->batch_size > 0, TL_E_INVALID_ARG,
            "%s: options->batch_size must be >= 1 (got 0)", fn);
  TLI_CHECK(options->seq_len > 0, TL_E_INVALID_ARG,
            "%s: options->seq_len must be >= 1 (got 0)", fn);
  TLI_CHECK(options->world_size > 0, TL_E_INVALID_ARG,
            "%s: options->world_size must be >= 1 (got 0)", fn);
  TLI_CHECK(options->rank < options->world_size, TL_E_INVALID_ARG,
            "%s: options->rank %zu is outside [0, world_size %zu)", fn,
            options->rank, options->world_size);
  TLI_CHECK(options->pad_id >= 0 && (uint64_t)options->pad_id < vocab_size,
            TL_E_INVALID_ARG,
            "%s: options->pad_id %lld is outside the vocabulary [0, %zu)", fn,
            (long long)options->pad_id, vocab_size);
  size_t total = 0, max_doc = 0;
  for (size_t d = 0; d < n_docs; d++) {
    TLI_CHECK(lens[d] > 0, TL_E_INVALID_ARG, "%s: document %zu is empty", fn,
              d);
    TLI_CHECK(docs[d] != NULL, TL_E_INVALID_ARG,
              "%s: document %zu is NULL (length %zu)", fn, d, lens[d]);
    TLI_CHECK(labels[d] >= 0 && (uint64_t)labels[d] < n_classes,
              TL_E_INVALID_ARG,
              "%s: document %zu: label %lld is outside [0, %zu)", fn, d,
              (long long)labels[d], n_classes);
    const size_t len = options->max_len && lens[d] > options->max_len
                           ? options->max_len
                           : lens[d];
    for (size_t i = 0; i < len; i++)
      TLI_CHECK(docs[d][i] >= 0 && (uint64_t)docs[d][i] < vocab_size,
                TL_E_INVALID_ARG,
                "%s: document %zu, position %zu: id %lld is outside the "
                "vocabulary [0, %zu)",
                fn, d, i, (long long)docs[d][i], vocab_size);
    TLI_CHECK(len <= SIZE_MAX / 4 - total, TL_E_NOMEM,
              "%s: the corpus is too large", fn);
    total += len;
    max_doc = len > max_doc ? len : max_doc;
  }
  const size_t B = options->batch_size, W = options->world_size;
  /* The order is computed for global batches of W * B documents; each rank
   * takes its share of every one of them (text.h). */
  size_t GB;
  TLI_CHECK(tli_mul_size(&GB, B, W), TL_E_INVALID_ARG,
            "%s: options->batch_size %zu * world_size %zu overflows size_t", fn,
            B, W);
  const size_t last = n_docs % GB;
  TLI_CHECK(last == 0 || last >= W, TL_E_INVALID_ARG,
            "%s: %zu documents in global batches of %zu (batch_size %zu * "
            "world_size %zu) leave %zu for the last batch, fewer than the %zu "
            "ranks: every rank needs a document in every batch (drop or add "
            "documents, or change batch_size)",
            fn, n_docs, GB, B, W, last, W);
  size_t cells;
  TLI_CHECK(tli_mul_size(&cells, max_doc, B), TL_E_NOMEM,
            "%s: batch buffer overflows size_t", fn);
  tl_clas_loader *ld = NULL;
  TLI_TRY(tli_alloc_checked((void **)&ld, 1, sizeof *ld, fn));
  memset(ld, 0, sizeof *ld);
  const size_t n_batches = n_docs / GB + (last != 0);
  tl_status s =
      tli_alloc_checked((void **)&ld->ids, total, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->doc_off, n_docs + 1, sizeof(size_t),
                          fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->labels, n_docs, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->order, n_docs, sizeof(size_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->scratch, n_docs, sizeof(size_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->batch_perm, n_batches, sizeof(size_t),
                          fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->x, cells, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->y, B, sizeof(int64_t), fn);
  if (s == TL_OK)
    s = tli_alloc_checked((void **)&ld->docs_out, B, sizeof(size_t), fn);
  if (s != TL_OK) {
    tl_clas_loader_free(ld);
    return s;
  }
  ld->opts = options_copy;
  ld->n_docs = n_docs;
  ld->n_batches = n_batches;
  ld->max_doc = max_doc;
  size_t o = 0;
  ld->longest = 0;
  for (size_t d = 0; d < n_docs; d++) {
    const size_t len = options->max_len && lens[d] > options->max_len
                           ? options->max_len
                           : lens[d];
    ld->doc_off[d] = o;
    memcpy(ld->ids + o, docs[d], len * sizeof(int64_t));
    o += len;
    ld->labels[d] = labels[d];
  }
  ld->doc_off[n_docs] = o;
  /* np.argmax: the first longest document. */
  for (size_t d = 1; d < n_docs; d++)
    if (tli_len(ld, d) > tli_len(ld, ld->longest))
      ld->longest = d;
  tl_clas_loader_restart(ld);
  *out = ld;
  return TL_OK;
}

tl_status tl_clas_loader_restart(tl_clas_loader *loader) {
  TLI_CHECK_PTR("tl_clas_loader_restart", loader);
  tli_rng_seed(&loader->rng, loader->opts.seed);
  loader->in_epoch = 0;
  loader->next_batch = 0;
  return TL_OK;
}

static void tli_clas_start_epoch(tl_clas_loader *ld) {
  /* B: the global batch (every rank's shares together). */
  const size_t n = ld->n_docs, B = ld->opts.batch_size * ld->opts.world_size;
  for (size_t d = 0; d < n; d++)
    ld->order[d] = d;
  for (size_t k = 0; k < ld->n_batches; k++)
    ld->batch_perm[k] = k;
  if (!ld->opts.shuffle) {
    tli_sort_by_len(ld, ld->order, n, ld->scratch);
  } else {
    for (size_t d = n; d > 1; d--) {
      const size_t j = (size_t)tli_rng_below(&ld->rng, d);
      const size_t t = ld->order[d - 1];
      ld->order[d - 1] = ld->order[j];
      ld->order[j] = t;
    }
    for (size_t d = 0; d < n; d++)
      if (ld->order[d] == ld->longest) {
        ld->order[d] = ld->order[0];
        ld->order[0] = ld->longest;
        break;
      }
    const size_t chunk = 50 * B;
    for (size_t lo = 0; lo < n; lo += chunk)
      tli_sort_by_len(ld, ld->order + lo, n - lo < chunk ? n - lo : chunk,
                      ld->scratch);
    /* The batches strictly between the first and the last, shuffled. */
    if (ld->n_batches > 2)
      for (size_t k = ld->n_batches - 2; k > 1; k--) {
        const size_t j = 1 + (size_t)tli_rng_below(&ld->rng, k);
        const size_t t = ld->batch_perm[k];
        ld->batch_perm[k] = ld->batch_perm[j];
        ld->batch_perm[j] = t;
      }
  }
  ld->next_batch = 0;
  ld->in_epoch = 1;
}

tl_status tl_clas_loader_next(const int64_t **out_x, const int64_t **out_y,
                              size_t *out_len, size_t *out_batch,
                              const size_t **out_docs, tl_clas_loader *loader) {
  const char *fn = "tl_clas_loader_next";
  TLI_CHECK_PTR(fn, out_x);
  TLI_CHECK_PTR(fn, out_y);
  TLI_CHECK_PTR(fn, out_len);
  TLI_CHECK_PTR(fn, out_batch);
  TLI_CHECK_PTR(fn, loader);
  tl_clas_loader *ld = loader;
  if (!ld->in_epoch)
    tli_clas_start_epoch(ld);
  if (ld->next_batch >= ld->n_batches) {
    ld->in_epoch = 0;
    *out_x = *out_y = NULL;
    *out_len = *out_batch = 0;
    if (out_docs)
      *out_docs = NULL;
    return TL_OK;
  }
  const size_t W = ld->opts.world_size, r = ld->opts.rank;
  const size_t GB = ld->opts.batch_size * W;
  const size_t k = ld->batch_perm[ld->next_batch++];
  const size_t glo = k * GB;
  const size_t gb = ld->n_docs - glo < GB ? ld->n_docs - glo : GB;
  /* This rank's share of the global batch: floor(r gb / W) to
   * floor((r + 1) gb / W); gb <= W * B, so the products fit when the
   * loader could allocate its order. */
  const size_t lo = glo + r * gb / W;
  const size_t b = glo + (r + 1) * gb / W - lo;
  size_t T = 0;
  for (size_t i = 0; i < b; i++) {
    const size_t d = ld->order[lo + i];
    ld->docs_out[i] = d;
    ld->y[i] = ld->labels[d];
    T = tli_len(ld, d) > T ? tli_len(ld, d) : T;
  }
  const int64_t pad = ld->opts.pad_id;
  const size_t sl = ld->opts.seq_len;
  for (size_t i = 0; i < b; i++) {
    const size_t d = ld->docs_out[i], len = tli_len(ld, d), l = T - len;
    /* pad_chunk: whole seq_len chunks of padding before the text, the
     * rest after it (everything after it when not pad_first). */
    const size_t before = ld->opts.pad_first ? (l / sl) * sl : 0;
    const int64_t *src = ld->ids + ld->doc_off[d];
    for (size_t t = 0; t < T; t++) {
      const int64_t v = t < before || t >= before + len ? pad : src[t - before];
      ld->x[t * b + i] = v;
    }
  }
  *out_x = ld->x;
  *out_y = ld->y;
  *out_len = T;
  *out_batch = b;
  if (out_docs)
    *out_docs = ld->docs_out;
  return TL_OK;
}

/* ---- splits ------------------------------------------------------------ */

static tl_status tli_check_labels(const char *fn, const int64_t *labels,
                                  size_t n, size_t n_classes) {
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(labels[i] >= 0 && (uint64_t)labels[i] < n_classes,
              TL_E_INVALID_ARG,
              "%s: document %zu: label %lld is outside [0, %zu)", fn, i,
              (long long)labels[i], n_classes);
  return TL_OK;
}

/* One RNG stream, classes in order: each class's documents (in index
 * order) get a partial Fisher-Yates pass of k swaps, whose first k are a
 * uniform sample without replacement. */
tl_status tl_text_split_stratified(uint8_t *out_is_valid, const int64_t *labels,
                                   size_t n, size_t n_classes,
                                   double valid_frac, uint64_t seed) {
  const char *fn = "tl_text_split_stratified";
  TLI_CHECK(out_is_valid != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'out_is_valid' is NULL", fn);
  TLI_CHECK(labels != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'labels' is NULL", fn);
  TLI_CHECK(valid_frac >= 0.0 && valid_frac <= 1.0, TL_E_INVALID_ARG,
            "%s: valid_frac must be in [0, 1] (got %g)", fn, valid_frac);
  TLI_TRY(tli_check_labels(fn, labels, n, n_classes));
  size_t *idx = NULL;
  TLI_TRY(tli_alloc_checked((void **)&idx, n ? n : 1, sizeof *idx, fn));
  tli_rng rng;
  tli_rng_seed(&rng, seed);
  if (n) /* out_is_valid may be NULL when n is 0 */
    memset(out_is_valid, 0, n);
  for (size_t c = 0; c < n_classes; c++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if ((size_t)labels[i] == c)
        idx[m++] = i;
    const double want = valid_frac * (double)m + 0.5;
    const size_t k = want >= (double)m ? m : (size_t)want;
    /* Partial Fisher-Yates: the first k after k swaps are a uniform
     * sample. */
    for (size_t j = 0; j < k; j++) {
      const size_t r = j + (size_t)tli_rng_below(&rng, m - j);
      const size_t t = idx[j];
      idx[j] = idx[r];
      idx[r] = t;
      out_is_valid[idx[j]] = 1;
    }
  }
  tli_free(idx);
  return TL_OK;
}

static int tli_cmp_size(const void *a, const void *b) {
  const size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

tl_status tl_text_subset_per_class(size_t *out, size_t cap,
                                   const int64_t *labels, size_t n,
                                   size_t n_classes, size_t k, uint64_t seed) {
  const char *fn = "tl_text_subset_per_class";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(labels != NULL || n == 0, TL_E_INVALID_ARG,
            "%s: argument 'labels' is NULL", fn);
  size_t need;
  TLI_CHECK(tli_mul_size(&need, k, n_classes) && cap >= need, TL_E_INVALID_ARG,
            "%s: cap %zu is smaller than k * n_classes = %zu * %zu", fn, cap, k,
            n_classes);
  TLI_TRY(tli_check_labels(fn, labels, n, n_classes));
  for (size_t c = 0; c < n_classes; c++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      m += (size_t)labels[i] == c;
    TLI_CHECK(m >= k, TL_E_INVALID_ARG,
              "%s: class %zu has %zu documents, fewer than k = %zu", fn, c, m,
              k);
  }
  size_t *idx = NULL;
  TLI_TRY(tli_alloc_checked((void **)&idx, n ? n : 1, sizeof *idx, fn));
  tli_rng rng;
  tli_rng_seed(&rng, seed);
  for (size_t c = 0; c < n_classes; c++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if ((size_t)labels[i] == c)
        idx[m++] = i;
    for (size_t j = 0; j < k; j++) {
      const size_t r = j + (size_t)tli_rng_below(&rng, m - j);
      const size_t t = idx[j];
      idx[j] = idx[r];
      idx[r] = t;
    }
    qsort(idx, k, sizeof *idx, tli_cmp_size);
    memcpy(out + c * k, idx, k * sizeof *idx);
  }
  tli_free(idx);
  return TL_OK;
}
