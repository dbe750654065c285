/* lib/metrics part 2: PCA fit, transform and instance selection. */
#include "metrics_align_common.h"

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

TCase *metrics_align_case_pca(void) {
  TCase *t = tcase_create("pca");
  tcase_add_test(t, pca_fit_matches_numpy_svd);
  tcase_add_test(t, pca_rejects_bad_input);
  tcase_add_test(t, pca_select_matches_numpy);
  tcase_add_test(t, pca_select_rejects_bad_input);
  return t;
}
