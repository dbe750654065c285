/* lib/metrics part 1: MMD^2 against numpy, its properties and argument
 * checks. */
#include "metrics_div_common.h"

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

TCase *metrics_div_case_mmd(void) {
  TCase *t = tcase_create("mmd");
  tcase_add_test(t, mmd_matches_numpy);
  tcase_add_test(t, mmd_properties);
  tcase_add_test(t, mmd_rejects_bad_input);
  return t;
}
