/* tests/model, test case "stateful": stateful recurrent layers: the carried
 * state between windows, reset, truncated BPTT. */
#include "model_test.h"

START_TEST(stateful_lstm_carries_the_state_between_windows) {
  /* two windows of 3 steps through a stateful LSTM equal one window of 6
   * through a stateless one with the same weights */
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.stateful = 1;
  tl_model *sm = NULL, *ref = NULL;
  TLT_ASSERT_OK(tl_model_create(&sm, NULL));
  TLT_ASSERT_OK(tl_model_create(&ref, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(sm, "rnn", 3, 4, 2, &lo));
  TLT_ASSERT_OK(tl_model_add_lstm(ref, "rnn", 3, 4, 2, NULL));
  float *ws = NULL, *wr = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&ws, &n, sm));
  TLT_ASSERT_OK(tl_model_flat_params(&wr, &n, ref));
  memcpy(ws, wr, n * sizeof(float));
  /* lstm_pool_x is (5, 3, 3): use steps 0..3 (two windows of 2), B = 3 */
  const size_t full[3] = {4, 3, 3}, half[3] = {2, 3, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  float want[4 * 3 * 4];
  TLT_ASSERT_OK(tl_model_eval(ref));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, ref, lstm_pool_x, full, 3));
  memcpy(want, y, sizeof want);
  for (int mode = 0; mode < 2; mode++) { /* train, then eval */
    TLT_ASSERT_OK(tl_model_reset_state(sm));
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, sm, lstm_pool_x, half, 3));
    assert_matches("window1", y, want, 24, 1e-5);
    TLT_ASSERT_OK(
        tl_model_forward(&y, od, &ond, sm, lstm_pool_x + 18, half, 3));
    assert_matches("window2", y, want + 24, 24, 1e-5);
    TLT_ASSERT_OK(tl_model_eval(sm));
  }
  /* a reset starts from zeros again */
  TLT_ASSERT_OK(tl_model_reset_state(sm));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, sm, lstm_pool_x + 18, half, 3));
  float first[24];
  memcpy(first, y, sizeof first);
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, ref, lstm_pool_x + 18, half, 3));
  assert_matches("reset", first, y, 24, 1e-6);

  /* truncated BPTT: the gradient of window 2 with window 1's final state
   * held fixed, against central finite differences */
  TLT_ASSERT_OK(tl_model_train(sm));
  TLT_ASSERT_OK(tl_model_reset_state(sm));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, sm, lstm_pool_x, half, 3));
  tli_layer *L = &sm->layers[0];
  float carried[2 * 2 * 3 * 4];
  memcpy(carried, L->state.p, sizeof carried);
  float dy[24];
  for (size_t i = 0; i < 24; i++)
    dy[i] = 0.1f * (float)(i % 7) - 0.3f;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, sm, lstm_pool_x + 18, half, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, sm, dy, od, ond));
  const float *g = grads_of(sm, &n);
  const float h = 1e-2f;
  for (size_t i = 0; i < n; i += 3) {
    double l[2];
    const float w0 = ws[i];
    for (int s2 = 0; s2 < 2; s2++) {
      ws[i] = w0 + (s2 ? -h : h);
      memcpy(L->state.p, carried, sizeof carried);
      TLT_ASSERT_OK(
          tl_model_forward(&y, od, &ond, sm, lstm_pool_x + 18, half, 3));
      l[s2] = 0.0;
      for (size_t j = 0; j < 24; j++)
        l[s2] += (double)y[j] * dy[j];
    }
    ws[i] = w0;
    const double fd = (l[0] - l[1]) / (2.0 * (double)h);
    ck_assert_msg(fabs(fd - g[i]) <= 2e-3 * fmax(1.0, fabs(fd)),
                  "param %zu: backward %.7g, finite difference %.7g", i,
                  (double)g[i], fd);
  }
  tl_model_free(sm);
  tl_model_free(ref);
}
END_TEST

TCase *tlt_model_stateful_case(void) {
  TCase *tc = tcase_create("stateful");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, stateful_lstm_carries_the_state_between_windows);
  return tc;
}
