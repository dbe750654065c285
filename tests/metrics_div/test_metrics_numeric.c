/* lib/metrics numeric hardening (issue 11): results over the whole
 * positive float range, one overflow rule, accuracy near singular points.
 * High-precision references come from tests/fixtures/gen_metrics_numeric.py
 * (mpmath); the rest compare a scaled input with the golden value of the
 * unscaled one (tests/fixtures/metrics_div_golden.h), which a power-of-two
 * scale must not change. One Check test case per concern, so that one can
 * run alone (CK_RUN_CASE=...). */
#include <float.h>
#include <string.h>

#include "../fixtures/metrics_align_golden.h"
#include "../fixtures/metrics_div_golden.h"
#include "../fixtures/metrics_numeric_golden.h"
#include "tl_test.h"

/* A few roundings of the normalised values and one log: the references are
 * exact to 1/2 ulp. */
#define ROUNDING 1e-14

/* x[0..n) times s into out. */
static void scaled(double *out, const double *x, size_t n, double s) {
  for (size_t i = 0; i < n; i++)
    out[i] = x[i] * s;
}

/* ---------------------------------------------------------------------- */
/* Item 2: sums whose reciprocal overflows (or is subnormal).              */

START_TEST(tiny_sums_are_normalised_exactly) {
  const double p[] = {1e-310, 2e-310}, q[] = {2e-310, 1e-310};
  double r;
  TLT_ASSERT_OK(tl_hellinger(&r, p, q, 2));
  TLT_ASSERT_CLOSE(r, tiny_hellinger, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_total_variation(&r, p, q, 2));
  TLT_ASSERT_CLOSE(r, tiny_tv, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_js_distance(&r, p, q, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_js_distance, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_js_divergence(&r, p, q, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_js_distance * tiny_js_distance, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_entropy(&r, p, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_entropy, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_kl_divergence(&r, p, q, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_kl, ROUNDING, 0.0);
  /* The smallest subnormals: p = 1 and 2 ulps of 0. */
  const double pd[] = {5e-324, 1e-323}, qd[] = {1e-323, 5e-324};
  TLT_ASSERT_OK(tl_kl_divergence(&r, pd, qd, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_kl, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_entropy(&r, pd, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_entropy, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_hellinger(&r, pd, qd, 2));
  TLT_ASSERT_CLOSE(r, tiny_hellinger, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_js_distance(&r, pd, qd, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_js_distance, ROUNDING, 0.0);
  /* Renyi at alpha = 1 is KL; at 2 the mpmath value of the same ratios. */
  TLT_ASSERT_OK(tl_renyi_divergence(&r, p, q, 2, 1.0, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_kl, ROUNDING, 0.0);
  double big;
  const double pn[] = {1.0, 2.0}, qn[] = {2.0, 1.0};
  TLT_ASSERT_OK(tl_renyi_divergence(&big, pn, qn, 2, 2.0, 0.0));
  TLT_ASSERT_OK(tl_renyi_divergence(&r, p, q, 2, 2.0, 0.0));
  TLT_ASSERT_CLOSE(r, big, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_bhattacharyya(&big, pn, qn, 2));
  TLT_ASSERT_OK(tl_bhattacharyya(&r, pd, qd, 2));
  TLT_ASSERT_CLOSE(r, big, ROUNDING, 0.0);
}
END_TEST

START_TEST(huge_sums_are_normalised_exactly) {
  /* Sums just below DBL_MAX: 1 / sum is subnormal (fewer digits). */
  const double s = 0x1p1022;
  const double p[] = {1.0 * s, 2.0 * s}, q[] = {2.0 * s, 1.0 * s};
  double r;
  TLT_ASSERT_OK(tl_hellinger(&r, p, q, 2));
  TLT_ASSERT_CLOSE(r, tiny_hellinger, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_total_variation(&r, p, q, 2));
  TLT_ASSERT_CLOSE(r, tiny_tv, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_js_distance(&r, p, q, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_js_distance, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_entropy(&r, p, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_entropy, ROUNDING, 0.0);
  TLT_ASSERT_OK(tl_kl_divergence(&r, p, q, 2, 0.0));
  TLT_ASSERT_CLOSE(r, tiny_kl, ROUNDING, 0.0);
}
END_TEST

START_TEST(wasserstein_weights_with_tiny_sums) {
  double uw[2], a[4], b[4], r;
  for (int k = 0; k < 3; k++) {
    /* 1: the reference scale; 1e-310: 1 / sum overflows; 2^1020: the
     * running sums stay finite but 1 / sum is subnormal. */
    const double s = k == 0 ? 1.0 : k == 1 ? 1e-310 : 0x1p1020;
    scaled(uw, tw_uw, 2, s);
    TLT_ASSERT_OK(tl_wasserstein_1d(&r, tw_u, 2, uw, tw_v, 3, NULL, 1.0));
    TLT_ASSERT_CLOSE(r, tw_w1, ROUNDING, 0.0);
    TLT_ASSERT_OK(tl_wasserstein_1d(&r, tw_v, 3, NULL, tw_u, 2, uw, 2.0));
    TLT_ASSERT_CLOSE(r, tw_w2, ROUNDING, 0.0);
    scaled(a, th_a, 4, s);
    scaled(b, th_b, 4, s);
    TLT_ASSERT_OK(tl_wasserstein_1d_hist(&r, th_x, a, b, 4, 1.0));
    TLT_ASSERT_CLOSE(r, th_w1, ROUNDING, 0.0);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Item 3: kernels, PCA and the proxy A-distance on data of any scale.     */

START_TEST(mmd_does_not_depend_on_the_data_scale) {
  static double xs[M_N * M_D], ys[M_M * M_D];
  tl_mmd_options o;
  TLT_ASSERT_OK(tl_mmd_options_init(&o, TL_MMD_OPTIONS_VERSION));
  /* 2^664 ~ 1e200 (squared distances overflow), 2^-1000 ~ 1e-301 (they
   * underflow), 2^1018 (near DBL_MAX). */
  const int ks[] = {664, -1000, 1018, 0};
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
    const double s = ldexp(1.0, ks[t]);
    scaled(xs, m_x, M_N * M_D, s);
    scaled(ys, m_y, M_M * M_D, s);
    double r, sg;
    o.sigma = 0.0;
    o.unbiased = 0;
    TLT_ASSERT_OK(tl_mmd2(&r, &sg, xs, M_N, ys, M_M, M_D, &o));
    TLT_ASSERT_CLOSE(r, mmd_biased_median, 1e-10, 0.0);
    TLT_ASSERT_CLOSE(sg, mmd_sigma_median * s, 1e-12, 0.0);
    o.sigma = 1.3 * s;
    TLT_ASSERT_OK(tl_mmd2(&r, &sg, xs, M_N, ys, M_M, M_D, &o));
    TLT_ASSERT_CLOSE(r, mmd_biased_1_3, 1e-10, 0.0);
    ck_assert_double_eq(sg, 1.3 * s);
    o.unbiased = 1;
    TLT_ASSERT_OK(tl_mmd2(&r, NULL, xs, M_N, ys, M_M, M_D, &o));
    TLT_ASSERT_CLOSE(r, mmd_unbiased_1_3, 1e-10, 0.0);
  }
  /* A bandwidth far above the data: every kernel value is 1 to rounding. */
  double r;
  o.sigma = 1e200;
  o.unbiased = 0;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, m_x, M_N, m_y, M_M, M_D, &o));
  ck_assert_msg(r >= 0.0 && r < 1e-300, "r = %g", r);
  /* Two points 2 DBL_MAX apart: the median-heuristic sigma is sqrt(2)
   * DBL_MAX, beyond the double range; the MMD itself, 2 - 2 exp(-1), is
   * not. */
  const double a[] = {DBL_MAX}, b[] = {-DBL_MAX};
  double sg = 5.0;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, a, 1, b, 1, 1, NULL));
  TLT_ASSERT_CLOSE(r, 2.0 - 2.0 * exp(-1.0), 1e-15, 0.0);
  TLT_ASSERT_FAILS(tl_mmd2(&r, &sg, a, 1, b, 1, 1, NULL), TL_E_NUMERIC,
                   "sigma");
  ck_assert_double_eq(sg, 5.0);
}
END_TEST

START_TEST(pca_does_not_depend_on_the_data_scale) {
  static double xs[PCA_N * PCA_D];
  double mean[PCA_D], comps[PCA_K * PCA_D], var[PCA_K], ratio[PCA_K];
  /* Up to 2^500 the variances (~2^1000) are representable; 2^-500 keeps
   * them normal. */
  const int ks[] = {500, 300, -300, -500};
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
    const double s = ldexp(1.0, ks[t]);
    scaled(xs, pca_x, PCA_N * PCA_D, s);
    TLT_ASSERT_OK(tl_pca_fit(mean, comps, var, ratio, xs, PCA_N, PCA_D, PCA_K));
    for (size_t j = 0; j < PCA_D; j++)
      TLT_ASSERT_CLOSE(mean[j], pca_mean[j] * s, 1e-12, 0.0);
    for (size_t j = 0; j < PCA_K * PCA_D; j++)
      TLT_ASSERT_CLOSE(comps[j], pca_components[j], 1e-10, 1e-12);
    for (size_t j = 0; j < PCA_K; j++) {
      TLT_ASSERT_CLOSE(var[j], pca_variance[j] * s * s, 1e-10, 0.0);
      TLT_ASSERT_CLOSE(ratio[j], pca_ratio[j], 1e-10, 0.0);
    }
  }
  /* Projection of data near DBL_MAX of both signs: x - mean alone would
   * overflow; the projection itself is representable. */
  const double top = 0x1p1023;
  const double tx[] = {1.5 * top, -1.5 * top}, tm[] = {-1.5 * top, 1.5 * top};
  const double tc[] = {0.3, 0.1};
  double z;
  TLT_ASSERT_OK(tl_pca_transform(&z, tx, 1, 2, tm, tc, 1));
  TLT_ASSERT_CLOSE(z, 0.6 * top, 1e-15, 0.0);
  const double tc2[] = {0.6, -0.8}; /* 4.2 * 2^1023: beyond DBL_MAX */
  z = 5.0;
  TLT_ASSERT_FAILS(tl_pca_transform(&z, tx, 1, 2, tm, tc2, 1), TL_E_NUMERIC,
                   "tl_pca_transform: the projection out[0] overflows");
  ck_assert_double_eq(z, 5.0);
  /* Near 1e160 (and near DBL_MAX) the variances exceed DBL_MAX: an error,
   * never inf variances and NaN ratios. */
  const int big[] = {532, 1020};
  for (size_t t = 0; t < 2; t++) {
    scaled(xs, pca_x, PCA_N * PCA_D, ldexp(1.0, big[t]));
    var[0] = 9.0;
    TLT_ASSERT_FAILS(
        tl_pca_fit(mean, comps, var, ratio, xs, PCA_N, PCA_D, PCA_K),
        TL_E_NUMERIC, "variance");
    ck_assert_double_eq(var[0], 9.0);
  }
}
END_TEST

/* Two clearly separated clouds (as in test_metrics_align.c). */
static void separated(double *xs, double *xt, int n, double s) {
  for (int i = 0; i < n; i++) {
    xs[i * 2] = (5.0 + 0.1 * (i % 7)) * s;
    xs[i * 2 + 1] = (i * 13) % 11 * 0.1 * s;
    xt[i * 2] = (-5.0 - 0.1 * (i % 5)) * s;
    xt[i * 2 + 1] = (i * 7) % 11 * 0.1 * s;
  }
}

START_TEST(proxy_a_scale_free_or_numeric_error) {
  enum { N = 40 };
  double xs[N * 2], xt[N * 2], dist, err;
  const int ks[] = {0, 1000, -1000, 600};
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
    separated(xs, xt, N, ldexp(1.0, ks[t]));
    TLT_ASSERT_OK(tl_proxy_a_distance(&dist, &err, xs, N, xt, N, 2, NULL));
    ck_assert_msg(dist == 2.0 && err == 0.0, "2^%d: dist %g err %g", ks[t],
                  dist, err);
  }
  /* A step size the gradient descent cannot survive: an error naming lr,
   * not a NaN classifier that reports 0. */
  separated(xs, xt, N, 1.0);
  tl_proxy_a_options o;
  TLT_ASSERT_OK(tl_proxy_a_options_init(&o, TL_PROXY_A_OPTIONS_VERSION));
  o.lr = 1e308;
  dist = 3.0;
  TLT_ASSERT_FAILS(tl_proxy_a_distance(&dist, &err, xs, N, xt, N, 2, &o),
                   TL_E_NUMERIC, "opts->lr");
  ck_assert_double_eq(dist, 3.0);
}
END_TEST

START_TEST(alignment_does_not_depend_on_the_data_scale) {
  static double xs[CORAL_NT * CORAL_D], xt[CORAL_NT * CORAL_D];
  static double out[CORAL_NS * CORAL_D];
  double r;
  /* 2^+-250: outside the range used as given, results still normal. */
  const int ks[] = {250, -250, 0};
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
    const double s = ldexp(1.0, ks[t]);
    scaled(xs, coral_xs, CORAL_NS * CORAL_D, s);
    scaled(xt, coral_xt, CORAL_NT * CORAL_D, s);
    TLT_ASSERT_OK(tl_coral_distance(&r, xs, CORAL_NS, xt, CORAL_NT, CORAL_D));
    TLT_ASSERT_CLOSE(r, coral_distance_want * s * s * s * s, 1e-10, 0.0);
  }
  /* CORAL alignment (lambda 0) is linear in the data: near 1e-181 the
   * covariances underflowed ("singular"), near 1e301 they overflowed. */
  const int ka[] = {600, -600, 1000};
  for (size_t t = 0; t < sizeof ka / sizeof *ka; t++) {
    const double s = ldexp(1.0, ka[t]);
    scaled(xs, coral_xs, CORAL_NS * CORAL_D, s);
    scaled(xt, coral_xt, CORAL_NT * CORAL_D, s);
    TLT_ASSERT_OK(
        tl_coral_align(out, xs, CORAL_NS, xt, CORAL_NT, CORAL_D, 0.0));
    for (size_t i = 0; i < CORAL_NS * CORAL_D; i++)
      TLT_ASSERT_CLOSE(out[i], coral_align_lam0[i] * s, 1e-8, 1e-10 * s);
  }
  static double x1[FRECHET_N1 * FRECHET_D], x2[FRECHET_N2 * FRECHET_D];
  double mu1[FRECHET_D], mu2[FRECHET_D];
  double c1[FRECHET_D * FRECHET_D], c2[FRECHET_D * FRECHET_D];
  for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
    const double s = ldexp(1.0, ks[t]);
    scaled(x1, frechet_x1, FRECHET_N1 * FRECHET_D, s);
    scaled(x2, frechet_x2, FRECHET_N2 * FRECHET_D, s);
    TLT_ASSERT_OK(
        tl_frechet_distance(&r, x1, FRECHET_N1, x2, FRECHET_N2, FRECHET_D));
    TLT_ASSERT_CLOSE(r, frechet_want * s * s, 1e-10, 0.0);
    scaled(mu1, frechet_mu1, FRECHET_D, s);
    scaled(mu2, frechet_mu2, FRECHET_D, s);
    scaled(c1, frechet_cov1, FRECHET_D * FRECHET_D, s * s);
    scaled(c2, frechet_cov2, FRECHET_D * FRECHET_D, s * s);
    TLT_ASSERT_OK(
        tl_frechet_distance_gaussian(&r, mu1, c1, mu2, c2, FRECHET_D));
    TLT_ASSERT_CLOSE(r, frechet_want * s * s, 1e-10, 0.0);
  }
  /* Procrustes: W does not depend on the scale of x or of y. */
  double w0[CORAL_D * CORAL_D], w[CORAL_D * CORAL_D];
  TLT_ASSERT_OK(tl_procrustes(w0, coral_xs, coral_xt, CORAL_NS, CORAL_D));
  scaled(xs, coral_xs, CORAL_NS * CORAL_D, 0x1p1000);
  scaled(xt, coral_xt, CORAL_NS * CORAL_D, 0x1p-1000);
  TLT_ASSERT_OK(tl_procrustes(w, xs, xt, CORAL_NS, CORAL_D));
  TLT_ASSERT_ARRAY_CLOSE(w, w0, CORAL_D * CORAL_D, 1e-12, 1e-12);
  /* PCA selection: the same rows, distances scaled. */
  size_t i0[3], i1[3];
  double d0[3], d1[3];
  TLT_ASSERT_OK(tl_pca_select(i0, d0, coral_xs, CORAL_NS, coral_xt, CORAL_NT,
                              CORAL_D, 3, NULL));
  for (size_t t = 0; t < 2; t++) {
    const double s = t == 0 ? 0x1p900 : 0x1p-900;
    scaled(xs, coral_xs, CORAL_NS * CORAL_D, s);
    scaled(xt, coral_xt, CORAL_NT * CORAL_D, s);
    TLT_ASSERT_OK(
        tl_pca_select(i1, d1, xs, CORAL_NS, xt, CORAL_NT, CORAL_D, 3, NULL));
    for (size_t i = 0; i < 3; i++) {
      ck_assert_uint_eq(i1[i], i0[i]);
      TLT_ASSERT_CLOSE(d1[i], d0[i] * s, 1e-10, 0.0);
    }
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Item 5: Renyi divergence near alpha = 1.                                */

START_TEST(renyi_is_accurate_near_one) {
  double r, t[TL_TERM_SIMILARITY_COUNT];
  for (size_t i = 0; i < RN_ALPHAS; i++) {
    TLT_ASSERT_OK(tl_renyi_divergence(&r, rn_p, rn_q, RN_N, rn_alpha[i], 0.0));
    ck_assert_msg(fabs(r - rn_renyi[i]) <= ROUNDING * rn_renyi[i],
                  "alpha = %.17g: %.17g, expected %.17g (rel err %.3g)",
                  rn_alpha[i], r, rn_renyi[i],
                  fabs(r - rn_renyi[i]) / rn_renyi[i]);
    TLT_ASSERT_OK(tl_term_similarity(t, rn_p, rn_q, RN_N, rn_alpha[i]));
    TLT_ASSERT_CLOSE(t[TL_SELECTION_FEATURE_RENYI], rn_renyi[i], ROUNDING, 0.0);
  }
  TLT_ASSERT_OK(tl_renyi_divergence(&r, rn_p, rn_q, RN_N, 1.0, 0.0));
  TLT_ASSERT_CLOSE(r, rn_kl, ROUNDING, 0.0);
  /* The sparse path of the selection features (no smoothing) computes the
   * same divergence over the example's types. */
  const int64_t ids[] = {0, 1, 1, 2};
  const size_t off[] = {0, 4};
  double f[TL_SELECTION_FEATURE_COUNT];
  tl_selection_options o;
  TLT_ASSERT_OK(tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION));
  for (size_t i = 0; i < SELN_ALPHAS; i++) {
    o.renyi_alpha = seln_alpha[i];
    TLT_ASSERT_OK(tl_selection_features(f, ids, off, 1, 4, rn_q, NULL, 0, &o));
    ck_assert_msg(fabs(f[TL_SELECTION_FEATURE_RENYI] - seln_renyi[i]) <=
                      ROUNDING * seln_renyi[i],
                  "alpha = %.17g: %.17g, expected %.17g", seln_alpha[i],
                  f[TL_SELECTION_FEATURE_RENYI], seln_renyi[i]);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Item 6: one overflow rule (metrics.h, "Overflow").                       */

START_TEST(overflowing_results_are_numeric_errors) {
  double r = 7.0;
  const double u[] = {1e308}, v[] = {-1e308};
  TLT_ASSERT_FAILS(tl_euclidean(&r, u, v, 1), TL_E_NUMERIC, "overflows");
  TLT_ASSERT_FAILS(tl_wasserstein_1d(&r, u, 1, NULL, v, 1, NULL, 1.0),
                   TL_E_NUMERIC, "overflows");
  ck_assert_double_eq(r, 7.0); /* written only on success */
  /* Second- and fourth-order results beyond DBL_MAX, the same rule. */
  static double xs[CORAL_NT * CORAL_D], xt[CORAL_NT * CORAL_D];
  scaled(xs, coral_xs, CORAL_NS * CORAL_D, 0x1p300);
  scaled(xt, coral_xt, CORAL_NT * CORAL_D, 0x1p300);
  TLT_ASSERT_FAILS(tl_coral_distance(&r, xs, CORAL_NS, xt, CORAL_NT, CORAL_D),
                   TL_E_NUMERIC, "tl_coral_distance: the distance overflows");
  static double x1[FRECHET_N1 * FRECHET_D], x2[FRECHET_N2 * FRECHET_D];
  scaled(x1, frechet_x1, FRECHET_N1 * FRECHET_D, 0x1p600);
  scaled(x2, frechet_x2, FRECHET_N2 * FRECHET_D, 0x1p600);
  TLT_ASSERT_FAILS(
      tl_frechet_distance(&r, x1, FRECHET_N1, x2, FRECHET_N2, FRECHET_D),
      TL_E_NUMERIC, "tl_frechet_distance: the distance overflows");
  ck_assert_double_eq(r, 7.0);
  /* Large but representable: computed with scaling, no error. */
  const double a[] = {1e308, 1e308}, b[] = {0.0, 0.0};
  TLT_ASSERT_OK(tl_euclidean(&r, a, b, 2));
  TLT_ASSERT_CLOSE(r, 1e308 * sqrt(2.0), 1e-15, 0.0);
  /* Scores whose products overflow but whose sums do not. */
  const double feat[] = {1e300, 1e300, 1e300, 0.99e300};
  const double theta[] = {1e10, -1e10};
  size_t top[2];
  double sco[2];
  TLT_ASSERT_OK(tl_select_top(top, sco, feat, 2, 2, theta, 2));
  ck_assert_double_eq(sco[0], 0.0);
  TLT_ASSERT_CLOSE(sco[1], (1.0 - 0.99) * 1e300 * 1e10, 1e-12, 0.0);
  ck_assert_uint_eq(top[0], 1);
  /* Infinite exact values stay +inf with TL_OK (not an overflow). */
  const double p[] = {1.0, 0.0}, q[] = {0.0, 1.0};
  TLT_ASSERT_OK(tl_kl_divergence(&r, p, q, 2, 0.0));
  ck_assert(isinf(r) && r > 0.0);
  TLT_ASSERT_OK(tl_bhattacharyya(&r, p, q, 2));
  ck_assert(isinf(r) && r > 0.0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Item 10: messages that name the function, the argument and the cause.   */

START_TEST(messages_name_function_argument_and_cause) {
  /* Finite rows far from 1 have a direction (scaled norms). */
  const double xq[] = {1e-320, 0, 0, 1e300, 1e300, 1e300};
  const double y[] = {1, 0, 0, 0, 1, 0, 1, 1, 1};
  tl_csls_options o;
  TLT_ASSERT_OK(tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION));
  o.knn = 1;
  size_t idx[2] = {9, 9};
  double sc[2];
  TLT_ASSERT_OK(tl_csls_retrieve(idx, sc, xq, 2, y, 3, 3, &o));
  ck_assert_uint_eq(idx[0], 0);
  ck_assert_uint_eq(idx[1], 2);
  TLT_ASSERT_CLOSE(sc[0], 0.0, 0.0, 1e-15); /* 2 cos - r_T - r_S = 0 */
  const double zero[] = {0, 0, 0, 1, 1, 1};
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, sc, zero, 2, y, 3, 3, &o),
                   TL_E_INVALID_ARG,
                   "tl_csls_retrieve: row 0 of 'xq' is all "
                   "zeros");
  /* CORAL re-colouring beyond DBL_MAX: the function, the output and why,
   * not "dsyevd did not converge". */
  static double xs[CORAL_NT * CORAL_D], xt[CORAL_NT * CORAL_D];
  static double out[CORAL_NS * CORAL_D];
  /* xs * A with A ~ 2^1022 (the ratio of the scales): up to 6.6 * 2^1022. */
  scaled(xs, coral_xs, CORAL_NS * CORAL_D, 1.0);
  scaled(xt, coral_xt, CORAL_NT * CORAL_D, 0x1p1022);
  out[0] = 3.0;
  TLT_ASSERT_FAILS(
      tl_coral_align(out, xs, CORAL_NS, xt, CORAL_NT, CORAL_D, 0.0),
      TL_E_NUMERIC, "tl_coral_align: the aligned value out[");
  ck_assert_double_eq(out[0], 3.0);
  /* MMD on data whose squared distances overflow: a number, not "over half
   * of the pooled pairs coincide". */
  const double a[] = {1e300, -1e300, 2e300}, b[] = {-2e300, 1.5e300, 0.0};
  double r;
  TLT_ASSERT_OK(tl_mmd2(&r, NULL, a, 3, b, 3, 1, NULL));
  ck_assert(isfinite(r) && r >= 0.0);
  /* Procrustes on data whose y^T x overflows: a rotation. */
  double w[4];
  const double px[] = {1e300, 0, 0, 1e300}, py[] = {0, 1e300, -1e300, 0};
  TLT_ASSERT_OK(tl_procrustes(w, px, py, 2, 2));
  TLT_ASSERT_CLOSE(w[0], 0.0, 0.0, 1e-15);
  TLT_ASSERT_CLOSE(w[1], -1.0, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(w[2], 1.0, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(w[3], 0.0, 0.0, 1e-15);
}
END_TEST

static Suite *metrics_numeric_suite(void) {
  Suite *s = suite_create("metrics_numeric");
  TCase *t = tcase_create("normalisation_range");
  tcase_add_test(t, tiny_sums_are_normalised_exactly);
  tcase_add_test(t, huge_sums_are_normalised_exactly);
  tcase_add_test(t, wasserstein_weights_with_tiny_sums);
  suite_add_tcase(s, t);
  t = tcase_create("scaled_kernels");
  tcase_add_test(t, mmd_does_not_depend_on_the_data_scale);
  tcase_add_test(t, pca_does_not_depend_on_the_data_scale);
  tcase_add_test(t, proxy_a_scale_free_or_numeric_error);
  tcase_add_test(t, alignment_does_not_depend_on_the_data_scale);
  suite_add_tcase(s, t);
  t = tcase_create("renyi_near_one");
  tcase_add_test(t, renyi_is_accurate_near_one);
  suite_add_tcase(s, t);
  t = tcase_create("overflow_rule");
  tcase_add_test(t, overflowing_results_are_numeric_errors);
  suite_add_tcase(s, t);
  t = tcase_create("messages");
  tcase_add_test(t, messages_name_function_argument_and_cause);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tlt_run(metrics_numeric_suite()); }
