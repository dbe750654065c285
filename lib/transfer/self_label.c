/* Pseudo-label selection for self-training: by a confidence threshold, the
 * k most confident rows, or the k most confident rows of each class. */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tl/transfer.h"

/* A candidate row for the k modes: its top probability and index. */
typedef struct conf_row {
  double p;
  size_t row;
} conf_row;

/* Most confident first; equal confidence: lower row first (a total order,
 * so qsort's instability cannot show). */
static int by_confidence(const void *x, const void *y) {
  const conf_row *a = x, *b = y;
  if (a->p != b->p)
    return a->p > b->p ? -1 : 1;
  return a->row < b->row ? -1 : a->row > b->row;
}

tl_status tl_pseudo_label_select(uint8_t *out_selected, int64_t *out_labels,
                                 size_t *out_count, const double *probs,
                                 size_t n, size_t c, tl_pseudo_label_mode mode,
                                 double threshold, size_t k) {
  static const char fn[] = "tl_pseudo_label_select";
  TLI_CHECK_PTR(fn, out_selected);
  TLI_CHECK_PTR(fn, out_labels);
  TLI_CHECK_PTR(fn, probs);
  TLI_CHECK(n > 0 && c > 0, TL_E_INVALID_ARG,
            "%s: n (%zu) and c (%zu) must be > 0", fn, n, c);
  TLI_CHECK(mode >= TL_PSEUDO_LABEL_THRESHOLD &&
                mode <= TL_PSEUDO_LABEL_K_PER_CLASS,
            TL_E_INVALID_ARG, "%s: mode %d is not a tl_pseudo_label_mode", fn,
            (int)mode);
  if (mode == TL_PSEUDO_LABEL_THRESHOLD)
    TLI_CHECK(threshold >= 0 && threshold <= 1, TL_E_INVALID_ARG,
              "%s: threshold must be in [0, 1] (got %g)", fn, threshold);
  else
    TLI_CHECK(k >= 1, TL_E_INVALID_ARG, "%s: k must be >= 1", fn);
  for (size_t i = 0; i < n; i++) {
    double sum = 0.0;
    for (size_t j = 0; j < c; j++) {
      const double v = probs[i * c + j];
      TLI_CHECK(v >= 0 && v <= 1, TL_E_INVALID_ARG,
                "%s: probs[%zu][%zu] = %g is not a probability", fn, i, j, v);
      sum += v;
    }
    TLI_CHECK(fabs(sum - 1.0) <= 1e-4, TL_E_INVALID_ARG,
              "%s: row %zu sums to %.9g, not 1", fn, i, sum);
  }
  conf_row *cand = NULL;
  if (mode != TL_PSEUDO_LABEL_THRESHOLD)
    TLI_TRY(tli_alloc_checked((void **)&cand, n, sizeof *cand, fn));
  for (size_t i = 0; i < n; i++) {
    size_t best = 0;
    for (size_t j = 1; j < c; j++)
      if (probs[i * c + j] > probs[i * c + best])
        best = j;
    out_labels[i] = (int64_t)best;
    out_selected[i] =
        mode == TL_PSEUDO_LABEL_THRESHOLD && probs[i * c + best] > threshold;
  }
  if (mode == TL_PSEUDO_LABEL_K_BEST) {
    for (size_t i = 0; i < n; i++)
      cand[i] = (conf_row){probs[i * c + (size_t)out_labels[i]], i};
    qsort(cand, n, sizeof *cand, by_confidence);
    for (size_t r = 0; r < n && r < k; r++)
      out_selected[cand[r].row] = 1;
  } else if (mode == TL_PSEUDO_LABEL_K_PER_CLASS) {
    for (size_t cls = 0; cls < c; cls++) {
      size_t m = 0;
      for (size_t i = 0; i < n; i++)
        if ((size_t)out_labels[i] == cls)
          cand[m++] = (conf_row){probs[i * c + cls], i};
      qsort(cand, m, sizeof *cand, by_confidence);
      for (size_t r = 0; r < m && r < k; r++)
        out_selected[cand[r].row] = 1;
    }
  }
  tli_free(cand);
  if (out_count) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
      count += out_selected[i];
    *out_count = count;
  }
  return TL_OK;
}
