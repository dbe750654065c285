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
  const size_t n_old = ckpt->n_vocab;

  /* Everything is allocated before anything is replaced. */
  void *sorted_mem = NULL, *old_mem = NULL, *data_mem = NULL, *vocab_mem = NULL;
  tl_status status =
      tli_alloc_checked(&sorted_mem, n_old, sizeof(tli_word), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&old_mem, n_new, sizeof(size_t), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&data_mem, n_names + 1, sizeof(float *), fn);
  if (status == TL_OK)
    status = tli_alloc_checked(&vocab_mem, n_new, sizeof(char *), fn);
  float **data = data_mem;
  char **vocab = vocab_mem;
  size_t n_data = 0, n_vocab = 0;
  for (size_t k = 0; k < n_names && status == TL_OK; k++) {
    const tli_ckpt_tensor *t = tli_ckpt_find(ckpt, names[k], NULL);
    size_t elems;
    void *mem = NULL;
    status =
        tli_mul_size(&elems, t->numel / n_old, n_new)
            ? tli_alloc_checked(&mem, elems, sizeof(float), fn)
            : tli_fail(TL_E_NOMEM, "%s: '%s' remapped overflows", fn, names[k]);
    if (status == TL_OK)
      data[n_data++] = mem;
  }
  for (size_t j = 0; j < n_new && status == TL_OK; j++) {
    vocab[j] = tli_ckpt_strndup(new_vocab[j], strlen(new_vocab[j]));
    if (vocab[j] == NULL)
      status = tli_fail(TL_E_NOMEM, "%s: out of memory", fn);
    else
      n_vocab++;
  }
  if (status != TL_OK) {
    for (size_t k = 0; k < n_data; k++)
      tli_free(data[k]);
    tli_ckpt_free_strings(vocab, n_vocab);
    tli_free(data_mem);
    tli_free(old_mem);
    tli_free(sorted_mem);
    return status;
  }

  tli_word *sorted = sorted_mem;
  size_t *old_of = old_mem;
  for (size_t i = 0; i < n_old; i++)
    sorted[i] = (tli_word){ckpt->vocab[i], i};
  qsort(sorted, n_old, sizeof *sorted, tli_word_cmp);
  for (size_t j = 0; j < n_new; j++) {
    old_of[j] = tli_lookup(sorted, n_old, new_vocab[j]);
    if (out_is_new != NULL)
      out_is_new[j] = old_of[j] == SIZE_MAX;
  }
  for (size_t k = 0; k < n_names; k++) {
    size_t index = 0;
    tli_ckpt_find(ckpt, names[k], &index);
    tli_ckpt_tensor *t = &ckpt->tensors[index];
    tli_remap_rows(data[k], t, old_of, n_new, n_old);
    const size_t row = t->numel / n_old;
    tli_free(t->data);
    t->data = data[k];
    t->shape[0] = n_new;
    t->numel = row * n_new;
    t->nbytes = t->numel * sizeof(float);
  }
  tli_ckpt_free_strings(ckpt->vocab, ckpt->n_vocab);
  ckpt->vocab = vocab;
  ckpt->n_vocab = n_new;
  tli_free(data_mem);
  tli_free(old_mem);
  tli_free(sorted_mem);
  return TL_OK;
}
