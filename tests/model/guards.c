/* tests/model, test case "guards": rejection of bad input with nothing changed,
 * allocation-free hot paths, allocation failures reported without leaks. */
#include "model_test.h"

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

TCase *tlt_model_guards_case(void) {
  TCase *tc = tcase_create("guards");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, bad_input_is_refused_and_changes_nothing);
  tcase_add_test(tc, hot_paths_allocate_nothing_after_the_first_call);
  tcase_add_test(tc, allocation_failures_are_reported_and_leak_nothing);
  return tc;
}
