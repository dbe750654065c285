/* lib/metrics part 2: Frechet distances against SciPy sqrtm, properties
 * and the covariance checks. */
#include "metrics_align_common.h"

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

TCase *metrics_align_case_frechet(void) {
  TCase *t = tcase_create("frechet");
  tcase_add_test(t, frechet_matches_scipy_sqrtm);
  tcase_add_test(t, frechet_properties);
  tcase_add_test(t, frechet_rejects_bad_input);
  tcase_add_test(t, frechet_gaussian_checks_the_covariances);
  return t;
}
