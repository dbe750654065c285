/* Co-training (Blum & Mitchell 1998): each of two models labels its most
 * confident rows of each class for the other. */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "select_internal.h"
#include "tl/transfer.h"

/* Marks in join/labels the rows `probs` labels most confidently: for each
 * class k, the per_class[k] best rows predicted as k. cand: n entries. */
static void choose(uint8_t *join, int64_t *labels, tli_conf_row *cand,
                   const double *probs, size_t n, size_t c,
                   const size_t *per_class) {
  for (size_t k = 0; k < c; k++) {
    if (per_class[k] == 0)
      continue;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (tli_argmax(probs + i * c, c) == k)
        cand[m++] = (tli_conf_row){probs[i * c + k], i};
    qsort(cand, m, sizeof *cand, tli_by_confidence);
    for (size_t r = 0; r < m && r < per_class[k]; r++) {
      join[cand[r].row] = 1;
      labels[cand[r].row] = (int64_t)k;
    }
  }
}

tl_status tl_co_training_select(uint8_t *out_join, int64_t *out_labels,
                                const double *probs_a, const double *probs_b,
                                size_t n, size_t c, const size_t *per_class) {
  static const char fn[] = "tl_co_training_select";
  TLI_CHECK_PTR(fn, out_join);
  TLI_CHECK_PTR(fn, out_labels);
  TLI_CHECK_PTR(fn, probs_a);
  TLI_CHECK_PTR(fn, probs_b);
  TLI_CHECK_PTR(fn, per_class);
  TLI_CHECK(n > 0 && c > 0, TL_E_INVALID_ARG,
            "%s: n (%zu) and c (%zu) must be > 0", fn, n, c);
  int any = 0;
  for (size_t k = 0; k < c; k++)
    any |= per_class[k] != 0;
  TLI_CHECK(any, TL_E_INVALID_ARG,
            "%s: per_class is 0 for every class (nothing to label)", fn);
  TLI_TRY(tli_check_prob_rows(fn, 0, probs_a, n, c));
  TLI_TRY(tli_check_prob_rows(fn, 1, probs_b, n, c));
  tli_conf_row *cand = NULL;
  TLI_TRY(tli_alloc_checked((void **)&cand, n, sizeof *cand, fn));
  for (size_t e = 0; e < 2 * n; e++) {
    out_join[e] = 0;
    out_labels[e] = -1;
  }
  /* B's choices join A's set (block 0), A's join B's (block 1). */
  choose(out_join, out_labels, cand, probs_b, n, c, per_class);
  choose(out_join + n, out_labels + n, cand, probs_a, n, c, per_class);
  tli_free(cand);
  return TL_OK;
}
