/* lib/metrics part 2: CORAL distance and alignment against numpy/SciPy,
 * properties and argument checks. */
#include "metrics_align_common.h"

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

TCase *metrics_align_case_coral(void) {
  TCase *t = tcase_create("coral");
  tcase_add_test(t, coral_distance_matches_numpy);
  tcase_add_test(t, coral_align_matches_scipy_sqrtm);
  tcase_add_test(t, coral_aligned_covariance_is_the_target_covariance);
  tcase_add_test(t, coral_singular_source_needs_lambda);
  tcase_add_test(t, coral_rejects_bad_input);
  return t;
}
