/* tests/model, test case "stream": streaming inference (tl_model_step,
 * tl_model_step_ids): steps against one-step forwards of a stateful model
 * bit for bit (LSTM, GRU, linear and embedding stacks, fastai's AWD-LSTM
 * LM), against the whole-sequence forward within float rounding, resets,
 * the train/eval mode kept, no allocation after prepare, bad input. */
#include "model_test.h"
#include "tl/arch.h"

/* Deterministic values in [-1, 1). */
static void fill(float *x, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)(s >> 8) / (float)(1u << 23) - 1.0f;
  }
}

/* A recurrent model: kind 0 an LSTM, 1 a GRU (2 stacked layers, in -> H),
 * then a linear layer H -> 5; stateful or not; parameters from seed 7. */
static tl_model *rnn_model(int kind, int stateful, size_t in, size_t H) {
  tl_model *m = NULL;
  tl_model_options mo = TL_MODEL_OPTIONS_INIT;
  mo.seed = 7;
  TLT_ASSERT_OK(tl_model_create(&m, &mo));
  if (kind == 0) {
    tl_lstm_options o = TL_LSTM_OPTIONS_INIT;
    o.stateful = stateful;
    o.hidden_p = 0.3f; /* train-mode only: a step must not apply it */
    TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", in, H, 2, &o));
  } else {
    tl_gru_options o = TL_GRU_OPTIONS_INIT;
    o.stateful = stateful;
    o.hidden_p = 0.3f;
    TLT_ASSERT_OK(tl_model_add_gru(m, "rnn", in, H, 2, &o));
  }
  TLT_ASSERT_OK(tl_model_add_dropout(m, "drop", TL_DROPOUT_LOCKED, 0.5f));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", H, 5, TL_ACTIVATION_TANH));
  return m;
}

/* Steps of a stateless model against one-step forwards of the stateful
 * twin (bit for bit) and the whole-sequence forward (rounding). */
static void check_recurrent(int kind, size_t B, size_t in, size_t H) {
  enum { T = 6 };
  tl_model *m = rnn_model(kind, 0, in, H);
  tl_model *ref = rnn_model(kind, 1, in, H);
  tl_model *seq = rnn_model(kind, 0, in, H);
  TLT_ASSERT_OK(tl_model_eval(ref));
  TLT_ASSERT_OK(tl_model_eval(seq));
  float x[T * 3 * 40], got[T * 3 * 5], want[T * 3 * 5];
  ck_assert(B <= 3 && in <= 40);
  fill(x, T * B * in, (uint32_t)(kind + 10 * B + in));
  size_t of = 0;
  TLT_ASSERT_OK(tl_model_step_prepare(&of, m, B, in));
  ck_assert_uint_eq(of, 5);
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  for (size_t t = 0; t < T; t++) {
    TLT_ASSERT_OK(
        tl_model_step(got + t * B * 5, B * 5, m, x + t * B * in, B, in));
    const size_t d1[3] = {1, B, in};
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, ref, x + t * B * in, d1, 3));
    ck_assert_uint_eq(ond, 3);
    memcpy(want + t * B * 5, y, B * 5 * sizeof(float));
  }
  ck_assert_msg(memcmp(got, want, T * B * 5 * sizeof(float)) == 0,
                "kind %d B %zu: steps differ from one-step forwards", kind, B);
  const size_t dT[3] = {T, B, in};
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, seq, x, dT, 3));
  assert_matches("whole sequence", got, y, T * B * 5, 1e-5);
  /* the model stays in train mode; the step ran without dropout */
  int training = 0;
  TLT_ASSERT_OK(tl_model_is_training(&training, m));
  ck_assert_int_eq(training, 1);
  /* a reset starts from zeros: the first step again */
  TLT_ASSERT_OK(tl_model_reset_state(m));
  float again[3 * 5];
  TLT_ASSERT_OK(tl_model_step(again, B * 5, m, x, B, in));
  ck_assert(memcmp(again, got, B * 5 * sizeof(float)) == 0);
  tl_model_free(m);
  tl_model_free(ref);
  tl_model_free(seq);
}

START_TEST(lstm_steps_equal_one_step_forwards) {
  check_recurrent(0, 1, 16, 32); /* B = 1: the single-row path */
  check_recurrent(0, 1, 7, 13);  /* widths that are no multiple of 8 */
  check_recurrent(0, 3, 7, 13);
  check_recurrent(0, 2, 40, 24);
}
END_TEST

START_TEST(gru_steps_equal_one_step_forwards) {
  check_recurrent(1, 1, 16, 32);
  check_recurrent(1, 3, 7, 13);
}
END_TEST

START_TEST(linear_and_embedding_stacks_step) {
  /* floats: the linear stack; a step is its forward on (1, B, 5) */
  tl_model *m = linear_stack();
  float x[4 * 5], got[4 * 2];
  fill(x, N_OF(x), 3);
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, of = 0;
  TLT_ASSERT_OK(tl_model_step(got, 8, m, x, 4, 5));
  const size_t d[3] = {1, 4, 5};
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, x, d, 3));
  ck_assert(memcmp(got, y, sizeof got) == 0);
  tl_model_free(m);

  /* ids: embedding -> linear; no state, so steps repeat */
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 9, 6, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 6, 3, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_step_prepare(&of, m, 2, 0));
  ck_assert_uint_eq(of, 3);
  const int64_t ids[2] = {8, 0};
  float a[6], b[6];
  TLT_ASSERT_OK(tl_model_step_ids(a, 6, m, ids, 2));
  TLT_ASSERT_OK(tl_model_step_ids(b, 6, m, ids, 2));
  ck_assert(memcmp(a, b, sizeof a) == 0);
  const size_t di[2] = {1, 2};
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, m, ids, di, 2));
  ck_assert(memcmp(a, y, sizeof a) == 0);
  /* a lone embedding returns its rows */
  tl_model *e = NULL;
  TLT_ASSERT_OK(tl_model_create(&e, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(e, "emb", 9, 6, NULL));
  float row[6], *w = NULL;
  TLT_ASSERT_OK(tl_model_step_ids(row, 6, e, ids, 1));
  TLT_ASSERT_OK(tl_model_param_view(&w, NULL, e, "emb.weight"));
  ck_assert(memcmp(row, w + 8 * 6, sizeof row) == 0);
  tl_model_free(e);
  tl_model_free(m);
}
END_TEST

START_TEST(awd_lstm_lm_steps) {
  /* fastai's AWD-LSTM LM (stateful encoder, tied decoder in a second
   * model), small: steps of ids through the encoder, its rows through the
   * decoder, against one-step forwards in eval mode */
  enum { V = 40, T = 5, B = 2 };
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = 12;
  o.n_hid = 20;
  o.n_layers = 3;
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, V, &o, 1.0f));
  int64_t ids[T * B];
  for (size_t i = 0; i < T * B; i++)
    ids[i] = (int64_t)((i * 7 + 3) % V);
  size_t of = 0, ofd = 0;
  TLT_ASSERT_OK(tl_model_step_prepare(&of, enc, B, 0));
  ck_assert_uint_eq(of, 12);
  TLT_ASSERT_OK(tl_model_step_prepare(&ofd, dec, B, of));
  ck_assert_uint_eq(ofd, V);
  float h[B * 12], got[T * B * V], want[T * B * V];
  for (size_t t = 0; t < T; t++) {
    TLT_ASSERT_OK(tl_model_step_ids(h, B * 12, enc, ids + t * B, B));
    TLT_ASSERT_OK(tl_model_step(got + t * B * V, B * V, dec, h, B, 12));
  }
  /* the reference: the same models in eval mode, one-step forwards from a
   * reset (the encoder is stateful) */
  TLT_ASSERT_OK(tl_model_reset_state(enc));
  TLT_ASSERT_OK(tl_model_eval(enc));
  TLT_ASSERT_OK(tl_model_eval(dec));
  const float *y = NULL, *z = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  const size_t di[2] = {1, B}, dh[3] = {1, B, 12};
  for (size_t t = 0; t < T; t++) {
    TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, enc, ids + t * B, di, 2));
    TLT_ASSERT_OK(tl_model_forward(&z, od, &ond, dec, y, dh, 3));
    memcpy(want + t * B * V, z, B * V * sizeof(float));
  }
  ck_assert(memcmp(got, want, sizeof got) == 0);
  /* a prompt fed by one forward, continued by steps: the whole sequence */
  TLT_ASSERT_OK(tl_model_reset_state(enc));
  const size_t dp[2] = {3, B};
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, enc, ids, dp, 2));
  float cont[2 * B * 12];
  TLT_ASSERT_OK(tl_model_step_prepare(NULL, enc, B, 0)); /* keeps the state */
  for (size_t t = 3; t < T; t++)
    TLT_ASSERT_OK(tl_model_step_ids(cont + (t - 3) * B * 12, B * 12, enc,
                                    ids + t * B, B));
  tl_model *seq = NULL, *seqd = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&seq, &seqd, V, &o, 1.0f));
  TLT_ASSERT_OK(tl_model_eval(seq));
  const size_t dT[2] = {T, B};
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, seq, ids, dT, 2));
  assert_matches("prompt + steps", cont, y + 3 * B * 12, 2 * B * 12, 1e-5);
  tl_model_free(seqd);
  tl_model_free(seq);
  tl_model_free(dec);
  tl_model_free(enc);
}
END_TEST

START_TEST(reset_row_restarts_one_sequence) {
  enum { in = 7, H = 13 };
  tl_model *m = rnn_model(0, 0, in, H), *ref = rnn_model(0, 0, in, H);
  tl_model *one = rnn_model(0, 0, in, H);
  float x[5 * 2 * in], a[2 * 5], r[2 * 5], fresh[5];
  fill(x, N_OF(x), 5);
  TLT_ASSERT_OK(tl_model_reset_row(m, 0)); /* nothing held yet */
  for (size_t t = 0; t < 3; t++) {
    TLT_ASSERT_OK(tl_model_step(a, 10, m, x + t * 2 * in, 2, in));
    TLT_ASSERT_OK(tl_model_step(r, 10, ref, x + t * 2 * in, 2, in));
  }
  TLT_ASSERT_FAILS(tl_model_reset_row(m, 2), TL_E_INVALID_ARG, "row 2");
  TLT_ASSERT_OK(tl_model_reset_row(m, 1));
  TLT_ASSERT_OK(tl_model_step(a, 10, m, x + 3 * 2 * in, 2, in));
  TLT_ASSERT_OK(tl_model_step(r, 10, ref, x + 3 * 2 * in, 2, in));
  /* row 0 goes on as if nothing happened; row 1 starts afresh */
  ck_assert(memcmp(a, r, 5 * sizeof(float)) == 0);
  ck_assert(memcmp(a + 5, r + 5, 5 * sizeof(float)) != 0);
  TLT_ASSERT_OK(tl_model_step(fresh, 5, one, x + 3 * 2 * in + in, 1, in));
  assert_matches("restarted row", a + 5, fresh, 5, 1e-6);
  tl_model_free(one);
  tl_model_free(ref);
  tl_model_free(m);
}
END_TEST

START_TEST(steps_allocate_nothing_after_prepare) {
  tlt_counter c;
  tlt_counter_install(&c);
  for (int kind = 0; kind < 2; kind++) {
    tl_model *m = rnn_model(kind, kind, 16, 24);
    TLT_ASSERT_OK(tl_model_step_prepare(NULL, m, 2, 16));
    float x[2 * 16], y[2 * 5];
    fill(x, N_OF(x), 1);
    const size_t before = c.allocs;
    for (int it = 0; it < 4; it++) {
      TLT_ASSERT_OK(tl_model_step(y, 10, m, x, 2, 16));
      if (it == 2)
        TLT_ASSERT_OK(tl_model_reset_state(m));
      if (it == 1)
        TLT_ASSERT_OK(tl_model_reset_row(m, 1));
    }
    ck_assert_uint_eq(c.allocs, before);
    tl_model_free(m);
  }
  tl_awd_lstm_options o;
  TLT_ASSERT_OK(tl_awd_lstm_options_init(&o, TL_AWD_LSTM_OPTIONS_VERSION));
  o.emb_sz = 8;
  o.n_hid = 10;
  tl_model *enc = NULL, *dec = NULL;
  TLT_ASSERT_OK(tl_awd_lstm_lm_create(&enc, &dec, 30, &o, 1.0f));
  /* no prepare: the first step grows the workspaces, the next ones not */
  const int64_t id = 4;
  float h[8], logits[30];
  TLT_ASSERT_OK(tl_model_step_ids(h, 8, enc, &id, 1));
  TLT_ASSERT_OK(tl_model_step(logits, 30, dec, h, 1, 8));
  const size_t before = c.allocs;
  for (int it = 0; it < 3; it++) {
    TLT_ASSERT_OK(tl_model_step_ids(h, 8, enc, &id, 1));
    TLT_ASSERT_OK(tl_model_step(logits, 30, dec, h, 1, 8));
  }
  ck_assert_uint_eq(c.allocs, before);
  tl_model_free(dec);
  tl_model_free(enc);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

START_TEST(prepare_keeps_a_carried_state) {
  /* a stateful LSTM fed a window by forward: prepare at the same batch
   * size keeps its state, and the steps continue it */
  enum { in = 7, H = 13 };
  tl_model *m = rnn_model(0, 1, in, H), *ref = rnn_model(0, 1, in, H);
  float x[4 * 2 * in], a[2 * 5];
  fill(x, N_OF(x), 9);
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  const size_t d3[3] = {3, 2, in}, d1[3] = {1, 2, in};
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(tl_model_eval(ref));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, x, d3, 3));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, ref, x, d3, 3));
  TLT_ASSERT_OK(tl_model_step_prepare(NULL, m, 2, in));
  TLT_ASSERT_OK(tl_model_step(a, 10, m, x + 3 * 2 * in, 2, in));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, ref, x + 3 * 2 * in, d1, 3));
  ck_assert(memcmp(a, y, sizeof a) == 0);
  tl_model_free(ref);
  tl_model_free(m);
}
END_TEST

START_TEST(a_step_forgets_a_pending_backward_and_keeps_the_mode) {
  enum { in = 4, H = 6 };
  tl_model *m = rnn_model(0, 0, in, H);
  float x[2 * 3 * in], y[2 * 5], dy[3 * 2 * 5] = {0};
  fill(x, N_OF(x), 2);
  const float *out = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  const size_t d[3] = {3, 2, in};
  TLT_ASSERT_OK(tl_model_forward(&out, od, &ond, m, x, d, 3)); /* train */
  TLT_ASSERT_OK(tl_model_step(y, 10, m, x, 2, in));
  TLT_ASSERT_FAILS(tl_model_backward(NULL, m, dy, od, ond), TL_E_STATE,
                   "no train-mode forward");
  /* feature extraction: eval anyway, the same output */
  float z[10];
  TLT_ASSERT_OK(tl_model_reset_state(m));
  TLT_ASSERT_OK(tl_model_step(y, 10, m, x, 2, in));
  TLT_ASSERT_OK(tl_model_set_mode(m, TL_MODEL_MODE_FEATURE_EXTRACT));
  TLT_ASSERT_OK(tl_model_reset_state(m));
  TLT_ASSERT_OK(tl_model_step(z, 10, m, x, 2, in));
  ck_assert(memcmp(y, z, sizeof z) == 0);
  tl_model_mode mode;
  TLT_ASSERT_OK(tl_model_get_mode(&mode, m));
  ck_assert_int_eq(mode, TL_MODEL_MODE_FEATURE_EXTRACT);
  tl_model_free(m);
}
END_TEST

START_TEST(bad_input_is_refused) {
  tl_model *m = rnn_model(0, 0, 4, 6);
  float x[2 * 4] = {0}, y[2 * 5];
  const int64_t ids[2] = {0, 1};
  size_t of = 0;
  TLT_ASSERT_FAILS(tl_model_step_prepare(&of, NULL, 1, 4), TL_E_INVALID_ARG,
                   "model");
  TLT_ASSERT_FAILS(tl_model_step_prepare(&of, m, 0, 4), TL_E_INVALID_ARG,
                   "batch");
  TLT_ASSERT_FAILS(tl_model_step_prepare(&of, m, 1, 0), TL_E_INVALID_ARG,
                   "in_features");
  TLT_ASSERT_FAILS(tl_model_step_prepare(&of, m, 1, 5), TL_E_SHAPE,
                   "input features");
  TLT_ASSERT_FAILS(tl_model_step(NULL, 10, m, x, 2, 4), TL_E_INVALID_ARG,
                   "out");
  TLT_ASSERT_FAILS(tl_model_step(y, 10, m, NULL, 2, 4), TL_E_INVALID_ARG,
                   "'x'");
  TLT_ASSERT_FAILS(tl_model_step(y, 9, m, x, 2, 4), TL_E_INVALID_ARG,
                   "out_n must be batch * out_features = 2 * 5 = 10");
  TLT_ASSERT_FAILS(tl_model_step_ids(y, 10, m, ids, 2), TL_E_STATE,
                   "tl_model_step");
  x[5] = NAN;
  TLT_ASSERT_FAILS(tl_model_step(y, 10, m, x, 2, 4), TL_E_NUMERIC, "x[5]");
  TLT_ASSERT_FAILS(tl_model_reset_row(NULL, 0), TL_E_INVALID_ARG, "model");
  tl_model_free(m);

  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_FAILS(tl_model_step_prepare(&of, m, 1, 4), TL_E_STATE,
                   "no layers");
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 5, 4, NULL));
  TLT_ASSERT_FAILS(tl_model_step_prepare(&of, m, 1, 4), TL_E_INVALID_ARG,
                   "in_features must be 0");
  const int64_t bad[2] = {0, 5};
  TLT_ASSERT_FAILS(tl_model_step_ids(y, 8, m, bad, 2), TL_E_INVALID_ARG,
                   "tl_model_step_ids");
  TLT_ASSERT_FAILS(tl_model_step(y, 8, m, x, 2, 4), TL_E_STATE,
                   "tl_model_step_ids");
  TLT_ASSERT_OK(tl_model_add_lstm(m, "rnn", 4, 3, 1, NULL));
  TLT_ASSERT_OK(tl_model_add_concat_pool(m, "pool"));
  TLT_ASSERT_FAILS(tl_model_step_ids(y, 9, m, ids, 1), TL_E_UNSUPPORTED,
                   "'pool'");
  tl_model_free(m);
}
END_TEST

TCase *tlt_model_stream_case(void) {
  TCase *tc = tcase_create("stream");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, lstm_steps_equal_one_step_forwards);
  tcase_add_test(tc, gru_steps_equal_one_step_forwards);
  tcase_add_test(tc, linear_and_embedding_stacks_step);
  tcase_add_test(tc, awd_lstm_lm_steps);
  tcase_add_test(tc, reset_row_restarts_one_sequence);
  tcase_add_test(tc, steps_allocate_nothing_after_prepare);
  tcase_add_test(tc, prepare_keeps_a_carried_state);
  tcase_add_test(tc, a_step_forgets_a_pending_backward_and_keeps_the_mode);
  tcase_add_test(tc, bad_input_is_refused);
  return tc;
}
