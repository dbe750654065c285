/* tests/model, test case "regularize": dropouts and AWD-LSTM regularisation:
 * seeded masks, off in eval, the training backward against finite differences,
 * AR/TAR. */
#include "model_test.h"

START_TEST(dropout_is_off_in_eval_and_masks_are_seeded) {
  tl_model *a = NULL, *b = NULL;
  tl_model_options o;
  TLT_ASSERT_OK(tl_model_options_init(&o, TL_MODEL_OPTIONS_VERSION));
  o.seed = 5;
  TLT_ASSERT_OK(tl_model_create(&a, &o));
  TLT_ASSERT_OK(tl_model_create(&b, &o));
  TLT_ASSERT_OK(tl_model_add_dropout(a, "drop", TL_DROPOUT_STANDARD, 0.5f));
  TLT_ASSERT_OK(tl_model_add_dropout(b, "drop", TL_DROPOUT_LOCKED, 0.5f));
  float x[3 * 2 * 4];
  for (size_t i = 0; i < N_OF(x); i++)
    x[i] = 1.0f + (float)i;
  const size_t dims[3] = {3, 2, 4};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, a, x, dims, 3));
  size_t zeros = 0;
  for (size_t i = 0; i < N_OF(x); i++) {
    ck_assert(y[i] == 0.0f || y[i] == 2.0f * x[i]);
    zeros += y[i] == 0.0f;
  }
  ck_assert(zeros > 0 && zeros < N_OF(x));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, b, x, dims, 3));
  for (size_t t = 1; t < 3; t++) /* locked: the same mask at every step */
    for (size_t j = 0; j < 8; j++)
      ck_assert((y[t * 8 + j] == 0.0f) == (y[j] == 0.0f));
  TLT_ASSERT_OK(tl_model_eval(a));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, a, x, dims, 3));
  for (size_t i = 0; i < N_OF(x); i++)
    ck_assert(y[i] == x[i]);
  int tr = 1;
  TLT_ASSERT_OK(tl_model_is_training(&tr, a));
  ck_assert_int_eq(tr, 0);
  TLT_ASSERT_FAILS(tl_model_backward(NULL, a, x, dims, 3), TL_E_STATE,
                   "train-mode");
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(awd_lstm_dropouts_are_off_in_eval_and_change_training) {
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.5f;
  lo.input_p = 0.3f;
  lo.hidden_p = 0.3f;
  lo.output_p = 0.3f;
  tl_embedding_options eo;
  TLT_ASSERT_OK(tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.padding_idx = 0;
  eo.embed_p = 0.3f;
  tl_model *m = NULL, *ref = emb_lstm_fc();
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 11, 5, &eo));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 5, 6, 2, &lo));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 6, 4, TL_ACTIVATION_NONE));
  set_flat(m, emb_lstm_fc_w, N_OF(emb_lstm_fc_w));
  set_flat(ref, emb_lstm_fc_w, N_OF(emb_lstm_fc_w));
  const size_t dims[2] = {4, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  /* training: dropout changes the output; backward runs and is finite */
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
  double diff = 0.0;
  for (size_t i = 0; i < N_OF(emb_lstm_fc_y); i++)
    diff += fabs((double)y[i] - (double)emb_lstm_fc_y[i]);
  ck_assert(diff > 1e-3);
  TLT_ASSERT_OK(tl_model_backward(NULL, m, emb_lstm_fc_dy, od, ond));
  const float *g = grads_of(m, &n);
  double gs = 0.0;
  for (size_t i = 0; i < n; i++) {
    ck_assert(isfinite(g[i]));
    gs += fabs(g[i]);
  }
  ck_assert(gs > 0.0);
  /* eval: exactly the dropout-free model */
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
  assert_matches("eval", y, emb_lstm_fc_y, N_OF(emb_lstm_fc_y), 1e-5);
  tl_model_free(m);
  tl_model_free(ref);
}
END_TEST

/* loss = sum(y * dy) + AR/TAR of a train-mode forward whose dropout masks
 * are redrawn from the same seed (the test reaches the model's RNG). */
static double awd_loss(tl_model *m, const float *dy) {
  tli_rng_seed(&m->rng, 77);
  const size_t dims[2] = {4, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
  double s = 0.0, aux = 0.0;
  for (size_t i = 0; i < N_OF(emb_lstm_fc_dy); i++)
    s += (double)y[i] * (double)dy[i];
  TLT_ASSERT_OK(tl_model_aux_loss(&aux, m));
  return s + aux;
}

START_TEST(awd_lstm_training_backward_matches_finite_differences) {
  /* every AWD-LSTM regulariser on at once: embedding dropout, weight drop,
   * input/hidden/output locked dropout, AR and TAR */
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.3f;
  lo.input_p = 0.2f;
  lo.hidden_p = 0.2f;
  lo.output_p = 0.2f;
  lo.ar_alpha = 2.0f;
  lo.tar_beta = 1.0f;
  tl_embedding_options eo;
  TLT_ASSERT_OK(tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.padding_idx = 0;
  eo.embed_p = 0.2f;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 11, 5, &eo));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 5, 6, 2, &lo));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 6, 4, TL_ACTIVATION_NONE));
  set_flat(m, emb_lstm_fc_w, N_OF(emb_lstm_fc_w));
  awd_loss(m, emb_lstm_fc_dy);
  const size_t od[3] = {4, 3, 4};
  TLT_ASSERT_OK(tl_model_backward(NULL, m, emb_lstm_fc_dy, od, 3));
  size_t n = 0;
  float *w = NULL;
  const float *g = grads_of(m, &n);
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  const float h = 1e-2f;
  size_t checked = 0;
  for (size_t i = 0; i < n; i += 5) {
    const float w0 = w[i];
    w[i] = w0 + h;
    const double lp = awd_loss(m, emb_lstm_fc_dy);
    w[i] = w0 - h;
    const double lm = awd_loss(m, emb_lstm_fc_dy);
    w[i] = w0;
    const double fd = (lp - lm) / (2.0 * (double)h);
    ck_assert_msg(fabs(fd - g[i]) <= 5e-3 * fmax(1.0, fabs(fd)),
                  "param %zu: backward %.7g, finite difference %.7g", i,
                  (double)g[i], fd);
    checked++;
  }
  ck_assert(checked > 100);
  tl_model_free(m);
}
END_TEST

START_TEST(ar_tar_loss_and_gradient) {
  /* model with AR/TAR vs the same model without: aux loss equals the
   * formulas on its output, and backward(0) equals backward(dAR + dTAR) */
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.ar_alpha = 2.0f;
  lo.tar_beta = 1.0f;
  tl_model *m = NULL, *ref = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_create(&ref, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 3, 4, 1, &lo));
  TLT_ASSERT_OK(tl_model_add_lstm(ref, "rnn", 3, 4, 1, NULL));
  set_flat(m, lstm_pool_w, 4 * 4 * 3 + 4 * 4 * 4 + 32);
  set_flat(ref, lstm_pool_w, 4 * 4 * 3 + 4 * 4 * 4 + 32);
  const size_t dims[3] = {5, 3, 3}, T = 5, BH = 12, N = 60;
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, lstm_pool_x, dims, 3));
  double ar = 0.0, tar = 0.0, aux = 0.0;
  float dref[60];
  for (size_t i = 0; i < N; i++) {
    ar += (double)y[i] * y[i];
    dref[i] = 2.0f * 2.0f * y[i] / (float)N;
  }
  for (size_t t = 1; t < T; t++)
    for (size_t j = 0; j < BH; j++) {
      const double d = (double)y[t * BH + j] - y[(t - 1) * BH + j];
      tar += d * d;
      dref[t * BH + j] += (float)(2.0 * d / (double)((T - 1) * BH));
      dref[(t - 1) * BH + j] -= (float)(2.0 * d / (double)((T - 1) * BH));
    }
  TLT_ASSERT_OK(tl_model_aux_loss(&aux, m));
  TLT_ASSERT_CLOSE(aux, 2.0 * ar / (double)N + tar / (double)((T - 1) * BH),
                   1e-5, 1e-9);
  float zeros[60] = {0};
  TLT_ASSERT_OK(tl_model_backward(NULL, m, zeros, od, ond));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, ref, lstm_pool_x, dims, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, ref, dref, od, ond));
  size_t n2 = 0;
  const float *g = grads_of(m, &n), *gr = grads_of(ref, &n2);
  assert_matches("ar_tar_grad", g, gr, n, 1e-4);
  tl_model_free(m);
  tl_model_free(ref);
}
END_TEST

TCase *tlt_model_regularize_case(void) {
  TCase *tc = tcase_create("regularize");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, dropout_is_off_in_eval_and_masks_are_seeded);
  tcase_add_test(tc, awd_lstm_dropouts_are_off_in_eval_and_change_training);
  tcase_add_test(tc, awd_lstm_training_backward_matches_finite_differences);
  tcase_add_test(tc, ar_tar_loss_and_gradient);
  return tc;
}
