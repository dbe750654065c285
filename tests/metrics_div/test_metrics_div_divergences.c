/* lib/metrics part 1: divergences and distances against SciPy and the
 * formulas, their properties and argument checks. */
#include "metrics_div_common.h"

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

TCase *metrics_div_case_divergences(void) {
  TCase *t = tcase_create("divergences");
  tcase_add_test(t, documented_vectors);
  tcase_add_test(t, kl_and_entropy_match_scipy);
  tcase_add_test(t, js_matches_scipy);
  tcase_add_test(t, renyi_bhattacharyya_hellinger_tv_match_formulas);
  tcase_add_test(t, cosine_and_euclidean_match_scipy);
  tcase_add_test(t, divergence_properties);
  tcase_add_test(t, js_never_nan_from_rounding);
  tcase_add_test(t, divergences_reject_bad_input);
  return t;
}
