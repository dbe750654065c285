/* The helpers of model_test.h. */
#include "model_test.h"

void assert_matches(const char *what, const float *got, const float *want,
                    size_t n, double rel) {
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

void set_flat(tl_model *m, const float *w, size_t n) {
  float *flat = NULL;
  size_t numel = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &numel, m));
  ck_assert_uint_eq(numel, n);
  memcpy(flat, w, n * sizeof(float));
}

const float *grads_of(tl_model *m, size_t *n) {
  float *g = NULL;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, n, m));
  return g;
}

tl_model *emb_lstm_fc(void) {
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

tl_model *linear_stack(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l0", 5, 7, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l1", 7, 6, TL_ACTIVATION_TANH));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l2", 6, 3, TL_ACTIVATION_SIGMOID));
  TLT_ASSERT_OK(tl_model_add_linear(m, "l3", 3, 2, TL_ACTIVATION_NONE));
  set_flat(m, linear_stack_w, N_OF(linear_stack_w));
  return m;
}
