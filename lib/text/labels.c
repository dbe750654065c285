/* The label vocabulary (include/tl/text.h, "label vocabulary"): string
 * class labels -> ids in fastai's CategoryMap order (sorted unique
 * values), and the length-prefixed text form kept in a checkpoint's
 * metadata so that a saved classifier knows its classes. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "strtab.h"
#include "tl/text.h"

/* Version tag that starts the text form; a later encoding gets a new tag. */
#define TLI_LABELS_TAG "v1;"

struct tl_label_vocab {
  tli_strtab tab; /* the classes in id order (sorted): id = table index */
};

void tl_label_vocab_free(tl_label_vocab *lv) {
  if (lv == NULL)
    return;
  tli_strtab_free(&lv->tab);
  tli_free(lv);
}

/* strcmp compares as unsigned char (C11 7.24.4), which for UTF-8 is the
 * order of code points: the order of Python's sorted() on str. */
static int tli_cmp_label(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A vocabulary holding sorted[0..n) (sorted, distinct), lens their lengths. */
static tl_status tli_label_vocab_build(tl_label_vocab **out,
                                       const char *const *sorted,
                                       const size_t *lens, size_t n,
                                       const char *fn) {
  tl_label_vocab *lv = NULL;
  TLI_TRY(tli_alloc_checked((void **)&lv, 1, sizeof *lv, fn));
  memset(lv, 0, sizeof *lv);
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++)
    bytes += lens[i];
  const tl_status s = tli_strtab_reserve(&lv->tab, n, bytes, fn);
  if (s != TL_OK) {
    tl_label_vocab_free(lv);
    return s;
  }
  for (size_t i = 0; i < n; i++)
    (void)tli_strtab_add(&lv->tab, sorted[i], lens[i]);
  *out = lv;
  return TL_OK;
}

tl_status tl_label_vocab_create(tl_label_vocab **out, const char *const *labels,
                                size_t n) {
  const char *fn = "tl_label_vocab_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: argument 'n' is 0 (no labels)", fn);
  TLI_CHECK_PTR(fn, labels);
  for (size_t i = 0; i < n; i++)
    TLI_CHECK(labels[i] != NULL, TL_E_INVALID_ARG,
              "%s: document %zu: label is missing (labels[%zu] is NULL)", fn, i,
              i);
  const char **sorted = NULL;
  size_t *lens = NULL;
  TLI_TRY(tli_alloc_checked((void **)&sorted, n, sizeof *sorted, fn));
  tl_status s = tli_alloc_checked((void **)&lens, n, sizeof *lens, fn);
  if (s == TL_OK) {
    memcpy(sorted, labels, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, tli_cmp_label);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
      if (u == 0 || strcmp(sorted[u - 1], sorted[i]) != 0)
        sorted[u++] = sorted[i];
    for (size_t i = 0; i < u; i++)
      lens[i] = strlen(sorted[i]);
    s = tli_label_vocab_build(out, sorted, lens, u, fn);
  }
  tli_free(lens);
  tli_free(sorted);
  return s;
}

tl_status tl_label_vocab_size(size_t *out, const tl_label_vocab *lv) {
  TLI_CHECK_PTR("tl_label_vocab_size", out);
  TLI_CHECK_PTR("tl_label_vocab_size", lv);
  *out = lv->tab.n;
  return TL_OK;
}

tl_status tl_label_vocab_label(const char **out, const tl_label_vocab *lv,
                               int64_t id) {
  const char *fn = "tl_label_vocab_label";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, lv);
  TLI_CHECK(id >= 0 && (uint64_t)id < lv->tab.n, TL_E_INVALID_ARG,
            "%s: argument 'id' is %lld, outside [0, %zu) (the classes)", fn,
            (long long)id, lv->tab.n);
  *out = tli_strtab_str(&lv->tab, (size_t)id);
  return TL_OK;
}

tl_status tl_label_vocab_encode(int64_t *out, const tl_label_vocab *lv,
                                const char *const *labels, size_t n) {
  const char *fn = "tl_label_vocab_encode";
  TLI_CHECK_PTR(fn, lv);
  TLI_CHECK((out != NULL && labels != NULL) || n == 0, TL_E_INVALID_ARG,
            "%s: argument '%s' is NULL with n %zu", fn,
            out == NULL ? "out" : "labels", n);
  /* Every label is checked before out is written: on error out is as it
   * was. */
  for (size_t i = 0; i < n; i++) {
    TLI_CHECK(labels[i] != NULL, TL_E_INVALID_ARG,
              "%s: document %zu: label is missing (labels[%zu] is NULL)", fn, i,
              i);
    TLI_CHECK(tli_strtab_find(&lv->tab, labels[i], strlen(labels[i])) !=
                  SIZE_MAX,
              TL_E_INVALID_ARG,
              "%s: document %zu: label '%s' is not one of the %zu classes", fn,
              i, labels[i], lv->tab.n);
  }
  for (size_t i = 0; i < n; i++)
    out[i] = (int64_t)tli_strtab_find(&lv->tab, labels[i], strlen(labels[i]));
  return TL_OK;
}

/* Decimal digits of v. */
static size_t tli_ndigits(size_t v) {
  size_t d = 1;
  while (v >= 10) {
    v /= 10;
    d++;
  }
  return d;
}

tl_status tl_label_vocab_to_string(char *out, size_t cap, size_t *out_len,
                                   const tl_label_vocab *lv) {
  const char *fn = "tl_label_vocab_to_string";
  TLI_CHECK_PTR(fn, lv);
  TLI_CHECK(out != NULL || cap == 0, TL_E_INVALID_ARG,
            "%s: argument 'out' is NULL with cap %zu", fn, cap);
  size_t need = strlen(TLI_LABELS_TAG);
  for (size_t i = 0; i < lv->tab.n; i++)
    need += tli_ndigits(lv->tab.len[i]) + 1 + lv->tab.len[i];
  if (out_len != NULL)
    *out_len = need;
  if (out == NULL)
    return TL_OK;
  TLI_CHECK(cap > need, TL_E_INVALID_ARG,
            "%s: argument 'cap' is %zu, the text needs %zu bytes with its NUL",
            fn, cap, need + 1);
  char *p = out;
  memcpy(p, TLI_LABELS_TAG, strlen(TLI_LABELS_TAG));
  p += strlen(TLI_LABELS_TAG);
  for (size_t i = 0; i < lv->tab.n; i++) {
    const size_t len = lv->tab.len[i], d = tli_ndigits(len);
    size_t v = len;
    for (size_t k = d; k-- > 0; v /= 10)
      p[k] = (char)('0' + v % 10);
    p += d;
    *p++ = ':';
    memcpy(p, tli_strtab_str(&lv->tab, i), len);
    p += len;
  }
  *p = '\0';
  return TL_OK;
}

/* Walks the entries "n:bytes" of text[pos..total). With labels NULL it
 * only checks the framing and counts them into *out_n; else it fills
 * labels/lens (room for *out_n) and checks the order. */
static tl_status tli_labels_parse(size_t *out_n, const char **labels,
                                  size_t *lens, const char *text, size_t pos,
                                  size_t total, const char *fn) {
  size_t k = 0;
  while (pos < total) {
    size_t len = 0, d = 0;
    while (pos + d < total && text[pos + d] >= '0' && text[pos + d] <= '9') {
      TLI_CHECK(len <= (SIZE_MAX - 9) / 10, TL_E_FORMAT,
                "%s: label %zu at byte offset %zu: the length does not fit "
                "a size_t",
                fn, k, pos);
      len = len * 10 + (size_t)(text[pos + d] - '0');
      d++;
    }
    TLI_CHECK(d > 0 && pos + d < total && text[pos + d] == ':' &&
                  (d == 1 || text[pos] != '0'),
              TL_E_FORMAT,
              "%s: label %zu at byte offset %zu: expected a decimal length "
              "(no leading zeros) then ':'",
              fn, k, pos);
    TLI_CHECK(len <= total - (pos + d + 1), TL_E_FORMAT,
              "%s: label %zu at byte offset %zu: length %zu runs past the "
              "end of the text (%zu bytes)",
              fn, k, pos, len, total);
    const char *lab = text + pos + d + 1;
    if (labels != NULL) {
      /* Strictly increasing, as tl_label_vocab_create writes them: any
       * other order would give other ids than the saved model's. */
      if (k > 0) {
        const size_t m = lens[k - 1] < len ? lens[k - 1] : len;
        const int c = memcmp(labels[k - 1], lab, m);
        TLI_CHECK(c < 0 || (c == 0 && lens[k - 1] < len), TL_E_FORMAT,
                  "%s: label %zu at byte offset %zu is not after label %zu "
                  "(the classes must be sorted and distinct)",
                  fn, k, pos, k - 1);
      }
      labels[k] = lab;
      lens[k] = len;
    }
    k++;
    pos += d + 1 + len;
  }
  *out_n = k;
  return TL_OK;
}

tl_status tl_label_vocab_from_string(tl_label_vocab **out, const char *text) {
  const char *fn = "tl_label_vocab_from_string";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, text);
  const size_t total = strlen(text), tag = strlen(TLI_LABELS_TAG);
  TLI_CHECK(total >= tag && memcmp(text, TLI_LABELS_TAG, tag) == 0, TL_E_FORMAT,
            "%s: the text does not start with \"%s\" (not a label "
            "vocabulary of this format)",
            fn, TLI_LABELS_TAG);
  size_t n = 0;
  TLI_TRY(tli_labels_parse(&n, NULL, NULL, text, tag, total, fn));
  TLI_CHECK(n > 0, TL_E_FORMAT, "%s: the text holds no labels", fn);
  const char **labels = NULL;
  size_t *lens = NULL;
  TLI_TRY(tli_alloc_checked((void **)&labels, n, sizeof *labels, fn));
  tl_status s = tli_alloc_checked((void **)&lens, n, sizeof *lens, fn);
  if (s == TL_OK)
    s = tli_labels_parse(&n, labels, lens, text, tag, total, fn);
  if (s == TL_OK)
    s = tli_label_vocab_build(out, labels, lens, n, fn);
  tli_free(lens);
  tli_free(labels);
  return s;
}
