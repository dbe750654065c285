/* fastai's AWD-LSTM builders (include/tl/arch.h): layer and parameter
 * names, shapes and groups as fastai's modules and splits, fastai's
 * initialisation, and the language model's forward, AR/TAR and backward
 * over two stateful windows against a plain-torch equivalent
 * (tests/fixtures/gen_awd.py). */
#include "tl_test.h"

#include "../fixtures/awd_golden.h"

static tl_awd_lstm_options small_options(void) {
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = AWD_E;
  o.n_hid = AWD_N;
  o.n_layers = AWD_L;
  o.seed = 5;
  return o;
}

static size_t group_of(const tl_model *m, const char *layer) {
  size_t g = 99;
  TLT_ASSERT_OK(tl_model_get_group(&g, m, layer));
  return g;
}

static void assert_shape(const tl_model *m, const char *name, size_t d0,
                         size_t d1) {
  size_t nd, dims[TL_MODEL_MAX_DIMS], numel;
  TLT_ASSERT_OK(tl_model_param_shape(&nd, dims, &numel, m, name));
  ck_assert_uint_eq(dims[0], d0);
  ck_assert_uint_eq(dims[1], d1);
}

START_TEST(options_defaults) {
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  ck_assert_uint_eq(o.emb_sz, 400);
  ck_assert_uint_eq(o.n_hid, 1152);
  ck_assert_uint_eq(o.n_layers, 3);
  ck_assert_int_eq(o.pad_token, 1);
  ck_assert_float_eq(o.output_p, 0.1f);
  ck_assert_float_eq(o.hidden_p, 0.15f);
  ck_assert_float_eq(o.input_p, 0.25f);
  ck_assert_float_eq(o.embed_p, 0.02f);
  ck_assert_float_eq(o.weight_p, 0.2f);
  ck_assert_float_eq(o.ar_alpha, 2.0f);
  ck_assert_float_eq(o.tar_beta, 1.0f);
  ck_assert_uint_eq(o.seed, 0);
  const tl_awd_lstm_options s = TL_AWD_LSTM_OPTIONS_INIT;
  ck_assert_uint_eq(s.n_hid, o.n_hid);
  ck_assert_float_eq(s.embed_p, o.embed_p);
  ck_assert_float_eq(s.tar_beta, o.tar_beta);
  TLT_ASSERT_OK(tl_awd_lstm_clas_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  ck_assert_uint_eq(o.n_hid, 1152);
  ck_assert_float_eq(o.output_p, 0.4f);
  ck_assert_float_eq(o.hidden_p, 0.3f);
  ck_assert_float_eq(o.input_p, 0.4f);
  ck_assert_float_eq(o.embed_p, 0.05f);
  ck_assert_float_eq(o.weight_p, 0.5f);
  TLT_ASSERT_FAILS(tl_awd_lstm_options_init(&o, 2), TL_E_UNSUPPORTED,
                   "version");
  TLT_ASSERT_FAILS(tl_awd_lstm_clas_options_init(NULL, 1), TL_E_INVALID_ARG,
                   "out");
}
END_TEST

START_TEST(lm_layout) {
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 1.0f));
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_num_layers(&n, enc));
  ck_assert_uint_eq(n, 4);
  const char *names[] = {"encoder", "rnns_0", "rnns_1", "rnns_2"};
  for (size_t i = 0; i < 4; i++) {
    const char *s;
    TLT_ASSERT_OK(tl_model_layer_name(&s, enc, i));
    ck_assert_str_eq(s, names[i]);
  }
  /* fastai's awd_lstm_lm_split: each LSTM a group, the embedding last */
  ck_assert_uint_eq(group_of(enc, "rnns_0"), 0);
  ck_assert_uint_eq(group_of(enc, "rnns_1"), 1);
  ck_assert_uint_eq(group_of(enc, "rnns_2"), 2);
  ck_assert_uint_eq(group_of(enc, "encoder"), 3);
  TLT_ASSERT_OK(tl_model_num_params(&n, enc));
  ck_assert_uint_eq(n, 1 + 4 * AWD_L);
  assert_shape(enc, "encoder.weight", AWD_V, AWD_E);
  assert_shape(enc, "rnns_0.weight_ih_l0", 4 * AWD_N, AWD_E);
  assert_shape(enc, "rnns_0.weight_hh_l0", 4 * AWD_N, AWD_N);
  assert_shape(enc, "rnns_1.weight_ih_l0", 4 * AWD_N, AWD_N);
  assert_shape(enc, "rnns_2.weight_ih_l0", 4 * AWD_E, AWD_N);
  assert_shape(enc, "rnns_2.weight_hh_l0", 4 * AWD_E, AWD_E);
  assert_shape(enc, "rnns_2.bias_hh_l0", 4 * AWD_E, 1);
  size_t total = 0;
  float *flat;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &total, enc));
  ck_assert_uint_eq(total, sizeof awd_w / sizeof awd_w[0]);
  /* the decoder owns only its bias, zeros; its weight is encoder.weight */
  TLT_ASSERT_OK(tl_model_num_params(&n, dec));
  ck_assert_uint_eq(n, 1);
  const char *s;
  TLT_ASSERT_OK(tl_model_param_name(&s, dec, 0));
  ck_assert_str_eq(s, "decoder.bias");
  float bias[AWD_V];
  TLT_ASSERT_OK(tl_model_param_get(bias, AWD_V, dec, "decoder.bias"));
  for (size_t i = 0; i < AWD_V; i++)
    ck_assert_float_eq(bias[i], 0.0f);
  /* fastai: the embedding, padding row included, U(-0.1, 0.1) */
  float w[AWD_V * AWD_E];
  TLT_ASSERT_OK(tl_model_param_get(w, AWD_V * AWD_E, enc, "encoder.weight"));
  double lo = 1, hi = -1, pad = 0;
  for (size_t i = 0; i < AWD_V * AWD_E; i++) {
    lo = fmin(lo, w[i]);
    hi = fmax(hi, w[i]);
  }
  for (size_t j = 0; j < AWD_E; j++)
    pad += fabs(w[1 * AWD_E + j]);
  ck_assert(lo >= -0.1 && hi <= 0.1 && lo < -0.05 && hi > 0.05);
  ck_assert(pad > 0.0);
  /* the same seed builds the same model */
  tl_model *enc2 = NULL, *dec2 = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc2, &dec2, AWD_V, &o, 1.0f));
  float *flat2;
  TLT_ASSERT_OK(tl_model_flat_params(&flat2, &total, enc2));
  ck_assert_int_eq(memcmp(flat, flat2, total * sizeof *flat), 0);
  tl_model_free(dec2);
  tl_model_free(enc2);
  /* the decoder keeps the encoder alive */
  tl_model_free(enc);
  TLT_ASSERT_OK(tl_model_num_params(&n, dec));
  tl_model_free(dec);
}
END_TEST

static void forward_window(tl_model *enc, tl_model *dec, const int64_t *ids,
                           const float **out, const float **logits) {
  const size_t dims[2] = {AWD_T, AWD_B};
  size_t od[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_forward_ids(out, od, &on, enc, ids, dims, 2));
  ck_assert_uint_eq(on, 3);
  ck_assert_uint_eq(od[2], AWD_E);
  TLT_ASSERT_OK(tl_model_forward(logits, od, &on, dec, *out, od, 3));
  ck_assert_uint_eq(od[2], AWD_V);
}

/* One window of the LM in train mode with every dropout 0 (drop_mult 0):
 * outputs, AR + TAR and gradients against torch. */
static void check_window(tl_model *enc, tl_model *dec, const int64_t *ids,
                         const float *dy, const float *want_out,
                         const float *want_logits, double want_reg,
                         const float *want_grad, const float *want_gbias) {
  const float *out, *logits, *dx;
  TLT_ASSERT_OK(tl_model_zero_grad(enc));
  TLT_ASSERT_OK(tl_model_zero_grad(dec));
  forward_window(enc, dec, ids, &out, &logits);
  TLT_ASSERT_ARRAY_CLOSE(out, want_out, AWD_T * AWD_B * AWD_E, 1e-5, 1e-6);
  TLT_ASSERT_ARRAY_CLOSE(logits, want_logits, AWD_T * AWD_B * AWD_V, 1e-5,
                         1e-2);
  double reg = 0;
  TLT_ASSERT_OK(tl_model_aux_loss(&reg, enc));
  TLT_ASSERT_CLOSE(reg, want_reg, 1e-5, 1e-7);
  const size_t ld[3] = {AWD_T, AWD_B, AWD_V}, od[3] = {AWD_T, AWD_B, AWD_E};
  TLT_ASSERT_OK(tl_model_backward(&dx, dec, dy, ld, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, enc, dx, od, 3));
  float *g;
  size_t n;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, enc));
  TLT_ASSERT_ARRAY_CLOSE(g, want_grad, n, 1e-4, 1e-2);
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, dec));
  ck_assert_uint_eq(n, AWD_V);
  TLT_ASSERT_ARRAY_CLOSE(g, want_gbias, n, 1e-5, 1e-6);
}

START_TEST(lm_matches_torch) {
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 0.0f));
  float *flat;
  size_t n;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &n, enc));
  memcpy(flat, awd_w, sizeof awd_w);
  TLT_ASSERT_OK(tl_model_param_set(dec, "decoder.bias", awd_bias, AWD_V));
  check_window(enc, dec, awd_win0_ids, awd_win0_dy, awd_win0_out,
               awd_win0_logits, awd_win0_reg, awd_win0_grad,
               awd_win0_grad_bias);
  /* the second window starts from the first's final state */
  check_window(enc, dec, awd_win1_ids, awd_win1_dy, awd_win1_out,
               awd_win1_logits, awd_win1_reg, awd_win1_grad,
               awd_win1_grad_bias);
  /* eval mode with the default dropouts on: the same outputs from a reset
   * state (dropout acts in train mode only), no AR/TAR */
  tl_model_free(dec);
  tl_model_free(enc);
  o.seed = 9;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 1.0f));
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &n, enc));
  memcpy(flat, awd_w, sizeof awd_w);
  TLT_ASSERT_OK(tl_model_param_set(dec, "decoder.bias", awd_bias, AWD_V));
  TLT_ASSERT_OK(tl_model_eval(enc));
  TLT_ASSERT_OK(tl_model_eval(dec));
  const float *out, *logits;
  forward_window(enc, dec, awd_win0_ids, &out, &logits);
  TLT_ASSERT_ARRAY_CLOSE(logits, awd_win0_logits, AWD_T * AWD_B * AWD_V, 1e-5,
                         1e-2);
  double reg = -1;
  TLT_ASSERT_OK(tl_model_aux_loss(&reg, enc));
  ck_assert(reg == 0.0);
  /* in train mode the dropouts change the output */
  TLT_ASSERT_OK(tl_model_reset_state(enc));
  TLT_ASSERT_OK(tl_model_train(enc));
  forward_window(enc, dec, awd_win0_ids, &out, &logits);
  double diff = 0;
  for (size_t i = 0; i < AWD_T * AWD_B * AWD_E; i++)
    diff += fabs(out[i] - awd_win0_out[i]);
  ck_assert(diff > 1e-3);
  tl_model_free(dec);
  tl_model_free(enc);
}
END_TEST

START_TEST(clas_encoder) {
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_clas_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = AWD_E;
  o.n_hid = AWD_N;
  tl_model *enc = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_encoder_create(&enc, AWD_V, &o, 0.5f));
  /* fastai's awd_lstm_clas_split: embedding, then each LSTM */
  ck_assert_uint_eq(group_of(enc, "encoder"), 0);
  ck_assert_uint_eq(group_of(enc, "rnns_0"), 1);
  ck_assert_uint_eq(group_of(enc, "rnns_2"), 3);
  float *flat;
  size_t n;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &n, enc));
  ck_assert_uint_eq(n, sizeof awd_w / sizeof awd_w[0]);
  memcpy(flat, awd_w, sizeof awd_w);
  TLT_ASSERT_OK(tl_model_eval(enc));
  const float *y;
  size_t od[TL_MODEL_MAX_DIMS], on;
  const size_t dims[2] = {AWD_T, AWD_B};
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &on, enc, awd_win0_ids, dims, 2));
  TLT_ASSERT_ARRAY_CLOSE(y, awd_win0_out, AWD_T * AWD_B * AWD_E, 1e-5, 1e-6);
  /* stateful: a reset gives the first window's outputs again, and
   * carrying the state gives the torch second window */
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &on, enc, awd_win1_ids, dims, 2));
  TLT_ASSERT_ARRAY_CLOSE(y, awd_win1_out, AWD_T * AWD_B * AWD_E, 1e-5, 1e-6);
  TLT_ASSERT_OK(tl_model_reset_state(enc));
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &on, enc, awd_win0_ids, dims, 2));
  TLT_ASSERT_ARRAY_CLOSE(y, awd_win0_out, AWD_T * AWD_B * AWD_E, 1e-5, 1e-6);
  tl_model_free(enc);
}
END_TEST

/* fastai's PoolingLinearClassifier with lin_ftrs [5], dropouts 0: train
 * forward and backward (batch statistics), running statistics, eval
 * forward, against torch. */
START_TEST(head_matches_torch) {
  const size_t lin[1] = {AWD_F};
  const float ps[2] = {0.0f, 0.0f};
  tl_model *head = NULL;
  TLT_ASSERT_OK(
      tl_pooling_linear_create(&head, AWD_E, AWD_K, lin, 1, ps, 2, 7));
  const char *names[5] = {"pool", "layers_0_bn", "layers_0_lin", "layers_1_bn",
                          "layers_1_lin"};
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_num_layers(&n, head));
  ck_assert_uint_eq(n, 5); /* p == 0: no dropout layers, as fastai */
  for (size_t i = 0; i < 5; i++) {
    const char *s;
    TLT_ASSERT_OK(tl_model_layer_name(&s, head, i));
    ck_assert_str_eq(s, names[i]);
    ck_assert_uint_eq(group_of(head, s), 0);
  }
  TLT_ASSERT_OK(tl_model_num_params(&n, head));
  ck_assert_uint_eq(n, 6); /* no linear bias */
  float *flat;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &n, head));
  ck_assert_uint_eq(n, sizeof head_w / sizeof head_w[0]);
  memcpy(flat, head_w, sizeof head_w);
  const size_t xd[3] = {AWD_T, AWD_B, AWD_E}, yd[2] = {AWD_B, AWD_K};
  const float *y, *dx;
  size_t od[TL_MODEL_MAX_DIMS], on;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &on, head, head_x, xd, 3));
  ck_assert_uint_eq(on, 2);
  TLT_ASSERT_ARRAY_CLOSE(y, head_y, AWD_B * AWD_K, 1e-5, 1e-2);
  TLT_ASSERT_OK(tl_model_backward(&dx, head, head_dy, yd, 2));
  TLT_ASSERT_ARRAY_CLOSE(dx, head_dx, AWD_T * AWD_B * AWD_E, 1e-4, 1e-2);
  float *g;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, head));
  TLT_ASSERT_ARRAY_CLOSE(g, head_grad, n, 1e-4, 1e-2);
  double mean[3 * AWD_E], var[3 * AWD_E];
  TLT_ASSERT_OK(
      tl_model_buffer_get(mean, 3 * AWD_E, head, "layers_0_bn.running_mean"));
  TLT_ASSERT_OK(
      tl_model_buffer_get(var, 3 * AWD_E, head, "layers_0_bn.running_var"));
  TLT_ASSERT_ARRAY_CLOSE(mean, head_bn0_mean, 3 * AWD_E, 1e-5, 1e-3);
  TLT_ASSERT_ARRAY_CLOSE(var, head_bn0_var, 3 * AWD_E, 1e-5, 1e-3);
  TLT_ASSERT_OK(tl_model_eval(head));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &on, head, head_x, xd, 3));
  TLT_ASSERT_ARRAY_CLOSE(y, head_y_eval, AWD_B * AWD_K, 1e-5, 1e-2);
  tl_model_free(head);
}
END_TEST

/* The whole classifier with fastai's defaults: lin_ftrs [50], ps
 * [output_p * drop_mult, 0.1]. */
START_TEST(clas_defaults) {
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_clas_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = AWD_E;
  o.n_hid = AWD_N;
  tl_model *enc = NULL, *head = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_clas_create(&enc, &head, AWD_V, 3, &o, 0.5f, NULL,
                                        0, NULL, 0));
  const char *names[7] = {"pool",         "layers_0_bn", "layers_0_drop",
                          "layers_0_lin", "layers_1_bn", "layers_1_drop",
                          "layers_1_lin"};
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_num_layers(&n, head));
  ck_assert_uint_eq(n, 7);
  for (size_t i = 0; i < 7; i++) {
    const char *s;
    TLT_ASSERT_OK(tl_model_layer_name(&s, head, i));
    ck_assert_str_eq(s, names[i]);
  }
  size_t nd, dims[TL_MODEL_MAX_DIMS], numel;
  TLT_ASSERT_OK(
      tl_model_param_shape(&nd, dims, &numel, head, "layers_0_lin.weight"));
  ck_assert(dims[0] == 50 && dims[1] == 3 * AWD_E);
  TLT_ASSERT_OK(
      tl_model_param_shape(&nd, dims, &numel, head, "layers_1_lin.weight"));
  ck_assert(dims[0] == 3 && dims[1] == 50);
  /* the encoder is the classifier encoder: awd_lstm_clas_split groups */
  ck_assert_uint_eq(group_of(enc, "encoder"), 0);
  ck_assert_uint_eq(group_of(enc, "rnns_2"), 3);
  tl_model_free(head);
  tl_model_free(enc);
  /* no hidden layer: a non-NULL lin_ftrs with 0 entries */
  const size_t none[1] = {0};
  TLT_ASSERT_OK(tl_awd_lstm_clas_create(&enc, &head, AWD_V, 3, &o, 1.0f, none,
                                        0, NULL, 0));
  TLT_ASSERT_OK(tl_model_num_layers(&n, head));
  ck_assert_uint_eq(n, 4); /* pool, bn, drop (0.4), lin */
  tl_model_free(head);
  tl_model_free(enc);
  /* errors */
  const float bad_ps[1] = {1.0f};
  TLT_ASSERT_FAILS(tl_awd_lstm_clas_create(&enc, &head, AWD_V, 3, &o, 1.0f,
                                           NULL, 0, bad_ps, 1),
                   TL_E_INVALID_ARG, "ps[1]");
  TLT_ASSERT_FAILS(tl_awd_lstm_clas_create(&enc, &head, AWD_V, 3, &o, 1.0f,
                                           NULL, 0, bad_ps, 2),
                   TL_E_INVALID_ARG, "n_ps");
  TLT_ASSERT_FAILS(tl_awd_lstm_clas_create(&enc, &head, AWD_V, 0, &o, 1.0f,
                                           NULL, 0, NULL, 0),
                   TL_E_INVALID_ARG, "n_classes");
  TLT_ASSERT_FAILS(tl_awd_lstm_clas_create(&enc, &head, AWD_V, 3, &o, 1.0f,
                                           NULL, 2, NULL, 0),
                   TL_E_INVALID_ARG, "n_lin_ftrs");
  const float ps2[2] = {0.1f, 0.1f};
  TLT_ASSERT_FAILS(
      tl_pooling_linear_create(&head, AWD_E, 3, NULL, 0, ps2, 2, 0),
      TL_E_INVALID_ARG, "n_ps");
  TLT_ASSERT_FAILS(
      tl_pooling_linear_create(&head, AWD_E, 3, NULL, 1, ps2, 2, 0),
      TL_E_INVALID_ARG, "lin_ftrs");
}
END_TEST

START_TEST(bad_input) {
  tl_awd_lstm_options o = small_options();
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(NULL, &dec, AWD_V, &o, 1.0f),
                   TL_E_INVALID_ARG, "out_encoder");
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(&enc, NULL, AWD_V, &o, 1.0f),
                   TL_E_INVALID_ARG, "out_decoder");
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(&enc, &dec, 0, &o, 1.0f),
                   TL_E_INVALID_ARG, "vocab_size");
  /* input_p 0.25 * 4 = 1 */
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, 4.0f),
                   TL_E_INVALID_ARG, "input_p");
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, -1.0f),
                   TL_E_INVALID_ARG, "drop_mult");
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &o, NAN),
                   TL_E_INVALID_ARG, "drop_mult");
  tl_awd_lstm_options b = o;
  b.pad_token = AWD_V;
  TLT_ASSERT_FAILS(tl_awd_lstm_lm_create(&enc, &dec, AWD_V, &b, 1.0f),
                   TL_E_INVALID_ARG, "pad_token");
  b = o;
  b.n_layers = 0;
  TLT_ASSERT_FAILS(tl_awd_lstm_encoder_create(&enc, AWD_V, &b, 1.0f),
                   TL_E_INVALID_ARG, "n_layers");
  b = o;
  b.emb_sz = 0;
  TLT_ASSERT_FAILS(tl_awd_lstm_encoder_create(&enc, AWD_V, &b, 1.0f),
                   TL_E_INVALID_ARG, "emb_sz");
  b = o;
  b.tar_beta = -1.0f;
  TLT_ASSERT_FAILS(tl_awd_lstm_encoder_create(&enc, AWD_V, &b, 1.0f),
                   TL_E_INVALID_ARG, "tar_beta");
  b = o;
  b.version = 7;
  TLT_ASSERT_FAILS(tl_awd_lstm_encoder_create(&enc, AWD_V, &b, 1.0f),
                   TL_E_UNSUPPORTED, "options");
  ck_assert_ptr_null(enc);
  ck_assert_ptr_null(dec);
}
END_TEST

int main(void) {
  Suite *s = suite_create("arch");
  TCase *tc = tcase_create("awd_lstm");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, options_defaults);
  tcase_add_test(tc, lm_layout);
  tcase_add_test(tc, lm_matches_torch);
  tcase_add_test(tc, clas_encoder);
  tcase_add_test(tc, head_matches_torch);
  tcase_add_test(tc, clas_defaults);
  tcase_add_test(tc, bad_input);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
