/* lib/metrics part 1: divergences and distances, 1-D and sliced
 * Wasserstein, Sinkhorn, MMD^2. Golden values come from
 * tests/fixtures/gen_metrics_div.py (SciPy, POT, numpy). */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/metrics_div_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/fastlog.h"
#include "metrics/logsums.h"
#include "metrics/sort.h"
#include "tl_test.h"

/* Closed forms against SciPy/POT/numpy: relative error < 1e-10. */
#define TIGHT 1e-10
/* Iterative Sinkhorn against POT. */
#define SINKHORN_TOL 1e-6

static const double ln2 = 0.69314718055994530942;

/* Random positive distribution of n bins from rng (scale arbitrary). */
static void random_dist(double *out, size_t n, tli_rng *rng) {
  for (size_t i = 0; i < n; i++)
    out[i] = tli_rng_uniform(rng) + 1e-3;
}

/* ---------------------------------------------------------------------- */
/* Documented vectors (REFERENCE.md).                                      */

START_TEST(documented_vectors) {
  double r;
  const double p[] = {0.5, 0.5}, q[] = {0.9, 0.1};
  TLT_ASSERT_OK(tl_kl_divergence(&r, p, q, 2, 2.0));
  TLT_ASSERT_CLOSE(r, 0.7369655941662062, 1e-15, 0.0);
  const double a[] = {1, 0, 0}, b[] = {0, 1, 0};
  TLT_ASSERT_OK(tl_js_distance(&r, a, b, 3, 2.0));
  ck_assert_double_eq(r, 1.0);
  const double c[] = {1, 0}, d[] = {0.5, 0.5};
  TLT_ASSERT_OK(tl_js_distance(&r, c, d, 2, 0.0));
  TLT_ASSERT_CLOSE(r, 0.46450140402245893, 1e-15, 0.0);

  const double u[] = {0, 1, 3}, v[] = {5, 6, 8};
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, u, 3, NULL, v, 3, NULL, 1.0));
  TLT_ASSERT_CLOSE(r, 5.0, 1e-15, 0.0);
  const double x[] = {0, 1}, uw[] = {3, 1}, vw[] = {2, 2};
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, x, 2, uw, x, 2, vw, 1.0));
  TLT_ASSERT_CLOSE(r, 0.25, 1e-15, 0.0);

  const double h[] = {0.5, 0.5}, m[] = {0, 1, 1, 0};
  TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, NULL, NULL, h, 2, h, 2, m, 1.0, NULL));
  TLT_ASSERT_CLOSE(r, 0.26894142136999516, 1e-12, 0.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Divergences against SciPy and the formulas.                             */

START_TEST(kl_and_entropy_match_scipy) {
  double r;
  TLT_ASSERT_OK(tl_kl_divergence(&r, div_p, div_q, DIV_N, 0.0));
  TLT_ASSERT_CLOSE(r, kl_pq, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_kl_divergence(&r, div_p, div_q, DIV_N, 2.0));
  TLT_ASSERT_CLOSE(r, kl_pq_base2, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_kl_divergence(&r, div_q, div_p, DIV_N, 10.0));
  TLT_ASSERT_CLOSE(r, kl_qp_base10, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_kl_divergence(&r, div_pz, div_q, DIV_N, 0.0));
  TLT_ASSERT_CLOSE(r, kl_pzq, TIGHT, 0.0);
  /* q = 0 < p: infinite, not an error. */
  TLT_ASSERT_OK(tl_kl_divergence(&r, div_p, div_qz, DIV_N, 0.0));
  ck_assert(isinf(r) && r > 0);
  TLT_ASSERT_OK(tl_entropy(&r, div_p, DIV_N, 0.0));
  TLT_ASSERT_CLOSE(r, entropy_p, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_entropy(&r, div_pz, DIV_N, 2.0));
  TLT_ASSERT_CLOSE(r, entropy_pz_base2, TIGHT, 0.0);
  /* Uniform over 8 bins: 3 bits; one bin: 0. */
  const double uni[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  TLT_ASSERT_OK(tl_entropy(&r, uni, 8, 2.0));
  TLT_ASSERT_CLOSE(r, 3.0, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_entropy(&r, uni, 1, 0.0));
  ck_assert_double_eq(r, 0.0);
}
END_TEST

START_TEST(js_matches_scipy) {
  double r;
  TLT_ASSERT_OK(tl_js_divergence(&r, div_p, div_q, DIV_N, 0.0));
  TLT_ASSERT_CLOSE(r, js_pq, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_js_distance(&r, div_p, div_q, DIV_N, 0.0));
  TLT_ASSERT_CLOSE(r, js_dist_pq, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_js_distance(&r, div_p, div_q, DIV_N, 2.0));
  TLT_ASSERT_CLOSE(r, js_dist_pq_base2, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_js_distance(&r, div_pz, div_qz, DIV_N, 0.0));
  TLT_ASSERT_CLOSE(r, js_dist_pzqz, TIGHT, 0.0);
  /* Disjoint supports: exactly ln 2 nats, 1 bit. */
  const double a[] = {1, 2, 0, 0}, b[] = {0, 0, 3, 4};
  TLT_ASSERT_OK(tl_js_divergence(&r, a, b, 4, 0.0));
  TLT_ASSERT_CLOSE(r, ln2, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_js_divergence(&r, a, b, 4, 2.0));
  TLT_ASSERT_CLOSE(r, 1.0, 1e-15, 0.0);
}
END_TEST

START_TEST(renyi_bhattacharyya_hellinger_tv_match_formulas) {
  double r;
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_q, DIV_N, 0.5, 0.0));
  TLT_ASSERT_CLOSE(r, renyi_pq_0_5, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_q, DIV_N, 0.99, 0.0));
  TLT_ASSERT_CLOSE(r, renyi_pq_0_99, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_q, DIV_N, 2.0, 0.0));
  TLT_ASSERT_CLOSE(r, renyi_pq_2, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_pz, div_q, DIV_N, 0.99, 0.0));
  TLT_ASSERT_CLOSE(r, renyi_pzq_0_99, TIGHT, 0.0);
  /* Order 1 is KL exactly; order 0.99 is close to it. */
  double kl;
  TLT_ASSERT_OK(tl_kl_divergence(&kl, div_p, div_q, DIV_N, 0.0));
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_q, DIV_N, 1.0, 0.0));
  ck_assert_double_eq(r, kl);
  ck_assert(fabs(renyi_pq_0_99 - kl_pq) < 0.02 * kl_pq);
  /* Large orders, where sum p^a q^(1-a) overflows a double, stay finite
   * (log-sum-exp fallback). Reference: 50-digit mpmath,
   * log(sum p^a q^(1-a)) / (a - 1) for p = (.87, .13), q = (.13, .87). */
  const double rp[2] = {0.87, 0.13}, rq[2] = {0.13, 0.87};
  TLT_ASSERT_OK(tl_renyi_divergence(&r, rp, rq, 2, 700.0, 0.0));
  TLT_ASSERT_CLOSE(r, 1.900759530767677, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_renyi_divergence(&r, rp, rq, 2, 5000.0, 0.0));
  TLT_ASSERT_CLOSE(r, 1.9009309032079833, TIGHT, 0.0);
  /* In bits: the nats value / ln 2. */
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_q, DIV_N, 0.5, 2.0));
  TLT_ASSERT_CLOSE(r, renyi_pq_0_5 / ln2, TIGHT, 0.0);
  /* q = 0 < p: inf for alpha > 1, finite for alpha < 1. */
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_qz, DIV_N, 2.0, 0.0));
  ck_assert(isinf(r) && r > 0);
  TLT_ASSERT_OK(tl_renyi_divergence(&r, div_p, div_qz, DIV_N, 0.5, 0.0));
  ck_assert(isfinite(r) && r > 0);
  const double a[] = {1, 0}, b[] = {0, 1};
  TLT_ASSERT_OK(tl_renyi_divergence(&r, a, b, 2, 0.5, 0.0));
  ck_assert(isinf(r) && r > 0);

  TLT_ASSERT_OK(tl_bhattacharyya(&r, div_p, div_q, DIV_N));
  TLT_ASSERT_CLOSE(r, bhatta_pq, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_bhattacharyya(&r, a, b, 2));
  ck_assert(isinf(r) && r > 0);
  TLT_ASSERT_OK(tl_hellinger(&r, div_p, div_q, DIV_N));
  TLT_ASSERT_CLOSE(r, hellinger_pq, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_hellinger(&r, a, b, 2));
  ck_assert_double_eq(r, 1.0);
  TLT_ASSERT_OK(tl_total_variation(&r, div_p, div_q, DIV_N));
  TLT_ASSERT_CLOSE(r, tv_pq, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_total_variation(&r, a, b, 2));
  ck_assert_double_eq(r, 1.0);
}
END_TEST

START_TEST(cosine_and_euclidean_match_scipy) {
  double r;
  TLT_ASSERT_OK(tl_cosine_distance(&r, vec_u, vec_v, DIV_N));
  TLT_ASSERT_CLOSE(r, cosine_uv, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_cosine_similarity(&r, vec_u, vec_v, DIV_N));
  TLT_ASSERT_CLOSE(r, 1.0 - cosine_uv, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_euclidean(&r, vec_u, vec_v, DIV_N));
  TLT_ASSERT_CLOSE(r, euclid_uv, TIGHT, 0.0);
  /* Opposite directions; scaling does not matter; huge values do not
   * overflow before the result does. */
  const double u[] = {1, 2, 3}, v[] = {-2, -4, -6};
  TLT_ASSERT_OK(tl_cosine_similarity(&r, u, v, 3));
  ck_assert_double_eq(r, -1.0);
  TLT_ASSERT_OK(tl_cosine_distance(&r, u, v, 3));
  ck_assert_double_eq(r, 2.0);
  const double big1[] = {1e300, -1e300}, big2[] = {-1e300, 1e300};
  TLT_ASSERT_OK(tl_euclidean(&r, big1, big2, 2));
  TLT_ASSERT_CLOSE(r, sqrt(8.0) * 1e300, 1e-14, 0.0);
  TLT_ASSERT_OK(tl_cosine_similarity(&r, big1, big2, 2));
  ck_assert_double_eq(r, -1.0);
  const double tiny[] = {1e-320, 0}, tiny2[] = {0, 1e-320};
  TLT_ASSERT_OK(tl_cosine_similarity(&r, tiny, tiny2, 2));
  ck_assert_double_eq(r, 0.0);
  const double z[] = {0, 0};
  TLT_ASSERT_OK(tl_euclidean(&r, z, z, 2));
  ck_assert_double_eq(r, 0.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Properties over random distributions.                                   */

typedef tl_status (*pair_fn)(double *, const double *, const double *, size_t);

static tl_status js_dist_nats(double *o, const double *p, const double *q,
                              size_t n) {
  return tl_js_distance(o, p, q, n, 0.0);
}
static tl_status js_div_nats(double *o, const double *p, const double *q,
                             size_t n) {
  return tl_js_divergence(o, p, q, n, 0.0);
}
static tl_status kl_nats(double *o, const double *p, const double *q,
                         size_t n) {
  return tl_kl_divergence(o, p, q, n, 0.0);
}
static tl_status renyi_half(double *o, const double *p, const double *q,
                            size_t n) {
  return tl_renyi_divergence(o, p, q, n, 0.5, 0.0);
}

START_TEST(divergence_properties) {
  tli_rng rng;
  tli_rng_seed(&rng, 7);
  enum { n = 33 };
  double p[n], q[n], s[n], p3[n];
  const pair_fn all[] = {kl_nats,           js_div_nats,      js_dist_nats,
                         renyi_half,        tl_bhattacharyya, tl_hellinger,
                         tl_total_variation};
  const pair_fn symmetric[] = {js_div_nats, js_dist_nats, tl_bhattacharyya,
                               tl_hellinger, tl_total_variation};
  const pair_fn metrics[] = {js_dist_nats, tl_hellinger, tl_total_variation};
  for (int trial = 0; trial < 50; trial++) {
    random_dist(p, n, &rng);
    random_dist(q, n, &rng);
    random_dist(s, n, &rng);
    for (size_t i = 0; i < n; i++)
      p3[i] = 3.5 * p[i];
    for (size_t f = 0; f < sizeof all / sizeof all[0]; f++) {
      double pq, pp, p3q;
      TLT_ASSERT_OK(all[f](&pq, p, q, n));
      TLT_ASSERT_OK(all[f](&pp, p, p, n));
      TLT_ASSERT_OK(all[f](&p3q, p3, q, n));
      ck_assert(pq > 0.0 && isfinite(pq));
      ck_assert_msg(pp >= 0.0 && pp < 1e-7, "identity gives %g (f %zu)", pp, f);
      TLT_ASSERT_CLOSE(p3q, pq, 1e-12, 0.0); /* normalised: scale-free */
    }
    for (size_t f = 0; f < sizeof symmetric / sizeof symmetric[0]; f++) {
      double pq, qp;
      TLT_ASSERT_OK(symmetric[f](&pq, p, q, n));
      TLT_ASSERT_OK(symmetric[f](&qp, q, p, n));
      TLT_ASSERT_CLOSE(pq, qp, 1e-12, 0.0);
    }
    for (size_t f = 0; f < sizeof metrics / sizeof metrics[0]; f++) {
      double pq, ps, sq;
      TLT_ASSERT_OK(metrics[f](&pq, p, q, n));
      TLT_ASSERT_OK(metrics[f](&ps, p, s, n));
      TLT_ASSERT_OK(metrics[f](&sq, s, q, n));
      ck_assert(pq <= ps + sq + 1e-15);
    }
    double e1, e2, e3;
    TLT_ASSERT_OK(tl_euclidean(&e1, p, q, n));
    TLT_ASSERT_OK(tl_euclidean(&e2, p, s, n));
    TLT_ASSERT_OK(tl_euclidean(&e3, s, q, n));
    ck_assert(e1 <= e2 + e3 + 1e-15);
    double js;
    TLT_ASSERT_OK(tl_js_divergence(&js, p, q, n, 0.0));
    ck_assert(js >= 0.0 && js <= ln2);
  }
}
END_TEST

/* scipy gh-20083: rounding made JS slightly negative and the distance NaN
 * for (near) identical inputs. Float32-rounded copies must give a real
 * number >= 0. */
START_TEST(js_never_nan_from_rounding) {
  tli_rng rng;
  tli_rng_seed(&rng, 20083);
  enum { n = 101 };
  double p[n], q[n];
  for (int trial = 0; trial < 200; trial++) {
    random_dist(p, n, &rng);
    for (size_t i = 0; i < n; i++)
      q[i] = (double)(float)(p[i] * 1.0000001);
    double d, dv;
    TLT_ASSERT_OK(tl_js_distance(&d, p, q, n, 0.0));
    TLT_ASSERT_OK(tl_js_divergence(&dv, p, p, n, 2.0));
    ck_assert(!isnan(d) && d >= 0.0 && d < 1e-3);
    ck_assert(dv == 0.0);
    TLT_ASSERT_OK(tl_js_distance(&d, p, p, n, 0.0));
    ck_assert_double_eq(d, 0.0);
  }
}
END_TEST

START_TEST(fastlog_is_within_one_ulp_and_never_inf) {
  tli_rng rng;
  tli_rng_seed(&rng, 1);
  double worst = 0.0;
  for (int i = 0; i < 200000; i++) {
    /* Log-uniform over the whole normal range, and densely around 1. */
    const double x = i % 2 ? exp(1416.0 * tli_rng_uniform(&rng) - 708.0)
                           : 1.0 + 0.2 * (tli_rng_uniform(&rng) - 0.5);
    const double want = log(x), got = tli_fastlog(x);
    if (want != 0.0) {
      const double ulp = nextafter(fabs(want), INFINITY) - fabs(want);
      worst = fmax(worst, fabs(got - want) / ulp);
    } else {
      ck_assert_double_eq(got, 0.0);
    }
  }
  ck_assert_msg(worst <= 1.0, "tli_fastlog is %g ulp off", worst);
  ck_assert_double_eq(tli_fastlog(DBL_MIN), log(DBL_MIN));
  ck_assert_double_eq(tli_fastlog(DBL_MAX), log(DBL_MAX));
  /* Out of range: some finite value (the callers rely on 0 * it == 0). */
  const double odd[] = {0.0, -0.0, 1e-310, INFINITY, -1.0, NAN};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
    ck_assert(isfinite(tli_fastlog(odd[i])));
}
END_TEST

START_TEST(fastlog_ratio_is_within_two_ulp) {
  tli_rng rng;
  tli_rng_seed(&rng, 2);
  double worst = 0.0;
  for (int i = 0; i < 200000; i++) {
    const double a = exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    const double b = i % 2 ? a * (1.0 + 1e-3 * (tli_rng_uniform(&rng) - 0.5))
                           : exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    /* Reference in long double: log1p of the exact difference near 1. */
    const long double q = (long double)a / (long double)b;
    const long double want =
        (q > 0.5L && q < 2.0L)
            ? log1pl(((long double)a - (long double)b) / (long double)b)
            : logl(q);
    const double w = (double)want;
    if (w == 0.0)
      continue;
    const double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
    worst = fmax(
        worst,
        (double)(fabsl((long double)tli_fastlog_ratio(a, b) - want) / ulp));
  }
  ck_assert_msg(worst <= 2.0, "tli_fastlog_ratio is %g ulp off", worst);
  ck_assert_double_eq(tli_fastlog_ratio(3.0, 3.0), 0.0);
  /* The ratio itself would overflow; its log does not. */
  TLT_ASSERT_CLOSE(tli_fastlog_ratio(DBL_MAX, DBL_MIN),
                   log(DBL_MAX) - log(DBL_MIN), 1e-15, 0.0);
  ck_assert(isfinite(tli_fastlog_ratio(0.0, 0.0)));
  ck_assert(isfinite(tli_fastlog_ratio(1.0, INFINITY)));
  ck_assert(isfinite(tli_fastlog_ratio(NAN, 1e-310)));
}
END_TEST

START_TEST(kl_and_js_do_not_depend_on_far_apart_scales) {
  /* sum q / sum p = 1e350 or 1e-350 overflows or underflows; the results
   * must still be those of the normalised inputs (they once were inf). */
  tli_rng rng;
  tli_rng_seed(&rng, 29);
  enum { n = 1001 };
  static double p[n], q[n], ps[n], qs[n];
  random_dist(p, n, &rng);
  random_dist(q, n, &rng);
  double kl, js;
  TLT_ASSERT_OK(tl_kl_divergence(&kl, p, q, n, 0.0));
  TLT_ASSERT_OK(tl_js_divergence(&js, p, q, n, 0.0));
  const double scale[2][2] = {{1e-200, 1e150}, {1e150, 1e-200}};
  for (int c = 0; c < 2; c++) {
    for (size_t i = 0; i < n; i++) {
      ps[i] = p[i] * scale[c][0];
      qs[i] = q[i] * scale[c][1];
    }
    double r;
    TLT_ASSERT_OK(tl_kl_divergence(&r, ps, qs, n, 0.0));
    TLT_ASSERT_CLOSE(r, kl, 1e-10, 0.0);
    TLT_ASSERT_OK(tl_js_divergence(&r, ps, qs, n, 0.0));
    TLT_ASSERT_CLOSE(r, js, 1e-13, 0.0);
  }
}
END_TEST

/* The FMA form of tli_fastlog_ratio_impl, as the AVX2 and AVX-512 passes
 * compile it (scalar FMAs round as vector ones). */
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_FUSED_LOG 1
__attribute__((target("avx2,fma"))) static double fused_log_ratio(double a,
                                                                  double b) {
  return tli_fastlog_ratio_impl(a, b, 1);
}
#endif

START_TEST(fused_fastlog_ratio_is_within_two_ulp) {
#ifdef HAVE_FUSED_LOG
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    return;
  tli_rng rng;
  tli_rng_seed(&rng, 2);
  double worst = 0.0;
  for (int i = 0; i < 200000; i++) {
    /* As fastlog_ratio_is_within_two_ulp. */
    const double a = exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    const double b = i % 2 ? a * (1.0 + 1e-3 * (tli_rng_uniform(&rng) - 0.5))
                           : exp(1400.0 * tli_rng_uniform(&rng) - 700.0);
    const long double q = (long double)a / (long double)b;
    const long double want =
        (q > 0.5L && q < 2.0L)
            ? log1pl(((long double)a - (long double)b) / (long double)b)
            : logl(q);
    const double w = (double)want;
    if (w == 0.0)
      continue;
    const double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
    worst =
        fmax(worst,
             (double)(fabsl((long double)fused_log_ratio(a, b) - want) / ulp));
  }
  ck_assert_msg(worst <= 2.0, "fused tli_fastlog_ratio is %g ulp off", worst);
  ck_assert_double_eq(fused_log_ratio(3.0, 3.0), 0.0);
  TLT_ASSERT_CLOSE(fused_log_ratio(DBL_MAX, DBL_MIN),
                   log(DBL_MAX) - log(DBL_MIN), 1e-15, 0.0);
  ck_assert(isfinite(fused_log_ratio(0.0, 0.0)));
  ck_assert(isfinite(fused_log_ratio(1.0, INFINITY)));
  ck_assert(isfinite(fused_log_ratio(NAN, 1e-310)));
#endif
}
END_TEST

/* Long double references for the passes of logsums.c. */
static void ref_kl_pass(const double *p, const double *q, size_t n,
                        long double *sp, long double *sq, long double *s) {
  *sp = *sq = *s = 0.0L;
  for (size_t i = 0; i < n; i++) {
    *sp += p[i];
    *sq += q[i];
    if (p[i] > 0.0)
      *s += (long double)p[i] * logl((long double)p[i] / (long double)q[i]);
  }
}

static long double ref_js_pass(const double *p, const double *q, size_t n,
                               double ip, double iq) {
  long double sum = 0.0L;
  for (size_t i = 0; i < n; i++) {
    const long double x = (long double)(p[i] * ip),
                      y = (long double)(q[i] * iq), m = x + y;
    if (x > 0.0L)
      sum += x * logl(2.0L * x / m);
    if (y > 0.0L)
      sum += y * logl(2.0L * y / m);
  }
  return sum;
}

START_TEST(logsums_passes_match_long_double_on_every_isa) {
  tli_rng rng;
  tli_rng_seed(&rng, 23);
  /* n = 1003: whole groups of lanes and a tail. */
  enum { n = 1003 };
  static double p[n], q[n];
  for (int isa = TLI_ISA_BASE; isa <= (int)tli_isa_best(); isa++) {
    /* Dense; zeros in p (q normal, or 0, or subnormal: all 0 terms);
     * another scale. */
    for (int c = 0; c < 3; c++) {
      random_dist(p, n, &rng);
      random_dist(q, n, &rng);
      for (size_t i = 0; i < n; i++) {
        if (c == 1 && i % 7 == 0)
          p[i] = 0.0;
        if (c == 1 && i % 21 == 0)
          q[i] = 0.0;
        if (c == 1 && i % 35 == 0)
          q[i] = 1e-310;
        if (c == 2)
          q[i] *= 1e6;
      }
      double sp, sq, s;
      long double rp, rq, rs;
      ck_assert_int_eq(tli_kl_pass((tli_isa)isa, p, q, n, &sp, &sq, &s), 1);
      ref_kl_pass(p, q, n, &rp, &rq, &rs);
      TLT_ASSERT_CLOSE(sp, (double)rp, 1e-14, 0.0);
      TLT_ASSERT_CLOSE(sq, (double)rq, 1e-14, 0.0);
      TLT_ASSERT_CLOSE(s, (double)rs, 1e-12, 1e-12 * (double)rp);
      double sp2, sq2;
      ck_assert_int_eq(tli_pair_sums((tli_isa)isa, p, q, n, &sp2, &sq2), 1);
      TLT_ASSERT_CLOSE(sp2, (double)rp, 1e-14, 0.0);
      TLT_ASSERT_CLOSE(sq2, (double)rq, 1e-14, 0.0);
      if (c == 1) /* q = 1e-310: 1/sq normalises it to a subnormal */
        continue;
      double js;
      ck_assert_int_eq(
          tli_js_pass((tli_isa)isa, p, q, n, 1.0 / sp, 1.0 / sq, &js), 1);
      TLT_ASSERT_CLOSE(js, (double)ref_js_pass(p, q, n, 1.0 / sp, 1.0 / sq),
                       1e-13, 0.0);
    }
  }
}
END_TEST

START_TEST(logsums_passes_flag_what_they_cannot_take) {
  enum { n = 19 };
  double p[n], q[n], sp, sq, s;
  for (int isa = TLI_ISA_BASE; isa <= (int)tli_isa_best(); isa++) {
    const tli_isa k = (tli_isa)isa;
    /* Each bad value in turn, at a lane of the vector part (5) and in the
     * tail (17). */
    const size_t at[] = {5, 17};
    for (size_t a = 0; a < 2; a++) {
      const size_t i = at[a];
      /* KL: p > 0 over q = 0 or subnormal, a subnormal p, a negative q
       * under p = 0, a negative p, NaN, inf. */
      const double bad_q[] = {0.0, 1e-310, -1.0, 0.5, NAN, INFINITY};
      const double bad_p[] = {0.5, 0.5, 0.0, -0.5, 0.5, 0.5};
      const double sub_p[] = {1e-310, NAN, INFINITY};
      for (size_t c = 0; c < 6; c++) {
        for (size_t j = 0; j < n; j++)
          p[j] = q[j] = 1.0 + (double)j;
        p[i] = bad_p[c];
        q[i] = bad_q[c];
        ck_assert_msg(tli_kl_pass(k, p, q, n, &sp, &sq, &s) == 0,
                      "isa %d: kl case %zu at %zu not flagged", isa, c, i);
      }
      for (size_t c = 0; c < 3; c++) {
        for (size_t j = 0; j < n; j++)
          p[j] = q[j] = 1.0 + (double)j;
        p[i] = sub_p[c];
        ck_assert_int_eq(tli_kl_pass(k, p, q, n, &sp, &sq, &s), 0);
      }
      /* Pair sums: negative, NaN, inf in either; a subnormal is valid. */
      const double bad[] = {-1e-300, NAN, INFINITY, -INFINITY};
      for (size_t c = 0; c < 4; c++) {
        for (size_t j = 0; j < n; j++)
          p[j] = q[j] = 1.0;
        p[i] = bad[c];
        ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 0);
        p[i] = 1.0;
        q[i] = bad[c];
        ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 0);
      }
      q[i] = 1e-310;
      ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 1);
      /* Overflowing sums. */
      for (size_t j = 0; j < n; j++)
        p[j] = DBL_MAX;
      ck_assert_int_eq(tli_pair_sums(k, p, q, n, &sp, &sq), 0);
      /* JS: a subnormal normalised value in p or in q. */
      for (size_t j = 0; j < n; j++)
        p[j] = q[j] = 1.0;
      p[i] = 1e-310;
      ck_assert_int_eq(tli_js_pass(k, p, q, n, 1.0 / n, 1.0 / n, &s), 0);
      p[i] = 1.0;
      q[i] = 1e-310;
      ck_assert_int_eq(tli_js_pass(k, p, q, n, 1.0 / n, 1.0 / n, &s), 0);
      /* ... and zeros are fine: disjoint supports give 2 ln 2. */
      for (size_t j = 0; j < n; j++) {
        p[j] = j % 2 ? 1.0 : 0.0;
        q[j] = j % 2 ? 0.0 : 1.0;
      }
      ck_assert_int_eq(tli_js_pass(k, p, q, n, 1.0 / 9, 1.0 / 10, &s), 1);
      TLT_ASSERT_CLOSE(s, 2.0 * ln2, 1e-15, 0.0);
    }
  }
}
END_TEST

/* Plain reference sums with libm, for comparison with the vectorised and
 * one-pass forms (which also switch paths on zeros, subnormals and
 * unnormalised scales). */
static double naive_kl(const double *p, const double *q, size_t n) {
  double sp = 0, sq = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    sp += p[i];
    sq += q[i];
  }
  for (size_t i = 0; i < n; i++)
    if (p[i] > 0)
      s += p[i] / sp * log((p[i] / sp) / (q[i] / sq));
  return s;
}

static double naive_js(const double *p, const double *q, size_t n) {
  double sp = 0, sq = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    sp += p[i];
    sq += q[i];
  }
  for (size_t i = 0; i < n; i++) {
    const double x = p[i] / sp, y = q[i] / sq, m = 0.5 * (x + y);
    if (x > 0)
      s += 0.5 * x * log(x / m);
    if (y > 0)
      s += 0.5 * y * log(y / m);
  }
  return s;
}

START_TEST(kl_js_paths_agree_with_plain_sums) {
  tli_rng rng;
  tli_rng_seed(&rng, 17);
  enum { n = 1000 };
  static double p[n], q[n];
  /* Cases: dense; zeros in p; zeros in both (same bins); subnormal and
   * huge entries; another scale (q ~ 1e6); a scale where the one-pass
   * split form would cancel (q ~ 1e6 p: KL ~ 1e-4, log(sq/sp) ~ 14). */
  for (int c = 0; c < 6; c++) {
    random_dist(p, n, &rng);
    random_dist(q, n, &rng);
    for (size_t i = 0; i < n; i++) {
      if (c == 1 && i % 7 == 0)
        p[i] = 0.0;
      if (c == 2 && i % 5 == 0)
        p[i] = q[i] = 0.0;
      if (c == 3 && i % 11 == 0) {
        p[i] = 1e-310 * (double)(i + 1);
        q[i] = 1e300;
      }
      if (c == 4)
        q[i] *= 1e6;
      if (c == 5)
        q[i] = 1e6 * p[i] * (1.0 + 0.05 * tli_rng_uniform(&rng));
    }
    double r;
    TLT_ASSERT_OK(tl_kl_divergence(&r, p, q, n, 0.0));
    TLT_ASSERT_CLOSE(r, naive_kl(p, q, n), 1e-10, 1e-300);
    TLT_ASSERT_OK(tl_kl_divergence(&r, q, p, n, 0.0));
    if (c == 1)
      ck_assert(isinf(r)); /* q = 0 < p now */
    else
      TLT_ASSERT_CLOSE(r, naive_kl(q, p, n), 1e-10, 1e-300);
    TLT_ASSERT_OK(tl_js_divergence(&r, p, q, n, 0.0));
    TLT_ASSERT_CLOSE(r, naive_js(p, q, n), 1e-10, 1e-300);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Rejections.                                                              */

START_TEST(divergences_reject_bad_input) {
  double r = 42.0;
  const double p[] = {0.2, 0.8}, neg[] = {0.5, -0.1}, zero[] = {0, 0};
  const double nan_[] = {0.5, NAN}, inf_[] = {INFINITY, 1};
  const double huge[] = {DBL_MAX, DBL_MAX};
  TLT_ASSERT_FAILS(tl_kl_divergence(NULL, p, p, 2, 0), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, NULL, p, 2, 0), TL_E_INVALID_ARG,
                   "'p'");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, NULL, 2, 0), TL_E_INVALID_ARG,
                   "'q'");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, p, 0, 0), TL_E_INVALID_ARG,
                   "n must be >= 1");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, neg, p, 2, 0), TL_E_INVALID_ARG,
                   "p[1] is negative");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, neg, 2, 0), TL_E_INVALID_ARG,
                   "q[1] is negative");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, zero, p, 2, 0), TL_E_INVALID_ARG,
                   "p sums to 0");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, zero, 2, 0), TL_E_INVALID_ARG,
                   "q sums to 0");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, nan_, p, 2, 0), TL_E_NUMERIC,
                   "p[1] is not finite");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, inf_, 2, 0), TL_E_NUMERIC,
                   "q[0] is not finite");
  /* A sum beyond DBL_MAX of finite values is normalised through a
   * power-of-two scale (issue 11; an error before): huge is uniform. */
  const double half[] = {1.0, 1.0};
  double want;
  TLT_ASSERT_OK(tl_kl_divergence(&want, half, p, 2, 0));
  TLT_ASSERT_OK(tl_kl_divergence(&r, huge, p, 2, 0));
  TLT_ASSERT_CLOSE(r, want, 1e-15, 0.0);
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, p, 2, 1.0), TL_E_INVALID_ARG,
                   "base");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, p, 2, -2.0), TL_E_INVALID_ARG,
                   "base");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, p, 2, NAN), TL_E_INVALID_ARG,
                   "base");
  TLT_ASSERT_FAILS(tl_kl_divergence(&r, p, p, 2, INFINITY), TL_E_INVALID_ARG,
                   "base");
  TLT_ASSERT_FAILS(tl_entropy(&r, zero, 2, 0), TL_E_INVALID_ARG,
                   "tl_entropy: p sums to 0");
  TLT_ASSERT_FAILS(tl_entropy(&r, p, 0, 0), TL_E_INVALID_ARG, "n must be");
  TLT_ASSERT_FAILS(tl_entropy(NULL, p, 2, 0), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_entropy(&r, p, 2, 1.0), TL_E_INVALID_ARG, "base");
  TLT_ASSERT_FAILS(tl_js_divergence(&r, p, neg, 2, 0), TL_E_INVALID_ARG,
                   "tl_js_divergence: q[1] is negative");
  TLT_ASSERT_FAILS(tl_js_distance(&r, p, p, 2, 0.5 + 0.5), TL_E_INVALID_ARG,
                   "tl_js_distance: base");
  TLT_ASSERT_FAILS(tl_js_distance(&r, nan_, p, 2, 0), TL_E_NUMERIC,
                   "tl_js_distance: p[1]");
  TLT_ASSERT_FAILS(tl_renyi_divergence(&r, p, p, 2, 0.0, 0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_renyi_divergence(&r, p, p, 2, -1.0, 0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_renyi_divergence(&r, p, p, 2, NAN, 0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_renyi_divergence(&r, p, p, 2, INFINITY, 0),
                   TL_E_INVALID_ARG, "alpha");
  TLT_ASSERT_FAILS(tl_renyi_divergence(&r, p, zero, 2, 0.5, 0),
                   TL_E_INVALID_ARG, "q sums to 0");
  TLT_ASSERT_FAILS(tl_bhattacharyya(&r, p, zero, 2), TL_E_INVALID_ARG,
                   "tl_bhattacharyya: q sums to 0");
  TLT_ASSERT_FAILS(tl_bhattacharyya(&r, p, p, 0), TL_E_INVALID_ARG,
                   "n must be");
  TLT_ASSERT_FAILS(tl_hellinger(&r, neg, p, 2), TL_E_INVALID_ARG,
                   "tl_hellinger: p[1]");
  TLT_ASSERT_FAILS(tl_hellinger(NULL, p, p, 2), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_total_variation(&r, p, inf_, 2), TL_E_NUMERIC,
                   "tl_total_variation: q[0]");
  TLT_ASSERT_FAILS(tl_total_variation(&r, p, p, 0), TL_E_INVALID_ARG,
                   "n must be");
  TLT_ASSERT_FAILS(tl_cosine_similarity(&r, zero, p, 2), TL_E_INVALID_ARG,
                   "u is a zero vector");
  TLT_ASSERT_FAILS(tl_cosine_distance(&r, p, zero, 2), TL_E_INVALID_ARG,
                   "v is a zero vector");
  TLT_ASSERT_FAILS(tl_cosine_distance(NULL, p, p, 2), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_cosine_similarity(&r, p, nan_, 2), TL_E_NUMERIC, "v[1]");
  TLT_ASSERT_FAILS(tl_cosine_similarity(&r, p, p, 0), TL_E_INVALID_ARG,
                   "n must be");
  TLT_ASSERT_FAILS(tl_euclidean(&r, inf_, p, 2), TL_E_NUMERIC, "u[0]");
  TLT_ASSERT_FAILS(tl_euclidean(&r, p, NULL, 2), TL_E_INVALID_ARG, "'v'");
  TLT_ASSERT_FAILS(tl_euclidean(&r, p, p, 0), TL_E_INVALID_ARG, "n must be");
  /* Negative values are fine for plain vectors. */
  TLT_ASSERT_OK(tl_euclidean(&r, neg, p, 2));
  /* Failed calls never wrote the output. */
  TLT_ASSERT_CLOSE(r, sqrt(0.3 * 0.3 + 0.9 * 0.9), 1e-15, 0.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Sorting and 1-D Wasserstein.                                             */

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

START_TEST(radix_sort_orders_doubles_and_carries_payload) {
  tli_rng rng;
  tli_rng_seed(&rng, 3);
  const size_t sizes[] = {0, 1, 2, 63, 64, 65, 1000, 4097};
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
    const size_t n = sizes[t];
    double *k = tli_alloc((n + 1) * sizeof *k);
    double *ref = tli_alloc((n + 1) * sizeof *ref);
    double *w = tli_alloc((n + 1) * sizeof *w);
    double *ww = tli_alloc((n + 1) * sizeof *ww);
    uint64_t *wk = tli_alloc((2 * n + 1) * sizeof *wk);
    for (size_t i = 0; i < n; i++) {
      const double mag = pow(10.0, 600.0 * tli_rng_uniform(&rng) - 300.0);
      k[i] = (i % 5 == 0) ? (double)(i % 3) - 1.0 /* ties and -1, 0, 1 */
                          : (tli_rng_uniform(&rng) < 0.5 ? -mag : mag);
      if (i % 17 == 0)
        k[i] = -0.0;
      /* The payload encodes the key, so it must follow its key. */
      w[i] = k[i] * 2.0;
      ref[i] = k[i];
    }
    qsort(ref, n, sizeof *ref, cmp_double);
    tli_sort_f64(k, w, n, wk, ww);
    for (size_t i = 0; i < n; i++) {
      ck_assert_msg(k[i] == ref[i], "n %zu: k[%zu] = %g, want %g", n, i, k[i],
                    ref[i]);
      ck_assert(w[i] == 2.0 * k[i]);
      if (i > 0)
        ck_assert(k[i - 1] <= k[i]);
    }
    tli_free(k);
    tli_free(ref);
    tli_free(w);
    tli_free(ww);
    tli_free(wk);
  }
}
END_TEST

START_TEST(wasserstein_1d_matches_scipy_and_pot) {
  double r;
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, NULL, w_v, W_M, NULL, 1.0));
  TLT_ASSERT_CLOSE(r, w1_uv, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, w_v, W_M, w_vw, 1.0));
  TLT_ASSERT_CLOSE(r, w1_uv_weighted, TIGHT, 0.0);
  const double ps[] = {1.5, 2.0, 3.0};
  const double want[] = {wp_uv_1_5, wp_uv_2, wp_uv_3};
  const double want_w[] = {wp_uv_weighted_1_5, wp_uv_weighted_2,
                           wp_uv_weighted_3};
  for (size_t i = 0; i < 3; i++) {
    TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, NULL, w_v, W_M, NULL, ps[i]));
    TLT_ASSERT_CLOSE(r, want[i], TIGHT, 0.0);
    TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, w_v, W_M, w_vw, ps[i]));
    TLT_ASSERT_CLOSE(r, want_w[i], TIGHT, 0.0);
  }
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, ws_u, WS_N, ws_uw, ws_v, WS_M, NULL, 1));
  TLT_ASSERT_CLOSE(r, ws_w1, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, ws_u, WS_N, ws_uw, ws_v, WS_M, NULL, 2));
  TLT_ASSERT_CLOSE(r, ws_w2, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d_hist(&r, h_x, h_a, h_b, H_N, 1.0));
  TLT_ASSERT_CLOSE(r, h_w1, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d_hist(&r, h_x, h_a, h_b, H_N, 2.0));
  TLT_ASSERT_CLOSE(r, h_w2, TIGHT, 0.0);
  /* The histogram form agrees with the sample form on the same data. */
  double s;
  TLT_ASSERT_OK(tl_wasserstein_1d(&s, h_x, H_N, h_a, h_x, H_N, h_b, 2.0));
  TLT_ASSERT_CLOSE(s, r, 1e-13, 0.0);
}
END_TEST

START_TEST(wasserstein_1d_properties) {
  double r, r2, r3;
  /* Identity, symmetry, translation, scaling of weights. */
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, w_u, W_N, w_uw, 2.0));
  ck_assert_double_eq(r, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, w_v, W_M, NULL, 3.0));
  TLT_ASSERT_OK(tl_wasserstein_1d(&r2, w_v, W_M, NULL, w_u, W_N, w_uw, 3.0));
  TLT_ASSERT_CLOSE(r, r2, 1e-13, 0.0);
  double shifted[W_N], scaled[W_N];
  for (size_t i = 0; i < W_N; i++) {
    shifted[i] = w_u[i] + 2.5;
    scaled[i] = w_uw[i] * 1e-3;
  }
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, shifted, W_N, w_uw, 1));
  TLT_ASSERT_CLOSE(r, 2.5, 1e-13, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, shifted, W_N, w_uw, 2));
  TLT_ASSERT_CLOSE(r, 2.5, 1e-13, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, scaled, w_v, W_M, w_vw, 1.0));
  TLT_ASSERT_CLOSE(r, w1_uv_weighted, 1e-12, 0.0);
  /* Triangle inequality (W_p is a metric). */
  for (double p = 1.0; p <= 3.0; p += 1.0) {
    TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, NULL, w_v, W_M, NULL, p));
    TLT_ASSERT_OK(tl_wasserstein_1d(&r2, w_u, W_N, NULL, ws_v, WS_M, NULL, p));
    TLT_ASSERT_OK(tl_wasserstein_1d(&r3, ws_v, WS_M, NULL, w_v, W_M, NULL, p));
    ck_assert(r <= r2 + r3 + 1e-12);
  }
  /* Single points: |a - b|. */
  const double a = -1.25, b = 4.0;
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, &a, 1, NULL, &b, 1, NULL, 2.5));
  TLT_ASSERT_CLOSE(r, 5.25, 1e-15, 0.0);
  /* The inputs are left as they were (sorted copies). */
  ck_assert_double_eq(w_u[0], w_u[0]);
  double u[] = {3, 1, 2}, v[] = {0, 5};
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, u, 3, NULL, v, 2, NULL, 1.0));
  ck_assert(u[0] == 3 && u[1] == 1 && u[2] == 2 && v[0] == 0 && v[1] == 5);
}
END_TEST

START_TEST(wasserstein_1d_rejects_bad_input) {
  double r = 7.0;
  const double u[] = {0, 1, 2}, w[] = {1, 1, 1}, neg[] = {1, -1, 1};
  const double zero[] = {0, 0, 0}, nan_[] = {0, NAN, 1},
               inf_[] = {0, 1, INFINITY};
  const double unsorted[] = {0, 2, 1};
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 0, NULL, u, 3, NULL, 1),
                   TL_E_INVALID_ARG, "u is empty");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, u, 0, NULL, 1),
                   TL_E_INVALID_ARG, "v is empty");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(NULL, u, 3, NULL, u, 3, NULL, 1),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, NULL, 3, NULL, u, 3, NULL, 1),
                   TL_E_INVALID_ARG, "'u'");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, NULL, 3, NULL, 1),
                   TL_E_INVALID_ARG, "'v'");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, neg, u, 3, NULL, 1),
                   TL_E_INVALID_ARG, "u_weights[1] is negative");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, u, 3, zero, 1),
                   TL_E_INVALID_ARG, "v_weights sums to 0");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, nan_, u, 3, NULL, 1),
                   TL_E_NUMERIC, "u_weights[1] is not finite");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, nan_, 3, NULL, u, 3, NULL, 1),
                   TL_E_NUMERIC, "u[1] is not finite");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, inf_, 3, w, 1),
                   TL_E_NUMERIC, "v[2] is not finite");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, u, 3, NULL, 0.5),
                   TL_E_INVALID_ARG, "p must be finite and >= 1");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, u, 3, NULL, NAN),
                   TL_E_INVALID_ARG, "p must be");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 3, NULL, u, 3, NULL, INFINITY),
                   TL_E_INVALID_ARG, "p must be");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, unsorted, w, w, 3, 1),
                   TL_E_INVALID_ARG, "x must be sorted");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, u, w, neg, 3, 1),
                   TL_E_INVALID_ARG, "b[1] is negative");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, u, zero, w, 3, 1),
                   TL_E_INVALID_ARG, "a sums to 0");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, nan_, w, w, 3, 1), TL_E_NUMERIC,
                   "x[1]");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, u, w, w, 0, 1), TL_E_INVALID_ARG,
                   "n must be");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, u, w, w, 3, 0.0),
                   TL_E_INVALID_ARG, "p must be");
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, u, NULL, w, 3, 1),
                   TL_E_INVALID_ARG, "'a'");
  ck_assert_double_eq(r, 7.0);
}
END_TEST

/* Finite inputs whose distance exceeds DBL_MAX used to give +Inf with TL_OK;
 * the output is left untouched and the allocation freed. */
START_TEST(wasserstein_overflow_is_an_error) {
  tlt_counter c;
  tlt_counter_install(&c);
  double r = 7.0;
  const double u[] = {-1e308, 1e308}, v[] = {1e308, 1e308}, w[] = {1, 1};
  const double big[] = {1e200}, zero[] = {0.0}, x[] = {-1e308, 1e308};
  /* The distance itself beyond DBL_MAX: TL_E_NUMERIC (metrics.h). */
  const double a[] = {1, 0}, b[] = {0, 1};
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 1, NULL, v, 1, NULL, 1.0),
                   TL_E_NUMERIC, "tl_wasserstein_1d: the distance overflows");
  /* W_p^p overflows but W_p does not: computed on values scaled by a
   * power of two (issue 11; these were errors before). */
  double ok;
  TLT_ASSERT_OK(tl_wasserstein_1d(&ok, u, 2, w, v, 2, w, 3.0));
  TLT_ASSERT_CLOSE(ok, 2.0 * cbrt(0.5) * 1e308, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_wasserstein_1d(&ok, big, 1, NULL, zero, 1, NULL, 2.0));
  TLT_ASSERT_CLOSE(ok, 1e200, 1e-15, 0.0);
  TLT_ASSERT_FAILS(tl_wasserstein_1d_hist(&r, x, a, b, 2, 1.0), TL_E_NUMERIC,
                   "tl_wasserstein_1d_hist: the distance overflows");
  const double px[] = {1e308, 1e308}, py[] = {-1e308, -1e308};
  TLT_ASSERT_FAILS(tl_sliced_wasserstein(&r, px, 1, NULL, py, 1, NULL, 2, NULL),
                   TL_E_NUMERIC,
                   "tl_sliced_wasserstein: the distance overflows");
  ck_assert_double_eq(r, 7.0);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
  /* Large but representable: still a number. */
  const double half[] = {-4e307, 4e307};
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, half, 2, NULL, zero, 1, NULL, 1.0));
  TLT_ASSERT_CLOSE(r, 4e307, 1e-15, 0.0);
}
END_TEST

START_TEST(wasserstein_allocations_are_balanced) {
  tlt_counter c;
  tlt_counter_install(&c);
  double r;
  TLT_ASSERT_OK(tl_wasserstein_1d_hist(&r, h_x, h_a, h_b, H_N, 2.0));
  TLT_ASSERT_OK(tl_kl_divergence(&r, div_p, div_q, DIV_N, 0.0));
  TLT_ASSERT_OK(tl_js_distance(&r, div_p, div_q, DIV_N, 0.0));
  ck_assert_uint_eq(c.allocs, 0); /* documented: no allocation */
  TLT_ASSERT_OK(tl_wasserstein_1d(&r, w_u, W_N, w_uw, w_v, W_M, NULL, 1.0));
  ck_assert_uint_eq(c.allocs, 1);
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r, s_x, S_N, s_xw, s_y, S_M, NULL, S_D, NULL));
  TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, NULL, NULL, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 0.1, NULL));
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, NULL));
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

START_TEST(allocation_failures_are_reported) {
  /* Every allocation fails: every call must report TL_E_NOMEM. */
  tlt_counter none;
  tlt_counter_install_budget(&none, 0);
  double r = 5.0;
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, w_u, W_N, NULL, w_v, W_M, NULL, 1),
                   TL_E_NOMEM, "tl_wasserstein_1d");
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, NULL, S_D, NULL),
      TL_E_NOMEM, "tl_sliced_wasserstein");
  TLT_ASSERT_FAILS(tl_sinkhorn(&r, NULL, NULL, NULL, sk_a, SK_N, sk_b, SK_M,
                               sk_cost, 0.1, NULL),
                   TL_E_NOMEM, "tl_sinkhorn");
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, NULL), TL_E_NOMEM,
                   "tl_mmd2");
  tl_set_allocator(NULL);
  ck_assert_double_eq(r, 5.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Sliced Wasserstein.                                                      */

START_TEST(sliced_matches_pot_with_the_same_directions) {
  double r;
  TLT_ASSERT_OK(tl_sliced_wasserstein_projected(&r, s_x, S_N, NULL, s_y, S_M,
                                                NULL, S_D, s_proj, S_K, 2.0));
  TLT_ASSERT_CLOSE(r, sw2_xy, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_sliced_wasserstein_projected(&r, s_x, S_N, NULL, s_y, S_M,
                                                NULL, S_D, s_proj, S_K, 1.0));
  TLT_ASSERT_CLOSE(r, sw1_xy, TIGHT, 0.0);
  TLT_ASSERT_OK(tl_sliced_wasserstein_projected(&r, s_x, S_N, s_xw, s_y, S_M,
                                                s_yw, S_D, s_proj, S_K, 3.0));
  TLT_ASSERT_CLOSE(r, sw3_xy_weighted, TIGHT, 0.0);
}
END_TEST

START_TEST(sliced_properties) {
  tl_sliced_options o;
  TLT_ASSERT_OK(tl_sliced_options_init(&o, TL_SLICED_OPTIONS_VERSION));
  ck_assert_uint_eq(o.n_projections, 50);
  ck_assert_double_eq(o.p, 2.0);
  ck_assert_uint_eq(o.seed, 0);
  double r, r2;
  /* X vs X is 0; the same seed gives the same value, another seed another. */
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_x, S_N, NULL, S_D, &o));
  ck_assert_double_eq(r, 0.0);
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, NULL, S_D, &o));
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r2, s_x, S_N, NULL, s_y, S_M, NULL, S_D, NULL));
  ck_assert_double_eq(r, r2);
  o.seed = 99;
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r2, s_x, S_N, NULL, s_y, S_M, NULL, S_D, &o));
  ck_assert(r != r2);
  /* Symmetric; translation by c along every axis moves each projection by
   * theta.c, and sliced W_p sits between 0 and the full W_p bound. */
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r2, s_y, S_M, NULL, s_x, S_N, NULL, S_D, &o));
  double r3;
  TLT_ASSERT_OK(
      tl_sliced_wasserstein(&r3, s_x, S_N, NULL, s_y, S_M, NULL, S_D, &o));
  TLT_ASSERT_CLOSE(r2, r3, 1e-13, 0.0);
  /* The seeded call equals the projected call on tl_sliced_directions. */
  double dirs[50 * S_D];
  TLT_ASSERT_OK(tl_sliced_directions(dirs, 50, S_D, 99));
  for (size_t k = 0; k < 50; k++) {
    double nrm = 0.0;
    for (size_t j = 0; j < S_D; j++)
      nrm += dirs[k * S_D + j] * dirs[k * S_D + j];
    TLT_ASSERT_CLOSE(nrm, 1.0, 1e-14, 0.0);
  }
  TLT_ASSERT_OK(tl_sliced_wasserstein_projected(&r2, s_x, S_N, NULL, s_y, S_M,
                                                NULL, S_D, dirs, 50, 2.0));
  ck_assert_double_eq(r2, r3);
  /* One direction e_0 reduces to W_p of the first coordinates. */
  double e0[S_D] = {1.0}, xc[S_N], yc[S_M];
  for (size_t i = 0; i < S_N; i++)
    xc[i] = s_x[i * S_D];
  for (size_t i = 0; i < S_M; i++)
    yc[i] = s_y[i * S_D];
  TLT_ASSERT_OK(tl_sliced_wasserstein_projected(&r, s_x, S_N, s_xw, s_y, S_M,
                                                NULL, S_D, e0, 1, 1.5));
  TLT_ASSERT_OK(tl_wasserstein_1d(&r2, xc, S_N, s_xw, yc, S_M, NULL, 1.5));
  TLT_ASSERT_CLOSE(r, r2, 1e-13, 0.0);
  /* Weighted inputs are left as they were. */
  ck_assert_double_eq(s_xw[0], s_xw[0]);
}
END_TEST

START_TEST(sliced_rejects_bad_input) {
  double r = 3.0;
  tl_sliced_options o;
  TLT_ASSERT_FAILS(tl_sliced_options_init(&o, 2), TL_E_UNSUPPORTED,
                   "version 2");
  TLT_ASSERT_FAILS(tl_sliced_options_init(NULL, 1), TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_OK(tl_sliced_options_init(&o, TL_SLICED_OPTIONS_VERSION));
  o.version = 7;
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, NULL, S_D, &o),
      TL_E_UNSUPPORTED, "options->version 7");
  TLT_ASSERT_OK(tl_sliced_options_init(&o, TL_SLICED_OPTIONS_VERSION));
  o.p = 0.9;
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, NULL, S_D, &o),
      TL_E_INVALID_ARG, "p must be finite and >= 1");
  o.p = 2.0;
  o.n_projections = 0;
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, NULL, S_D, &o),
      TL_E_INVALID_ARG, "number of projections");
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, 0, NULL, s_y, S_M, NULL, S_D, NULL),
      TL_E_INVALID_ARG, "x has no rows");
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, 0, NULL, S_D, NULL),
      TL_E_INVALID_ARG, "y has no rows");
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, NULL, 0, NULL),
      TL_E_INVALID_ARG, "d must be >= 1");
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, NULL, S_N, NULL, s_y, S_M, NULL, S_D, NULL),
      TL_E_INVALID_ARG, "'x'");
  double bad[S_N * S_D];
  memcpy(bad, s_x, sizeof bad);
  bad[17] = NAN;
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, bad, S_N, NULL, s_y, S_M, NULL, S_D, NULL),
      TL_E_NUMERIC, "x[17] is not finite");
  double w[S_M];
  for (size_t i = 0; i < S_M; i++)
    w[i] = 1.0;
  w[3] = -1.0;
  TLT_ASSERT_FAILS(
      tl_sliced_wasserstein(&r, s_x, S_N, NULL, s_y, S_M, w, S_D, NULL),
      TL_E_INVALID_ARG, "y_weights[3] is negative");
  TLT_ASSERT_FAILS(tl_sliced_wasserstein_projected(&r, s_x, S_N, NULL, s_y, S_M,
                                                   NULL, S_D, NULL, 3, 2.0),
                   TL_E_INVALID_ARG, "'projections'");
  double proj[2 * S_D] = {1.0, 0.0, 0.0, INFINITY};
  TLT_ASSERT_FAILS(tl_sliced_wasserstein_projected(&r, s_x, S_N, NULL, s_y, S_M,
                                                   NULL, S_D, proj, 2, 2.0),
                   TL_E_NUMERIC, "projections[3]");
  TLT_ASSERT_FAILS(tl_sliced_wasserstein_projected(&r, s_x, S_N, NULL, s_y, S_M,
                                                   NULL, S_D, proj, 0, 2.0),
                   TL_E_INVALID_ARG, "number of projections");
  TLT_ASSERT_FAILS(tl_sliced_wasserstein_projected(&r, s_x, S_N, NULL, s_y, S_M,
                                                   NULL, S_D, proj, 1, 0.0),
                   TL_E_INVALID_ARG, "p must be");
  TLT_ASSERT_FAILS(tl_sliced_directions(NULL, 3, 3, 0), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_sliced_directions(proj, 0, 3, 0), TL_E_INVALID_ARG,
                   "k must be");
  TLT_ASSERT_FAILS(tl_sliced_directions(proj, 1, 0, 0), TL_E_INVALID_ARG,
                   "d must be");
  ck_assert_double_eq(r, 3.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Sinkhorn.                                                                */

START_TEST(sinkhorn_matches_pot) {
  double r, plan[SK_N * SK_M];
  size_t it;
  int conv;
  const double regs[] = {1.0, 0.1, 0.01};
  const double want[] = {sk_1, sk_0_1, sk_0_01};
  for (size_t i = 0; i < 3; i++) {
    TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, &it, &conv, sk_a, SK_N, sk_b, SK_M,
                              sk_cost, regs[i], NULL));
    TLT_ASSERT_CLOSE(r, want[i], SINKHORN_TOL, 0.0);
    ck_assert_int_eq(conv, 1);
    ck_assert(it >= 1 && it <= 1000);
  }
  TLT_ASSERT_OK(tl_sinkhorn(&r, plan, NULL, NULL, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 0.1, NULL));
  TLT_ASSERT_ARRAY_CLOSE(plan, sk_plan_0_1, SK_N * SK_M, 1e-6, 1e-9);
  /* Marginals of the plan: rows exactly a (the last update), columns b
   * within the stopping tolerance. */
  double sa = 0.0, sb = 0.0;
  for (size_t i = 0; i < SK_N; i++)
    sa += sk_a[i];
  for (size_t j = 0; j < SK_M; j++)
    sb += sk_b[j];
  for (size_t i = 0; i < SK_N; i++) {
    double row = 0.0;
    for (size_t j = 0; j < SK_M; j++)
      row += plan[i * SK_M + j];
    TLT_ASSERT_CLOSE(row, sk_a[i] / sa, 1e-12, 0.0);
  }
  for (size_t j = 0; j < SK_M; j++) {
    double col = 0.0;
    for (size_t i = 0; i < SK_N; i++)
      col += plan[i * SK_M + j];
    ck_assert(fabs(col - sk_b[j] / sb) < 1e-9);
  }
  /* NULL marginals are uniform. */
  TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, NULL, NULL, NULL, SK_N, NULL, SK_M,
                            sk_cost, 0.1, NULL));
  TLT_ASSERT_CLOSE(r, sk_uniform_0_1, SINKHORN_TOL, 0.0);
}
END_TEST

START_TEST(sinkhorn_is_stable_for_small_reg) {
  /* exp(-M / 1e-3) underflows for most entries: plain Sinkhorn (POT's
   * default) breaks down; the log-domain reference does not. */
  tl_sinkhorn_options o;
  TLT_ASSERT_OK(tl_sinkhorn_options_init(&o, TL_SINKHORN_OPTIONS_VERSION));
  ck_assert_uint_eq(o.max_iter, 1000);
  ck_assert_double_eq(o.tol, 1e-9);
  o.max_iter = 5000;
  double r, plan[SK_N * SK_M];
  int conv;
  TLT_ASSERT_OK(tl_sinkhorn(&r, plan, NULL, &conv, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 1e-3, &o));
  TLT_ASSERT_CLOSE(r, sk_log_0_001, SINKHORN_TOL, 0.0);
  /* Much smaller still (exp(-M/reg) underflows for all but the diagonal of
   * M): no NaN, a valid plan, and the cost tends to exact OT (POT emd2).
   * Convergence is slow at this reg: give it the iterations it needs. */
  o.max_iter = 200000;
  TLT_ASSERT_OK(tl_sinkhorn(&r, plan, NULL, &conv, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 1e-5, &o));
  ck_assert_int_eq(conv, 1);
  for (size_t i = 0; i < SK_N * SK_M; i++)
    ck_assert(isfinite(plan[i]) && plan[i] >= 0.0);
  TLT_ASSERT_CLOSE(r, sk_emd, 1e-5, 0.0);
  /* Not converged (too few iterations) is still a finite value, no NaN. */
  o.max_iter = 50;
  TLT_ASSERT_OK(tl_sinkhorn(&r, plan, NULL, &conv, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 1e-5, &o));
  ck_assert_int_eq(conv, 0);
  ck_assert(isfinite(r) && r > 0.0);
  o.max_iter = 5000;
  /* Costs of huge magnitude: the kernel underflows everywhere at once. */
  double big[SK_N * SK_M];
  for (size_t i = 0; i < SK_N * SK_M; i++)
    big[i] = 1e4 * sk_cost[i];
  TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, NULL, &conv, sk_a, SK_N, sk_b, SK_M, big,
                            10.0, &o));
  TLT_ASSERT_CLOSE(r, 1e4 * sk_log_0_001, SINKHORN_TOL, 0.0);
}
END_TEST

START_TEST(sinkhorn_reports_non_convergence) {
  tl_sinkhorn_options o;
  TLT_ASSERT_OK(tl_sinkhorn_options_init(&o, TL_SINKHORN_OPTIONS_VERSION));
  o.max_iter = 3;
  double r = -1.0;
  size_t it = 0;
  int conv = -1;
  TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, &it, &conv, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 0.01, &o));
  ck_assert_int_eq(conv, 0);
  ck_assert_uint_eq(it, 3);
  ck_assert(isfinite(r) && r > 0.0);
  /* One iteration is POT's first iterate; tol huge converges at once. */
  o.max_iter = 1000;
  o.tol = 10.0;
  TLT_ASSERT_OK(tl_sinkhorn(&r, NULL, &it, &conv, sk_a, SK_N, sk_b, SK_M,
                            sk_cost, 0.01, &o));
  ck_assert_int_eq(conv, 1);
  ck_assert_uint_eq(it, 1);
}
END_TEST

START_TEST(sinkhorn_rejects_bad_input) {
  double r = 9.0;
  tl_sinkhorn_options o;
  TLT_ASSERT_FAILS(tl_sinkhorn_options_init(&o, 0), TL_E_UNSUPPORTED,
                   "version 0");
  TLT_ASSERT_OK(tl_sinkhorn_options_init(&o, TL_SINKHORN_OPTIONS_VERSION));
  const double *a = sk_a, *b = sk_b, *M = sk_cost;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(NULL, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 0.1, NULL),
      TL_E_INVALID_ARG, "'out_cost'");
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, NULL, 0.1, NULL),
      TL_E_INVALID_ARG, "'cost_matrix'");
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 0.0, NULL),
      TL_E_INVALID_ARG, "reg must be finite and > 0");
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, -1.0, NULL),
      TL_E_INVALID_ARG, "reg must be");
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, NAN, NULL),
      TL_E_INVALID_ARG, "reg must be");
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 1e-320, NULL),
      TL_E_NUMERIC, "1 / reg overflows");
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, 0, b, SK_M, M, 0.1, NULL),
      TL_E_INVALID_ARG, "n and m must be >= 1");
  double bad[SK_N * SK_M];
  memcpy(bad, sk_cost, sizeof bad);
  bad[5] = INFINITY;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, bad, 0.1, NULL),
      TL_E_NUMERIC, "cost_matrix[5] is not finite");
  double w[SK_N];
  memcpy(w, sk_a, sizeof w);
  w[2] = -0.5;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, w, SK_N, b, SK_M, M, 0.1, NULL),
      TL_E_INVALID_ARG, "a[2] is negative");
  memset(w, 0, sizeof w);
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, w, SK_M, M, 0.1, NULL),
      TL_E_INVALID_ARG, "b sums to 0");
  o.max_iter = 0;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 0.1, &o),
      TL_E_INVALID_ARG, "max_iter");
  o.max_iter = 10;
  o.tol = 0.0;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 0.1, &o),
      TL_E_INVALID_ARG, "tol");
  o.tol = NAN;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 0.1, &o),
      TL_E_INVALID_ARG, "tol");
  o.version = 3;
  TLT_ASSERT_FAILS(
      tl_sinkhorn(&r, NULL, NULL, NULL, a, SK_N, b, SK_M, M, 0.1, &o),
      TL_E_UNSUPPORTED, "options->version 3");
  ck_assert_double_eq(r, 9.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* MMD.                                                                     */

START_TEST(mmd_matches_numpy) {
  tl_mmd_options o;
  TLT_ASSERT_OK(tl_mmd_options_init(&o, TL_MMD_OPTIONS_VERSION));
  ck_assert_double_eq(o.sigma, 0.0);
  ck_assert_int_eq(o.unbiased, 0);
  double r, s;
  TLT_ASSERT_OK(tl_mmd2(&r, &s, m_x, M_N, m_y, M_M, M_D, &o));
  TLT_ASSERT_CLOSE(s, mmd_sigma_median, 1e-12, 0.0);
  TLT_ASSERT_CLOSE(r, mmd_biased_median, TIGHT, 0.0);
  o.unbiased = 1;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o));
  TLT_ASSERT_CLOSE(r, mmd_unbiased_median, TIGHT, 0.0);
  o.sigma = 1.3;
  TLT_ASSERT_OK(tl_mmd2(&r, &s, m_x, M_N, m_y, M_M, M_D, &o));
  ck_assert_double_eq(s, 1.3);
  TLT_ASSERT_CLOSE(r, mmd_unbiased_1_3, TIGHT, 0.0);
  o.unbiased = 0;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o));
  TLT_ASSERT_CLOSE(r, mmd_biased_1_3, TIGHT, 0.0);
  /* Same distribution: the unbiased estimate goes below 0. */
  o.sigma = 0.8;
  o.unbiased = 1;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_y2, M_M, M_D, &o));
  TLT_ASSERT_CLOSE(r, mmd_unbiased_same_0_8, TIGHT, 0.0);
  ck_assert(r < 0.0);
  /* Median over an even number of pairs, and over heavily tied ones. */
  TLT_ASSERT_OK(tl_mmd2(&r, &s, m_x, 8, m_y, M_M, M_D, NULL));
  TLT_ASSERT_CLOSE(s, mmd_sigma_median_even, 1e-12, 0.0);
  TLT_ASSERT_OK(tl_mmd2(&r, &s, md_x, MD_N, md_y, MD_M, 2, NULL));
  TLT_ASSERT_CLOSE(s, md_sigma_median, 1e-12, 0.0);
  TLT_ASSERT_OK(tl_mmd2(&r, &s, md_x, MD2_N, md_y, MD_M, 2, NULL));
  TLT_ASSERT_CLOSE(s, md2_sigma_median, 1e-12, 0.0);
}
END_TEST

START_TEST(mmd_properties) {
  double r, r2;
  /* X vs X: biased MMD is 0; symmetric in X and Y. */
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_x, M_N, M_D, NULL));
  ck_assert(r >= 0.0 && r < 1e-14);
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, NULL));
  TLT_ASSERT_OK(tl_mmd2(&r2, NULL, m_y, M_M, m_x, M_N, M_D, NULL));
  TLT_ASSERT_CLOSE(r, r2, 1e-12, 0.0);
  /* Larger than the block of 128 rows: agrees with a direct sum. */
  enum { n = 150, m = 140, d = 3 };
  static double x[n * d], y[m * d];
  tli_rng rng;
  tli_rng_seed(&rng, 11);
  for (size_t i = 0; i < n * d; i++)
    x[i] = tli_rng_normal(&rng);
  for (size_t i = 0; i < m * d; i++)
    y[i] = 0.5 * tli_rng_normal(&rng) + 0.2;
  tl_mmd_options o;
  tl_mmd_options_init(&o, TL_MMD_OPTIONS_VERSION);
  o.sigma = 0.9;
  o.unbiased = 1;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, x, n, y, m, d, &o));
  double kxx = 0, kyy = 0, kxy = 0;
  const double g = 1.0 / (2.0 * 0.81);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      if (i != j) {
        double d2 = 0;
        for (size_t k = 0; k < d; k++)
          d2 += (x[i * d + k] - x[j * d + k]) * (x[i * d + k] - x[j * d + k]);
        kxx += exp(-g * d2);
      }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++)
      if (i != j) {
        double d2 = 0;
        for (size_t k = 0; k < d; k++)
          d2 += (y[i * d + k] - y[j * d + k]) * (y[i * d + k] - y[j * d + k]);
        kyy += exp(-g * d2);
      }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) {
      double d2 = 0;
      for (size_t k = 0; k < d; k++)
        d2 += (x[i * d + k] - y[j * d + k]) * (x[i * d + k] - y[j * d + k]);
      kxy += exp(-g * d2);
    }
  const double want = kxx / (n * (n - 1.0)) + kyy / (m * (m - 1.0)) -
                      2.0 * kxy / ((double)n * m);
  TLT_ASSERT_CLOSE(r, want, 1e-10, 0.0);
}
END_TEST

START_TEST(mmd_rejects_bad_input) {
  double r = 1.5;
  tl_mmd_options o;
  TLT_ASSERT_FAILS(tl_mmd_options_init(&o, 5), TL_E_UNSUPPORTED, "version 5");
  TLT_ASSERT_OK(tl_mmd_options_init(&o, TL_MMD_OPTIONS_VERSION));
  TLT_ASSERT_FAILS(tl_mmd2(NULL, NULL, m_x, M_N, m_y, M_M, M_D, NULL),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, NULL, M_N, m_y, M_M, M_D, NULL),
                   TL_E_INVALID_ARG, "'x'");
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, 0, m_y, M_M, M_D, NULL),
                   TL_E_INVALID_ARG, "at least 1 rows");
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, 0, NULL),
                   TL_E_INVALID_ARG, "d must be >= 1");
  o.unbiased = 1;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, 1, m_y, M_M, M_D, &o),
                   TL_E_INVALID_ARG, "at least 2 rows each for the unbiased");
  o.unbiased = 2;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o),
                   TL_E_INVALID_ARG, "unbiased must be 0 or 1");
  o.unbiased = 0;
  o.sigma = -1.0;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o),
                   TL_E_INVALID_ARG, "sigma");
  o.sigma = NAN;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o),
                   TL_E_INVALID_ARG, "sigma");
  o.sigma = 1e-300;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o), TL_E_NUMERIC,
                   "overflows");
  o.sigma = 0.0;
  o.version = 9;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o),
                   TL_E_UNSUPPORTED, "options->version 9");
  double bad[M_M * M_D];
  memcpy(bad, m_y, sizeof bad);
  bad[4] = -INFINITY;
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, m_x, M_N, bad, M_M, M_D, NULL),
                   TL_E_NUMERIC, "y[4] is not finite");
  /* All points equal: the median heuristic has no scale. */
  const double same[6] = {1, 1, 1, 1, 1, 1};
  TLT_ASSERT_FAILS(tl_mmd2(&r, NULL, same, 3, same, 3, 1, NULL), TL_E_NUMERIC,
                   "median heuristic gives sigma = 0");
  ck_assert_double_eq(r, 1.5);
}
END_TEST

static Suite *metrics_div_suite(void) {
  Suite *s = suite_create("metrics_div");
  TCase *t = tcase_create("divergences");
  tcase_add_test(t, documented_vectors);
  tcase_add_test(t, kl_and_entropy_match_scipy);
  tcase_add_test(t, js_matches_scipy);
  tcase_add_test(t, renyi_bhattacharyya_hellinger_tv_match_formulas);
  tcase_add_test(t, cosine_and_euclidean_match_scipy);
  tcase_add_test(t, divergence_properties);
  tcase_add_test(t, js_never_nan_from_rounding);
  tcase_add_test(t, fastlog_is_within_one_ulp_and_never_inf);
  tcase_add_test(t, fastlog_ratio_is_within_two_ulp);
  tcase_add_test(t, fused_fastlog_ratio_is_within_two_ulp);
  tcase_add_test(t, logsums_passes_match_long_double_on_every_isa);
  tcase_add_test(t, logsums_passes_flag_what_they_cannot_take);
  tcase_add_test(t, kl_js_paths_agree_with_plain_sums);
  tcase_add_test(t, kl_and_js_do_not_depend_on_far_apart_scales);
  tcase_add_test(t, divergences_reject_bad_input);
  suite_add_tcase(s, t);
  t = tcase_create("wasserstein");
  tcase_add_test(t, radix_sort_orders_doubles_and_carries_payload);
  tcase_add_test(t, wasserstein_1d_matches_scipy_and_pot);
  tcase_add_test(t, wasserstein_1d_properties);
  tcase_add_test(t, wasserstein_1d_rejects_bad_input);
  tcase_add_test(t, wasserstein_overflow_is_an_error);
  tcase_add_test(t, wasserstein_allocations_are_balanced);
  tcase_add_test(t, allocation_failures_are_reported);
  tcase_add_test(t, sliced_matches_pot_with_the_same_directions);
  tcase_add_test(t, sliced_properties);
  tcase_add_test(t, sliced_rejects_bad_input);
  suite_add_tcase(s, t);
  t = tcase_create("sinkhorn_mmd");
  tcase_add_test(t, sinkhorn_matches_pot);
  tcase_add_test(t, sinkhorn_is_stable_for_small_reg);
  tcase_add_test(t, sinkhorn_reports_non_convergence);
  tcase_add_test(t, sinkhorn_rejects_bad_input);
  tcase_add_test(t, mmd_matches_numpy);
  tcase_add_test(t, mmd_properties);
  tcase_add_test(t, mmd_rejects_bad_input);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tlt_run(metrics_div_suite()); }
