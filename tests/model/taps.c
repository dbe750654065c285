/* tests/model, test case "taps": heads reading lower layers
 * (tl_model_layer_output, tl_model_add_layer_grad) against torch autograd of
 * the same graph with gradients arriving at three depths
 * (tests/fixtures/gen_taps.py); taps forgotten by the next forward, the top
 * layer tapped like dy, bad input changing nothing, no allocation after the
 * first tap at a shape. */
#include "../fixtures/taps_golden.h"
#include "model_test.h"

enum { T = 4, B = 2, V = 9, E = 4, H0 = 5, H1 = 3, O = 6 };

static tl_model *taps_model(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", V, E, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "r0", E, H0, 1, NULL));
  TLT_ASSERT_OK(tl_model_add_lstm(m, "r1", H0, H1, 1, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", H1, O, TL_ACTIVATION_NONE));
  set_flat(m, taps_params, N_OF(taps_params));
  return m;
}

static const size_t ids_dims[2] = {T, B};
static const size_t d0[3] = {T, B, H0}, d1[3] = {T, B, H1},
                    dy_dims[3] = {T, B, O};

static void forward(tl_model *m) {
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, m, taps_ids, ids_dims, 2));
}

START_TEST(taps_match_torch) {
  tl_model *m = taps_model();
  forward(m);
  const float *h0 = NULL;
  size_t hd[TL_MODEL_MAX_DIMS], hn = 0;
  TLT_ASSERT_OK(tl_model_layer_output(&h0, hd, &hn, m, "r0"));
  ck_assert_uint_eq(hn, 3);
  ck_assert(hd[0] == T && hd[1] == B && hd[2] == H0 && hd[3] == 1);
  TLT_ASSERT_ARRAY_CLOSE(h0, taps_h0, T * B * H0, 1e-5, 1e-3);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  /* the head at r0 sends its gradient in two calls: they add up */
  TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r0", taps_t0a, d0, 3));
  TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r0", taps_t0b, d0, 3));
  TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r1", taps_t1, d1, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
  size_t n = 0;
  const float *g = grads_of(m, &n);
  ck_assert_uint_eq(n, N_OF(taps_grads));
  /* float32 against float64: relative to max(|want|, 1% of the largest
   * gradient), as tests/model's assert_matches does with 5% */
  double gmax = 0;
  for (size_t i = 0; i < n; i++)
    gmax = fmax(gmax, fabs(taps_grads[i]));
  TLT_ASSERT_ARRAY_CLOSE(g, taps_grads, n, 1e-5, 0.01 * gmax);
  tl_model_free(m);
}
END_TEST

/* The gradients of a plain backward with dy only, for comparisons. */
static void plain_grads(float *out, size_t n) {
  tl_model *m = taps_model();
  forward(m);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
  size_t k = 0;
  memcpy(out, grads_of(m, &k), n * sizeof *out);
  ck_assert_uint_eq(k, n);
  tl_model_free(m);
}

START_TEST(taps_last_one_backward_and_the_top_layer_is_dy) {
  enum { NP = N_OF(taps_grads) };
  float want[NP];
  plain_grads(want, NP);
  size_t n = 0;
  /* a tap, then a new forward: the tap is forgotten */
  tl_model *m = taps_model();
  forward(m);
  TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r0", taps_t0a, d0, 3));
  forward(m);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
  ck_assert(memcmp(grads_of(m, &n), want, sizeof want) == 0);
  /* the tap used by one backward is not used again */
  TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r1", taps_t1, d1, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
  forward(m);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
  ck_assert(memcmp(grads_of(m, &n), want, sizeof want) == 0);
  /* the top layer tapped with dy and a zero dy: the same gradients */
  static const float zeros[T * B * O] = {0};
  forward(m);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_add_layer_grad(m, "fc", taps_dy, dy_dims, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, zeros, dy_dims, 3));
  ck_assert(memcmp(grads_of(m, &n), want, sizeof want) == 0);
  tl_model_free(m);
}
END_TEST

START_TEST(bad_taps_change_nothing) {
  enum { NP = N_OF(taps_grads) };
  float want[NP];
  plain_grads(want, NP);
  tl_model *m = taps_model();
  const float *y = NULL;
  TLT_ASSERT_FAILS(tl_model_layer_output(&y, NULL, NULL, m, "r0"), TL_E_STATE,
                   "r0");
  TLT_ASSERT_FAILS(tl_model_add_layer_grad(m, "r0", taps_t0a, d0, 3),
                   TL_E_STATE, "forward");
  forward(m);
  TLT_ASSERT_FAILS(tl_model_layer_output(&y, NULL, NULL, m, "nope"),
                   TL_E_NOT_FOUND, "nope");
  TLT_ASSERT_FAILS(tl_model_add_layer_grad(m, "nope", taps_t0a, d0, 3),
                   TL_E_NOT_FOUND, "nope");
  TLT_ASSERT_FAILS(tl_model_add_layer_grad(m, "r1", taps_t0a, d0, 3),
                   TL_E_SHAPE, "r1");
  TLT_ASSERT_FAILS(tl_model_add_layer_grad(m, NULL, taps_t0a, d0, 3),
                   TL_E_INVALID_ARG, "name");
  float bad[T * B * H0];
  memcpy(bad, taps_t0a, sizeof bad);
  bad[7] = NAN;
  TLT_ASSERT_FAILS(tl_model_add_layer_grad(m, "r0", bad, d0, 3), TL_E_NUMERIC,
                   "dy[7]");
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
  ck_assert(memcmp(grads_of(m, &n), want, sizeof want) == 0);
  /* eval mode: the output is readable, no gradient can be added */
  TLT_ASSERT_OK(tl_model_eval(m));
  forward(m);
  TLT_ASSERT_OK(tl_model_layer_output(&y, NULL, NULL, m, "r1"));
  TLT_ASSERT_FAILS(tl_model_add_layer_grad(m, "r1", taps_t1, d1, 3), TL_E_STATE,
                   "train");
  tl_model_free(m);
}
END_TEST

START_TEST(taps_allocate_nothing_after_the_first_call) {
  tlt_counter c;
  tlt_counter_install(&c);
  tl_model *m = taps_model();
  for (int it = 0; it < 3; it++) {
    const size_t before = c.allocs;
    forward(m);
    TLT_ASSERT_OK(tl_model_zero_grad(m));
    TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r0", taps_t0a, d0, 3));
    TLT_ASSERT_OK(tl_model_add_layer_grad(m, "r1", taps_t1, d1, 3));
    TLT_ASSERT_OK(tl_model_backward(NULL, m, taps_dy, dy_dims, 3));
    if (it > 0)
      ck_assert_uint_eq(c.allocs, before);
  }
  tl_model_free(m);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

TCase *tlt_model_taps_case(void) {
  TCase *tc = tcase_create("taps");
  tcase_add_test(tc, taps_match_torch);
  tcase_add_test(tc, taps_last_one_backward_and_the_top_layer_is_dy);
  tcase_add_test(tc, bad_taps_change_nothing);
  tcase_add_test(tc, taps_allocate_nothing_after_the_first_call);
  return tc;
}
