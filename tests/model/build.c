/* tests/model, test case "build": building the stack: PyTorch names, shapes and
 * offsets, ties between models, adding layers to a model that already has
 * values. */
#include "model_test.h"

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

TCase *tlt_model_build_case(void) {
  TCase *tc = tcase_create("build");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, parameter_names_shapes_and_offsets_follow_pytorch);
  tcase_add_test(tc, tie_cycles_and_bad_ties_are_refused);
  tcase_add_test(tc, adding_a_layer_keeps_values_and_moves_views);
  return tc;
}
