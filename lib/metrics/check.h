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

/* Power-of-two normalisation of a distribution with sum s (finite, > 0).
 * Normalising by 1 / s breaks at both ends of the range: below about
 * 5.6e-309 the reciprocal overflows, above 2^1022 it is subnormal (fewer
 * digits). Reading every value x as tli_scaled(x, sc) = (x * f1) * f2
 * multiplies it by 2^k exactly, k chosen so that the scaled sum is in
 * [1, 2), whose reciprocal is normal. (A value that ends below DBL_MIN
 * loses bits, but it is then below 2^-1022 of the sum: under rounding.)
 * Two factors because 2^k alone is not a double for k > 1023. Both are 1
 * when 1 / s is already normal, so inputs in the usual range are read
 * unchanged and give the same bits as before; a power-of-two scale of an
 * input therefore changes no result. */
typedef struct tli_scale {
  double f1, f2;
} tli_scale;

/* 1 when s is in the range where 1 / s is normal and finite. */
static inline int tli_sum_in_range(double s) {
  return s >= 0x1p-1021 && s <= 0x1p1021;
}

tli_scale tli_scale_for(double s);

/* The factors of 2^k, |k| <= 2044 (each half a normal power of two). */
tli_scale tli_scale_exp(int k);

/* The same for a magnitude m >= 0 (e.g. the largest |x| of a data set):
 * identity when m is 0 or within [2^lo_exp, 2^hi_exp], otherwise the
 * factors that bring m into [1, 2). Callers pick the window in which their
 * arithmetic (squares, sums of squares) cannot over- or underflow, so that
 * ordinary data keeps its bits. */
tli_scale tli_scale_range(double m, int lo_exp, int hi_exp);

/* x / 2^k for the k of sc (exact unless the result over- or underflows):
 * maps a result computed on scaled data back. */
static inline double tli_unscaled(double x, tli_scale sc) {
  return x / sc.f1 / sc.f2;
}

/* Largest |x_i| of x[0..n) (0 for n = 0). */
double tli_max_abs(const double *x, size_t n);

static inline double tli_scaled(double x, tli_scale sc) {
  return x * sc.f1 * sc.f2;
}

/* A validated distribution: its values are read as tli_scaled(w_i, sc),
 * and sum is the sum of those scaled values (in [1, 2) when sc is not the
 * identity, else the plain sum), so w_i / sum w = tli_scaled(w_i, sc) / sum
 * for every finite sum, tiny (1 / sum overflows), huge (1 / sum is
 * subnormal) or beyond DBL_MAX (values near DBL_MAX). */
typedef struct tli_wsum {
  double sum;
  tli_scale sc;
} tli_wsum;

/* A distribution: n values, finite, >= 0, positive sum (which may exceed
 * DBL_MAX), described in *out. */
tl_status tli_check_weights(const char *fn, const char *name, const double *w,
                            size_t n, tli_wsum *out);

/* The description of an in-range, positive finite sum s. */
static inline tli_wsum tli_wsum_of(double s) {
  tli_wsum r;
  r.sc = tli_scale_for(s);
  r.sum = tli_scaled(s, r.sc);
  return r;
}

/* 0 (natural log) or finite, > 0 and != 1; *out_scale = 1 / ln(base) (1
 * for 0), the factor turning nats into the base's units. */
tl_status tli_check_base(const char *fn, double base, double *out_scale);

/* Order p of a Wasserstein distance: finite and >= 1. */
tl_status tli_check_order(const char *fn, double p);

#endif
