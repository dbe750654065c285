/* lib/metrics part 1: Sinkhorn against POT, stability for small reg,
 * non-convergence and argument checks. */
#include "metrics_div_common.h"

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

TCase *metrics_div_case_sinkhorn(void) {
  TCase *t = tcase_create("sinkhorn");
  tcase_add_test(t, sinkhorn_matches_pot);
  tcase_add_test(t, sinkhorn_is_stable_for_small_reg);
  tcase_add_test(t, sinkhorn_reports_non_convergence);
  tcase_add_test(t, sinkhorn_rejects_bad_input);
  return t;
}
