/* Helpers shared by lib/transfer's selection functions. */
#include <math.h>

#include "core/error.h"
#include "select_internal.h"

tl_status tli_check_prob_rows(const char *fn, size_t model, const double *p,
                              size_t n, size_t c) {
  for (size_t i = 0; i < n; i++) {
    const double *row = p + i * c;
    double s = 0.0;
    for (size_t j = 0; j < c; j++) {
      TLI_CHECK(row[j] >= 0 && row[j] <= 1, TL_E_INVALID_ARG,
                "%s: model %zu row %zu: probs[%zu] = %g is not a probability",
                fn, model, i, j, row[j]);
      s += row[j];
    }
    TLI_CHECK(fabs(s - 1.0) <= 1e-4, TL_E_INVALID_ARG,
              "%s: model %zu row %zu sums to %.9g, not 1", fn, model, i, s);
  }
  return TL_OK;
}

int tli_by_confidence(const void *x, const void *y) {
  const tli_conf_row *a = x, *b = y;
  if (a->p != b->p)
    return a->p > b->p ? -1 : 1;
  return a->row < b->row ? -1 : a->row > b->row;
}

size_t tli_argmax(const double *row, size_t c) {
  size_t best = 0;
  for (size_t j = 1; j < c; j++)
    if (row[j] > row[best])
      best = j;
  return best;
}
