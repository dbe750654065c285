/* lib/model: names and layouts, forward/backward against torch models with
 * identical weights (tests/fixtures/gen_model.py), finite differences,
 * freezing and groups, modes, composition (multi-task, tied decoder across
 * models), AR/TAR, rejection of bad input, lifetimes and allocation-free
 * hot paths. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/model_golden.h"
#include "model/model_internal.h"
#include "tl_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* float32 model vs float64 torch: relative to max(|want|, 0.05 * max|want|)
 * so entries near zero compare sensibly. */
static void assert_matches(const char *what, const float *got,
                           const float *want, size_t n, double rel) {
  double mx = 0.0;
  for (size_t i = 0; i < n; i++)
    mx = fmax(mx, fabs((double)want[i]));
  const double floor_ = 0.05 * mx + 1e-12;
  for (size_t i = 0; i < n; i++) {
    const double s = fmax(fabs((double)want[i]), floor_);
    const double err = fabs((double)got[i] - (double)want[i]) / s;
    ck_assert_msg(err <= rel, "%s[%zu] = %.9g, torch %.9g (rel err %.3g)", what,
                  i, (double)got[i], (double)want[i], err);
  }
}

static void set_flat(tl_model *m, const float *w, size_t n) {
  float *flat = NULL;
  size_t numel = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &numel, m));
  ck_assert_uint_eq(numel, n);
  memcpy(flat, w, n * sizeof(float));
}

static const float *grads_of(tl_model *m, size_t *n) {
  float *g = NULL;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, n, m));
  return g;
}

static tl_model *emb_lstm_fc(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  tl_embedding_options eo;
  TLT_ASSERT_OK(tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.padding_idx = 0;
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 11, 5, &eo));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 5, 6, 2, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 6, 4, TL_ACTIVATION_NONE));
  return m;
}

static tl_model *linear_stack(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l0", 5, 7, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l1", 7, 6, TL_ACTIVATION_TANH));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l2", 6, 3, TL_ACTIVATION_SIGMOID));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l3", 3, 2, TL_ACTIVATION_NONE));
  set_flat(m, linear_stack_w, N_OF(linear_stack_w));
  return m;
}

START_TEST(parameter_names_shapes_and_offsets_follow_pytorch) {
  tl_model *m = emb_lstm_fc();
  const char *want[] = {
      "emb.weight",       "rnn.weight_ih_l0", "rnn.weight_hh_l0",
      "rnn.bias_ih_l0",   "rnn.bias_hh_l0",   "rnn.weight_ih_l1",
      "rnn.weight_hh_l1", "rnn.bias_ih_l1",   "rnn.bias_hh_l1",
      "fc.weight",        "fc.bias"};
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_num_params(&n, m));
  ck_assert_uint_eq(n, N_OF(want));
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = NULL;
    TLT_ASSERT_OK(tl_model_param_name(&name, m, i));
    ck_assert_str_eq(name, want[i]);
    size_t idx = 99, o = 0, numel = 0, nd = 0, dims[TL_MODEL_MAX_DIMS];
    TLT_ASSERT_OK(tl_model_param_index(&idx, m, want[i]));
    ck_assert_uint_eq(idx, i);
    TLT_ASSERT_OK(tl_model_param_offset(&o, m, want[i]));
    ck_assert_uint_eq(o, off); /* contiguous, in order */
    TLT_ASSERT_OK(tl_model_param_shape(&nd, dims, &numel, m, want[i]));
    off += numel;
  }
  size_t nd = 0, dims[TL_MODEL_MAX_DIMS], numel = 0;
  TLT_ASSERT_OK(tl_model_param_shape(&nd, dims, &numel, m, "rnn.weight_ih_l1"));
  ck_assert_uint_eq(nd, 2);
  ck_assert_uint_eq(dims[0], 24);
  ck_assert_uint_eq(dims[1], 6);
  ck_assert_uint_eq(dims[2], 1);
  TLT_ASSERT_OK(tl_model_param_shape(&nd, dims, &numel, m, "fc.bias"));
  ck_assert_uint_eq(nd, 1);
  ck_assert_uint_eq(dims[0], 4);
  float *flat = NULL, *grad = NULL, *v = NULL, *gv = NULL;
  size_t total = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &total, m));
  TLT_ASSERT_OK(tl_model_flat_grads(&grad, &total, m));
  ck_assert_uint_eq(total, off);
  TLT_ASSERT_OK(tl_model_param_offset(&off, m, "fc.weight"));
  TLT_ASSERT_OK(tl_model_param_view(&v, &gv, m, "fc.weight"));
  ck_assert_ptr_eq(v, flat + off); /* zero-copy views into the flat buffers */
  ck_assert_ptr_eq(gv, grad + off);
  /* the padding row starts at zero */
  TLT_ASSERT_OK(tl_model_param_view(&v, NULL, m, "emb.weight"));
  for (size_t j = 0; j < 5; j++)
    ck_assert(v[j] == 0.0f);
  /* copy in, copy out */
  float b[4] = {1, 2, 3, 4}, c[4] = {0};
  TLT_ASSERT_OK(tl_model_param_set(m, "fc.bias", b, 4));
  TLT_ASSERT_OK(tl_model_param_get(c, 4, m, "fc.bias"));
  ck_assert(memcmp(b, c, sizeof b) == 0);
  size_t layers = 0, g = 0;
  TLT_ASSERT_OK(tl_model_num_layers(&layers, m));
  ck_assert_uint_eq(layers, 3);
  TLT_ASSERT_OK(tl_model_num_groups(&g, m));
  ck_assert_uint_eq(g, 3); /* one group per layer by default */
  tl_model_free(m);
}
END_TEST

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

START_TEST(tie_cycles_and_bad_ties_are_refused) {
  tl_model *a = NULL, *b = NULL;
  TLT_ASSERT_OK(tl_model_create(&a, NULL));
  TLT_ASSERT_OK(tl_model_create(&b, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(a, "emb", 5, 3, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(b, "emb", 5, 3, NULL));
  TLT_ASSERT_OK(tl_model_add_decoder(b, "dec", 3, 5, a, "emb"));
  TLT_ASSERT_FAILS(tl_model_add_decoder(a, "dec", 3, 5, b, "emb"), TL_E_STATE,
                   "cycle");
  TLT_ASSERT_FAILS(tl_model_add_decoder(a, "dec", 3, 4, a, "emb"), TL_E_SHAPE,
                   "emb");
  TLT_ASSERT_FAILS(tl_model_add_decoder(a, "dec", 3, 5, a, "nope"),
                   TL_E_NOT_FOUND, "nope");
  /* tied to its own embedding: no self-reference leak (ASan checks) */
  TLT_ASSERT_OK(tl_model_add_decoder(a, "dec", 3, 5, NULL, "emb"));
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(freeze_to_follows_fastai_and_frozen_params_get_no_gradient) {
  tl_model *m = linear_stack();
  size_t g = 0;
  TLT_ASSERT_OK(tl_model_num_groups(&g, m));
  ck_assert_uint_eq(g, 4);
  int t = 0;
  TLT_ASSERT_OK(tl_model_freeze(m)); /* freeze_to(-1): only the last group */
  for (size_t i = 0; i < 4; i++) {
    TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, i));
    ck_assert_int_eq(t, i == 3);
  }
  TLT_ASSERT_OK(tl_model_freeze_to(m, -2));
  for (size_t i = 0; i < 4; i++) {
    TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, i));
    ck_assert_int_eq(t, i >= 2);
  }
  TLT_ASSERT_OK(tl_model_freeze_to(m, 1));
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, 0));
  ck_assert_int_eq(t, 0);
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, 1));
  ck_assert_int_eq(t, 1);
  TLT_ASSERT_OK(tl_model_freeze_to(m, 4)); /* everything frozen */
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, 3));
  ck_assert_int_eq(t, 0);
  TLT_ASSERT_FAILS(tl_model_freeze_to(m, 5), TL_E_INVALID_ARG, "n = 5");
  TLT_ASSERT_FAILS(tl_model_freeze_to(m, -5), TL_E_INVALID_ARG, "n = -5");
  TLT_ASSERT_OK(tl_model_unfreeze(m));
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, 0));
  ck_assert_int_eq(t, 1);

  /* freeze the last two layers' groups, keep dx flowing: frozen gradients
   * stay exactly 0, trainable ones equal torch's */
  TLT_ASSERT_OK(tl_model_set_group(m, "l3", 2)); /* groups: 0, 1, 2, 2 */
  TLT_ASSERT_OK(tl_model_num_groups(&g, m));
  ck_assert_uint_eq(g, 3);
  TLT_ASSERT_OK(tl_model_freeze(m)); /* l2 and l3 trainable */
  size_t off = 0, n = 0;
  TLT_ASSERT_OK(tl_model_param_offset(&off, m, "l2.weight"));
  const size_t dims[2] = {4, 5};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, linear_stack_dy, od, ond));
  const float *gr = grads_of(m, &n);
  for (size_t i = 0; i < off; i++)
    ck_assert(gr[i] == 0.0f);
  assert_matches("trainable", gr + off, linear_stack_grad + off, n - off, 1e-5);
  /* chain-thaw: thaw group 0 alone */
  TLT_ASSERT_OK(tl_model_freeze_to(m, 3));
  TLT_ASSERT_OK(tl_model_set_group_trainable(m, 0, 1));
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  TLT_ASSERT_OK(tl_model_backward(&dx, m, linear_stack_dy, od, ond));
  TLT_ASSERT_OK(tl_model_param_offset(&off, m, "l1.weight"));
  assert_matches("l0", gr, linear_stack_grad, off, 1e-5);
  for (size_t i = off; i < n; i++)
    ck_assert(gr[i] == 0.0f);
  assert_matches("dx", dx, linear_stack_dx, N_OF(linear_stack_dx), 1e-5);
  /* per-parameter flag */
  TLT_ASSERT_OK(tl_model_set_param_trainable(m, "l0.bias", 0));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&t, m, "l0.bias"));
  ck_assert_int_eq(t, 0);
  TLT_ASSERT_FAILS(tl_model_set_group_trainable(m, 3, 1), TL_E_INVALID_ARG,
                   "group 3");
  TLT_ASSERT_FAILS(tl_model_set_group(m, "l0", 4), TL_E_INVALID_ARG, "group 4");
  TLT_ASSERT_FAILS(tl_model_set_group(m, "zz", 0), TL_E_NOT_FOUND, "zz");
  tl_model_free(m);
}
END_TEST

START_TEST(a_frozen_encoder_costs_no_backward_work) {
  /* embedding -> LSTM -> linear with everything but the head frozen: the
   * backward stops above the LSTM, which never even gets a workspace */
  tl_model *m = emb_lstm_fc();
  set_flat(m, emb_lstm_fc_w, N_OF(emb_lstm_fc_w));
  TLT_ASSERT_OK(tl_model_freeze(m));
  const size_t dims[2] = {4, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0, off = 0;
  TLT_ASSERT_OK(
      tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, emb_lstm_fc_dy, od, ond));
  ck_assert_ptr_null(m->layers[1].work.p); /* LSTM backward never ran */
  ck_assert_ptr_null(m->layers[1].dx.p);
  ck_assert_ptr_null(m->layers[2].dx.p); /* nor the head's input gradient */
  const float *g = grads_of(m, &n);
  TLT_ASSERT_OK(tl_model_param_offset(&off, m, "fc.weight"));
  for (size_t i = 0; i < off; i++)
    ck_assert(g[i] == 0.0f);
  assert_matches("head", g + off, emb_lstm_fc_grad + off, n - off, 1e-5);
  tl_model_free(m);
}
END_TEST

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

START_TEST(feature_extraction_mode) {
  tl_model *m = linear_stack();
  const size_t dims[2] = {4, 5};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  TLT_ASSERT_OK(tl_model_set_mode(m, TL_MODEL_MODE_FEATURE_EXTRACT));
  tl_model_mode mode;
  TLT_ASSERT_OK(tl_model_get_mode(&mode, m));
  ck_assert_int_eq(mode, TL_MODEL_MODE_FEATURE_EXTRACT);
  TLT_ASSERT_FAILS(tl_model_train(m), TL_E_STATE, "feature-extraction");
  TLT_ASSERT_FAILS(tl_model_backward(NULL, m, linear_stack_dy, od, ond),
                   TL_E_STATE, "feature-extraction");
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  assert_matches("features", y, linear_stack_y, N_OF(linear_stack_y), 1e-5);
  /* back to fine-tuning: trainable flags were kept */
  TLT_ASSERT_OK(tl_model_set_mode(m, TL_MODEL_MODE_FINE_TUNE));
  TLT_ASSERT_OK(tl_model_train(m));
  int t = 0;
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, m, 0));
  ck_assert_int_eq(t, 1);
  TLT_ASSERT_FAILS(tl_model_set_mode(m, (tl_model_mode)7), TL_E_INVALID_ARG,
                   "mode");
  tl_model_free(m);
}
END_TEST

START_TEST(element_masks_are_validated) {
  tl_model *m = emb_lstm_fc();
  uint8_t mask[55] = {0};
  TLT_ASSERT_FAILS(tl_model_set_param_mask(m, "emb.weight", mask, 54),
                   TL_E_SHAPE, "emb.weight");
  TLT_ASSERT_OK(tl_model_set_param_mask(m, "emb.weight", mask, 55));
  TLT_ASSERT_OK(tl_model_set_param_mask(m, "emb.weight", NULL, 0));
  TLT_ASSERT_FAILS(tl_model_set_param_mask(m, "emb.weight", NULL, 3),
                   TL_E_INVALID_ARG, "NULL");
  TLT_ASSERT_FAILS(tl_model_set_param_mask(m, "emb.bias", mask, 55),
                   TL_E_NOT_FOUND, "emb.bias");
  tl_model_free(m);
}
END_TEST

START_TEST(bad_input_is_refused_and_changes_nothing) {
  tl_model *m = NULL;
  TLT_ASSERT_FAILS(tl_model_create(NULL, NULL), TL_E_INVALID_ARG, "out");
  tl_model_options o;
  TLT_ASSERT_FAILS(tl_model_options_init(&o, 9), TL_E_UNSUPPORTED, "9");
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  const size_t dims[2] = {4, 5};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2),
                   TL_E_STATE, "no layers");
  TLT_ASSERT_FAILS(tl_model_add_linear(m, "bad name", 5, 7, 0),
                   TL_E_INVALID_ARG, "name");
  TLT_ASSERT_FAILS(tl_model_add_linear(m, "", 5, 7, 0), TL_E_INVALID_ARG,
                   "name");
  TLT_ASSERT_FAILS(tl_model_add_linear(m, "l", 0, 7, 0), TL_E_INVALID_ARG,
                   "in_features");
  TLT_ASSERT_FAILS(tl_model_add_linear(m, "l", 5, 7, (tl_activation)9),
                   TL_E_INVALID_ARG, "activation");
  TLT_ASSERT_FAILS(tl_model_add_dropout(m, "d", TL_DROPOUT_STANDARD, 1.0f),
                   TL_E_INVALID_ARG, "p");
  TLT_ASSERT_FAILS(tl_model_add_dropout(m, "d", TL_DROPOUT_STANDARD, NAN),
                   TL_E_INVALID_ARG, "p");
  TLT_ASSERT_OK(tl_model_add_linear(m, "l0", 5, 7, TL_ACTIVATION_RELU));
  TLT_ASSERT_FAILS(tl_model_add_linear(m, "l0", 7, 2, 0), TL_E_STATE,
                   "already exists");
  TLT_ASSERT_FAILS(tl_model_add_linear(m, "l1", 6, 2, 0), TL_E_SHAPE,
                   "input size 6");
  TLT_ASSERT_FAILS(tl_model_add_embedding(m, "emb", 5, 3, NULL), TL_E_STATE,
                   "first layer");
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = -0.1f;
  TLT_ASSERT_FAILS(tl_model_add_lstm(m, "rnn", 7, 3, 1, &lo), TL_E_INVALID_ARG,
                   "weight_p");
  lo.weight_p = 0.0f;
  lo.version = 77;
  TLT_ASSERT_FAILS(tl_model_add_lstm(m, "rnn", 7, 3, 1, &lo), TL_E_UNSUPPORTED,
                   "version");
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  TLT_ASSERT_FAILS(tl_model_add_lstm(m, "rnn", 7, 3, 0, &lo), TL_E_INVALID_ARG,
                   "num_layers");
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_num_layers(&n, m));
  ck_assert_uint_eq(n, 1); /* every failed add changed nothing */
  TLT_ASSERT_OK(tl_model_num_params(&n, m));
  ck_assert_uint_eq(n, 2);

  /* forward: shapes, NaN, bad dims */
  const size_t bad[2] = {4, 6};
  float x24[24] = {0};
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, x24, bad, 2), TL_E_SHAPE,
                   "l0");
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 0),
                   TL_E_INVALID_ARG, "ndim");
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, NULL, dims, 2),
                   TL_E_INVALID_ARG, "x");
  float xn[20];
  memcpy(xn, linear_stack_x, sizeof xn);
  xn[7] = NAN;
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, xn, dims, 2), TL_E_NUMERIC,
                   "x[7]");
  int64_t ids[2] = {0, 1};
  const size_t idd[1] = {2};
  TLT_ASSERT_FAILS(tl_model_forward_ids(&y, od, &ond, m, ids, idd, 1),
                   TL_E_STATE, "embedding");
  TLT_ASSERT_FAILS(tl_model_backward(NULL, m, linear_stack_x, dims, 2),
                   TL_E_STATE, "forward");
  /* backward: dy shape and NaN; parameters and gradients untouched */
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, linear_stack_x, dims, 2));
  float dy[28] = {0};
  const size_t dyd[2] = {4, 7}, dybad[2] = {4, 6};
  TLT_ASSERT_FAILS(tl_model_backward(NULL, m, dy, dybad, 2), TL_E_SHAPE, "dy");
  dy[3] = INFINITY;
  TLT_ASSERT_FAILS(tl_model_backward(NULL, m, dy, dyd, 2), TL_E_NUMERIC,
                   "dy[3]");
  const float *g = grads_of(m, &n);
  for (size_t i = 0; i < n; i++)
    ck_assert(g[i] == 0.0f);
  /* names */
  float v[7];
  TLT_ASSERT_FAILS(tl_model_param_get(v, 7, m, "l0.nope"), TL_E_NOT_FOUND,
                   "l0.nope");
  TLT_ASSERT_FAILS(tl_model_param_get(v, 6, m, "l0.bias"), TL_E_SHAPE, "n = 6");
  v[2] = NAN;
  TLT_ASSERT_FAILS(tl_model_param_set(m, "l0.bias", v, 7), TL_E_NUMERIC,
                   "values[2]");
  TLT_ASSERT_FAILS(tl_model_layer_index(&n, m, "zz"), TL_E_NOT_FOUND, "zz");
  const char *s = NULL;
  TLT_ASSERT_FAILS(tl_model_param_name(&s, m, 2), TL_E_INVALID_ARG, "index");
  TLT_ASSERT_FAILS(tl_model_set_lengths(m, NULL, 2), TL_E_INVALID_ARG, "batch");
  const size_t zl[1] = {0};
  TLT_ASSERT_FAILS(tl_model_set_lengths(m, zl, 1), TL_E_INVALID_ARG,
                   "lengths[0]");
  tl_model_free(m);
  tl_model_free(NULL);

  /* ids out of range */
  m = emb_lstm_fc();
  int64_t bad_ids[12] = {0};
  bad_ids[5] = 11;
  const size_t d2[2] = {4, 3};
  TLT_ASSERT_FAILS(tl_model_forward_ids(&y, od, &ond, m, bad_ids, d2, 2),
                   TL_E_INVALID_ARG, "ids[5]");
  TLT_ASSERT_FAILS(tl_model_forward(&y, od, &ond, m, linear_stack_x, d2, 2),
                   TL_E_STATE, "tl_model_forward_ids");
  const size_t d1[2] = {4, 3};
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, d1, 2));
  /* an LSTM needs (T, B, F) */
  tl_model_free(m);
}
END_TEST

START_TEST(hot_paths_allocate_nothing_after_the_first_call) {
  tlt_counter c;
  tlt_counter_install(&c);
  tl_lstm_options lo;
  TLT_ASSERT_OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.2f;
  lo.output_p = 0.1f;
  lo.ar_alpha = 2.0f;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 11, 5, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 5, 6, 2, &lo));
  TLT_ASSERT_OK(tl_model_add_concat_pool(m, "pool"));
  TLT_ASSERT_OK(tl_model_add_dropout(m, "drop", TL_DROPOUT_STANDARD, 0.2f));
  TLT_ASSERT_OK(tl_model_add_linear(m, "head", 18, 3, TL_ACTIVATION_NONE));
  tl_optim_options oo;
  TLT_ASSERT_OK(
      tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &oo));
  const size_t dims[2] = {4, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  float dy[9];
  for (size_t i = 0; i < 9; i++)
    dy[i] = 0.1f * (float)i - 0.4f;
  for (int it = 0; it < 3; it++) {
    const size_t before = c.allocs;
    TLT_ASSERT_OK(tl_optim_zero_grad(opt));
    TLT_ASSERT_OK(
        tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2));
    TLT_ASSERT_OK(tl_model_backward(NULL, m, dy, od, ond));
    double norm = 0.0;
    TLT_ASSERT_OK(tl_optim_clip_grad_norm(&norm, opt, 0.5));
    TLT_ASSERT_OK(tl_optim_step(opt));
    if (it > 0)
      ck_assert_uint_eq(c.allocs, before);
  }
  tl_optim_free(opt);
  tl_model_free(m);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

/* Builds and trains one step; returns the first failing status. */
static tl_status build_and_step(void) {
  tl_model *m = NULL;
  tl_optim *opt = NULL;
  tl_status st = tl_model_create(&m, NULL);
  tl_lstm_options lo;
  tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION);
  lo.weight_p = 0.2f;
  lo.hidden_p = 0.2f;
  lo.stateful = 1;
  tl_optim_options oo;
  tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAM);
  const size_t dims[2] = {4, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  const size_t lengths[3] = {4, 2, 1};
  float dy[9] = {0.5f, -1.0f, 0.25f, 0.0f, 1.0f, 2.0f, -0.5f, 0.1f, 0.3f};
  if (st == TL_OK)
    st = tl_model_add_embedding(m, "emb", 11, 5, NULL);
  if (st == TL_OK)
    st = tl_model_add_lstm(m, "rnn", 5, 6, 2, &lo);
  if (st == TL_OK)
    st = tl_model_add_concat_pool(m, "pool");
  if (st == TL_OK)
    st = tl_model_add_linear(m, "fc", 18, 3, TL_ACTIVATION_TANH);
  if (st == TL_OK)
    st = tl_model_set_lengths(m, lengths, 3);
  if (st == TL_OK)
    st = tl_model_set_param_mask(m, "fc.bias", (const uint8_t *)"\1\0\1", 3);
  if (st == TL_OK)
    st = tl_optim_create(&opt, &m, 1, &oo);
  if (st == TL_OK)
    st = tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2);
  if (st == TL_OK)
    st = tl_model_backward(NULL, m, dy, od, ond);
  if (st == TL_OK)
    st = tl_optim_step(opt);
  if (st == TL_OK) {
    TLT_ASSERT_OK(tl_model_eval(m));
    st = tl_model_forward_ids(&y, od, &ond, m, emb_lstm_fc_ids, dims, 2);
  }
  if (st == TL_OK)
    st = tl_model_set_mode(m, TL_MODEL_MODE_FEATURE_EXTRACT);
  tl_optim_free(opt);
  tl_model_free(m);
  return st;
}

START_TEST(allocation_failures_are_reported_and_leak_nothing) {
  int finished = 0;
  for (size_t budget = 0; budget < 400 && !finished; budget++) {
    tlt_counter f;
    tlt_counter_install_budget(&f, budget);
    const tl_status st = build_and_step();
    tl_set_allocator(NULL);
    ck_assert_msg(st == TL_OK || st == TL_E_NOMEM, "budget %zu: %s (%s)",
                  budget, tl_status_string(st), tl_last_error());
    ck_assert_msg(f.allocs == f.frees, "budget %zu: %zu allocs, %zu frees",
                  budget, f.allocs, f.frees);
    finished = st == TL_OK;
  }
  ck_assert(finished);
}
END_TEST

START_TEST(adding_a_layer_keeps_values_and_moves_views) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "a", 2, 3, TL_ACTIVATION_NONE));
  float w[6] = {1, 2, 3, 4, 5, 6}, got[6];
  TLT_ASSERT_OK(tl_model_param_set(m, "a.weight", w, 6));
  TLT_ASSERT_OK(tl_model_add_linear(m, "b", 3, 1, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_param_get(got, 6, m, "a.weight"));
  ck_assert(memcmp(w, got, sizeof w) == 0);
  size_t n = 0;
  float *flat = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &n, m));
  ck_assert_uint_eq(n, 6 + 3 + 3 + 1);
  tl_model_free(m);
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

int main(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("model");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, parameter_names_shapes_and_offsets_follow_pytorch);
  tcase_add_test(tc, embedding_lstm_linear_matches_torch);
  tcase_add_test(tc, linear_stack_matches_torch_and_accumulates);
  tcase_add_test(tc, linear_stack_backward_matches_finite_differences);
  tcase_add_test(tc, lstm_concat_pool_head_matches_torch);
  tcase_add_test(tc, decoder_tied_to_another_models_embedding_matches_torch);
  tcase_add_test(tc, tie_cycles_and_bad_ties_are_refused);
  tcase_add_test(tc,
                 freeze_to_follows_fastai_and_frozen_params_get_no_gradient);
  tcase_add_test(tc, a_frozen_encoder_costs_no_backward_work);
  tcase_add_test(tc, dropout_is_off_in_eval_and_masks_are_seeded);
  tcase_add_test(tc, awd_lstm_dropouts_are_off_in_eval_and_change_training);
  tcase_add_test(tc, ar_tar_loss_and_gradient);
  tcase_add_test(tc, stateful_lstm_carries_the_state_between_windows);
  tcase_add_test(tc, awd_lstm_training_backward_matches_finite_differences);
  tcase_add_test(tc, one_encoder_serves_two_heads);
  tcase_add_test(tc, feature_extraction_mode);
  tcase_add_test(tc, element_masks_are_validated);
  tcase_add_test(tc, bad_input_is_refused_and_changes_nothing);
  tcase_add_test(tc, hot_paths_allocate_nothing_after_the_first_call);
  tcase_add_test(tc, allocation_failures_are_reported_and_leak_nothing);
  tcase_add_test(tc, adding_a_layer_keeps_values_and_moves_views);
  tcase_add_test(tc, cross_entropy_matches_a_direct_computation);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
