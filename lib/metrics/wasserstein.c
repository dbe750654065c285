/* 1-D Wasserstein distances by merging quantile functions: after sorting,
 * the cumulative weights of u and v cut [0, 1] into at most n + m pieces on
 * each of which both quantile functions are constant. */
#include "metrics/wasserstein.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "metrics/check.h"
#include "metrics/sort.h"
#include "tl/metrics.h"

static double tli_pow_abs(double d, double p) {
  d = fabs(d);
  if (p == 1.0)
    return d;
  if (p == 2.0)
    return d * d;
  return pow(d, p);
}

/* Cumulative weight after element i (0-based): (i + 1) / n for uniform
 * weights, computed exactly rather than summed; otherwise the running sum
 * `acc` divided by the total. */
double tli_wasserstein_sorted_pow(const double *u, const double *uw,
                                  tli_wsum su, size_t n, const double *v,
                                  const double *vw, tli_wsum sv, size_t m,
                                  double p, tli_scale vs) {
  /* Weights are read scaled by powers of two (tli_check_weights): 1 / sum
   * overflows for sums below 5.6e-309 and is subnormal above 2^1022. */
  const tli_scale cu_s = su.sc, cv_s = sv.sc;
  const double isu = uw ? 1.0 / su.sum : 0.0, isv = vw ? 1.0 / sv.sum : 0.0;
  double acc_u = uw ? tli_scaled(uw[0], cu_s) : 0.0,
         acc_v = vw ? tli_scaled(vw[0], cv_s) : 0.0;
  double cu = uw ? acc_u * isu : 1.0 / (double)n;
  double cv = vw ? acc_v * isv : 1.0 / (double)m;
  size_t i = 0, j = 0;
  double t = 0.0, sum = 0.0;
  for (;;) {
    const double w =
        tli_pow_abs(tli_scaled(u[i], vs) - tli_scaled(v[j], vs), p);
    if (cu < cv) {
      sum += (cu - t) * w;
      t = cu;
      if (++i == n)
        break;
      if (uw) {
        acc_u += tli_scaled(uw[i], cu_s);
        cu = acc_u * isu;
      } else {
        cu = (double)(i + 1) / (double)n;
      }
    } else {
      sum += (cv - t) * w;
      t = cv;
      if (++j == m)
        break;
      if (vw) {
        acc_v += tli_scaled(vw[j], cv_s);
        cv = acc_v * isv;
      } else {
        cv = (double)(j + 1) / (double)m;
      }
    }
  }
  /* The loop stops when either cumulative weight reaches 1; what is left of
   * the other is rounding (<= a few ulps of mass). */
  return sum;
}

/* Validates one sample set: values finite, weights a distribution. */
static tl_status tli_check_sample(const char *fn, const char *name,
                                  const char *wname, const double *x,
                                  const double *w, size_t n, tli_wsum *sum) {
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: %s is empty (its size is 0)", fn,
            name);
  TLI_TRY(tli_check_finite(fn, name, x, n));
  if (w)
    return tli_check_weights(fn, wname, w, n, sum);
  *sum = tli_wsum_of((double)n);
  return TL_OK;
}

tli_scale tli_wasserstein_scale(double max_abs, double p) {
  const int e = (int)(900.0 / p);
  return tli_scale_range(max_abs, -e, e);
}

static double tli_root(double x, double p) {
  if (p == 1.0)
    return x;
  if (p == 2.0)
    return sqrt(x);
  return pow(x, 1.0 / p);
}

/* *out = W_p from W_p^p of values scaled by vs. The overflow rule of
 * metrics.h: a distance beyond DBL_MAX (or, for a large p, a p-th power
 * that overflows even for values scaled into [1, 2)) is an error, not
 * +inf. */
static tl_status tli_finish(const char *fn, double *out, double wp, double p,
                            tli_scale vs) {
  const double r = tli_unscaled(tli_root(wp, p), vs);
  TLI_CHECK(isfinite(wp) && isfinite(r), TL_E_NUMERIC,
            "%s: the distance overflows (W_p^p = %g with p = %g, on values "
            "scaled by 2^%d): it is beyond DBL_MAX; rescale the values",
            fn, wp, p, ilogb(vs.f1) + ilogb(vs.f2));
  *out = r;
  return TL_OK;
}

tl_status tl_wasserstein_1d(double *out, const double *u, size_t n,
                            const double *u_weights, const double *v, size_t m,
                            const double *v_weights, double p) {
  static const char fn[] = "tl_wasserstein_1d";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, u);
  TLI_CHECK_PTR(fn, v);
  TLI_TRY(tli_check_order(fn, p));
  tli_wsum su, sv;
  TLI_TRY(tli_check_sample(fn, "u", "u_weights", u, u_weights, n, &su));
  TLI_TRY(tli_check_sample(fn, "v", "v_weights", v, v_weights, m, &sv));

  /* One block: sorted copies of u and v, their weights, radix work. */
  const size_t big = n > m ? n : m;
  const size_t nw = (u_weights ? n : 0) + (v_weights ? m : 0);
  const size_t count = n + m + nw + 3 * big;
  if (count < big) /* size_t wrapped */
    return tli_fail(TL_E_NOMEM, "%s: %zu + %zu samples overflow size_t", fn, n,
                    m);
  double *mem = NULL;
  TLI_TRY(tli_alloc_checked((void **)&mem, count, sizeof(double),
                            "tl_wasserstein_1d: sort buffers"));
  double *us = mem, *vs = us + n, *uws = vs + m;
  double *vws = uws + (u_weights ? n : 0);
  double *work_w = vws + (v_weights ? m : 0);
  uint64_t *work_k = (uint64_t *)(void *)(work_w + big);

  memcpy(us, u, n * sizeof *u);
  memcpy(vs, v, m * sizeof *v);
  if (u_weights)
    memcpy(uws, u_weights, n * sizeof *u_weights);
  if (v_weights)
    memcpy(vws, v_weights, m * sizeof *v_weights);
  tli_sort_f64(us, u_weights ? uws : NULL, n, work_k, work_w);
  tli_sort_f64(vs, v_weights ? vws : NULL, m, work_k, work_w);
  const tli_scale sc =
      tli_wasserstein_scale(fmax(fmax(fabs(us[0]), fabs(us[n - 1])),
                                 fmax(fabs(vs[0]), fabs(vs[m - 1]))),
                            p);
  const double wp =
      tli_wasserstein_sorted_pow(us, u_weights ? uws : NULL, su, n, vs,
                                 v_weights ? vws : NULL, sv, m, p, sc);
  tli_free(mem);
  return tli_finish(fn, out, wp, p, sc);
}

tl_status tl_wasserstein_1d_hist(double *out, const double *x, const double *a,
                                 const double *b, size_t n, double p) {
  static const char fn[] = "tl_wasserstein_1d_hist";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, x);
  TLI_CHECK_PTR(fn, a);
  TLI_CHECK_PTR(fn, b);
  TLI_TRY(tli_check_order(fn, p));
  TLI_CHECK(n > 0, TL_E_INVALID_ARG, "%s: n must be >= 1 (got 0)", fn);
  TLI_TRY(tli_check_finite(fn, "x", x, n));
  for (size_t i = 1; i < n; i++)
    TLI_CHECK(x[i - 1] <= x[i], TL_E_INVALID_ARG,
              "%s: x must be sorted (x[%zu] = %g > x[%zu] = %g)", fn, i - 1,
              x[i - 1], i, x[i]);
  tli_wsum sa, sb;
  TLI_TRY(tli_check_weights(fn, "a", a, n, &sa));
  TLI_TRY(tli_check_weights(fn, "b", b, n, &sb));
  const tli_scale sc =
      tli_wasserstein_scale(fmax(fabs(x[0]), fabs(x[n - 1])), p);
  return tli_finish(fn, out,
                    tli_wasserstein_sorted_pow(x, a, sa, n, x, b, sb, n, p, sc),
                    p, sc);
}
