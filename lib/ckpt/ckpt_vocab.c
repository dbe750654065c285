/* Vocabulary remapping of a checkpoint (fastai's match_embeds): rows of the
 * tensors indexed by the vocabulary follow the new vocabulary; words the
 * old one lacks get the mean row. Lookup sorts the old vocabulary once
 * (n log n), so 60k-word vocabularies remap in milliseconds. */
#include <stdlib.h>
#include <string.h>

#include "ckpt/ckpt_internal.h"
#include "core/alloc.h"
#include "core/error.h"

typedef struct tli_word {
  const char *word;
  size_t index;
} tli_word;

static int tli_word_cmp(const void *a, const void *b) {
  const tli_word *x = a, *y = b;
  const int c = strcmp(x->word, y->word);
  if (c != 0)
    return c;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* The old index of word: its last occurrence (fastai builds a dict, in
 * which later duplicates win), or SIZE_MAX. */
static size_t tli_lookup(const tli_word *sorted, size_t n, const char *word) {
  size_t lo = 0, hi = n; /* first entry >= word */
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (strcmp(sorted[mid].word, word) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == n || strcmp(sorted[lo].word, word) != 0)
    return SIZE_MAX;
  while (lo + 1 < n && strcmp(sorted[lo + 1].word, word) == 0)
    lo++;
  return sorted[lo].index;
}

static tl_status tli_check_remap(const tl_ckpt *ckpt,
                                 const char *const *new_vocab, size_t n_new,
                                 const char *const *names, size_t n_names,
                                 const char *fn) {
  TLI_CHECK(ckpt->has_vocab, TL_E_NOT_FOUND,
            "%s: the checkpoint has no vocabulary to remap from", fn);
  TLI_CHECK(ckpt->n_vocab > 0, TL_E_SHAPE,
            "%s: the checkpoint's vocabulary is empty (no mean row)", fn);
  for (size_t j = 0; j < n_new; j++) {
    TLI_CHECK(new_vocab[j] != NULL, TL_E_INVALID_ARG,
              "%s: new_vocab[%zu] is NULL", fn, j);
    TLI_CHECK(strlen(new_vocab[j]) <= TL_CKPT_MAX_STRING, TL_E_INVALID_ARG,
              "%s: new_vocab[%zu] is longer than %u bytes", fn, j,
              TL_CKPT_MAX_STRING);
  }
  for (size_t k = 0; k < n_names; k++) {
    TLI_CHECK(names[k] != NULL, TL_E_INVALID_ARG, "%s: names[%zu] is NULL", fn,
              k);
    const tli_ckpt_tensor *t = tli_ckpt_find(ckpt, names[k], NULL);
    TLI_CHECK(t != NULL, TL_E_NOT_FOUND, "%s: no tensor named '%s'", fn,
              names[k]);
    TLI_CHECK(t->dtype == TL_CKPT_F32, TL_E_FORMAT,
              "%s: tensor '%s' is not f32", fn, names[k]);
    TLI_CHECK(t->rank >= 1 && t->shape[0] == ckpt->n_vocab, TL_E_SHAPE,
              "%s: tensor '%s' has %zu rows, the vocabulary %zu words", fn,
              names[k], t->rank ? t->shape[0] : 0, ckpt->n_vocab);
    for (size_t j = 0; j < k; j++)
      TLI_CHECK(strcmp(names[j], names[k]) != 0, TL_E_INVALID_ARG,
                "%s: names has '%s' twice", fn, names[k]);
  }
  return TL_OK;
}

/* new rows of tensor t: rows[old_of[j]] or the mean row. */
static void tli_remap_rows(float *out, const tli_ckpt_tensor *t,
                           const size_t *old_of, size_t n_new, size_t n_old) {
  const size_t row = t->numel / n_old;
  const float *in = t->data;
  /* The mean in double, as one rounding of the exact mean. */
  for (size_t c = 0; c < row; c++) {
    double sum = 0;
    for (size_t r = 0; r < n_old; r++)
      sum += in[r * row + c];
    const float mean = (float)(sum / (double)n_old);
    for (size_t j = 0; j < n_new; j++)
      if (old_of[j] == SIZE_MAX)
        out[j * row + c] = mean;
  }
  for (size_t j = 0; j < n_new; j++)
    if (old_of[j] != SIZE_MAX)
      memcpy(out + j * row, in + old_of[j] * row, row * sizeof(float));
}

/* Everything a remap needs, allocated before anything in the checkpoint is
 * replaced, so a failure leaves it as it was. */
typedef struct tli_remap_buffers {
  tli_word *sorted; /* the old vocabulary, sorted for lookup (n_old) */
  size_t *old_of;   /* old index of each new word, or SIZE_MAX (n_new) */
  float **data;     /* the remapped rows of each named tensor (n_names) */
  size_t n_data;
  char **vocab; /* copies of the new words (n_new) */
  size_t n_vocab;
} tli_remap_buffers;

static void tli_remap_buffers_free(tli_remap_buffers *b) {
  for (size_t k = 0; k < b->n_data; k++)
    tli_free(b->data[k]);
  tli_ckpt_free_strings(b->vocab, b->n_vocab);
  tli_free(b->data);
  tli_free(b->old_of);
  tli_free(b->sorted);
}

static tl_status tli_remap_buffers_alloc(tli_remap_buffers *b,
                                         const tl_ckpt *ckpt,
                                         const char *const *new_vocab,
                                         size_t n_new, const char *const *names,
                                         size_t n_names, const char *fn) {
  const size_t n_old = ckpt->n_vocab;
  *b = (tli_remap_buffers){0};
  void *sorted = NULL, *old_of = NULL, *data = NULL, *vocab = NULL;
  tl_status status = tli_alloc_checked(&sorted, n_old, sizeof(tli_word), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&old_of, n_new, sizeof(size_t), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&data, n_names + 1, sizeof(float *), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&vocab, n_new, sizeof(char *), fn);
  b->sorted = sorted, b->old_of = old_of, b->data = data, b->vocab = vocab;
  for (size_t k = 0; k < n_names && status == TL_OK; k++) {
    const tli_ckpt_tensor *t = tli_ckpt_find(ckpt, names[k], NULL);
    size_t elems;
    void *mem = NULL;
    status =
        tli_mul_size(&elems, t->numel / n_old, n_new)
            ? tli_alloc_checked(&mem, elems, sizeof(float), fn)
            : tli_fail(TL_E_NOMEM, "%s: '%s' remapped overflows", fn, names[k]);
    if (status == TL_OK)
      b->data[b->n_data++] = mem;
  }
  for (size_t j = 0; j < n_new && status == TL_OK; j++) {
    b->vocab[j] = tli_ckpt_strndup(new_vocab[j], strlen(new_vocab[j]));
    if (b->vocab[j] == NULL)
      status = tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
    else
      b->n_vocab++;
  }
  if (status != TL_OK)
    tli_remap_buffers_free(b);
  return status;
}

/* The old index of every new word (and the is-new flags). */
static void tli_map_words(size_t *old_of, uint8_t *out_is_new, tli_word *sorted,
                          const tl_ckpt *ckpt, const char *const *new_vocab,
                          size_t n_new) {
  const size_t n_old = ckpt->n_vocab;
  for (size_t i = 0; i < n_old; i++)
    sorted[i] = (tli_word){ckpt->vocab[i], i};
  qsort(sorted, n_old, sizeof *sorted, tli_word_cmp);
  for (size_t j = 0; j < n_new; j++) {
    old_of[j] = tli_lookup(sorted, n_old, new_vocab[j]);
    if (out_is_new != NULL)
      out_is_new[j] = old_of[j] == SIZE_MAX;
  }
}

tl_status tl_ckpt_remap_vocab(uint8_t *out_is_new, tl_ckpt *ckpt,
                              const char *const *new_vocab, size_t n_new,
                              const char *const *names, size_t n_names) {
  static const char fn[] = "tl_ckpt_remap_vocab";
  TLI_CHECK_PTR(fn, ckpt);
  TLI_CHECK_PTR(fn, new_vocab);
  TLI_CHECK(n_new > 0, TL_E_INVALID_ARG, "%s: n_new must be >= 1", fn);
  TLI_CHECK(n_names == 0 || names != NULL, TL_E_INVALID_ARG,
            "%s: argument 'names' is NULL with n_names %zu", fn, n_names);
  TLI_TRY(tli_check_remap(ckpt, new_vocab, n_new, names, n_names, fn));
  tli_remap_buffers b;
  TLI_TRY(
      tli_remap_buffers_alloc(&b, ckpt, new_vocab, n_new, names, n_names, fn));

  const size_t n_old = ckpt->n_vocab;
  tli_map_words(b.old_of, out_is_new, b.sorted, ckpt, new_vocab, n_new);
  for (size_t k = 0; k < n_names; k++) {
    size_t index = 0;
    tli_ckpt_find(ckpt, names[k], &index);
    tli_ckpt_tensor *t = &ckpt->tensors[index];
    tli_remap_rows(b.data[k], t, b.old_of, n_new, n_old);
    const size_t row = t->numel / n_old;
    tli_free(t->data);
    t->data = b.data[k];
    t->shape[0] = n_new;
    t->numel = row * n_new;
    t->nbytes = t->numel * sizeof(float);
  }
  b.n_data = 0; /* the tensors own the rows now */
  tli_ckpt_free_strings(ckpt->vocab, ckpt->n_vocab);
  ckpt->vocab = b.vocab;
  ckpt->n_vocab = n_new;
  b.vocab = NULL, b.n_vocab = 0; /* the checkpoint owns the words now */
  tli_remap_buffers_free(&b);
  return TL_OK;
}
