/* lib/metrics part 1: sliced Wasserstein against POT with the same
 * directions, its properties and argument checks. */
#include "metrics_div_common.h"

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

TCase *metrics_div_case_sliced(void) {
  TCase *t = tcase_create("sliced");
  tcase_add_test(t, sliced_matches_pot_with_the_same_directions);
  tcase_add_test(t, sliced_properties);
  tcase_add_test(t, sliced_rejects_bad_input);
  return t;
}
