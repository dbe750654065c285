/* tests/model, test case "groups": layer groups and trainability: fastai
 * freeze_to, a frozen encoder skipping backward work, feature-extraction mode,
 * element masks. */
#include "model_test.h"

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

TCase *tlt_model_groups_case(void) {
  TCase *tc = tcase_create("groups");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc,
                 freeze_to_follows_fastai_and_frozen_params_get_no_gradient);
  tcase_add_test(tc, a_frozen_encoder_costs_no_backward_work);
  tcase_add_test(tc, feature_extraction_mode);
  tcase_add_test(tc, element_masks_are_validated);
  return tc;
}
