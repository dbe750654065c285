/* lib/metrics part 2: the proxy A-distance classifier and distance. */
#include "metrics_align_common.h"

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

TCase *metrics_align_case_proxy_a(void) {
  TCase *t = tcase_create("proxy_a");
  tcase_add_test(t, proxy_a_classifier_matches_numpy);
  tcase_add_test(t, proxy_a_distance_properties);
  tcase_add_test(t, proxy_a_rejects_bad_input);
  tcase_add_test(t, proxy_a_needs_two_rows_per_domain_and_part);
  return t;
}
