/* lib/metrics part 1: 1-D Wasserstein (and the radix sort behind it)
 * against SciPy and POT, its properties, errors and allocations. */
#include "metrics_div_common.h"

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

TCase *metrics_div_case_wasserstein(void) {
  TCase *t = tcase_create("wasserstein");
  tcase_add_test(t, radix_sort_orders_doubles_and_carries_payload);
  tcase_add_test(t, wasserstein_1d_matches_scipy_and_pot);
  tcase_add_test(t, wasserstein_1d_properties);
  tcase_add_test(t, wasserstein_1d_rejects_bad_input);
  tcase_add_test(t, wasserstein_overflow_is_an_error);
  tcase_add_test(t, wasserstein_allocations_are_balanced);
  tcase_add_test(t, allocation_failures_are_reported);
  return t;
}
