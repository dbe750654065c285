/* lib/metrics Part 2: proxy A-distance, CORAL, Frechet, term distributions
 * and data selection, PCA, Procrustes, CSLS. Golden values come from
 * tests/fixtures/gen_metrics_align.py (numpy/scipy). */
#include <float.h>
#include <math.h>
#include <string.h>

#include "../fixtures/metrics_align_golden.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/align_util.h"
#include "metrics/proxy_a.h"
#include "tl_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Element-wise relative error against the scale of the whole array, so
 * entries near 0 in an O(1) matrix compare sensibly. */
static void assert_array_rel(const double *got, const double *want, size_t n,
                             double rel) {
  double scale = 0.0;
  for (size_t i = 0; i < n; i++)
    scale = fmax(scale, fabs(want[i]));
  TLT_ASSERT_ARRAY_CLOSE(got, want, n, rel, scale);
}

static void sample_cov(double *cov, const double *x, size_t n, size_t d) {
  double *mean = tli_alloc(d * sizeof *mean);
  double *work = tli_alloc(n * d * sizeof *work);
  tli_mean_cov(mean, cov, x, n, d, work);
  tli_free(work);
  tli_free(mean);
}

/* ---------------------------------------------------------------- CORAL */

START_TEST(coral_distance_matches_numpy) {
  double got;
  TLT_ASSERT_OK(
      tl_coral_distance(&got, coral_xs, CORAL_NS, coral_xt, CORAL_NT, CORAL_D));
  TLT_ASSERT_CLOSE(got, coral_distance_want, 1e-12, 0.0);
  TLT_ASSERT_OK(
      tl_coral_distance(&got, coral_xs, CORAL_NS, coral_xs, CORAL_NS, CORAL_D));
  ck_assert(got == 0.0);
}
END_TEST

START_TEST(coral_align_matches_scipy_sqrtm) {
  double got[CORAL_NS * CORAL_D];
  const double lambdas[3] = {1.0, 1e-5, 0.0};
  const double *want[3] = {coral_align_lam1, coral_align_lam1em5,
                           coral_align_lam0};
  for (int i = 0; i < 3; i++) {
    TLT_ASSERT_OK(tl_coral_align(got, coral_xs, CORAL_NS, coral_xt, CORAL_NT,
                                 CORAL_D, lambdas[i]));
    assert_array_rel(got, want[i], N_OF(got), 1e-10);
  }
}
END_TEST

START_TEST(coral_aligned_covariance_is_the_target_covariance) {
  enum { D = CORAL_D };
  double out[CORAL_NS * D], cov_out[D * D], cov_t[D * D], cov_s[D * D];
  TLT_ASSERT_OK(
      tl_coral_align(out, coral_xs, CORAL_NS, coral_xt, CORAL_NT, D, 0.0));
  sample_cov(cov_out, out, CORAL_NS, D);
  sample_cov(cov_t, coral_xt, CORAL_NT, D);
  assert_array_rel(cov_out, cov_t, D * D, 1e-10);
  /* With lambda: cov(out) = Ct - lambda Ct^(1/2) Cs^(-1) Ct^(1/2), Cs, Ct
   * regularised. */
  const double lam = 0.5;
  TLT_ASSERT_OK(
      tl_coral_align(out, coral_xs, CORAL_NS, coral_xt, CORAL_NT, D, lam));
  sample_cov(cov_out, out, CORAL_NS, D);
  sample_cov(cov_s, coral_xs, CORAL_NS, D);
  for (int i = 0; i < D; i++) {
    cov_s[i * D + i] += lam;
    cov_t[i * D + i] += lam;
  }
  double work[2 * D * D + D], m[D * D], want[D * D];
  ck_assert_int_eq(tli_sym_pow(cov_s, D, -1.0, 0.0, "t", "s", work), TL_OK);
  memcpy(want, cov_t, sizeof want);
  ck_assert_int_eq(tli_sym_pow(cov_t, D, 0.5, 0.0, "t", "t", work), TL_OK);
  for (int i = 0; i < D; i++)
    for (int j = 0; j < D; j++) {
      double s = 0.0;
      for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++)
          s += cov_t[i * D + a] * cov_s[a * D + b] * cov_t[b * D + j];
      m[i * D + j] = s;
    }
  for (int i = 0; i < D * D; i++)
    want[i] -= lam * m[i];
  assert_array_rel(cov_out, want, D * D, 1e-10);
}
END_TEST

START_TEST(coral_singular_source_needs_lambda) {
  enum { N = 6, D = 3 };
  double xs[N * D], out[N * D];
  for (int i = 0; i < N; i++) {
    xs[i * D] = i;
    xs[i * D + 1] = 2.0 * i; /* collinear with column 0 */
    xs[i * D + 2] = (i * 7) % 5;
  }
  for (int i = 0; i < N * D; i++)
    out[i] = -7.0;
  TLT_ASSERT_FAILS(tl_coral_align(out, xs, N, coral_xt, 5, D, 0.0),
                   TL_E_NUMERIC, "singular");
  for (int i = 0; i < N * D; i++) /* a failed call leaves out alone */
    ck_assert(out[i] == -7.0);
  TLT_ASSERT_OK(tl_coral_align(out, xs, N, coral_xt, 5, D, 1e-5));
  for (int i = 0; i < N * D; i++)
    ck_assert(isfinite(out[i]));
}
END_TEST

START_TEST(coral_rejects_bad_input) {
  double out[CORAL_NS * CORAL_D], d;
  double bad[8] = {1, 2, 3, NAN, 5, 6, 7, 8};
  const double *xs = coral_xs, *xt = coral_xt;
  TLT_ASSERT_FAILS(tl_coral_distance(NULL, xs, 12, xt, 15, 4), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_coral_distance(&d, NULL, 12, xt, 15, 4), TL_E_INVALID_ARG,
                   "'xs'");
  TLT_ASSERT_FAILS(tl_coral_distance(&d, xs, 1, xt, 15, 4), TL_E_INVALID_ARG,
                   "at least 2 rows");
  TLT_ASSERT_FAILS(tl_coral_distance(&d, xs, 0, xt, 15, 4), TL_E_INVALID_ARG,
                   "'xs'");
  TLT_ASSERT_FAILS(tl_coral_distance(&d, xs, 12, xt, 15, 0), TL_E_INVALID_ARG,
                   "dimension d");
  TLT_ASSERT_FAILS(tl_coral_distance(&d, xs, 2, bad, 2, 4), TL_E_NUMERIC,
                   "'xt'");
  TLT_ASSERT_FAILS(tl_coral_align(out, xs, 12, xt, 15, 4, -1.0),
                   TL_E_INVALID_ARG, "lambda");
  TLT_ASSERT_FAILS(tl_coral_align(out, xs, 12, xt, 15, 4, NAN),
                   TL_E_INVALID_ARG, "lambda");
  TLT_ASSERT_FAILS(tl_coral_align(out, bad, 2, xt, 15, 4, 1.0), TL_E_NUMERIC,
                   "'xs'");
  TLT_ASSERT_FAILS(tl_coral_align(NULL, xs, 12, xt, 15, 4, 1.0),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_coral_align((double *)xs, xs, 12, xt, 15, 4, 1.0),
                   TL_E_INVALID_ARG, "alias");
}
END_TEST

/* -------------------------------------------------------------- Frechet */

START_TEST(frechet_matches_scipy_sqrtm) {
  double got;
  TLT_ASSERT_OK(tl_frechet_distance(&got, frechet_x1, FRECHET_N1, frechet_x2,
                                    FRECHET_N2, FRECHET_D));
  TLT_ASSERT_CLOSE(got, frechet_want, 1e-10, 0.0);
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(
      &got, frechet_mu1, frechet_cov1, frechet_mu2, frechet_cov2, FRECHET_D));
  TLT_ASSERT_CLOSE(got, frechet_want, 1e-10, 0.0);
}
END_TEST

START_TEST(frechet_properties) {
  double self, ab, ba;
  TLT_ASSERT_OK(tl_frechet_distance(&self, frechet_x1, FRECHET_N1, frechet_x1,
                                    FRECHET_N1, FRECHET_D));
  TLT_ASSERT_CLOSE(self, 0.0, 1e-10, 1.0);
  ck_assert(self >= 0.0);
  TLT_ASSERT_OK(tl_frechet_distance(&ab, frechet_x1, FRECHET_N1, frechet_x2,
                                    FRECHET_N2, FRECHET_D));
  TLT_ASSERT_OK(tl_frechet_distance(&ba, frechet_x2, FRECHET_N2, frechet_x1,
                                    FRECHET_N1, FRECHET_D));
  TLT_ASSERT_CLOSE(ab, ba, 1e-12, 0.0);
  /* Equal covariances: only the mean term is left. */
  double mu[2] = {1.0, -2.0}, zero[2] = {0.0, 0.0};
  double cov[4] = {2.0, 0.3, 0.3, 1.0};
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(&ab, mu, cov, zero, cov, 2));
  TLT_ASSERT_CLOSE(ab, 5.0, 1e-12, 0.0);
}
END_TEST

START_TEST(frechet_rejects_bad_input) {
  double d;
  double bad[4] = {1, INFINITY, 3, 4};
  TLT_ASSERT_FAILS(tl_frechet_distance(NULL, frechet_x1, 20, frechet_x2, 25, 5),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_frechet_distance(&d, frechet_x1, 1, frechet_x2, 25, 5),
                   TL_E_INVALID_ARG, "x1");
  TLT_ASSERT_FAILS(tl_frechet_distance(&d, frechet_x1, 20, NULL, 25, 5),
                   TL_E_INVALID_ARG, "x2");
  TLT_ASSERT_FAILS(tl_frechet_distance(&d, frechet_x1, 20, frechet_x2, 25, 0),
                   TL_E_INVALID_ARG, "dimension d");
  TLT_ASSERT_FAILS(tl_frechet_distance(&d, bad, 2, frechet_x2, 25, 2),
                   TL_E_NUMERIC, "x1");
  TLT_ASSERT_FAILS(tl_frechet_distance_gaussian(&d, bad, frechet_cov1,
                                                frechet_mu2, frechet_cov2, 2),
                   TL_E_NUMERIC, "mu1");
  TLT_ASSERT_FAILS(tl_frechet_distance_gaussian(&d, frechet_mu1, NULL,
                                                frechet_mu2, frechet_cov2, 2),
                   TL_E_INVALID_ARG, "cov1");
}
END_TEST

/* Covariances that are not covariances are refused instead of having their
 * negative eigenvalues clamped into a number. */
START_TEST(frechet_gaussian_checks_the_covariances) {
  double d, want;
  const double mu[2] = {1.0, -2.0}, zero[2] = {0.0, 0.0};
  const double id[4] = {1, 0, 0, 1}, neg_id[4] = {-1, 0, 0, -1};
  const double indefinite[4] = {4, 0, 0, -1};
  const double asym[4] = {2.0, 0.3, 0.1, 1.0};
  TLT_ASSERT_FAILS(tl_frechet_distance_gaussian(&d, mu, neg_id, zero, id, 2),
                   TL_E_INVALID_ARG, "'cov1' is not positive semi-definite");
  TLT_ASSERT_FAILS(
      tl_frechet_distance_gaussian(&d, mu, id, zero, indefinite, 2),
      TL_E_INVALID_ARG, "'cov2' is not positive semi-definite");
  TLT_ASSERT_FAILS(tl_frechet_distance_gaussian(&d, mu, asym, zero, id, 2),
                   TL_E_INVALID_ARG, "'cov1' is not symmetric");
  TLT_ASSERT_FAILS(tl_frechet_distance_gaussian(&d, mu, id, zero, asym, 2),
                   TL_E_INVALID_ARG, "'cov2' is not symmetric");
  /* Just outside the eigenvalue tolerance -d eps max|lambda| = -4.4e-16. */
  const double slightly_neg[4] = {1, 0, 0, -1e-15};
  TLT_ASSERT_FAILS(
      tl_frechet_distance_gaussian(&d, mu, slightly_neg, zero, id, 2),
      TL_E_INVALID_ARG, "'cov1' is not positive semi-definite");
  /* Rounding-sized defects pass and count as 0: the result equals the one
   * for the corrected matrices. */
  const double psd[4] = {2.0, 0.0, 0.0, 0.0};
  const double tiny_neg[4] = {2.0, 0.0, 0.0, -1e-16};
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(&want, mu, psd, zero, id, 2));
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(&d, mu, tiny_neg, zero, id, 2));
  TLT_ASSERT_CLOSE(d, want, 1e-15, 0.0);
  /* |mu|^2 + tr(C1 + I) - 2 tr(C1^(1/2)) = 5 + 4 - 2 sqrt 2. */
  TLT_ASSERT_CLOSE(want, 9.0 - 2.0 * sqrt(2.0), 1e-14, 0.0);
  const double sym[4] = {2.0, 0.3, 0.3, 1.0};
  const double near_sym[4] = {2.0, 0.3, 0.3 * (1.0 + 1e-15), 1.0};
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(&want, mu, sym, zero, id, 2));
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(&d, mu, near_sym, zero, id, 2));
  TLT_ASSERT_CLOSE(d, want, 1e-14, 0.0);
  /* A rank-deficient covariance (the sample covariance of fewer points than
   * dimensions, as FID often sees) is valid: 3 points in 5-D. */
  double x[15], c[25];
  for (int i = 0; i < 15; i++)
    x[i] = sin(1.0 + 7.0 * i);
  for (int a = 0; a < 5; a++)
    for (int b = 0; b < 5; b++) {
      double ma = 0, mb = 0, s = 0;
      for (int r = 0; r < 3; r++) {
        ma += x[r * 5 + a] / 3.0;
        mb += x[r * 5 + b] / 3.0;
      }
      for (int r = 0; r < 3; r++)
        s += (x[r * 5 + a] - ma) * (x[r * 5 + b] - mb);
      c[a * 5 + b] = s / 2.0;
    }
  double mu5[5] = {0};
  TLT_ASSERT_OK(tl_frechet_distance_gaussian(&d, mu5, c, mu5, c, 5));
  TLT_ASSERT_CLOSE(d, 0.0, 0.0, 1e-7);
}
END_TEST

/* ---------------------------------------------------- term distributions */

START_TEST(term_distribution_counts_and_smooths) {
  double got[8];
  TLT_ASSERT_OK(tl_term_distribution(got, term_ids, N_OF(term_ids), 8, 0.0));
  TLT_ASSERT_ARRAY_CLOSE(got, term_dist_k0, 8, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_term_distribution(got, term_ids, N_OF(term_ids), 8, 0.5));
  TLT_ASSERT_ARRAY_CLOSE(got, term_dist_k05, 8, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_term_distribution(got, NULL, 0, 8, 2.0));
  for (int i = 0; i < 8; i++)
    TLT_ASSERT_CLOSE(got[i], 0.125, 1e-15, 0.0);
}
END_TEST

START_TEST(term_distribution_rejects_bad_input) {
  double got[8];
  const int64_t neg[2] = {1, -1}, big[2] = {1, 8};
  TLT_ASSERT_FAILS(tl_term_distribution(NULL, term_ids, 8, 8, 0.0),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_term_distribution(got, NULL, 8, 8, 0.0), TL_E_INVALID_ARG,
                   "'ids'");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 0, 0.0),
                   TL_E_INVALID_ARG, "vocab_size");
  TLT_ASSERT_FAILS(tl_term_distribution(got, neg, 2, 8, 0.0), TL_E_INVALID_ARG,
                   "ids[1] = -1");
  TLT_ASSERT_FAILS(tl_term_distribution(got, big, 2, 8, 0.0), TL_E_INVALID_ARG,
                   "ids[1] = 8");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 8, -0.5),
                   TL_E_INVALID_ARG, "smoothing");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 8, INFINITY),
                   TL_E_INVALID_ARG, "smoothing");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 0, 8, 0.0),
                   TL_E_INVALID_ARG, "no tokens");
}
END_TEST

START_TEST(term_similarity_matches_scipy) {
  double got[TL_TERM_SIMILARITY_COUNT];
  TLT_ASSERT_OK(tl_term_similarity(got, sim_p, sim_q, 8, 0.99));
  TLT_ASSERT_ARRAY_CLOSE(got, sim_want_a099, 6, 1e-10, 0.0);
  TLT_ASSERT_OK(tl_term_similarity(got, sim_p, sim_q, 8, 0.5));
  TLT_ASSERT_ARRAY_CLOSE(got, sim_want_a05, 6, 1e-12, 0.0);
}
END_TEST

START_TEST(term_similarity_edge_cases) {
  double got[6];
  const double p[3] = {1, 2, 3}, disjoint_p[2] = {1, 0}, disjoint_q[2] = {0, 1};
  TLT_ASSERT_OK(tl_term_similarity(got, p, p, 3, 0.99));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_JENSEN_SHANNON], 0.0, 1e-15, 1.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_RENYI], 0.0, 1e-12, 1.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_COSINE], 1.0, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_BHATTACHARYYA], 0.0, 1e-15, 1.0);
  TLT_ASSERT_OK(tl_term_similarity(got, disjoint_p, disjoint_q, 2, 0.99));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_JENSEN_SHANNON], log(2.0), 1e-15,
                   0.0);
  ck_assert(isinf(got[TL_SELECTION_FEATURE_RENYI]) &&
            got[TL_SELECTION_FEATURE_RENYI] > 0);
  ck_assert(isinf(got[TL_SELECTION_FEATURE_BHATTACHARYYA]));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_VARIATIONAL], 2.0, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_COSINE], 0.0, 1e-15, 1.0);
  /* alpha > 1 with q = 0 < p: infinite. */
  const double q0[3] = {1, 1, 0};
  TLT_ASSERT_OK(tl_term_similarity(got, p, q0, 3, 2.0));
  ck_assert(isinf(got[TL_SELECTION_FEATURE_RENYI]));
}
END_TEST

START_TEST(term_similarity_rejects_bad_input) {
  double got[6];
  const double p[3] = {1, 2, 3}, neg[3] = {1, -2, 3}, zero[3] = {0, 0, 0},
               nan_[3] = {1, NAN, 0};
  TLT_ASSERT_FAILS(tl_term_similarity(NULL, p, p, 3, 0.99), TL_E_INVALID_ARG,
                   "'out'");
  TLT_ASSERT_FAILS(tl_term_similarity(got, NULL, p, 3, 0.99), TL_E_INVALID_ARG,
                   "'p'");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, p, 0, 0.99), TL_E_INVALID_ARG,
                   "n must");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, p, 3, 1.0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, p, 3, 0.0), TL_E_INVALID_ARG,
                   "alpha");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, neg, 3, 0.99), TL_E_INVALID_ARG,
                   "negative");
  TLT_ASSERT_FAILS(tl_term_similarity(got, zero, p, 3, 0.99), TL_E_INVALID_ARG,
                   "sums to 0");
  TLT_ASSERT_FAILS(tl_term_similarity(got, p, nan_, 3, 0.99), TL_E_NUMERIC,
                   "'q'");
}
END_TEST

/* -------------------------------------------------------- data selection */

START_TEST(selection_features_match_ruder_plank) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT];
  TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, sel_vectors, SEL_E, NULL));
  TLT_ASSERT_ARRAY_CLOSE(got, sel_features_default, N_OF(got), 1e-10, 1e-15);
  tl_selection_options o;
  TLT_ASSERT_OK(tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION));
  ck_assert(o.renyi_alpha == 0.99 && o.smoothing == 0.0);
  o.renyi_alpha = 0.5;
  o.smoothing = 1.0;
  TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, NULL, 0, &o));
  TLT_ASSERT_ARRAY_CLOSE(got, sel_features_novec_k1, N_OF(got), 1e-10, 1e-15);
}
END_TEST

/* Without smoothing the features sum over each example's types only; they
 * must equal the dense measures of tl_term_similarity. */
START_TEST(selection_sparse_path_equals_the_dense_measures) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT], p[SEL_V], want[6];
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
  const double alphas[2] = {0.99, 2.0};
  for (int a = 0; a < 2; a++) {
    o.renyi_alpha = alphas[a];
    TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                        sel_target, NULL, 0, &o));
    for (size_t i = 0; i < SEL_N; i++) {
      const size_t len = sel_offsets[i + 1] - sel_offsets[i];
      TLT_ASSERT_OK(
          tl_term_distribution(p, sel_ids + sel_offsets[i], len, SEL_V, 0.0));
      TLT_ASSERT_OK(tl_term_similarity(want, p, sel_target, SEL_V, alphas[a]));
      for (int j = 0; j < 6; j++) {
        const double g = got[i * TL_SELECTION_FEATURE_COUNT + j];
        if (isinf(want[j]))
          ck_assert(isinf(g) && g > 0); /* alpha 2, target 0 at id 9 */
        else
          TLT_ASSERT_CLOSE(g, want[j], 1e-12, 1e-15);
      }
    }
  }
}
END_TEST

START_TEST(selection_features_reject_bad_input) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT];
  const size_t bad_start[5] = {1, 4, 10, 11, 16};
  const size_t empty[5] = {0, 4, 4, 11, 16};
  const int64_t ids_big[2] = {0, 10};
  const size_t two[2] = {0, 2};
  double nan_target[SEL_V];
  memcpy(nan_target, sel_target, sizeof nan_target);
  nan_target[3] = NAN;
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
#define SF(out, ids, off, n, V, t, vec, e, opts)                               \
  tl_selection_features(out, ids, off, n, V, t, vec, e, opts)
  TLT_ASSERT_FAILS(
      SF(NULL, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, NULL),
      TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 0, 10, sel_target, NULL, 0, NULL),
      TL_E_INVALID_ARG, "n must");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, bad_start, 4, 10, sel_target, NULL, 0, NULL),
      TL_E_INVALID_ARG, "offsets[0]");
  TLT_ASSERT_FAILS(SF(got, sel_ids, empty, 4, 10, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "example 1 is empty");
  TLT_ASSERT_FAILS(SF(got, ids_big, two, 1, 10, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "ids[1] = 10");
  TLT_ASSERT_FAILS(SF(got, sel_ids, sel_offsets, 4, 10, NULL, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "'target'");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, nan_target, NULL, 0, NULL),
      TL_E_NUMERIC, "'target'");
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, sel_vectors, 0, NULL),
      TL_E_INVALID_ARG, "embed_dim");
  o.version = 99;
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, &o),
      TL_E_UNSUPPORTED, "version 99");
  o.version = TL_SELECTION_OPTIONS_VERSION;
  o.renyi_alpha = 1.0;
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, &o),
      TL_E_INVALID_ARG, "renyi_alpha");
  o.renyi_alpha = 0.99;
  o.smoothing = -1.0;
  TLT_ASSERT_FAILS(
      SF(got, sel_ids, sel_offsets, 4, 10, sel_target, NULL, 0, &o),
      TL_E_INVALID_ARG, "smoothing");
  TLT_ASSERT_FAILS(tl_selection_options_init(&o, 2), TL_E_UNSUPPORTED,
                   "version 2");
#undef SF
}
END_TEST

/* Overflowing sizes and values found by probing the public functions:
 * refused with a message instead of a crash, all-zero "distributions" or a
 * NaN feature. */
START_TEST(termdist_and_selection_refuse_overflow) {
  double got[SEL_N * TL_SELECTION_FEATURE_COUNT];
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, 8, 1e308),
                   TL_E_INVALID_ARG, "overflows");
  TLT_ASSERT_FAILS(tl_term_distribution(got, term_ids, 8, SIZE_MAX, 1.0),
                   TL_E_INVALID_ARG, "vocab_size");
  TLT_ASSERT_FAILS(tl_term_similarity(got, sim_p, sim_q, SIZE_MAX, 0.99),
                   TL_E_INVALID_ARG, "too large");
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SIZE_MAX,
                                         SEL_V, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "n = ");
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SIZE_MAX, sel_target, NULL, 0, NULL),
                   TL_E_INVALID_ARG, "vocab_size");
  o.smoothing = 1e308;
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SEL_V, sel_target, NULL, 0, &o),
                   TL_E_INVALID_ARG, "opts->smoothing");
  /* Word vectors whose squared norms leave the double range would give
   * Inf / Inf = NaN cosines (or pass for zero vectors). */
  double vec[SEL_V * SEL_E];
  memcpy(vec, sel_vectors, sizeof vec);
  for (size_t j = 0; j < SEL_E; j++)
    vec[2 * SEL_E + j] = 1e200;
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SEL_V, sel_target, vec, SEL_E, NULL),
                   TL_E_NUMERIC, "word_vectors row 2 overflows");
  for (size_t j = 0; j < SEL_E; j++)
    vec[2 * SEL_E + j] = 1e-200;
  TLT_ASSERT_FAILS(tl_selection_features(got, sel_ids, sel_offsets, SEL_N,
                                         SEL_V, sel_target, vec, SEL_E, NULL),
                   TL_E_NUMERIC, "word_vectors row 2 underflows");
  /* Scaling every vector by one factor changes no cosine. */
  double want[SEL_N * TL_SELECTION_FEATURE_COUNT];
  for (size_t j = 0; j < SEL_V * SEL_E; j++)
    vec[j] = 1e-100 * sel_vectors[j];
  TLT_ASSERT_OK(tl_selection_features(want, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, sel_vectors, SEL_E, NULL));
  TLT_ASSERT_OK(tl_selection_features(got, sel_ids, sel_offsets, SEL_N, SEL_V,
                                      sel_target, vec, SEL_E, NULL));
  TLT_ASSERT_ARRAY_CLOSE(got, want, N_OF(got), 1e-12, 1e-15);
}
END_TEST

/* A large Renyi order: p^alpha underflows to 0 and q^(1 - alpha) overflows
 * to Inf, which made the sparse Renyi divergence 0 * Inf = NaN and the Renyi
 * entropy +Inf. */
START_TEST(selection_large_renyi_order) {
  enum { V = 4 };
  const int64_t ids[6] = {0, 0, 1, 2, 3, 3};
  const size_t offsets[3] = {0, 3, 6};
  const double target[V] = {0.6, 0.3, 0.05, 0.05};
  double got[2 * TL_SELECTION_FEATURE_COUNT], p[V], want[6];
  tl_selection_options o;
  tl_selection_options_init(&o, TL_SELECTION_OPTIONS_VERSION);
  /* Example 0: p = (2/3, 1/3) on types 0, 1: (1/3)^700 = 0 and
   * 0.3^-699 = Inf in double. p / q = 10/9 on both types, so the sum
   * p^alpha q^(1-alpha) is 0.9 (10/9)^700. */
  o.renyi_alpha = 700.0;
  TLT_ASSERT_OK(
      tl_selection_features(got, ids, offsets, 2, V, target, NULL, 0, &o));
  const double by_hand = (log(0.9) + 700.0 * log(10.0 / 9.0)) / 699.0;
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_RENYI], by_hand, 1e-12, 0.0);
  TLT_ASSERT_OK(tl_term_distribution(p, ids, 3, V, 0.0));
  TLT_ASSERT_OK(tl_term_similarity(want, p, target, V, 700.0));
  TLT_ASSERT_CLOSE(got[TL_SELECTION_FEATURE_RENYI],
                   want[TL_SELECTION_FEATURE_RENYI], 1e-12, 0.0);
  /* Renyi entropy, corpus P = {2, 1, 1, 2} / 6; example 1 has types 2, 3
   * with P = 1/6 and 1/3. alpha 2000: (1/6)^2000 and (1/3)^2000 are 0 in
   * double; the value is (2000 ln(1/3) + ln(1 + 2^-2000)) / (1 - 2000). */
  o.renyi_alpha = 2000.0;
  TLT_ASSERT_OK(
      tl_selection_features(got, ids, offsets, 2, V, target, NULL, 0, &o));
  TLT_ASSERT_CLOSE(
      got[TL_SELECTION_FEATURE_COUNT + TL_SELECTION_FEATURE_RENYI_ENTROPY],
      2000.0 * log(3.0) / 1999.0, 1e-14, 0.0);
}
END_TEST

START_TEST(select_top_orders_by_score_ties_by_index) {
  enum { N = 6, F = 2 };
  size_t idx[N];
  double scores[N];
  TLT_ASSERT_OK(tl_select_top(idx, scores, top_features, N, F, top_theta, N));
  TLT_ASSERT_ARRAY_CLOSE(scores, top_scores, N, 1e-15, 0.0);
  for (int i = 0; i < N; i++)
    ck_assert_uint_eq(idx[i], top_order[i]);
  /* Scores 1, 1, 1.5, 0.25, 1.5, 0.625: equal scores keep index order. */
  const size_t want[N] = {2, 4, 0, 1, 5, 3};
  for (int i = 0; i < N; i++)
    ck_assert_uint_eq(idx[i], want[i]);
  size_t three[3];
  TLT_ASSERT_OK(tl_select_top(three, NULL, top_features, N, F, top_theta, 3));
  ck_assert(memcmp(three, idx, sizeof three) == 0);
}
END_TEST

START_TEST(select_top_rejects_bad_input) {
  size_t idx[6];
  double inf_feat[2] = {INFINITY, 1.0}, nan_theta[2] = {NAN, 1.0};
  TLT_ASSERT_FAILS(tl_select_top(NULL, NULL, top_features, 6, 2, top_theta, 1),
                   TL_E_INVALID_ARG, "'out_indices'");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, top_theta, 0),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, top_theta, 7),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 0, 2, top_theta, 1),
                   TL_E_INVALID_ARG, "features");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, inf_feat, 1, 2, top_theta, 1),
                   TL_E_NUMERIC, "features");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, nan_theta, 1),
                   TL_E_NUMERIC, "theta");
  TLT_ASSERT_FAILS(tl_select_top(idx, NULL, top_features, 6, 2, NULL, 1),
                   TL_E_INVALID_ARG, "theta");
}
END_TEST

/* ------------------------------------------------------------------ PCA */

START_TEST(pca_fit_matches_numpy_svd) {
  double mean[PCA_D], comps[PCA_K * PCA_D], var[PCA_K], ratio[PCA_K];
  TLT_ASSERT_OK(
      tl_pca_fit(mean, comps, var, ratio, pca_x, PCA_N, PCA_D, PCA_K));
  assert_array_rel(mean, pca_mean, PCA_D, 1e-12);
  assert_array_rel(comps, pca_components, PCA_K * PCA_D, 1e-10);
  TLT_ASSERT_ARRAY_CLOSE(var, pca_variance, PCA_K, 1e-10, 0.0);
  TLT_ASSERT_ARRAY_CLOSE(ratio, pca_ratio, PCA_K, 1e-10, 0.0);
  for (int a = 0; a < PCA_K; a++)
    for (int b = 0; b < PCA_K; b++) {
      double dot = 0.0;
      for (int j = 0; j < PCA_D; j++)
        dot += comps[a * PCA_D + j] * comps[b * PCA_D + j];
      TLT_ASSERT_CLOSE(dot, a == b ? 1.0 : 0.0, 1e-13, 1.0);
    }
  double z[5 * PCA_K];
  TLT_ASSERT_OK(tl_pca_transform(z, pca_x, 5, PCA_D, mean, comps, PCA_K));
  assert_array_rel(z, pca_projected, 5 * PCA_K, 1e-10);
}
END_TEST

START_TEST(pca_rejects_bad_input) {
  double mean[PCA_D], comps[PCA_D * PCA_D], var[PCA_D], z[PCA_D];
  double bad[4] = {1, 2, NAN, 4};
  TLT_ASSERT_FAILS(tl_pca_fit(NULL, comps, var, NULL, pca_x, 30, 6, 2),
                   TL_E_INVALID_ARG, "out_mean");
  TLT_ASSERT_FAILS(tl_pca_fit(mean, comps, var, NULL, pca_x, 30, 6, 0),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_pca_fit(mean, comps, var, NULL, pca_x, 30, 6, 7),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_pca_fit(mean, comps, var, NULL, pca_x, 1, 6, 1),
                   TL_E_INVALID_ARG, "at least 2 rows");
  TLT_ASSERT_FAILS(tl_pca_fit(mean, comps, var, NULL, bad, 2, 2, 1),
                   TL_E_NUMERIC, "'x'");
  TLT_ASSERT_FAILS(tl_pca_transform(z, pca_x, 1, 6, NULL, pca_components, 1),
                   TL_E_INVALID_ARG, "mean");
  TLT_ASSERT_FAILS(
      tl_pca_transform(z, pca_x, 1, 6, pca_mean, pca_components, 0),
      TL_E_INVALID_ARG, "k must");
}
END_TEST

START_TEST(pca_select_matches_numpy) {
  tl_pca_select_options o;
  TLT_ASSERT_OK(tl_pca_select_options_init(&o, TL_PCA_SELECT_OPTIONS_VERSION));
  ck_assert_uint_eq(o.n_components, 0);
  ck_assert_int_eq(o.criterion, TL_PCA_SELECT_CENTROID);
  ck_assert_int_eq(o.fit, TL_PCA_SELECT_FIT_TARGET);
  o.n_components = PSEL_C;
  const size_t *want_idx[4] = {psel_target_centroid_idx, psel_target_mean_idx,
                               psel_both_centroid_idx, psel_both_mean_idx};
  const double *want_dist[4] = {psel_target_centroid_dist,
                                psel_target_mean_dist, psel_both_centroid_dist,
                                psel_both_mean_dist};
  for (int c = 0; c < 4; c++) {
    size_t idx[PSEL_K];
    double dist[PSEL_K];
    o.fit = c < 2 ? TL_PCA_SELECT_FIT_TARGET : TL_PCA_SELECT_FIT_BOTH;
    o.criterion = c % 2 ? TL_PCA_SELECT_MEAN_DISTANCE : TL_PCA_SELECT_CENTROID;
    TLT_ASSERT_OK(tl_pca_select(idx, dist, psel_xs, PSEL_NS, psel_xt, PSEL_NT,
                                PSEL_D, PSEL_K, &o));
    for (int i = 0; i < PSEL_K; i++)
      ck_assert_uint_eq(idx[i], want_idx[c][i]);
    TLT_ASSERT_ARRAY_CLOSE(dist, want_dist[c], PSEL_K, 1e-10, 0.0);
  }
}
END_TEST

START_TEST(pca_select_rejects_bad_input) {
  size_t idx[4];
  tl_pca_select_options o;
  tl_pca_select_options_init(&o, TL_PCA_SELECT_OPTIONS_VERSION);
  TLT_ASSERT_FAILS(
      tl_pca_select(NULL, NULL, psel_xs, 10, psel_xt, 8, 6, 4, NULL),
      TL_E_INVALID_ARG, "out_indices");
  TLT_ASSERT_FAILS(
      tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 8, 6, 0, NULL),
      TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(
      tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 8, 6, 11, NULL),
      TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(
      tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 1, 6, 4, NULL),
      TL_E_INVALID_ARG, "at least 2 fitted rows");
  o.n_components = 9;
  TLT_ASSERT_FAILS(tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 8, 6, 4, &o),
                   TL_E_INVALID_ARG, "n_components");
  o.n_components = 0;
  o.criterion = 7;
  TLT_ASSERT_FAILS(tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 8, 6, 4, &o),
                   TL_E_INVALID_ARG, "criterion");
  o.criterion = 0;
  o.fit = -1;
  TLT_ASSERT_FAILS(tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 8, 6, 4, &o),
                   TL_E_INVALID_ARG, "fit");
  o.fit = 0;
  o.version = 0;
  TLT_ASSERT_FAILS(tl_pca_select(idx, NULL, psel_xs, 10, psel_xt, 8, 6, 4, &o),
                   TL_E_UNSUPPORTED, "version 0");
  TLT_ASSERT_FAILS(tl_pca_select_options_init(&o, 5), TL_E_UNSUPPORTED,
                   "version 5");
}
END_TEST

/* ------------------------------------------------- Procrustes and CSLS */

START_TEST(procrustes_matches_numpy_and_recovers_the_rotation) {
  enum { D = PROC_D };
  double w[D * D];
  TLT_ASSERT_OK(tl_procrustes(w, proc_x, proc_y, PROC_N, D));
  assert_array_rel(w, proc_w, D * D, 1e-10);
  for (int a = 0; a < D; a++)
    for (int b = 0; b < D; b++) {
      double dot = 0.0;
      for (int j = 0; j < D; j++)
        dot += w[j * D + a] * w[j * D + b];
      TLT_ASSERT_CLOSE(dot, a == b ? 1.0 : 0.0, 1e-13, 1.0);
    }
  /* Noise 0.01: the planted rotation comes back to about 1e-2. */
  TLT_ASSERT_ARRAY_CLOSE(w, proc_rotation, D * D, 2e-2, 1.0);
  /* Without noise it comes back exactly. */
  double y[PROC_N * D];
  for (int i = 0; i < PROC_N; i++)
    for (int r = 0; r < D; r++) {
      double s = 0.0;
      for (int c = 0; c < D; c++)
        s += proc_rotation[r * D + c] * proc_x[i * D + c];
      y[i * D + r] = s;
    }
  TLT_ASSERT_OK(tl_procrustes(w, proc_x, y, PROC_N, D));
  TLT_ASSERT_ARRAY_CLOSE(w, proc_rotation, D * D, 1e-12, 1.0);
}
END_TEST

START_TEST(procrustes_rejects_bad_input) {
  double w[4], bad[4] = {1, NAN, 0, 1};
  TLT_ASSERT_FAILS(tl_procrustes(NULL, proc_x, proc_y, 4, 2), TL_E_INVALID_ARG,
                   "out_w");
  TLT_ASSERT_FAILS(tl_procrustes(w, NULL, proc_y, 4, 2), TL_E_INVALID_ARG,
                   "'x'");
  TLT_ASSERT_FAILS(tl_procrustes(w, proc_x, proc_y, 0, 2), TL_E_INVALID_ARG,
                   "'x'");
  TLT_ASSERT_FAILS(tl_procrustes(w, proc_x, proc_y, 4, 0), TL_E_INVALID_ARG,
                   "dimension d");
  TLT_ASSERT_FAILS(tl_procrustes(w, proc_x, bad, 2, 2), TL_E_NUMERIC, "'y'");
}
END_TEST

START_TEST(csls_matches_muse_formula) {
  tl_csls_options o;
  TLT_ASSERT_OK(tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION));
  ck_assert_uint_eq(o.knn, 10);
  ck_assert_uint_eq(o.top, 1);
  o.knn = CSLS_KNN;
  o.top = CSLS_TOP;
  size_t idx[CSLS_NQ * CSLS_TOP];
  double scores[CSLS_NQ * CSLS_TOP];
  TLT_ASSERT_OK(tl_csls_retrieve(idx, scores, csls_xq, CSLS_NQ, csls_y, CSLS_NT,
                                 CSLS_D, &o));
  for (size_t i = 0; i < N_OF(idx); i++)
    ck_assert_uint_eq(idx[i], csls_idx[i]);
  TLT_ASSERT_ARRAY_CLOSE(scores, csls_scores, N_OF(scores), 1e-12, 1e-12);
}
END_TEST

static int cmp_desc(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Mean of the k largest of v[0..n) (v is reordered). */
static double mean_top(double *v, size_t n, size_t k) {
  qsort(v, n, sizeof *v, cmp_desc);
  double s = 0.0;
  for (size_t i = 0; i < k; i++)
    s += v[i];
  return s / (double)k;
}

/* More queries than one 256-row block: the blocked implementation must
 * agree with a direct full-matrix computation. */
START_TEST(csls_blocks_agree_with_the_full_matrix) {
  enum { NQ = 300, NT = 270, D = 5, KNN = 4, TOP = 3 };
  double *xq = tli_alloc(NQ * D * sizeof *xq),
         *y = tli_alloc(NT * D * sizeof *y);
  double *sim = tli_alloc(NQ * NT * sizeof *sim),
         *tmp = tli_alloc(NQ * sizeof *tmp);
  double rt[NQ], rs[NT], scores[NQ * TOP];
  size_t idx[NQ * TOP];
  tli_rng rng;
  tli_rng_seed(&rng, 5);
  for (int i = 0; i < NQ * D; i++)
    xq[i] = tli_rng_normal(&rng);
  for (int i = 0; i < NT * D; i++)
    y[i] = tli_rng_normal(&rng);
  for (int i = 0; i < NQ; i++)
    for (int j = 0; j < NT; j++) {
      double dot = 0.0, a = 0.0, b = 0.0;
      for (int c = 0; c < D; c++) {
        dot += xq[i * D + c] * y[j * D + c];
        a += xq[i * D + c] * xq[i * D + c];
        b += y[j * D + c] * y[j * D + c];
      }
      sim[i * NT + j] = dot / (sqrt(a) * sqrt(b));
    }
  for (int i = 0; i < NQ; i++) {
    memcpy(tmp, sim + i * NT, NT * sizeof *tmp);
    rt[i] = mean_top(tmp, NT, KNN);
  }
  for (int j = 0; j < NT; j++) {
    for (int i = 0; i < NQ; i++)
      tmp[i] = sim[i * NT + j];
    rs[j] = mean_top(tmp, NQ, KNN);
  }
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  o.knn = KNN;
  o.top = TOP;
  TLT_ASSERT_OK(tl_csls_retrieve(idx, scores, xq, NQ, y, NT, D, &o));
  for (int i = 0; i < NQ; i++) {
    double prev = INFINITY;
    for (int r = 0; r < TOP; r++) {
      const size_t j = idx[i * TOP + r];
      const double want = 2.0 * sim[i * NT + j] - rt[i] - rs[j];
      TLT_ASSERT_CLOSE(scores[i * TOP + r], want, 1e-12, 1.0);
      ck_assert(want <= prev + 1e-12);
      prev = want;
    }
    /* No target outside the list beats the last one listed. */
    for (int j = 0; j < NT; j++) {
      int listed = 0;
      for (int r = 0; r < TOP; r++)
        listed |= idx[i * TOP + r] == (size_t)j;
      if (!listed)
        ck_assert(2.0 * sim[i * NT + j] - rt[i] - rs[j] <= prev + 1e-12);
    }
  }
  tli_free(tmp);
  tli_free(sim);
  tli_free(y);
  tli_free(xq);
}
END_TEST

START_TEST(csls_ties_keep_the_lower_index) {
  /* Two identical targets: every query scores them equally. */
  const double q[4] = {1, 0, 0.6, 0.8}, y[6] = {0.3, 0.4, 0.3, 0.4, 1, 0};
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  o.knn = 1;
  o.top = 3;
  size_t idx[6];
  TLT_ASSERT_OK(tl_csls_retrieve(idx, NULL, q, 2, y, 3, 2, &o));
  /* Query 0 is target 2; query 1 is targets 0 and 1 alike. */
  const size_t want[6] = {2, 0, 1, 0, 1, 2};
  for (int i = 0; i < 6; i++)
    ck_assert_uint_eq(idx[i], want[i]);
}
END_TEST

START_TEST(csls_rejects_bad_input) {
  tl_csls_options o;
  tl_csls_options_init(&o, TL_CSLS_OPTIONS_VERSION);
  size_t idx[30 * 3];
  const double zero_row[4] = {1, 1, 0, 0};
  TLT_ASSERT_FAILS(
      tl_csls_retrieve(NULL, NULL, csls_xq, 30, csls_y, 25, 4, NULL),
      TL_E_INVALID_ARG, "out_indices");
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 5, 4, NULL),
                   TL_E_INVALID_ARG, "knn");
  o.knn = 0;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 25, 4, &o),
                   TL_E_INVALID_ARG, "knn");
  o.knn = 3;
  o.top = 26;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 25, 4, &o),
                   TL_E_INVALID_ARG, "top");
  o.top = 1;
  o.knn = 1;
  idx[0] = 12345;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, zero_row, 2, csls_y, 25, 2, &o),
                   TL_E_INVALID_ARG, "row 1 of 'xq'");
  ck_assert_uint_eq(idx[0], 12345);
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 0, 4, &o),
                   TL_E_INVALID_ARG, "'y'");
  o.version = 3;
  TLT_ASSERT_FAILS(tl_csls_retrieve(idx, NULL, csls_xq, 30, csls_y, 25, 4, &o),
                   TL_E_UNSUPPORTED, "version 3");
  TLT_ASSERT_FAILS(tl_csls_options_init(&o, 0), TL_E_UNSUPPORTED, "version 0");
}
END_TEST

START_TEST(precision_at_k_counts_distinct_source_words) {
  /* 4 queries x 3 ranked targets. */
  const size_t retrieved[12] = {5, 1, 2, 7, 8, 9, 3, 4, 0, 6, 6, 6};
  /* word 0 -> {1, 2}, word 1 -> {9}, word 2 -> {3}; word 3 not listed. */
  const size_t src[4] = {0, 0, 1, 2}, tgt[4] = {1, 2, 9, 3};
  double p;
  TLT_ASSERT_OK(tl_precision_at_k(&p, retrieved, 4, 3, 1, src, tgt, 4));
  TLT_ASSERT_CLOSE(p, 1.0 / 3.0, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_precision_at_k(&p, retrieved, 4, 3, 2, src, tgt, 4));
  TLT_ASSERT_CLOSE(p, 2.0 / 3.0, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_precision_at_k(&p, retrieved, 4, 3, 3, src, tgt, 4));
  TLT_ASSERT_CLOSE(p, 1.0, 1e-15, 0.0);
  const size_t bad_src[1] = {4};
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 4, src, tgt, 4),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 0, src, tgt, 4),
                   TL_E_INVALID_ARG, "k must");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 1, bad_src, tgt, 1),
                   TL_E_INVALID_ARG, "gold_src[0] = 4");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 4, 3, 1, src, tgt, 0),
                   TL_E_INVALID_ARG, "n_gold");
  TLT_ASSERT_FAILS(tl_precision_at_k(NULL, retrieved, 4, 3, 1, src, tgt, 4),
                   TL_E_INVALID_ARG, "'out'");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, NULL, 4, 3, 1, src, tgt, 4),
                   TL_E_INVALID_ARG, "retrieved");
  TLT_ASSERT_FAILS(tl_precision_at_k(&p, retrieved, 0, 3, 1, src, tgt, 4),
                   TL_E_INVALID_ARG, "n_queries");
}
END_TEST

/* ------------------------------------------------------- proxy A-distance */

START_TEST(proxy_a_classifier_matches_numpy) {
  tl_proxy_a_options o;
  TLT_ASSERT_OK(tl_proxy_a_options_init(&o, TL_PROXY_A_OPTIONS_VERSION));
  ck_assert(o.train_fraction == 0.8 && o.epochs == 200 && o.lr == 0.5 &&
            o.l2 == 1e-3 && o.seed == 0);
  o.epochs = PAD_EPOCHS;
  double err, w[PAD_D + 1];
  TLT_ASSERT_OK(tli_proxy_a_run(&err, w, pad_xs, PAD_NS, pad_xt, PAD_NT, PAD_D,
                                pad_perm, PAD_NTRAIN, &o));
  TLT_ASSERT_ARRAY_CLOSE(w, pad_weights, PAD_D + 1, 1e-10, 1e-12);
  ck_assert(err == pad_err);
}
END_TEST

START_TEST(proxy_a_distance_properties) {
  enum { N = 40, D = 2 };
  double xs[N * D], xt[N * D];
  for (int i = 0; i < N; i++) {
    xs[i * D] = 5.0 + 0.1 * (i % 7);
    xs[i * D + 1] = (i * 13) % 11 * 0.1;
    xt[i * D] = -5.0 - 0.1 * (i % 5);
    xt[i * D + 1] = (i * 7) % 11 * 0.1;
  }
  double dist, err, again;
  TLT_ASSERT_OK(tl_proxy_a_distance(&dist, &err, xs, N, xt, N, D, NULL));
  ck_assert(err == 0.0);
  ck_assert(dist == 2.0);
  /* The same sample on both sides: the classifier cannot beat chance by much,
   * and the same seed gives the same answer. */
  tl_proxy_a_options o;
  tl_proxy_a_options_init(&o, TL_PROXY_A_OPTIONS_VERSION);
  o.seed = 7;
  TLT_ASSERT_OK(tl_proxy_a_distance(&dist, &err, xs, N, xs, N, D, &o));
  TLT_ASSERT_OK(tl_proxy_a_distance(&again, NULL, xs, N, xs, N, D, &o));
  ck_assert(dist == again);
  TLT_ASSERT_CLOSE(dist, 2.0 * (1.0 - 2.0 * err), 1e-15, 0.0);
  ck_assert(err >= 0.25 && dist <= 1.0);
}
END_TEST

START_TEST(proxy_a_rejects_bad_input) {
  double dist;
  double bad[4] = {1, 2, NAN, 4};
  tl_proxy_a_options o;
  tl_proxy_a_options_init(&o, TL_PROXY_A_OPTIONS_VERSION);
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(NULL, NULL, pad_xs, 20, pad_xt, 25, 3, NULL),
      TL_E_INVALID_ARG, "out_distance");
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 0, pad_xt, 25, 3, NULL),
      TL_E_INVALID_ARG, "'xs'");
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, bad, 2, 2, NULL),
      TL_E_NUMERIC, "'xt'");
  o.train_fraction = 0.4; /* floor(0.4 * 1) = 0 training rows */
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 1, pad_xt, 1, 3, &o),
      TL_E_INVALID_ARG, "each must be >= 2");
  o.train_fraction = 1.0;
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, pad_xt, 25, 3, &o),
      TL_E_INVALID_ARG, "train_fraction");
  o.train_fraction = 0.8;
  o.epochs = 0;
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, pad_xt, 25, 3, &o),
      TL_E_INVALID_ARG, "epochs");
  o.epochs = 10;
  o.lr = 0.0;
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, pad_xt, 25, 3, &o),
      TL_E_INVALID_ARG, "lr");
  o.lr = 0.5;
  o.l2 = -1.0;
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, pad_xt, 25, 3, &o),
      TL_E_INVALID_ARG, "l2");
  o.l2 = 0.0;
  o.version = 2;
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, pad_xt, 25, 3, &o),
      TL_E_UNSUPPORTED, "version 2");
  TLT_ASSERT_FAILS(tl_proxy_a_options_init(&o, 9), TL_E_UNSUPPORTED,
                   "version 9");
  TLT_ASSERT_FAILS(tl_proxy_a_options_init(NULL, 1), TL_E_INVALID_ARG, "out");
}
END_TEST

/* Fewer than 2 rows of a domain in the training or held-out part made the
 * distance meaningless (one training row: a constant classifier, -2). */
START_TEST(proxy_a_needs_two_rows_per_domain_and_part) {
  double dist, err;
  tl_proxy_a_options o;
  tl_proxy_a_options_init(&o, TL_PROXY_A_OPTIONS_VERSION);
  o.train_fraction = 0.1; /* floor(0.1 * 10) = 1 training row per domain */
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 10, pad_xt, 10, PAD_D, &o),
      TL_E_INVALID_ARG, "training parts of 1 and 1");
  o.train_fraction = 0.8; /* 5 rows: 4 train, 1 held out */
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 5, pad_xt, 20, PAD_D, &o),
      TL_E_INVALID_ARG, "held-out parts of 1 and 4");
  TLT_ASSERT_FAILS(
      tl_proxy_a_distance(&dist, NULL, pad_xs, 20, pad_xt, 5, PAD_D, &o),
      TL_E_INVALID_ARG, "held-out parts of 4 and 1");
  /* 6 rows each (4 + 2): the smallest accepted with the default fraction;
   * the held-out error is a multiple of 1/4. */
  TLT_ASSERT_OK(
      tl_proxy_a_distance(&dist, &err, pad_xs, 6, pad_xt, 6, PAD_D, &o));
  ck_assert(err * 4.0 == floor(err * 4.0) && err >= 0.0 && err <= 1.0);
  TLT_ASSERT_CLOSE(dist, 2.0 * (1.0 - 2.0 * err), 1e-15, 0.0);
}
END_TEST

static Suite *metrics_align_suite(void) {
  Suite *s = suite_create("metrics_align");
  TCase *c = tcase_create("coral_frechet");
  tcase_add_test(c, coral_distance_matches_numpy);
  tcase_add_test(c, coral_align_matches_scipy_sqrtm);
  tcase_add_test(c, coral_aligned_covariance_is_the_target_covariance);
  tcase_add_test(c, coral_singular_source_needs_lambda);
  tcase_add_test(c, coral_rejects_bad_input);
  tcase_add_test(c, frechet_matches_scipy_sqrtm);
  tcase_add_test(c, frechet_properties);
  tcase_add_test(c, frechet_rejects_bad_input);
  tcase_add_test(c, frechet_gaussian_checks_the_covariances);
  suite_add_tcase(s, c);
  c = tcase_create("selection");
  tcase_add_test(c, term_distribution_counts_and_smooths);
  tcase_add_test(c, term_distribution_rejects_bad_input);
  tcase_add_test(c, term_similarity_matches_scipy);
  tcase_add_test(c, term_similarity_edge_cases);
  tcase_add_test(c, term_similarity_rejects_bad_input);
  tcase_add_test(c, selection_features_match_ruder_plank);
  tcase_add_test(c, selection_sparse_path_equals_the_dense_measures);
  tcase_add_test(c, selection_features_reject_bad_input);
  tcase_add_test(c, select_top_orders_by_score_ties_by_index);
  tcase_add_test(c, select_top_rejects_bad_input);
  tcase_add_test(c, termdist_and_selection_refuse_overflow);
  tcase_add_test(c, selection_large_renyi_order);
  suite_add_tcase(s, c);
  c = tcase_create("pca");
  tcase_add_test(c, pca_fit_matches_numpy_svd);
  tcase_add_test(c, pca_rejects_bad_input);
  tcase_add_test(c, pca_select_matches_numpy);
  tcase_add_test(c, pca_select_rejects_bad_input);
  suite_add_tcase(s, c);
  c = tcase_create("alignment");
  tcase_add_test(c, procrustes_matches_numpy_and_recovers_the_rotation);
  tcase_add_test(c, procrustes_rejects_bad_input);
  tcase_add_test(c, csls_matches_muse_formula);
  tcase_add_test(c, csls_blocks_agree_with_the_full_matrix);
  tcase_add_test(c, csls_ties_keep_the_lower_index);
  tcase_add_test(c, csls_rejects_bad_input);
  tcase_add_test(c, precision_at_k_counts_distinct_source_words);
  suite_add_tcase(s, c);
  c = tcase_create("proxy_a");
  tcase_add_test(c, proxy_a_classifier_matches_numpy);
  tcase_add_test(c, proxy_a_distance_properties);
  tcase_add_test(c, proxy_a_rejects_bad_input);
  tcase_add_test(c, proxy_a_needs_two_rows_per_domain_and_part);
  suite_add_tcase(s, c);
  return s;
}

int main(void) { return tlt_run(metrics_align_suite()); }
