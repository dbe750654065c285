/* Proxy A-distance: the held-out error of a linear domain classifier,
 * turned into 2 (1 - 2 err). Logistic regression by full-batch gradient
 * descent is deterministic and needs no linear solves, so it scales to
 * wide features at O(epochs n d). */
#include "metrics/proxy_a.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "metrics/align_util.h"
#include "metrics/check.h"

TLI_VERSION_SIZES(proxy_a_options_sizes, TL_PROXY_A_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_proxy_a_options, seed));

tl_status tl_proxy_a_options_init(tl_proxy_a_options *out,
                                  unsigned int version) {
  static const tl_proxy_a_options defaults = TL_PROXY_A_OPTIONS_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, proxy_a_options_sizes,
                          "tl_proxy_a_options_init");
}

static const double *tli_row(const double *xs, size_t ns, const double *xt,
                             size_t d, size_t r) {
  return r < ns ? xs + r * d : xt + (r - ns) * d;
}

static double tli_sigmoid(double z) {
  if (z >= 0.0)
    return 1.0 / (1.0 + exp(-z));
  const double e = exp(z);
  return e / (1.0 + e);
}

/* Fisher-Yates shuffle of idx[0..n). */
static void tli_shuffle(size_t *idx, size_t n, tli_rng *rng) {
  for (size_t i = n - 1; i > 0; i--) {
    const size_t j = (size_t)tli_rng_below(rng, (uint64_t)i + 1);
    const size_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

tl_status tli_proxy_a_run(double *out_err, double *weights, const double *xs,
                          size_t ns, const double *xt, size_t nt, size_t d,
                          const size_t *perm, size_t ntrain,
                          const tl_proxy_a_options *o) {
  const size_t n = ns + nt, ntest = n - ntrain;
  double *buf;
  /* z: ntrain x d standardised rows; mean, scale, w, grad: d; g: ntrain;
   * row: d; the power-of-two scale of each column: d tli_scale. */
  TLI_TRY(tli_alloc_checked((void **)&buf, ntrain * d + 7 * d + ntrain,
                            sizeof *buf, "proxy A-distance work"));
  double *z = buf, *mean = z + ntrain * d, *scale = mean + d, *w = scale + d;
  double *grad = w + d, *g = grad + d, *row = g + ntrain;
  tli_scale *cs = (tli_scale *)(void *)(row + d);
  /* Standardising is scale-free, but its sums and squares are not: a
   * column whose largest training |value| is outside [2^-400, 2^400] is
   * read scaled by a power of two into [1, 2) (exact; identity otherwise,
   * so ordinary data keeps its bits). */
  for (size_t j = 0; j < d; j++) {
    double mx = 0.0;
    for (size_t i = 0; i < ntrain; i++)
      mx = fmax(mx, fabs(tli_row(xs, ns, xt, d, perm[i])[j]));
    cs[j] = tli_scale_range(mx, -400, 400);
  }
  memset(mean, 0, 2 * d * sizeof *mean);
  for (size_t i = 0; i < ntrain; i++) {
    const double *x = tli_row(xs, ns, xt, d, perm[i]);
    for (size_t j = 0; j < d; j++)
      mean[j] += tli_scaled(x[j], cs[j]);
  }
  for (size_t j = 0; j < d; j++)
    mean[j] /= (double)ntrain;
  for (size_t i = 0; i < ntrain; i++) {
    const double *x = tli_row(xs, ns, xt, d, perm[i]);
    for (size_t j = 0; j < d; j++) {
      const double c = tli_scaled(x[j], cs[j]) - mean[j];
      scale[j] += c * c;
    }
  }
  /* Population standard deviation; a constant feature keeps scale 1. */
  for (size_t j = 0; j < d; j++) {
    const double sd = sqrt(scale[j] / (double)ntrain);
    scale[j] = sd > 0.0 ? 1.0 / sd : 1.0;
  }
  for (size_t i = 0; i < ntrain; i++) {
    const double *x = tli_row(xs, ns, xt, d, perm[i]);
    for (size_t j = 0; j < d; j++)
      z[i * d + j] = (tli_scaled(x[j], cs[j]) - mean[j]) * scale[j];
  }
  memset(w, 0, d * sizeof *w);
  double bias = 0.0;
  for (size_t e = 0; e < o->epochs; e++) {
    tli_dgemv(0, ntrain, d, 1.0, z, d, w, 0.0, g);
    double gb = 0.0;
    for (size_t i = 0; i < ntrain; i++) {
      const double label = perm[i] < ns ? 1.0 : 0.0;
      g[i] = tli_sigmoid(g[i] + bias) - label;
      gb += g[i];
    }
    tli_dgemv(1, ntrain, d, 1.0 / (double)ntrain, z, d, g, 0.0, grad);
    for (size_t j = 0; j < d; j++)
      w[j] -= o->lr * (grad[j] + o->l2 * w[j]);
    bias -= o->lr * gb / (double)ntrain;
    /* A step too large for the loss overflows the weights, and the NaN
     * logits that follow reach the bias within one epoch. */
    if (!isfinite(bias))
      break;
  }
  int finite = isfinite(bias);
  for (size_t j = 0; j < d; j++)
    finite &= isfinite(w[j]) != 0;
  if (!finite) {
    tli_free(buf);
    return tli_fail(TL_E_NUMERIC,
                    "tl_proxy_a_distance: the classifier's gradient descent "
                    "diverged (its weights overflowed) with opts->lr = %g: "
                    "use a smaller step (the default is 0.5)",
                    o->lr);
  }
  size_t wrong = 0;
  for (size_t i = ntrain; i < n; i++) {
    const double *x = tli_row(xs, ns, xt, d, perm[i]);
    for (size_t j = 0; j < d; j++)
      row[j] = (tli_scaled(x[j], cs[j]) - mean[j]) * scale[j];
    const int says_source = tli_ddot(d, row, w) + bias >= 0.0;
    wrong += says_source != (perm[i] < ns);
  }
  if (weights) {
    memcpy(weights, w, d * sizeof *w);
    weights[d] = bias;
  }
  tli_free(buf);
  *out_err = (double)wrong / (double)ntest;
  return TL_OK;
}

tl_status tl_proxy_a_distance(double *out_distance, double *out_error,
                              const double *xs, size_t ns, const double *xt,
                              size_t nt, size_t d,
                              const tl_proxy_a_options *opts) {
  static const char fn[] = "tl_proxy_a_distance";
  TLI_CHECK_PTR(fn, out_distance);
  TLI_TRY(tli_check_matrix(fn, "xs", xs, ns, d, 1));
  TLI_TRY(tli_check_matrix(fn, "xt", xt, nt, d, 1));
  tl_proxy_a_options opts_copy = TL_PROXY_A_OPTIONS_INIT;
  if (opts != NULL)
    TLI_TRY(
        TLI_OPTIONS_COPY(&opts_copy, opts, proxy_a_options_sizes, fn, "opts"));
  opts = &opts_copy;
  TLI_CHECK(opts->train_fraction > 0.0 && opts->train_fraction < 1.0,
            TL_E_INVALID_ARG,
            "%s: opts->train_fraction must be in (0, 1) (got %g)", fn,
            opts->train_fraction);
  TLI_CHECK(opts->epochs >= 1, TL_E_INVALID_ARG,
            "%s: opts->epochs must be >= 1", fn);
  TLI_CHECK(isfinite(opts->lr) && opts->lr > 0.0, TL_E_INVALID_ARG,
            "%s: opts->lr must be finite and > 0 (got %g)", fn, opts->lr);
  TLI_CHECK(isfinite(opts->l2) && opts->l2 >= 0.0, TL_E_INVALID_ARG,
            "%s: opts->l2 must be finite and >= 0 (got %g)", fn, opts->l2);
  TLI_CHECK(ns <= SIZE_MAX / 16 - nt, TL_E_INVALID_ARG, "%s: too many rows",
            fn);
  const size_t n = ns + nt;
  size_t nd, dims[1] = {n};
  TLI_CHECK(tli_mul_size(&nd, n, d) && nd <= SIZE_MAX / 16 &&
                tli_blas_dims_ok(dims, 1),
            TL_E_INVALID_ARG, "%s: %zu rows of %zu features are too many", fn,
            n, d);
  /* Stratified split: each domain contributes floor(train_fraction * rows)
   * training rows, so both parts hold both domains. With fewer than 2 rows
   * of a domain in a part the classifier or its error is meaningless (one
   * training row gives a constant classifier and err = 1). */
  const double f = opts->train_fraction;
  const size_t trs = (size_t)floor(f * (double)ns);
  const size_t trt = (size_t)floor(f * (double)nt);
  TLI_CHECK(trs >= 2 && ns - trs >= 2 && trt >= 2 && nt - trt >= 2,
            TL_E_INVALID_ARG,
            "%s: train_fraction %g of %zu source and %zu target rows gives "
            "training parts of %zu and %zu and held-out parts of %zu and %zu "
            "rows: each must be >= 2 (use more rows or another "
            "train_fraction)",
            fn, f, ns, nt, trs, trt, ns - trs, nt - trt);
  const size_t ntrain = trs + trt;
  size_t *perm;
  TLI_TRY(
      tli_alloc_checked((void **)&perm, 2 * n, sizeof *perm, "permutation"));
  /* order: each domain's row indices shuffled (Fisher-Yates, source first);
   * perm: source training, target training, source held-out, target
   * held-out. */
  size_t *order = perm + n;
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  tli_rng rng;
  tli_rng_seed(&rng, opts->seed);
  tli_shuffle(order, ns, &rng);
  tli_shuffle(order + ns, nt, &rng);
  memcpy(perm, order, trs * sizeof *perm);
  memcpy(perm + trs, order + ns, trt * sizeof *perm);
  memcpy(perm + ntrain, order + trs, (ns - trs) * sizeof *perm);
  memcpy(perm + ntrain + ns - trs, order + ns + trt, (nt - trt) * sizeof *perm);
  double err;
  const tl_status st =
      tli_proxy_a_run(&err, NULL, xs, ns, xt, nt, d, perm, ntrain, opts);
  tli_free(perm);
  if (st != TL_OK)
    return st;
  *out_distance = 2.0 * (1.0 - 2.0 * err);
  if (out_error)
    *out_error = err;
  return TL_OK;
}
