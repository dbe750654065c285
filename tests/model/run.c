/* tests/model, test case "run": forward and backward against torch models with
 * identical weights (tests/fixtures/gen_model.py) and finite differences,
 * composition (tied decoder across models, one encoder with two heads), the
 * losses. */
#include "model_test.h"

START_TEST(embedding_lstm_linear_matches_torch) {
  tl_model *m = emb_lstm_fc();
  set_flat(m, emb_lstm_fc_w, N_OF(emb_lstm_fc_w));
  const size_t dims[2] = {4, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
  ck_assert_uint_eq(ond, 3);
  ck_assert_uint_eq(od[0], 4);
  ck_assert_uint_eq(od[1], 3);
  ck_assert_uint_eq(od[2], 4);
  assert_matches("y", y, emb_lstm_fc_y, N_OF(emb_lstm_fc_y), 1e-5);
  const float *dx = (const float *)1;
  TLT_ASSERT_OK(tl_model_backward(&dx, m, emb_lstm_fc_dy, od, ond));
  ck_assert_ptr_null(dx); /* ids have no gradient */
  size_t n = 0;
  const float *g = grads_of(m, &n);
  assert_matches("grad", g, emb_lstm_fc_grad, n, 1e-5);
  /* eval forward gives the same output (no dropout configured) */
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
  assert_matches("y_eval", y, emb_lstm_fc_y, N_OF(emb_lstm_fc_y), 1e-5);
  tl_model_free(m);
}
END_TEST

START_TEST(linear_stack_matches_torch_and_accumulates) {
  tl_model *m = linear_stack();
  const size_t dims[2] = {4, 5};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  assert_matches("y", y, linear_stack_y, N_OF(linear_stack_y), 1e-5);
  TLT_ASSERT_OK(tl_model_backward(&dx, m, linear_stack_dy, od, ond));
  assert_matches("dx", dx, linear_stack_dx, N_OF(linear_stack_dx), 1e-5);
  const float *g = grads_of(m, &n);
  assert_matches("grad", g, linear_stack_grad, n, 1e-5);
  /* a second backward of the same forward accumulates: twice the gradient */
  TLT_ASSERT_OK(tl_model_backward(&dx, m, linear_stack_dy, od, ond));
  float twice[N_OF(linear_stack_grad)];
  for (size_t i = 0; i < n; i++)
    twice[i] = 2.0f * linear_stack_grad[i];
  assert_matches("grad2", g, twice, n, 1e-5);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  for (size_t i = 0; i < n; i++)
    ck_assert(g[i] == 0.0f);
  tl_model_free(m);
}
END_TEST

/* loss = sum(y * dy) in double for the current parameters */
static double stack_loss(tl_model *m) {
  const size_t dims[2] = {4, 5};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  double s = 0.0;
  for (size_t i = 0; i < N_OF(linear_stack_dy); i++)
    s += (double)y[i] * (double)linear_stack_dy[i];
  return s;
}

START_TEST(linear_stack_backward_matches_finite_differences) {
  tl_model *m = linear_stack();
  const size_t dims[2] = {4, 5};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  TLT_ASSERT_OK(tl_model_backward(&dx, m, linear_stack_dy, od, ond));
  const float *g = grads_of(m, &n);
  float *w = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  const float h = 1e-2f;
  for (size_t i = 0; i < n; i += 3) {
    const float w0 = w[i];
    w[i] = w0 + h;
    const double lp = stack_loss(m);
    w[i] = w0 - h;
    const double lm = stack_loss(m);
    w[i] = w0;
    const double fd = (lp - lm) / (2.0 * (double)h);
    ck_assert_msg(fabs(fd - g[i]) <= 2e-3 * fmax(1.0, fabs(fd)),
                  "param %zu: backward %.7g, finite difference %.7g", i,
                  (double)g[i], fd);
  }
  tl_model_free(m);
}
END_TEST

START_TEST(lstm_concat_pool_head_matches_torch) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 3, 4, 1, NULL));
  TLT_ASSERT_OK(tl_model_add_concat_pool(m, "pool"));
  TLT_ASSERT_OK(tl_model_add_linear(m, "head", 12, 2, TL_ACTIVATION_NONE));
  set_flat(m, lstm_pool_w, N_OF(lstm_pool_w));
  const size_t lengths[3] = {5, 3, 1};
  TLT_ASSERT_OK(tl_model_set_lengths(m, lengths, 3));
  const size_t dims[3] = {5, 3, 3};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, lstm_pool_x, dims, 3));
  ck_assert_uint_eq(ond, 2);
  ck_assert_uint_eq(od[0], 3);
  ck_assert_uint_eq(od[1], 2);
  assert_matches("y", y, lstm_pool_y, N_OF(lstm_pool_y), 1e-5);
  TLT_ASSERT_OK(tl_model_backward(&dx, m, lstm_pool_dy, od, ond));
  assert_matches("dx", dx, lstm_pool_dx, N_OF(lstm_pool_dx), 1e-5);
  assert_matches("grad", grads_of(m, &n), lstm_pool_grad, N_OF(lstm_pool_grad),
                 1e-5);
  /* a batch size that does not match the lengths is refused */
  const size_t dims2[3] = {5, 2, 3};
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, lstm_pool_x, dims2, 3),
                   TL_E_SHAPE, "lengths");
  tl_model_free(m);
}
END_TEST

START_TEST(decoder_tied_to_another_models_embedding_matches_torch) {
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_OK(tl_model_create(&enc, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(enc, "emb", 7, 4, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(enc, "rnn", 4, 4, 1, NULL));
  set_flat(enc, tied_wa, N_OF(tied_wa));
  TLT_ASSERT_OK(tl_model_create(&dec, NULL));
  TLT_ASSERT_OK(tl_model_add_decoder(dec, "dec", 4, 7, enc, "emb"));
  size_t np = 0;
  TLT_ASSERT_OK(tl_model_num_params(&np, dec));
  ck_assert_uint_eq(np, 1); /* only dec.bias: the weight is enc's */
  set_flat(dec, tied_bias, N_OF(tied_bias));
  /* the decoder keeps the encoder alive */
  tl_model_free(enc);

  const size_t dims[2] = {3, 2};
  const float *h = NULL, *y = NULL, *dh = NULL;
  size_t hd[TL_MODEL_MAX_DIMS], hnd = 0, yd[TL_MODEL_MAX_DIMS], ynd = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward_ids(&h, hd, &hnd, enc, tied_ids, dims, 2));
  TLT_ASSERT_OK(tl_model_forward(&y, yd, &ynd, dec, h, hd, hnd));
  assert_matches("y", y, tied_y, N_OF(tied_y), 1e-5);
  TLT_ASSERT_OK(tl_model_backward(&dh, dec, tied_dy, yd, ynd));
  TLT_ASSERT_OK(tl_model_backward(NULL, enc, dh, hd, hnd));
  assert_matches("grad_a", grads_of(enc, &n), tied_grad_a, N_OF(tied_grad_a),
                 1e-5);
  assert_matches("grad_bias", grads_of(dec, &n), tied_grad_bias,
                 N_OF(tied_grad_bias), 1e-5);
  /* a tie back from enc to dec would be a cycle */
  tl_model_free(dec); /* frees both */
}
END_TEST

START_TEST(one_encoder_serves_two_heads) {
  /* encoder l0,l1 shared by head A (l2,l3 of the stack) and head B (a
   * linear 6->2): encoder gradient = backward of the summed head gradients */
  tl_model *enc = NULL, *ha = NULL, *hb = NULL, *full = linear_stack();
  TLT_ASSERT_OK(tl_model_create(&enc, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(enc, "l0", 5, 7, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_linear(enc, "l1", 7, 6, TL_ACTIVATION_TANH));
  TLT_ASSERT_OK(tl_model_create(&ha, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(ha, "l2", 6, 3, TL_ACTIVATION_SIGMOID));
  TLT_ASSERT_OK(tl_model_add_linear(ha, "l3", 3, 2, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_create(&hb, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(hb, "out", 6, 2, TL_ACTIVATION_NONE));
  size_t ne = 0, na = 0, n = 0;
  float *fe = NULL, *fa = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&fe, &ne, enc));
  TLT_ASSERT_OK(tl_model_flat_params(&fa, &na, ha));
  memcpy(fe, linear_stack_w, ne * sizeof(float));
  memcpy(fa, linear_stack_w + ne, na * sizeof(float));
  const size_t dims[2] = {4, 5};
  const float *h = NULL, *ya = NULL, *yb = NULL, *da = NULL, *db = NULL;
  size_t hd[TL_MODEL_MAX_DIMS], hnd = 0, yd[TL_MODEL_MAX_DIMS], ynd = 0;
  TLT_ASSERT_OK(tl_model_forward(&h, hd, &hnd, enc, linear_stack_x, dims, 2));
  TLT_ASSERT_OK(tl_model_forward(&ya, yd, &ynd, ha, h, hd, hnd));
  assert_matches("ya", ya, linear_stack_y, N_OF(linear_stack_y), 1e-5);
  TLT_ASSERT_OK(tl_model_backward(&da, ha, linear_stack_dy, yd, ynd));
  TLT_ASSERT_OK(tl_model_forward(&yb, yd, &ynd, hb, h, hd, hnd));
  TLT_ASSERT_OK(tl_model_backward(&db, hb, linear_stack_dy, yd, ynd));
  float dsum[24];
  for (size_t i = 0; i < 24; i++)
    dsum[i] = da[i] + db[i];
  TLT_ASSERT_OK(tl_model_backward(NULL, enc, dsum, hd, hnd));
  /* the same as backward of each head's gradient separately, accumulated */
  float ge[N_OF(linear_stack_w)];
  const float *g_enc = grads_of(enc, &n);
  memcpy(ge, g_enc, n * sizeof(float));
  TLT_ASSERT_OK(tl_model_zero_grad(enc));
  TLT_ASSERT_OK(tl_model_backward(NULL, enc, da, hd, hnd));
  TLT_ASSERT_OK(tl_model_forward(&yb, yd, &ynd, hb, h, hd, hnd));
  TLT_ASSERT_OK(tl_model_backward(&db, hb, linear_stack_dy, yd, ynd));
  TLT_ASSERT_OK(tl_model_backward(NULL, enc, db, hd, hnd));
  g_enc = grads_of(enc, &n);
  assert_matches("encoder", g_enc, ge, n, 1e-5);
  /* head A's own gradients equal the full stack's last layers */
  const float *g_a = grads_of(ha, &n);
  assert_matches("head_a", g_a, linear_stack_grad + ne, n, 1e-5);
  tl_model_free(enc);
  tl_model_free(ha);
  tl_model_free(hb);
  tl_model_free(full);
}
END_TEST

START_TEST(cross_entropy_matches_a_direct_computation) {
  const float logits[6] = {1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f};
  const int64_t targets[2] = {1, 2};
  float loss = 0.0f, d[6], acc = 0.0f;
  TLT_ASSERT_OK(tl_cross_entropy(&loss, d, logits, targets, 2, 3, -100));
  double want = 0.0;
  for (int r = 0; r < 2; r++) {
    double s = 0.0;
    for (int j = 0; j < 3; j++)
      s += exp(logits[3 * r + j]);
    want += -(logits[3 * r + targets[r]] - log(s)) / 2.0;
  }
  TLT_ASSERT_CLOSE(loss, want, 1e-6, 1e-9);
  TLT_ASSERT_OK(tl_accuracy(&acc, logits, targets, 2, 3, -100));
  TLT_ASSERT_CLOSE(acc, 1.0, 1e-9, 1e-9);
  const int64_t bad[2] = {1, 3};
  TLT_ASSERT_FAILS(tl_cross_entropy(&loss, d, logits, bad, 2, 3, -100),
                   TL_E_INVALID_ARG, "targets[1]");
}
END_TEST

TCase *tlt_model_run_case(void) {
  TCase *tc = tcase_create("run");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, embedding_lstm_linear_matches_torch);
  tcase_add_test(tc, linear_stack_matches_torch_and_accumulates);
  tcase_add_test(tc, linear_stack_backward_matches_finite_differences);
  tcase_add_test(tc, lstm_concat_pool_head_matches_torch);
  tcase_add_test(tc, decoder_tied_to_another_models_embedding_matches_torch);
  tcase_add_test(tc, one_encoder_serves_two_heads);
  tcase_add_test(tc, cross_entropy_matches_a_direct_computation);
  return tc;
}
