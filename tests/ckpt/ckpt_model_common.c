/* Helpers shared by the ckpt_model test files. */
#include "ckpt_model_common.h"

int in_child;

/* Embedding -> 2-layer LSTM -> linear, with every dropout on so that the
 * RNG stream matters for exact resume, and a stateful LSTM (fastai's LM
 * over consecutive BPTT windows) so that the carried state does too. */
tl_model *build_lm_with(uint64_t seed, int stateful) {
  tl_model_options mo;
  OK(tl_model_options_init(&mo, TL_MODEL_OPTIONS_VERSION));
  mo.seed = seed;
  tl_model *m = NULL;
  OK(tl_model_create(&m, &mo));
  tl_embedding_options eo;
  OK(tl_embedding_options_init(&eo, TL_EMBEDDING_OPTIONS_VERSION));
  eo.embed_p = 0.1f;
  OK(tl_model_add_embedding(m, "emb", V, E, &eo));
  tl_lstm_options lo;
  OK(tl_lstm_options_init(&lo, TL_LSTM_OPTIONS_VERSION));
  lo.weight_p = 0.2f;
  lo.input_p = 0.1f;
  lo.hidden_p = 0.15f;
  lo.output_p = 0.1f;
  lo.stateful = stateful;
  OK(tl_model_add_lstm(m, "rnn", E, H, 2, &lo));
  OK(tl_model_add_linear(m, "out", H, V, TL_ACTIVATION_NONE));
  return m;
}

tl_model *build_lm(uint64_t seed) { return build_lm_with(seed, 1); }

void flat_copy(tl_model *m, float **out, size_t *n) {
  float *p = NULL;
  OK(tl_model_flat_params(&p, n, m));
  *out = malloc(*n * sizeof(float));
  memcpy(*out, p, *n * sizeof(float));
}

void assert_flat_equals(tl_model *m, const float *want, size_t n) {
  float *p = NULL;
  size_t got_n = 0;
  OK(tl_model_flat_params(&p, &got_n, m));
  ck_assert_uint_eq(got_n, n);
  ck_assert_msg(memcmp(p, want, n * sizeof(float)) == 0,
                "model parameters differ");
}

void on_report(void *payload, tl_load_issue issue, const char *name) {
  report_log *log = payload;
  if (issue == TL_LOAD_MISSING) {
    log->missing++;
    snprintf(log->last_missing, sizeof log->last_missing, "%s", name);
  } else {
    log->unexpected++;
    snprintf(log->last_unexpected, sizeof log->last_unexpected, "%s", name);
  }
}

tl_model_load_options load_options(int strict, report_log *log) {
  tl_model_load_options o;
  OK(tl_model_load_options_init(&o, TL_MODEL_LOAD_OPTIONS_VERSION));
  o.strict = strict;
  if (log != NULL) {
    memset(log, 0, sizeof *log);
    o.report = on_report;
    o.report_payload = log;
  }
  return o;
}
