/* Internal to lib/transfer: what the selection helpers (ensemble,
 * co-training, democratic co-learning) share. */
#ifndef TLI_TRANSFER_SELECT_INTERNAL_H
#define TLI_TRANSFER_SELECT_INTERNAL_H

#include <stddef.h>

#include "tl/core.h"

/* Checks that each row of model `model`'s probabilities p (n, c) is a
 * probability vector: entries in [0, 1] summing to 1 within 1e-4. The
 * message names fn, the model and the row. */
tl_status tli_check_prob_rows(const char *fn, size_t model, const double *p,
                              size_t n, size_t c);

/* A candidate row and its confidence, for sorting. */
typedef struct tli_conf_row {
  double p;
  size_t row;
} tli_conf_row;

/* qsort order: most confident first; equal confidence: lower row first (a
 * total order, so qsort's instability cannot show). */
int tli_by_confidence(const void *x, const void *y);

/* The argmax of row[0..c) (the first on ties). */
size_t tli_argmax(const double *row, size_t c);

#endif
