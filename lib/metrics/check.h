/* Internal: argument checks shared by the lib/metrics functions, so every
 * public entry point rejects bad input with the same words. Each returns
 * TL_OK or a failing status whose message names `fn` and `name`. */
#ifndef TLI_METRICS_CHECK_H
#define TLI_METRICS_CHECK_H

#include <stddef.h>

#include "tl/core.h"

/* Every x[0..n) finite (TL_E_NUMERIC otherwise). */
tl_status tli_check_finite(const char *fn, const char *name, const double *x,
                           size_t n);

/* A distribution: n values, finite, >= 0, positive finite sum, stored in
 * *out_sum. */
tl_status tli_check_weights(const char *fn, const char *name, const double *w,
                            size_t n, double *out_sum);

/* 0 (natural log) or finite, > 0 and != 1; *out_scale = 1 / ln(base) (1
 * for 0), the factor turning nats into the base's units. */
tl_status tli_check_base(const char *fn, double base, double *out_scale);

/* Order p of a Wasserstein distance: finite and >= 1. */
tl_status tli_check_order(const char *fn, double p);

#endif
