/* tests/model, test case "batchnorm": BatchNorm1d against
 * torch.nn.BatchNorm1d with identical weights
 * (tests/fixtures/gen_batchnorm.py) in train and eval mode, running
 * statistics over several forwards, the frozen layer of train_bn 0
 * (eval-mode normalisation inside a train-mode model), finite differences,
 * buffers (API, checkpoints bit for bit, untouched by optimizers), freezing
 * with train_bn 1 and 0, bad input and allocation-free hot paths. */
/* tl_lr_find (which must restore the statistics) is experimental. */
#define TL_EXPERIMENTAL_API
#include <unistd.h>

#include "../fixtures/batchnorm_golden.h"
#include "model_test.h"
#include "tl/ckpt.h"
#include "tl/optim.h"

/* BatchNorm1d(f) alone, with options o (NULL: defaults). */
static tl_model *bn_model(size_t f, const tl_batchnorm_options *o) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(m, "bn", f, o));
  return m;
}

/* The bn_head golden's model: Linear(4, 6) ReLU -> BN(6) -> Linear(6, 3),
 * weights set. */
static tl_model *head_model(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc1", 4, 6, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(m, "bn", 6, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc2", 6, 3, TL_ACTIVATION_NONE));
  set_flat(m, bn_head_w, N_OF(bn_head_w));
  return m;
}

static void set_affine(tl_model *m, const float *w, const float *b, size_t f) {
  TLT_ASSERT_OK(tl_model_param_set(m, "bn.weight", w, f));
  TLT_ASSERT_OK(tl_model_param_set(m, "bn.bias", b, f));
}

/* A float buffer as floats (through the read-only view). */
static const float *buf(const tl_model *m, const char *name) {
  const float *v = NULL;
  TLT_ASSERT_OK(tl_model_buffer_view(&v, m, name));
  return v;
}

static int64_t count_of(const tl_model *m, const char *name) {
  double c = -1.0;
  TLT_ASSERT_OK(tl_model_buffer_get(&c, 1, m, name));
  return (int64_t)c;
}

/* y of a (rows, f) forward of m on x (output (rows, any)). */
static const float *fwd(tl_model *m, const float *x, size_t rows, size_t f) {
  const size_t dims[2] = {rows, f};
  const float *y = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, x, dims, 2));
  ck_assert(ond == 2 && od[0] == rows);
  return y;
}

static const float *bwd(tl_model *m, const float *dy, size_t rows, size_t f) {
  const size_t dims[2] = {rows, f};
  const float *dx = NULL;
  TLT_ASSERT_OK(tl_model_backward(&dx, m, dy, dims, 2));
  return dx;
}

/* The five-feature model of bn_train after its three train forwards. */
static tl_model *trained_bn(void) {
  tl_model *m = bn_model(5, NULL);
  set_affine(m, bn_train_w, bn_train_b, 5);
  fwd(m, bn_train_x1, 6, 5);
  fwd(m, bn_train_x2, 6, 5);
  fwd(m, bn_train_x3, 6, 5);
  return m;
}

START_TEST(names_shapes_and_initial_values) {
  tl_model *m = bn_model(5, NULL);
  size_t np = 0, nb = 0, ndim = 9, dims[TL_MODEL_MAX_DIMS], numel = 0;
  TLT_ASSERT_OK(tl_model_num_params(&np, m));
  TLT_ASSERT_OK(tl_model_num_buffers(&nb, m));
  ck_assert_uint_eq(np, 2);
  ck_assert_uint_eq(nb, 3);
  const char *pn = NULL, *bn_names[] = {"bn.running_mean", "bn.running_var",
                                        "bn.num_batches_tracked"};
  TLT_ASSERT_OK(tl_model_param_name(&pn, m, 0));
  ck_assert_str_eq(pn, "bn.weight");
  TLT_ASSERT_OK(tl_model_param_name(&pn, m, 1));
  ck_assert_str_eq(pn, "bn.bias");
  for (size_t i = 0; i < nb; i++) {
    TLT_ASSERT_OK(tl_model_buffer_name(&pn, m, i));
    ck_assert_str_eq(pn, bn_names[i]);
  }
  /* buffers are not in the flat parameter buffer */
  float *flat = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &n, m));
  ck_assert_uint_eq(n, 10);
  for (size_t i = 0; i < 5; i++) {
    ck_assert(flat[i] == 1.0f && flat[5 + i] == 0.0f); /* torch's init */
    ck_assert(buf(m, "bn.running_mean")[i] == 0.0f);
    ck_assert(buf(m, "bn.running_var")[i] == 1.0f);
  }
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 0);
  TLT_ASSERT_OK(
      tl_model_buffer_shape(&ndim, dims, &numel, m, "bn.running_var"));
  ck_assert(ndim == 1 && dims[0] == 5 && dims[1] == 1 && numel == 5);
  TLT_ASSERT_OK(
      tl_model_buffer_shape(&ndim, dims, &numel, m, "bn.num_batches_tracked"));
  ck_assert(ndim == 0 && dims[0] == 1 && numel == 1);
  /* non-affine: no parameters, the same buffers; adding it draws nothing
   * from the RNG (a later layer is initialised as without it) */
  tl_batchnorm_options o = TL_BATCHNORM_OPTIONS_INIT;
  o.affine = 0;
  tl_model *a = NULL, *b = NULL;
  TLT_ASSERT_OK(tl_model_create(&a, NULL));
  TLT_ASSERT_OK(tl_model_create(&b, NULL));
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(a, "bn", 3, &o));
  TLT_ASSERT_OK(tl_model_add_linear(a, "fc", 3, 2, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(b, "bn", 3, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(b, "fc", 3, 2, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_num_params(&np, a));
  ck_assert_uint_eq(np, 2); /* fc only */
  float wa[8], wb[8];
  TLT_ASSERT_OK(tl_model_param_get(wa, 6, a, "fc.weight"));
  TLT_ASSERT_OK(tl_model_param_get(wb, 6, b, "fc.weight"));
  ck_assert_int_eq(memcmp(wa, wb, 6 * sizeof(float)), 0);
  tl_model_free(a);
  tl_model_free(b);
  tl_model_free(m);
}
END_TEST

START_TEST(train_mode_matches_torch_with_running_statistics) {
  tl_model *m = bn_model(5, NULL);
  set_affine(m, bn_train_w, bn_train_b, 5);
  const float *xs[3] = {bn_train_x1, bn_train_x2, bn_train_x3};
  const float *ys[3] = {bn_train_y1, bn_train_y2, bn_train_y3};
  const float *rm[3] = {bn_train_rmean1, bn_train_rmean2, bn_train_rmean3};
  const float *rv[3] = {bn_train_rvar1, bn_train_rvar2, bn_train_rvar3};
  const float *y = NULL;
  for (int k = 0; k < 3; k++) {
    y = fwd(m, xs[k], 6, 5);
    assert_matches("y", y, ys[k], 30, 1e-5);
    assert_matches("running_mean", buf(m, "bn.running_mean"), rm[k], 5, 1e-5);
    assert_matches("running_var", buf(m, "bn.running_var"), rv[k], 5, 1e-5);
    ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), k + 1);
  }
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  const float *dx = bwd(m, bn_train_dy, 6, 5);
  assert_matches("dx", dx, bn_train_dx, 30, 1e-5);
  size_t n = 0;
  const float *g = grads_of(m, &n);
  assert_matches("dweight", g, bn_train_dw, 5, 1e-5);
  assert_matches("dbias", g + 5, bn_train_db, 5, 1e-5);

  /* eval mode: the running statistics, which stay as they are */
  float mean0[5], var0[5];
  memcpy(mean0, buf(m, "bn.running_mean"), sizeof mean0);
  memcpy(var0, buf(m, "bn.running_var"), sizeof var0);
  TLT_ASSERT_OK(tl_model_eval(m));
  y = fwd(m, bn_eval_x, 4, 5);
  assert_matches("eval y", y, bn_eval_y, 20, 1e-5);
  ck_assert_int_eq(memcmp(mean0, buf(m, "bn.running_mean"), sizeof mean0), 0);
  ck_assert_int_eq(memcmp(var0, buf(m, "bn.running_var"), sizeof var0), 0);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 3);
  /* one row is fine in eval mode */
  y = fwd(m, bn_eval_x, 1, 5);
  assert_matches("eval y row 0", y, bn_eval_y, 5, 1e-5);
  tl_model_free(m);
}
END_TEST

START_TEST(non_affine_3d_input_is_rows_and_matches_torch) {
  tl_batchnorm_options o;
  TLT_ASSERT_OK(tl_batchnorm_options_init(&o, TL_BATCHNORM_OPTIONS_VERSION));
  ck_assert(o.momentum == 0.1 && o.eps == 1e-5 && o.affine == 1);
  o.momentum = 0.3;
  o.eps = 1e-3;
  o.affine = 0;
  tl_model *m = bn_model(4, &o);
  const size_t dims[3] = {3, 2, 4};
  const float *y = NULL, *dx = NULL;
  size_t od[TL_MODEL_MAX_DIMS], ond = 0;
  TLT_ASSERT_OK(tl_model_forward(&y, od, &ond, m, bn_plain_x, dims, 3));
  ck_assert(ond == 3 && od[0] == 3 && od[1] == 2 && od[2] == 4);
  assert_matches("y", y, bn_plain_y, 24, 1e-5);
  TLT_ASSERT_OK(tl_model_backward(&dx, m, bn_plain_dy, od, ond));
  assert_matches("dx", dx, bn_plain_dx, 24, 1e-5);
  assert_matches("running_mean", buf(m, "bn.running_mean"), bn_plain_rmean, 4,
                 1e-5);
  assert_matches("running_var", buf(m, "bn.running_var"), bn_plain_rvar, 4,
                 1e-5);
  tl_model_free(m);
}
END_TEST

START_TEST(head_matches_torch) {
  tl_model *m = head_model();
  const float *y = fwd(m, bn_head_x, 5, 4);
  assert_matches("y", y, bn_head_y, 15, 1e-5);
  const float *dx = NULL;
  const size_t dims[2] = {5, 3};
  TLT_ASSERT_OK(tl_model_backward(&dx, m, bn_head_dy, dims, 2));
  size_t n = 0;
  const float *g = grads_of(m, &n);
  ck_assert_uint_eq(n, N_OF(bn_head_grad));
  assert_matches("grad", g, bn_head_grad, n, 1e-5);
  assert_matches("dx", dx, bn_head_dx, 20, 1e-5);
  assert_matches("running_mean", buf(m, "bn.running_mean"), bn_head_rmean, 6,
                 1e-5);
  assert_matches("running_var", buf(m, "bn.running_var"), bn_head_rvar, 6,
                 1e-5);
  tl_model_free(m);
}
END_TEST

START_TEST(frozen_layer_with_train_bn_0_keeps_its_statistics) {
  tl_model *m = trained_bn();
  float mean0[5], var0[5];
  memcpy(mean0, buf(m, "bn.running_mean"), sizeof mean0);
  memcpy(var0, buf(m, "bn.running_var"), sizeof var0);
  int v = -1;
  TLT_ASSERT_OK(tl_model_get_train_bn(&v, m));
  ck_assert_int_eq(v, 1); /* fastai's default */
  TLT_ASSERT_OK(tl_model_set_train_bn(m, 0));
  TLT_ASSERT_OK(tl_model_get_train_bn(&v, m));
  ck_assert_int_eq(v, 0);
  TLT_ASSERT_OK(tl_model_freeze_to(m, 1)); /* its one group frozen */
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 0);
  int training = 0;
  TLT_ASSERT_OK(tl_model_is_training(&training, m));
  ck_assert_int_eq(training, 1);

  /* train mode, yet torch's eval-mode numbers; one row is allowed */
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  const float *y = fwd(m, bn_eval_x, 4, 5);
  assert_matches("y", y, bn_eval_y, 20, 1e-5);
  const float *dx = bwd(m, bn_eval_dy, 4, 5);
  assert_matches("dx", dx, bn_eval_dx, 20, 1e-5);
  size_t n = 0;
  const float *g = grads_of(m, &n);
  for (size_t i = 0; i < n; i++)
    ck_assert(g[i] == 0.0f); /* the affine map is frozen */
  ck_assert_int_eq(memcmp(mean0, buf(m, "bn.running_mean"), sizeof mean0), 0);
  ck_assert_int_eq(memcmp(var0, buf(m, "bn.running_var"), sizeof var0), 0);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 3);
  fwd(m, bn_eval_x, 1, 5);

  /* per-parameter flags stay explicit: thawed weight and bias get torch's
   * eval-mode gradients while the statistics stay fixed */
  TLT_ASSERT_OK(tl_model_set_param_trainable(m, "bn.weight", 1));
  TLT_ASSERT_OK(tl_model_set_param_trainable(m, "bn.bias", 1));
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  fwd(m, bn_eval_x, 4, 5);
  dx = bwd(m, bn_eval_dy, 4, 5);
  assert_matches("dx", dx, bn_eval_dx, 20, 1e-5);
  assert_matches("dweight", g, bn_eval_dw, 5, 1e-5);
  assert_matches("dbias", g + 5, bn_eval_db, 5, 1e-5);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 3);

  /* train_bn back to 1: the frozen group's layer trains again, its
   * statistics update */
  TLT_ASSERT_OK(tl_model_set_train_bn(m, 1));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 1);
  fwd(m, bn_eval_x, 4, 5);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 4);
  ck_assert(memcmp(mean0, buf(m, "bn.running_mean"), sizeof mean0) != 0);
  tl_model_free(m);
}
END_TEST

/* sum(y * dy) of a forward of m on x (rows, f). */
static double loss_of(tl_model *m, const float *x, const float *dy, size_t rows,
                      size_t f) {
  const float *y = fwd(m, x, rows, f);
  double s = 0.0;
  for (size_t j = 0; j < rows * f; j++)
    s += (double)y[j] * dy[j];
  return s;
}

/* Central differences of sum(y * dy) over every parameter and input element
 * against the analytic backward, in float32. */
static void check_finite_differences(tl_model *m, const char *what) {
  enum { R = 6, F = 4 };
  float x[R * F];
  memcpy(x, bn_plain_x, sizeof x);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  fwd(m, x, R, F);
  float dx[R * F], g[2 * F];
  memcpy(dx, bwd(m, bn_plain_dy, R, F), sizeof dx);
  size_t n = 0;
  memcpy(g, grads_of(m, &n), sizeof g);
  ck_assert_uint_eq(n, 2 * F);
  float *w = NULL;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  const float h = 1e-2f;
  for (size_t i = 0; i < n + R * F; i++) {
    float *v = i < n ? &w[i] : &x[i - n];
    const float v0 = *v;
    *v = v0 + h;
    const double lp = loss_of(m, x, bn_plain_dy, R, F);
    *v = v0 - h;
    const double lm = loss_of(m, x, bn_plain_dy, R, F);
    *v = v0;
    const double fd = (lp - lm) / (2.0 * (double)h);
    const double an = i < n ? g[i] : dx[i - n];
    const double err = fabs(fd - an) / fmax(1.0, fabs(fd));
    ck_assert_msg(err <= 2e-3, "%s: element %zu: analytic %.7g, fd %.7g", what,
                  i, an, fd);
  }
}

START_TEST(backward_matches_finite_differences_in_both_modes) {
  enum { F = 4 };
  tl_model *m = bn_model(F, NULL);
  set_affine(m, bn_train_w, bn_train_b, F);
  check_finite_differences(m, "batch statistics");
  /* fixed statistics: a frozen layer under train_bn 0 with its affine
   * parameters thawed explicitly */
  const double mean[F] = {0.5, -1.0, 2.0, 0.25}, var[F] = {2.0, 0.5, 3.0, 1.5};
  TLT_ASSERT_OK(tl_model_buffer_set(m, "bn.running_mean", mean, F));
  TLT_ASSERT_OK(tl_model_buffer_set(m, "bn.running_var", var, F));
  TLT_ASSERT_OK(tl_model_set_train_bn(m, 0));
  TLT_ASSERT_OK(tl_model_freeze(m));
  TLT_ASSERT_OK(tl_model_set_param_trainable(m, "bn.weight", 1));
  TLT_ASSERT_OK(tl_model_set_param_trainable(m, "bn.bias", 1));
  check_finite_differences(m, "running statistics");
  tl_model_free(m);
}
END_TEST

START_TEST(freeze_to_with_train_bn_1_and_0) {
  tl_model *m = head_model();
  tl_model *models[1] = {m};
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_SGD);
  tl_optim *o = NULL;
  TLT_ASSERT_OK(tl_optim_create(&o, models, 1, &oo));
  int v = 0;
  /* train_bn 1 (default): freeze_to(-1) freezes fc1 and the BN group, yet
   * BN's parameters stay trainable and its statistics move */
  TLT_ASSERT_OK(tl_optim_freeze_to(o, -1));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "fc1.weight"));
  ck_assert_int_eq(v, 0);
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 1);
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.bias"));
  ck_assert_int_eq(v, 1);
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "fc2.weight"));
  ck_assert_int_eq(v, 1);
  TLT_ASSERT_OK(tl_model_get_group_trainable(&v, m, 1));
  ck_assert_int_eq(v, 0); /* the group counts as frozen */
  fwd(m, bn_head_x, 5, 4);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 1);
  TLT_ASSERT_OK(tl_model_zero_grad(m));
  const size_t dd[2] = {5, 3};
  TLT_ASSERT_OK(tl_model_backward(NULL, m, bn_head_dy, dd, 2));
  size_t n = 0;
  const float *g = grads_of(m, &n);
  assert_matches("bn grads", g + 30, bn_head_grad + 30, 12, 1e-5);
  for (size_t i = 0; i < 30; i++)
    ck_assert(g[i] == 0.0f); /* fc1 frozen */

  /* train_bn 0: re-applied at once, the frozen BN keeps its statistics */
  TLT_ASSERT_OK(tl_model_set_train_bn(m, 0));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 0);
  fwd(m, bn_head_x, 5, 4);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 1);
  TLT_ASSERT_OK(tl_model_freeze_to(m, -1));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.bias"));
  ck_assert_int_eq(v, 0);
  /* the group thawed: BN trains again */
  TLT_ASSERT_OK(tl_model_set_group_trainable(m, 1, 1));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 1);
  fwd(m, bn_head_x, 5, 4);
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 2);
  /* set_group_trainable(0) with train_bn 1 leaves BN trainable */
  TLT_ASSERT_OK(tl_model_set_train_bn(m, 1));
  TLT_ASSERT_OK(tl_model_set_group_trainable(m, 1, 0));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 1);
  TLT_ASSERT_OK(tl_model_unfreeze(m));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "fc1.weight"));
  ck_assert_int_eq(v, 1);
  /* freeze() with train_bn 0 freezes BN */
  TLT_ASSERT_OK(tl_model_set_train_bn(m, 0));
  TLT_ASSERT_OK(tl_model_freeze(m));
  TLT_ASSERT_OK(tl_model_get_param_trainable(&v, m, "bn.weight"));
  ck_assert_int_eq(v, 0);
  TLT_ASSERT_FAILS(tl_model_set_train_bn(m, 2), TL_E_INVALID_ARG, "train_bn");
  TLT_ASSERT_FAILS(tl_model_get_train_bn(NULL, m), TL_E_INVALID_ARG, "out");
  tl_optim_free(o);
  tl_model_free(m);
}
END_TEST

/* Records every buffer's bytes. */
typedef struct snapshot {
  float mean[6], var[6];
  double count;
} snapshot;

static snapshot snap(const tl_model *m) {
  snapshot s;
  memcpy(s.mean, buf(m, "bn.running_mean"), sizeof s.mean);
  memcpy(s.var, buf(m, "bn.running_var"), sizeof s.var);
  TLT_ASSERT_OK(tl_model_buffer_get(&s.count, 1, m, "bn.num_batches_tracked"));
  return s;
}

static void assert_same(const snapshot *a, const snapshot *b) {
  ck_assert_int_eq(memcmp(a->mean, b->mean, sizeof a->mean), 0);
  ck_assert_int_eq(memcmp(a->var, b->var, sizeof a->var), 0);
  ck_assert(a->count == b->count);
}

START_TEST(optimizers_leave_buffers_untouched) {
  const tl_optim_kind kinds[2] = {TL_OPTIM_SGD, TL_OPTIM_ADAM};
  for (int k = 0; k < 2; k++) {
    tl_model *m = head_model();
    tl_model *models[1] = {m};
    tl_optim_options oo;
    TLT_ASSERT_OK(
        tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, kinds[k]));
    oo.lr = 0.1;
    oo.weight_decay = 0.5;
    if (kinds[k] == TL_OPTIM_SGD)
      oo.momentum = 0.9;
    tl_optim *o = NULL;
    TLT_ASSERT_OK(tl_optim_create(&o, models, 1, &oo));
    for (int step = 0; step < 3; step++) {
      TLT_ASSERT_OK(tl_optim_zero_grad(o));
      fwd(m, bn_head_x, 5, 4);
      const size_t dd[2] = {5, 3};
      TLT_ASSERT_OK(tl_model_backward(NULL, m, bn_head_dy, dd, 2));
      const snapshot before = snap(m);
      double norm = 0.0;
      TLT_ASSERT_OK(tl_optim_clip_grad_norm(&norm, o, 0.5));
      TLT_ASSERT_OK(tl_optim_step(o));
      const snapshot after = snap(m);
      assert_same(&before, &after);
      ck_assert(after.count == step + 1);
    }
    /* the parameters did move (the step was not a no-op) */
    float w[6];
    TLT_ASSERT_OK(tl_model_param_get(w, 6, m, "bn.weight"));
    ck_assert(w[0] != bn_head_w[30]);
    tl_optim_free(o);
    tl_model_free(m);
  }
}
END_TEST

/* One lr_find iteration: a train-mode forward (moving the statistics),
 * backward and a step; the loss is 100 + sum(y * dy) (kept positive, as
 * the test's stopping rule expects of a loss). */
static tl_status lr_find_step(void *payload, double *out_loss) {
  void **p = payload;
  tl_model *m = p[0];
  tl_optim *o = p[1];
  const float *y = fwd(m, bn_head_x, 5, 4);
  double s = 100.0;
  for (size_t j = 0; j < 15; j++)
    s += (double)y[j] * bn_head_dy[j];
  const size_t dd[2] = {5, 3};
  tl_status st = tl_optim_zero_grad(o);
  if (st == TL_OK)
    st = tl_model_backward(NULL, m, bn_head_dy, dd, 2);
  if (st != TL_OK)
    return st;
  *out_loss = s;
  return tl_optim_step(o);
}

START_TEST(lr_find_restores_the_statistics) {
  tl_model *m = head_model();
  fwd(m, bn_head_x, 5, 4);
  const snapshot before = snap(m);
  tl_model *models[1] = {m};
  tl_optim_options oo = TL_OPTIM_OPTIONS_INIT(TL_OPTIM_SGD);
  tl_optim *o = NULL;
  TLT_ASSERT_OK(tl_optim_create(&o, models, 1, &oo));
  void *payload[2] = {m, o};
  tl_lr_find_options lo;
  TLT_ASSERT_OK(tl_lr_find_options_init(&lo, TL_LR_FIND_OPTIONS_VERSION));
  lo.num_it = 12;
  lo.stop_factor = 1e9; /* run every iteration */
  double lrs[12], losses[12];
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  TLT_ASSERT_OK(tl_lr_find(&r, lrs, losses, 12, o, lr_find_step, payload, &lo));
  ck_assert_uint_eq(r.n, 12); /* the statistics moved 12 times */
  const snapshot after = snap(m);
  assert_same(&before, &after);
  tl_optim_free(o);
  tl_model_free(m);
}
END_TEST

START_TEST(buffers_round_trip_through_a_checkpoint_bit_for_bit) {
  tl_model *a = head_model();
  fwd(a, bn_head_x, 5, 4);
  fwd(a, bn_head_x + 4, 4, 4);
  const double big = 3000000000.0; /* a count past 2^31 survives */
  TLT_ASSERT_OK(tl_model_buffer_set(a, "bn.num_batches_tracked", &big, 1));
  const snapshot sa = snap(a);
  char dir[] = "/tmp/tl_bn_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/bn.tlckpt", dir);
  TLT_ASSERT_OK(tl_model_save(a, path));

  tl_ckpt *c = NULL;
  TLT_ASSERT_OK(tl_ckpt_load(&c, path, NULL));
  size_t idx = 0;
  tl_ckpt_tensor_desc d = TL_CKPT_TENSOR_DESC_INIT;
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, c, "bn.running_var"));
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&d, c, idx));
  ck_assert(d.dtype == TL_CKPT_F32 && d.rank == 1 && d.shape[0] == 6 &&
            d.group == 1);
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, c, "bn.num_batches_tracked"));
  TLT_ASSERT_OK(tl_ckpt_tensor_info(&d, c, idx));
  ck_assert(d.dtype == TL_CKPT_I64 && d.rank == 0 && d.numel == 1 &&
            d.group == 1);

  tl_model *b = head_model();
  TLT_ASSERT_OK(tl_model_load(b, path, NULL));
  const snapshot sb = snap(b);
  assert_same(&sa, &sb);
  ck_assert(sb.count == big);
  /* and the eval outputs agree bit for bit */
  TLT_ASSERT_OK(tl_model_eval(a));
  TLT_ASSERT_OK(tl_model_eval(b));
  float ya[15];
  memcpy(ya, fwd(a, bn_head_x, 5, 4), sizeof ya);
  ck_assert_int_eq(memcmp(ya, fwd(b, bn_head_x, 5, 4), sizeof ya), 0);

  /* a checkpoint without buffers: strict load names the first missing
   * buffer and changes nothing; non-strict fills the parameters */
  tl_ckpt *old = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&old));
  tl_model *plain = NULL;
  TLT_ASSERT_OK(tl_model_create(&plain, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(plain, "fc1", 4, 6, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_ckpt_store_model(old, plain, NULL));
  tl_model *one = NULL;
  TLT_ASSERT_OK(tl_model_create(&one, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(one, "fc1", 4, 6, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(one, "bn", 6, NULL));
  tl_model_load_options lo = TL_MODEL_LOAD_OPTIONS_INIT;
  lo.strict = 1;
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(one, old, &lo), TL_E_NOT_FOUND,
                   "bn.weight");
  tl_model *bufonly = NULL;
  TLT_ASSERT_OK(tl_model_create(&bufonly, NULL));
  tl_batchnorm_options na = TL_BATCHNORM_OPTIONS_INIT;
  na.affine = 0;
  TLT_ASSERT_OK(tl_model_add_linear(bufonly, "fc1", 4, 6, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(bufonly, "bn", 6, &na));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(bufonly, old, &lo), TL_E_NOT_FOUND,
                   "bn.running_mean");
  lo.strict = 0;
  TLT_ASSERT_OK(tl_ckpt_restore_model(bufonly, old, &lo));
  ck_assert(buf(bufonly, "bn.running_var")[0] == 1.0f); /* kept */
  /* and it loads into the model without BatchNorm as always */
  lo.strict = 1;
  TLT_ASSERT_OK(tl_ckpt_restore_model(plain, old, &lo));

  /* bad buffer tensors are refused before anything changes */
  tl_ckpt *bad = NULL;
  TLT_ASSERT_OK(tl_ckpt_create(&bad));
  TLT_ASSERT_OK(tl_ckpt_store_model(bad, a, NULL));
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.running_var"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  const float negvar[6] = {1, 1, -0.5f, 1, 1, 1};
  const size_t six = 6;
  TLT_ASSERT_OK(
      tl_ckpt_add_tensor(bad, "bn.running_var", TL_CKPT_F32, 1, &six, negvar));
  const snapshot sb0 = snap(b);
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, NULL), TL_E_NUMERIC,
                   "bn.running_var");
  const snapshot sb1 = snap(b);
  assert_same(&sb0, &sb1);
  tl_ckpt_free(bad);
  TLT_ASSERT_OK(tl_ckpt_create(&bad));
  TLT_ASSERT_OK(tl_ckpt_store_model(bad, a, NULL));
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.num_batches_tracked"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  const float fcount = 2.0f;
  TLT_ASSERT_OK(tl_ckpt_add_tensor(bad, "bn.num_batches_tracked", TL_CKPT_F32,
                                   0, NULL, &fcount));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, NULL), TL_E_SHAPE,
                   "num_batches_tracked");

  /* the count: i64 of one element (rank 0 or (1)) and >= 0 */
  const int64_t counts[2] = {5, 6};
  const size_t n1 = 1, two = 2;
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.num_batches_tracked"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(bad, "bn.num_batches_tracked", TL_CKPT_I64,
                                   1, &two, counts));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, NULL), TL_E_SHAPE,
                   "i64 scalar");
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.num_batches_tracked"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  const int64_t negative = -1;
  TLT_ASSERT_OK(tl_ckpt_add_tensor(bad, "bn.num_batches_tracked", TL_CKPT_I64,
                                   0, NULL, &negative));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, NULL), TL_E_NUMERIC,
                   "negative count");
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.num_batches_tracked"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  TLT_ASSERT_OK(tl_ckpt_add_tensor(bad, "bn.num_batches_tracked", TL_CKPT_I64,
                                   1, &n1, counts));
  TLT_ASSERT_OK(tl_ckpt_restore_model(b, bad, NULL));
  ck_assert_int_eq(count_of(b, "bn.num_batches_tracked"), 5);
  /* a statistic: f32 of the buffer's shape */
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.running_mean"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  const double mean64[6] = {0};
  TLT_ASSERT_OK(
      tl_ckpt_add_tensor(bad, "bn.running_mean", TL_CKPT_F64, 1, &six, mean64));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, NULL), TL_E_FORMAT,
                   "bn.running_mean");
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.running_mean"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  const size_t five = 5;
  TLT_ASSERT_OK(tl_ckpt_add_tensor(bad, "bn.running_mean", TL_CKPT_F32, 1,
                                   &five, negvar));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, NULL), TL_E_SHAPE,
                   "shape (6)");
  /* map_to may name a buffer; two tensors may not fill one */
  TLT_ASSERT_OK(tl_ckpt_find_tensor(&idx, bad, "bn.running_mean"));
  TLT_ASSERT_OK(tl_ckpt_remove_tensor(bad, idx));
  const float mean2[6] = {1, 2, 3, 4, 5, 6};
  TLT_ASSERT_OK(
      tl_ckpt_add_tensor(bad, "old.mean", TL_CKPT_F32, 1, &six, mean2));
  const char *from[1] = {"old.mean"}, *to[1] = {"bn.running_mean"};
  tl_model_load_options mo = TL_MODEL_LOAD_OPTIONS_INIT;
  mo.map_from = from, mo.map_to = to, mo.map_n = 1;
  TLT_ASSERT_OK(tl_ckpt_restore_model(b, bad, &mo));
  ck_assert(buf(b, "bn.running_mean")[5] == 6.0f);
  TLT_ASSERT_OK(
      tl_ckpt_add_tensor(bad, "bn.running_mean", TL_CKPT_F32, 1, &six, mean2));
  TLT_ASSERT_FAILS(tl_ckpt_restore_model(b, bad, &mo), TL_E_INVALID_ARG,
                   "both fill buffer");

  tl_ckpt_free(bad);
  tl_model_free(bufonly);
  tl_model_free(one);
  tl_model_free(plain);
  tl_ckpt_free(old);
  tl_model_free(b);
  tl_ckpt_free(c);
  tl_model_free(a);
  unlink(path);
  rmdir(dir);
}
END_TEST

START_TEST(bad_input_is_refused) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  tl_batchnorm_options o = TL_BATCHNORM_OPTIONS_INIT;
  TLT_ASSERT_FAILS(tl_model_add_batchnorm1d(m, "bn", 0, NULL), TL_E_INVALID_ARG,
                   "num_features");
  const double bad_m[3] = {-0.1, 1.5, NAN};
  for (int i = 0; i < 3; i++) {
    o.momentum = bad_m[i];
    TLT_ASSERT_FAILS(tl_model_add_batchnorm1d(m, "bn", 3, &o), TL_E_INVALID_ARG,
                     "momentum");
  }
  o.momentum = 0.1;
  const double bad_e[4] = {0.0, -1e-5, NAN, INFINITY};
  for (int i = 0; i < 4; i++) {
    o.eps = bad_e[i];
    TLT_ASSERT_FAILS(tl_model_add_batchnorm1d(m, "bn", 3, &o), TL_E_INVALID_ARG,
                     "eps");
  }
  o.eps = 1e-5;
  o.affine = 2;
  TLT_ASSERT_FAILS(tl_model_add_batchnorm1d(m, "bn", 3, &o), TL_E_INVALID_ARG,
                   "affine");
  o.affine = 1;
  o.version = 99;
  TLT_ASSERT_FAILS(tl_model_add_batchnorm1d(m, "bn", 3, &o), TL_E_UNSUPPORTED,
                   "options");
  TLT_ASSERT_FAILS(tl_batchnorm_options_init(NULL, 1), TL_E_INVALID_ARG, "out");
  size_t nl = 9;
  TLT_ASSERT_OK(tl_model_num_layers(&nl, m));
  ck_assert_uint_eq(nl, 0); /* nothing was added */
  TLT_ASSERT_OK(tl_model_add_linear(m, "fc", 2, 3, TL_ACTIVATION_NONE));
  TLT_ASSERT_FAILS(tl_model_add_batchnorm1d(m, "bn", 4, NULL), TL_E_SHAPE,
                   "previous layer");
  TLT_ASSERT_OK(tl_model_add_batchnorm1d(m, "bn", 3, NULL));

  /* one row in train mode: torch's "Expected more than 1 value" */
  const float x[4] = {1e30f, 2e30f, -1e30f, 0.5f};
  const size_t one[2] = {1, 2}, two[2] = {2, 2};
  const float *y = NULL;
  TLT_ASSERT_FAILS(tl_model_forward(&y, NULL, NULL, m, x, one, 2), TL_E_SHAPE,
                   "more than 1 value");
  const float nan_x[4] = {1, NAN, 0, 0};
  TLT_ASSERT_FAILS(tl_model_forward(&y, NULL, NULL, m, nan_x, two, 2),
                   TL_E_NUMERIC, "not finite");
  /* Inf reaching the layer from below (overflow): refused, statistics
   * unchanged */
  const float wbig[6] = {1e30f, 1e30f, 1e30f, 1e30f, 0, 0};
  TLT_ASSERT_OK(tl_model_param_set(m, "fc.weight", wbig, 6));
  TLT_ASSERT_FAILS(tl_model_forward(&y, NULL, NULL, m, x, two, 2), TL_E_NUMERIC,
                   "bn");
  ck_assert_int_eq(count_of(m, "bn.num_batches_tracked"), 0);
  ck_assert(buf(m, "bn.running_mean")[0] == 0.0f);
  /* finite inputs whose variance overflows float: refused, statistics
   * unchanged (torch would store Inf) */
  tl_model *solo = bn_model(1, NULL);
  const float huge_x[2] = {3e38f, -3e38f};
  const size_t two1[2] = {2, 1};
  TLT_ASSERT_FAILS(tl_model_forward(&y, NULL, NULL, solo, huge_x, two1, 2),
                   TL_E_NUMERIC, "overflow");
  ck_assert_int_eq(count_of(solo, "bn.num_batches_tracked"), 0);
  ck_assert(buf(solo, "bn.running_var")[0] == 1.0f);
  TLT_ASSERT_OK(tl_model_eval(solo)); /* eval mode updates nothing: fine */
  TLT_ASSERT_OK(tl_model_forward(&y, NULL, NULL, solo, huge_x, two1, 2));
  tl_model_free(solo);

  /* buffer calls */
  const double nanv[3] = {0, NAN, 0}, neg[3] = {1, -1e-3, 1},
               huge[3] = {0, 1e300, 0}, ok[3] = {0.5, 2, 3};
  TLT_ASSERT_FAILS(tl_model_buffer_set(m, "bn.running_mean", nanv, 3),
                   TL_E_NUMERIC, "running_mean");
  TLT_ASSERT_FAILS(tl_model_buffer_set(m, "bn.running_mean", huge, 3),
                   TL_E_NUMERIC, "running_mean");
  TLT_ASSERT_FAILS(tl_model_buffer_set(m, "bn.running_var", neg, 3),
                   TL_E_NUMERIC, ">= 0");
  TLT_ASSERT_FAILS(tl_model_buffer_set(m, "bn.running_var", ok, 2), TL_E_SHAPE,
                   "running_var");
  ck_assert(buf(m, "bn.running_var")[1] == 1.0f); /* nothing changed */
  const double c_bad[3] = {1.5, -1.0, NAN};
  for (int i = 0; i < 3; i++)
    TLT_ASSERT_FAILS(
        tl_model_buffer_set(m, "bn.num_batches_tracked", &c_bad[i], 1),
        TL_E_NUMERIC, "whole number");
  TLT_ASSERT_FAILS(tl_model_buffer_set(m, "bn.nope", ok, 3), TL_E_NOT_FOUND,
                   "bn.nope");
  TLT_ASSERT_FAILS(tl_model_buffer_set(m, "bn.running_var", NULL, 3),
                   TL_E_INVALID_ARG, "values");
  const float *view = NULL;
  TLT_ASSERT_FAILS(tl_model_buffer_view(&view, m, "bn.num_batches_tracked"),
                   TL_E_UNSUPPORTED, "tl_model_buffer_get");
  double out[3];
  TLT_ASSERT_FAILS(tl_model_buffer_get(out, 2, m, "bn.running_mean"),
                   TL_E_SHAPE, "running_mean");
  const char *name = NULL;
  TLT_ASSERT_FAILS(tl_model_buffer_name(&name, m, 3), TL_E_INVALID_ARG,
                   "index");
  TLT_ASSERT_FAILS(tl_model_num_buffers(NULL, m), TL_E_INVALID_ARG, "out");
  TLT_ASSERT_FAILS(tl_model_buffer_shape(NULL, NULL, NULL, m, NULL),
                   TL_E_INVALID_ARG, "name");
  TLT_ASSERT_OK(tl_model_buffer_set(m, "bn.running_var", ok, 3));
  TLT_ASSERT_OK(tl_model_buffer_get(out, 3, m, "bn.running_var"));
  ck_assert(out[0] == 0.5 && out[1] == 2.0 && out[2] == 3.0);
  tl_model_free(m);
}
END_TEST

START_TEST(hot_paths_allocate_nothing_after_the_first_call) {
  tlt_counter c;
  tlt_counter_install(&c);
  tl_model *m = head_model();
  const size_t dd[2] = {5, 3};
  const float *dx = NULL;
  for (int phase = 0; phase < 2; phase++) {
    if (phase == 1) { /* the frozen path */
      TLT_ASSERT_OK(tl_model_set_train_bn(m, 0));
      TLT_ASSERT_OK(tl_model_freeze_to(m, 2));
    }
    for (int it = 0; it < 3; it++) {
      const size_t before = c.allocs;
      TLT_ASSERT_OK(tl_model_zero_grad(m));
      fwd(m, bn_head_x, 5, 4);
      TLT_ASSERT_OK(tl_model_backward(&dx, m, bn_head_dy, dd, 2));
      if (it > 0)
        ck_assert_uint_eq(c.allocs, before);
    }
  }
  TLT_ASSERT_OK(tl_model_eval(m));
  for (int it = 0; it < 2; it++) {
    const size_t before = c.allocs;
    fwd(m, bn_head_x, 5, 4);
    ck_assert_uint_eq(c.allocs, before);
  }
  tl_model_free(m);
  ck_assert_uint_eq(c.allocs, c.frees);
  tl_set_allocator(NULL);
}
END_TEST

TCase *tlt_model_batchnorm_case(void) {
  TCase *tc = tcase_create("batchnorm");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, names_shapes_and_initial_values);
  tcase_add_test(tc, train_mode_matches_torch_with_running_statistics);
  tcase_add_test(tc, non_affine_3d_input_is_rows_and_matches_torch);
  tcase_add_test(tc, head_matches_torch);
  tcase_add_test(tc, frozen_layer_with_train_bn_0_keeps_its_statistics);
  tcase_add_test(tc, backward_matches_finite_differences_in_both_modes);
  tcase_add_test(tc, freeze_to_with_train_bn_1_and_0);
  tcase_add_test(tc, optimizers_leave_buffers_untouched);
  tcase_add_test(tc, buffers_round_trip_through_a_checkpoint_bit_for_bit);
  tcase_add_test(tc, lr_find_restores_the_statistics);
  tcase_add_test(tc, bad_input_is_refused);
  tcase_add_test(tc, hot_paths_allocate_nothing_after_the_first_call);
  return tc;
}
