/* tests/model, test case "gru": the GRU kernel and layer against
 * torch.nn.GRU with identical weights (tests/fixtures/gen_gru.py) and
 * against finite differences; stacking, ids input, weight drop and locked
 * dropout between layers, stateful windows with
 * truncated BPTT, the carried state in checkpoints, groups and freezing,
 * argument checks and allocation-free hot paths. */
#include "kernels/gru.h"
#include "../fixtures/gru_golden.h"
#include "model_test.h"
#include "tl/ckpt.h"

static tl_model *gru_model(size_t in, size_t hidden, size_t layers, size_t out,
                           int stateful) {
  tl_gru_options go;
  TLT_ASSERT_OK(tl_gru_options_init(&go, TL_GRU_OPTIONS_VERSION));
  go.stateful = stateful;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_gru(m, "rnn", in, hidden, layers, &go));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", hidden, out, TL_ACTIVATION_NONE));
  return m;
}

START_TEST(kernel_matches_torch) {
  /* GRU(3, 4, 1), T=5, B=2, with h0 and dL/dhN */
  enum { T = 5, B = 2, I = 3, H = 4, G = 3 * H };
  const float *w = gru_kernel_w;
  const tli_gru_params p = {w, w + G * I, w + G * I + G * H,
                            w + G * I + G * H + G};
  const tli_gru_dims d = {T, B, I, H};
  float y[T * B * H], hn[B * H], y2[T * B * H], hn2[B * H];
  float reserve[4 * T * B * H], ws[6 * T * B * H + B * H];
  ck_assert_uint_eq(tli_gru_reserve_size(&d), N_OF(reserve));
  ck_assert_uint_le(tli_gru_forward_workspace_size(&d), N_OF(ws));
  ck_assert_uint_eq(tli_gru_backward_workspace_size(&d), N_OF(ws));
  tli_gru_forward(&d, &p, gru_kernel_x, gru_kernel_h0, y, hn, reserve, ws);
  assert_matches("y", y, gru_kernel_y, N_OF(y), 1e-5);
  assert_matches("hN", hn, gru_kernel_hn, N_OF(hn), 1e-5);
  /* inference (no reserve) computes the same bits */
  tli_gru_forward(&d, &p, gru_kernel_x, gru_kernel_h0, y2, hn2, NULL, ws);
  ck_assert_int_eq(memcmp(y, y2, sizeof y), 0);
  ck_assert_int_eq(memcmp(hn, hn2, sizeof hn), 0);

  float g[N_OF(gru_kernel_w)], dx[T * B * I], dh0[B * H];
  for (size_t i = 0; i < N_OF(g); i++)
    g[i] = 1.0f; /* parameter gradients accumulate */
  tli_gru_grads grads = {g, g + G * I, g + G * I + G * H,
                         g + G * I + G * H + G};
  const tli_gru_backward_args a = {gru_kernel_x,  gru_kernel_h0,  y,  reserve,
                                   gru_kernel_dy, gru_kernel_dhn, dx, dh0};
  tli_gru_backward(&d, &p, &a, &grads, ws);
  for (size_t i = 0; i < N_OF(g); i++)
    g[i] -= 1.0f;
  assert_matches("grad", g, gru_kernel_grad, N_OF(g), 1e-5);
  assert_matches("dx", dx, gru_kernel_dx, N_OF(dx), 1e-5);
  assert_matches("dh0", dh0, gru_kernel_dh0, N_OF(dh0), 1e-5);
}
END_TEST

START_TEST(stacked_gru_matches_torch_and_finite_differences) {
  /* GRU(3, 5, 2) -> Linear(5, 2) on float input (T=4, B=3) */
  tl_model *m = gru_model(3, 5, 2, 2, 0);
  set_flat(m, gru_model_w, N_OF(gru_model_w));
  const char *want[] = {"rnn.weight_ih_l0", "rnn.weight_hh_l0",
                        "rnn.bias_ih_l0",   "rnn.bias_hh_l0",
                        "rnn.weight_ih_l1", "rnn.weight_hh_l1",
                        "rnn.bias_ih_l1",   "rnn.bias_hh_l1",
                        "fc.weight",        "fc.bias"};
  size_t np = 0;
  TLT_ASSERT_OK(tl_model_num_params(&np, m));
  ck_assert_uint_eq(np, N_OF(want));
  for (size_t i = 0; i < np; i++) {
    const char *name = NULL;
    TLT_ASSERT_OK(tl_model_param_name(&name, m, i));
    ck_assert_str_eq(name, want[i]);
  }
  size_t ndim = 0, pd[TL_MODEL_MAX_DIMS], numel = 0;
  TLT_ASSERT_OK(tl_model_param_shape(&ndim, pd, &numel, m, "rnn.weight_hh_l1"));
  ck_assert(ndim == 2 && pd[0] == 15 && pd[1] == 5);

  const size_t dims[3] = {4, 3, 3};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
  ck_assert(ond == 3 && od[0] == 4 && od[1] == 3 && od[2] == 2);
  assert_matches("y", y, gru_model_y, N_OF(gru_model_y), 1e-5);
  TLT_ASSERT_OK(tl_model_backward(&dx, m, gru_model_dy, od, ond));
  const float *g = grads_of(m, &n);
  assert_matches("grad", g, gru_model_grad, n, 1e-5);
  assert_matches("dx", dx, gru_model_dx, N_OF(gru_model_dx), 1e-5);
  /* eval runs the inference path: same output */
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
  assert_matches("eval y", y, gru_model_y, N_OF(gru_model_y), 1e-5);
  TLT_ASSERT_OK(tl_model_train(m));

  /* central finite differences of sum(y * dy) over every parameter and
   * every input element, in float32 */
  float *w = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  float x[N_OF(gru_model_x)];
  memcpy(x, gru_model_x, sizeof x);
  const float h = 1e-2f;
  for (size_t i = 0; i < n + N_OF(x); i++) {
    float *v = i < n ? &w[i] : &x[i - n];
    const float v0 = *v;
    double l[2];
    for (int s = 0; s < 2; s++) {
      *v = v0 + (s ? -h : h);
      TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, x, dims, 3));
      l[s] = 0.0;
      for (size_t j = 0; j < N_OF(gru_model_dy); j++)
        l[s] += (double)y[j] * gru_model_dy[j];
    }
    *v = v0;
    const double fd = (l[0] - l[1]) / (2.0 * (double)h);
    const double an = i < n ? gru_model_grad[i] : gru_model_dx[i - n];
    ck_assert_msg(fabs(fd - an) <= 2e-3 * fmax(1.0, fabs(fd)),
                  "element %zu: torch %.7g, finite difference %.7g", i, an, fd);
  }
  tl_model_free(m);
}
END_TEST

/* sum(y * dy) of a train-mode forward whose masks are redrawn from the
 * same seed (the test reaches the model's RNG). */
static double dropped_loss(tl_model *m, const float *x) {
  tli_rng_seed(&m->rng, 77);
  const size_t dims[3] = {4, 3, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, x, dims, 3));
  double s = 0.0;
  for (size_t j = 0; j < N_OF(gru_model_dy); j++)
    s += (double)y[j] * gru_model_dy[j];
  return s;
}

START_TEST(weight_drop_and_hidden_dropout_train_only_and_differentiate) {
  tl_gru_options go;
  TLT_ASSERT_OK(tl_gru_options_init(&go, TL_GRU_OPTIONS_VERSION));
  go.weight_p = 0.3f;
  go.hidden_p = 0.25f;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_gru(m, "rnn", 3, 5, 2, &go));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 5, 2, TL_ACTIVATION_NONE));
  set_flat(m, gru_model_w, N_OF(gru_model_w));
  const size_t dims[3] = {4, 3, 3};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  /* eval: no dropout, torch's output */
  TLT_ASSERT_OK(tl_model_eval(m));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
  assert_matches("eval y", y, gru_model_y, N_OF(gru_model_y), 1e-5);
  /* train: the masks change the output */
  TLT_ASSERT_OK(tl_model_train(m));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
  double diff = 0.0;
  for (size_t i = 0; i < N_OF(gru_model_y); i++)
    diff = fmax(diff, fabs((double)y[i] - gru_model_y[i]));
  ck_assert_msg(diff > 1e-3, "dropout changed nothing (%g)", diff);

  /* backward of the masked forward against central finite differences over
   * every parameter and input element */
  float x[N_OF(gru_model_x)];
  memcpy(x, gru_model_x, sizeof x);
  dropped_loss(m, x);
  TLT_ASSERT_OK(tl_model_backward(&dx, m, gru_model_dy, od, ond));
  float dx0[N_OF(gru_model_x)];
  memcpy(dx0, dx, sizeof dx0);
  const float *g = grads_of(m, &n);
  float *w = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  const float h = 1e-2f;
  for (size_t i = 0; i < n + N_OF(x); i++) {
    float *v = i < n ? &w[i] : &x[i - n];
    const float v0 = *v;
    *v = v0 + h;
    const double lp = dropped_loss(m, x);
    *v = v0 - h;
    const double lm = dropped_loss(m, x);
    *v = v0;
    const double fd = (lp - lm) / (2.0 * (double)h);
    const double an = i < n ? g[i] : dx0[i - n];
    ck_assert_msg(fabs(fd - an) <= 2e-3 * fmax(1.0, fabs(fd)),
                  "element %zu: backward %.7g, finite difference %.7g", i, an,
                  fd);
  }
  tl_model_free(m);
}
END_TEST

START_TEST(embedding_gru_linear_matches_torch) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_embedding(m, "emb", 9, 4, NULL));
  TLT_ASSERT_OK(tl_model_add_gru(m, "rnn", 4, 6, 2, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 6, 3, TL_ACTIVATION_NONE));
  set_flat(m, gru_emb_w, N_OF(gru_emb_w));
  const size_t dims[2] = {3, 2};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  TLT_ASSERT_OK(tl_model_forward_ids(&y, od, &ond, m, gru_emb_ids, dims, 2));
  assert_matches("y", y, gru_emb_y, N_OF(gru_emb_y), 1e-5);
  TLT_ASSERT_OK(tl_model_backward(NULL, m, gru_emb_dy, od, ond));
  assert_matches("grad", grads_of(m, &n), gru_emb_grad, N_OF(gru_emb_grad),
                 1e-5);
  ck_assert_uint_eq(n, N_OF(gru_emb_grad));
  tl_model_free(m);
}
END_TEST

START_TEST(stateful_gru_carries_h_and_truncates_backward) {
  /* window 2 starts from window 1's final h (torch: hn.detach()) */
  const size_t dims[3] = {3, 2, 2};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0;
  for (int mode = 0; mode < 2; mode++) { /* train, then eval */
    tl_model *m = gru_model(2, 3, 2, 2, 1);
    set_flat(m, gru_stateful_w, N_OF(gru_stateful_w));
    if (mode)
      TLT_ASSERT_OK(tl_model_eval(m));
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_stateful_x1, dims, 3));
    assert_matches("y1", y, gru_stateful_y1, N_OF(gru_stateful_y1), 1e-5);
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_stateful_x2, dims, 3));
    assert_matches("y2", y, gru_stateful_y2, N_OF(gru_stateful_y2), 1e-5);
    if (!mode) {
      TLT_ASSERT_OK(tl_model_backward(NULL, m, gru_stateful_dy2, od, ond));
      assert_matches("grad2", grads_of(m, &n), gru_stateful_grad2,
                     N_OF(gru_stateful_grad2), 1e-5);
    }
    /* a reset starts from zeros: window 1's output again */
    TLT_ASSERT_OK(tl_model_reset_state(m));
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_stateful_x1, dims, 3));
    assert_matches("reset", y, gru_stateful_y1, N_OF(gru_stateful_y1), 1e-6);
    tl_model_free(m);
  }
}
END_TEST

START_TEST(carried_gru_state_is_saved_and_restored_by_name) {
  tl_model *a = gru_model(2, 3, 2, 2, 1), *b = gru_model(2, 3, 2, 2, 1);
  set_flat(a, gru_stateful_w, N_OF(gru_stateful_w));
  const size_t dims[3] = {3, 2, 2};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_eval(a));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, a, gru_stateful_x1, dims, 3));
  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&c));
  TLT_ASSERT_OK(tl_ckpt_store_model(c, a, NULL));
  size_t idx = 0;
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, c, "@state.rnn"));
  tl_ckpt_tensor_desc info = TL_CKPT_TENSOR_DESC_INIT;
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&info, c, idx));
  /* one vector (h) per stacked layer and batch row */
  ck_assert(info.rank == 4 && info.shape[0] == 1 && info.shape[1] == 2 &&
            info.shape[2] == 2 && info.shape[3] == 3);
  TLT_ASSERT_OK(tl_ckpt_restore_model(b, c, NULL));
  TLT_ASSERT_OK(tl_model_eval(b));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, b, gru_stateful_x2, dims, 3));
  assert_matches("restored y2", y, gru_stateful_y2, N_OF(gru_stateful_y2),
                 1e-5);
  /* a state of the wrong shape is refused before anything changes */
  tl_model *wide = gru_model(2, 3, 1, 2, 1);
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(wide, c, NULL), TL_E_SHAPE,
                   "@state.rnn");
  tl_model_free(wide);
  tl_ckpt_free(c);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(frozen_gru_gets_no_gradient_and_groups_apply) {
  tl_model *m = gru_model(3, 5, 2, 2, 0);
  set_flat(m, gru_model_w, N_OF(gru_model_w));
  size_t group = 9;
  TLT_ASSERT_OK(tl_model_get_group(&group, m, "rnn"));
  ck_assert_uint_eq(group, 0);
  TLT_ASSERT_OK(tl_model_freeze(m)); /* everything but the last group */
  const size_t dims[3] = {4, 3, 3};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0, n = 0, off = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, gru_model_dy, od, ond));
  const float *g = grads_of(m, &n);
  TLT_ASSERT_OK(tl_model_param_offset(&off, m, "fc.weight"));
  for (size_t i = 0; i < off; i++)
    ck_assert(g[i] == 0.0f);
  assert_matches("head", g + off, gru_model_grad + off, n - off, 1e-5);
  /* backward stopped above the frozen GRU: not even the head's dx */
  ck_assert_ptr_null(m->layers[1].dx.p);
  ck_assert_ptr_null(m->layers[0].dx.p);
  /* unfrozen with the head's group merged into the GRU's, both train */
  TLT_ASSERT_OK(tl_model_set_group(m, "fc", 0));
  TLT_ASSERT_OK(tl_model_unfreeze(m));
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
  TLT_ASSERT_OK(tl_model_backward(NULL, m, gru_model_dy, od, ond));
  assert_matches("all", grads_of(m, &n), gru_model_grad, n, 1e-5);
  tl_model_free(m);
}
END_TEST

START_TEST(gru_arguments_are_checked) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  tl_gru_options go;
  TLT_ASSERT_FAILS(tl_gru_options_init(NULL, TL_GRU_OPTIONS_VERSION),
                   TL_E_INVALID_ARG, "out");
  TLT_ASSERT_FAILS(tl_gru_options_init(&go, 99), TL_E_UNSUPPORTED, "version");
  TLT_ASSERT_OK(tl_gru_options_init(&go, TL_GRU_OPTIONS_VERSION));
  TLT_ASSERT_FAILS(tl_model_add_gru(NULL, "g", 3, 4, 1, NULL), TL_E_INVALID_ARG,
                   "model");
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 0, 4, 1, NULL), TL_E_INVALID_ARG,
                   "input_size");
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 0, 1, NULL), TL_E_INVALID_ARG,
                   "hidden_size");
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 4, 0, NULL), TL_E_INVALID_ARG,
                   "num_layers");
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 4, 17, NULL), TL_E_INVALID_ARG,
                   "num_layers");
  go.stateful = 2;
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 4, 1, &go), TL_E_INVALID_ARG,
                   "stateful");
  go.stateful = 0;
  go.weight_p = 1.0f;
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 4, 1, &go), TL_E_INVALID_ARG,
                   "weight_p");
  go.weight_p = 0.0f;
  go.hidden_p = NAN;
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 4, 1, &go), TL_E_INVALID_ARG,
                   "hidden_p");
  go.hidden_p = 0.0f;
  go.version = 7;
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 3, 4, 1, &go), TL_E_UNSUPPORTED,
                   "version");
  TLT_ASSERT_OK(tl_model_add_gru(m, "g", 3, 4, 1, NULL));
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "g", 4, 4, 1, NULL), TL_E_STATE, "g");
  TLT_ASSERT_FAILS(tl_model_add_gru(m, "h", 5, 4, 1, NULL), TL_E_SHAPE,
                   "input size");
  size_t nl = 0;
  TLT_ASSERT_OK(tl_model_num_layers(&nl, m));
  ck_assert_uint_eq(nl, 1);
  /* a GRU needs (T, B, F) */
  const size_t dims2[2] = {2, 3};
  const float x[6] = {0};
  const float *y = NULL;
  TLT_ASSERT_FAILS(tl_model_forward(&y, NULL, NULL, m, x, dims2, 2), TL_E_SHAPE,
                   "(gru)");
  tl_model_free(m);
}
END_TEST

START_TEST(gru_hot_paths_allocate_nothing_after_the_first_call) {
  tlt_counter c;
  tlt_counter_install(&c);
  tl_gru_options go;
  TLT_ASSERT_OK(tl_gru_options_init(&go, TL_GRU_OPTIONS_VERSION));
  go.stateful = 1;
  go.weight_p = 0.2f;
  go.hidden_p = 0.2f;
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_gru(m, "rnn", 3, 5, 2, &go));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 5, 2, TL_ACTIVATION_NONE));
  const size_t dims[3] = {4, 3, 3};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  for (int it = 0; it < 3; it++) {
    const size_t before = c.allocs;
    TLT_ASSERT_OK(tl_model_zero_grad(m));
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
    TLT_ASSERT_OK(tl_model_backward(&dx, m, gru_model_dy, od, ond));
    if (it > 0)
      ck_assert_uint_eq(c.allocs, before);
  }
  TLT_ASSERT_OK(tl_model_eval(m));
  for (int it = 0; it < 2; it++) {
    const size_t before = c.allocs;
    TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, gru_model_x, dims, 3));
    ck_assert_uint_eq(c.allocs, before);
  }
  tl_model_free(m);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

TCase *tlt_model_gru_case(void) {
  TCase *tc = tcase_create("gru");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, kernel_matches_torch);
  tcase_add_test(tc, stacked_gru_matches_torch_and_finite_differences);
  tcase_add_test(tc,
                 weight_drop_and_hidden_dropout_train_only_and_differentiate);
  tcase_add_test(tc, embedding_gru_linear_matches_torch);
  tcase_add_test(tc, stateful_gru_carries_h_and_truncates_backward);
  tcase_add_test(tc, carried_gru_state_is_saved_and_restored_by_name);
  tcase_add_test(tc, frozen_gru_gets_no_gradient_and_groups_apply);
  tcase_add_test(tc, gru_arguments_are_checked);
  tcase_add_test(tc, gru_hot_paths_allocate_nothing_after_the_first_call);
  return tc;
}
