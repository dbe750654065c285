/* lib/optim: SGD/Adam/AdamW step for step against torch.optim (float32 and
 * float64 goldens from tests/fixtures/gen_optim.py), per-group learning
 * rates, frozen groups and element masks, clipping, discriminative lrs,
 * freeze_to over several models, state save/load, rejection of bad input
 * and lifetimes. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/optim_golden.h"
#include "tl_test.h"

#define N OPTIM_GOLDEN_N

/* a: Linear(3, 4) (group 0), b: Linear(4, 2) (group 1) */
static tl_model *two_layers(void) {
  tl_model *m = NULL;
  TLT_ASSERT_OK(tl_model_create(&m, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(m, "a", 3, 4, TL_ACTIVATION_NONE));
  TLT_ASSERT_OK(tl_model_add_linear(m, "b", 4, 2, TL_ACTIVATION_NONE));
  float *w = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  ck_assert_uint_eq(n, N);
  memcpy(w, optim_p0, sizeof optim_p0);
  return m;
}

/* An Adam optimizer over two models, the two-layer encoder (groups 0, 1)
 * and a one-layer head (group 2), as a multi-model setup. */
static void encoder_and_head(tl_model **enc, tl_model **head, tl_optim **opt) {
  *enc = two_layers();
  TLT_ASSERT_OK(tl_model_create(head, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(*head, "h", 2, 2, TL_ACTIVATION_NONE));
  tl_model *models[2] = {*enc, *head};
  tl_optim_options o;
  TLT_ASSERT_OK(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAM));
  TLT_ASSERT_OK(tl_optim_create(opt, models, 2, &o));
}

typedef struct optim_case {
  tl_optim_kind kind;
  double lr0, lr1, momentum, beta2, eps, wd;
  int nesterov, frozen, masked;
  double clip;
  const float *want32;
  const double *want64;
  const double *norms;
} optim_case;

/* Runs 5 steps with the golden gradients and compares after each step. */
static void run_case(const optim_case *c) {
  tl_model *m = two_layers();
  tl_optim_options o;
  TLT_ASSERT_OK(tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, c->kind));
  o.lr = c->lr0;
  o.momentum = c->momentum;
  o.beta2 = c->beta2;
  o.eps = c->eps;
  o.weight_decay = c->wd;
  o.nesterov = c->nesterov;
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &o));
  TLT_ASSERT_OK(tl_optim_set_group_lr(opt, 1, c->lr1));
  if (c->frozen)
    TLT_ASSERT_OK(tl_model_freeze(m));
  if (c->masked)
    TLT_ASSERT_OK(tl_model_set_param_mask(m, "a.weight", optim_mask, 12));
  float *w = NULL, *g = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, m));
  for (size_t t = 0; t < OPTIM_GOLDEN_STEPS; t++) {
    memcpy(g, optim_grads + t * N, N * sizeof(float));
    if (c->clip > 0.0) {
      double norm = 0.0;
      TLT_ASSERT_OK(tl_optim_clip_grad_norm(&norm, opt, c->clip));
      TLT_ASSERT_CLOSE(norm, c->norms[t], 1e-6, 1e-12);
    }
    TLT_ASSERT_OK(tl_optim_step(opt));
    for (size_t i = 0; i < N; i++) {
      /* float32 torch: 1e-5; float64 torch: 1e-6 (floor 1e-3 for values
       * that pass near zero, where float32 storage dominates) */
      TLT_ASSERT_CLOSE(w[i], c->want32[t * N + i], 1e-5, 1e-2);
      TLT_ASSERT_CLOSE(w[i], c->want64[t * N + i], 1e-6, 1e-1);
    }
  }
  uint64_t steps = 0;
  TLT_ASSERT_OK(tl_optim_step_count(&steps, opt));
  ck_assert_uint_eq(steps, OPTIM_GOLDEN_STEPS);
  tl_optim_free(opt);
  tl_model_free(m);
}

START_TEST(sgd_matches_torch) {
  optim_case c = {
      TL_OPTIM_SGD,  0.1,           0.05, 0, 0.999, 1e-8, 0, 0, 0, 0, 0,
      optim_sgd_f32, optim_sgd_f64, NULL};
  run_case(&c);
}
END_TEST

START_TEST(sgd_momentum_weight_decay_matches_torch) {
  optim_case c = {TL_OPTIM_SGD,
                  0.1,
                  0.05,
                  0.9,
                  0.999,
                  1e-8,
                  0.01,
                  0,
                  0,
                  0,
                  0,
                  optim_sgd_mom_wd_f32,
                  optim_sgd_mom_wd_f64,
                  NULL};
  run_case(&c);
}
END_TEST

START_TEST(sgd_nesterov_matches_torch) {
  optim_case c = {TL_OPTIM_SGD,
                  0.1,
                  0.05,
                  0.9,
                  0.999,
                  1e-8,
                  0.01,
                  1,
                  0,
                  0,
                  0,
                  optim_sgd_nesterov_f32,
                  optim_sgd_nesterov_f64,
                  NULL};
  run_case(&c);
}
END_TEST

START_TEST(adam_matches_torch) {
  optim_case c = {TL_OPTIM_ADAM,  1e-2, 3e-3, 0.9, 0.99, 1e-5,
                  0.01,           0,    0,    0,   0,    optim_adam_f32,
                  optim_adam_f64, NULL};
  run_case(&c);
}
END_TEST

START_TEST(adamw_matches_torch) {
  optim_case c = {TL_OPTIM_ADAMW,
                  1e-2,
                  3e-3,
                  0.9,
                  0.99,
                  1e-5,
                  0.1,
                  0,
                  0,
                  0,
                  0,
                  optim_adamw_f32,
                  optim_adamw_f64,
                  NULL};
  run_case(&c);
}
END_TEST

START_TEST(adam_with_a_frozen_group_matches_torch) {
  optim_case c = {TL_OPTIM_ADAM,
                  1e-2,
                  3e-3,
                  0.9,
                  0.99,
                  1e-5,
                  0.01,
                  0,
                  1,
                  0,
                  0,
                  optim_adam_frozen_f32,
                  optim_adam_frozen_f64,
                  NULL};
  run_case(&c);
}
END_TEST

START_TEST(adam_with_an_element_mask_matches_torch) {
  optim_case c = {TL_OPTIM_ADAM,
                  1e-2,
                  3e-3,
                  0.9,
                  0.99,
                  1e-5,
                  0.01,
                  0,
                  0,
                  1,
                  0,
                  optim_adam_masked_f32,
                  optim_adam_masked_f64,
                  NULL};
  run_case(&c);
}
END_TEST

START_TEST(clip_grad_norm_then_sgd_matches_torch) {
  optim_case c = {TL_OPTIM_SGD,
                  0.1,
                  0.05,
                  0.9,
                  0.999,
                  1e-8,
                  0,
                  0,
                  0,
                  0,
                  0.5,
                  optim_sgd_clip_f32,
                  optim_sgd_clip_f64,
                  optim_sgd_clip_norms};
  run_case(&c);
}
END_TEST

/* The learning-rate spreads over the whole double range: tl_lrs_even
 * interpolates in log space when hi / lo overflows, tl_lrs_factor when
 * factor^k alone over- or underflows; a rate beyond DBL_MAX is an error. */

START_TEST(lr_spreads_span_the_whole_range) {
  double lr[3];
  TLT_ASSERT_OK(tl_lrs_even(lr, 3, 1e-300, 1e300));
  TLT_ASSERT_CLOSE(lr[0], 1e-300, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(lr[1], 1.0, 1e-13, 0.0);
  TLT_ASSERT_CLOSE(lr[2], 1e300, 1e-15, 0.0);
  TLT_ASSERT_OK(tl_lrs_even(lr, 3, 1e300, 1e-300));
  TLT_ASSERT_CLOSE(lr[0], 1e300, 1e-15, 0.0);
  TLT_ASSERT_CLOSE(lr[1], 1.0, 1e-13, 0.0);
  TLT_ASSERT_CLOSE(lr[2], 1e-300, 1e-15, 0.0);
  double w[5];
  TLT_ASSERT_OK(tl_lrs_even(w, 5, 5e-324, DBL_MAX));
  for (size_t i = 0; i < 5; i++)
    ck_assert_msg(isfinite(w[i]) && w[i] > 0.0, "w[%zu] = %g", i, w[i]);
  ck_assert_double_eq(w[0], 5e-324);
  TLT_ASSERT_CLOSE(w[4], DBL_MAX, 1e-15, 0.0);
  /* Geometric: equal ratios (in the log domain, up to rounding). */
  for (size_t i = 1; i + 1 < 5; i++)
    TLT_ASSERT_CLOSE(log(w[i + 1]) - log(w[i]), log(w[i]) - log(w[i - 1]),
                     1e-13, 0.0);

  /* factor^2 underflows (1e-600) but top / factor^2 = 1e598 overflows;
   * factor^2 = 1e-300 * 1e-300 with top 1e-300 gives 1e300. */
  TLT_ASSERT_OK(tl_lrs_factor(lr, 3, 1e-300, 1e-300));
  TLT_ASSERT_CLOSE(lr[0], 1e300, 1e-13, 0.0);
  TLT_ASSERT_CLOSE(lr[1], 1.0, 1e-13, 0.0);
  TLT_ASSERT_CLOSE(lr[2], 1e-300, 1e-15, 0.0);
  double keep[3] = {7, 7, 7};
  TLT_ASSERT_FAILS(tl_lrs_factor(keep, 3, 1.0, 1e-300), TL_E_NUMERIC,
                   "overflows");
  ck_assert(keep[0] == 7 && keep[1] == 7 && keep[2] == 7);
  /* factor^k overflows: the rate is tiny but representable. */
  TLT_ASSERT_OK(tl_lrs_factor(lr, 3, 1e300, 1e300));
  TLT_ASSERT_CLOSE(lr[0], 1e-300, 1e-13, 0.0);
  TLT_ASSERT_CLOSE(lr[1], 1.0, 1e-13, 0.0);
}
END_TEST

START_TEST(discriminative_learning_rates) {
  double lr[5];
  TLT_ASSERT_OK(tl_lrs_even(lr, 5, 1e-4, 1e-2));
  for (int i = 0; i < 5; i++)
    TLT_ASSERT_CLOSE(lr[i], 1e-4 * pow(100.0, i / 4.0), 1e-12, 0);
  TLT_ASSERT_CLOSE(lr[4], 1e-2, 1e-12, 0);
  TLT_ASSERT_OK(tl_lrs_even(lr, 1, 1e-4, 1e-2));
  TLT_ASSERT_CLOSE(lr[0], 1e-2, 1e-15, 0);
  TLT_ASSERT_OK(tl_lrs_slice(lr, 4, 1e-3));
  TLT_ASSERT_CLOSE(lr[0], 1e-4, 1e-12, 0);
  TLT_ASSERT_CLOSE(lr[2], 1e-4, 1e-12, 0);
  TLT_ASSERT_CLOSE(lr[3], 1e-3, 1e-12, 0);
  TLT_ASSERT_OK(tl_lrs_factor(lr, 5, 0.01, 2.6));
  TLT_ASSERT_CLOSE(lr[4], 0.01, 1e-12, 0);
  TLT_ASSERT_CLOSE(lr[3], 0.01 / 2.6, 1e-12, 0);
  TLT_ASSERT_CLOSE(lr[0], 0.01 / pow(2.6, 4), 1e-12, 0);
  TLT_ASSERT_FAILS(tl_lrs_even(lr, 0, 1e-4, 1e-2), TL_E_INVALID_ARG, "n");
  TLT_ASSERT_FAILS(tl_lrs_even(lr, 3, 0.0, 1e-2), TL_E_INVALID_ARG, "lo");
  TLT_ASSERT_FAILS(tl_lrs_factor(lr, 3, 1e-2, NAN), TL_E_INVALID_ARG, "factor");
  TLT_ASSERT_FAILS(tl_lrs_slice(NULL, 3, 1e-2), TL_E_INVALID_ARG, "out");

  /* applied to an optimizer over two models: groups concatenate */
  tl_model *enc = NULL, *head = NULL;
  tl_optim *opt = NULL;
  encoder_and_head(&enc, &head, &opt);
  size_t ng = 0;
  TLT_ASSERT_OK(tl_optim_num_groups(&ng, opt));
  ck_assert_uint_eq(ng, 3);
  TLT_ASSERT_OK(tl_lrs_factor(lr, 3, 0.01, 2.6));
  TLT_ASSERT_OK(tl_optim_set_lrs(opt, lr, 3));
  double got = 0.0;
  TLT_ASSERT_OK(tl_optim_get_group_lr(&got, opt, 2));
  TLT_ASSERT_CLOSE(got, 0.01, 1e-15, 0);
  TLT_ASSERT_OK(tl_optim_get_group_lr(&got, opt, 0));
  TLT_ASSERT_CLOSE(got, 0.01 / (2.6 * 2.6), 1e-15, 0);
  TLT_ASSERT_FAILS(tl_optim_set_lrs(opt, lr, 2), TL_E_SHAPE, "3 groups");
  tl_optim_free(opt);
  tl_model_free(enc);
  tl_model_free(head);
}
END_TEST

START_TEST(freeze_to_spans_models_and_resets_state) {
  tl_model *enc = NULL, *head = NULL;
  tl_optim *opt = NULL;
  encoder_and_head(&enc, &head, &opt);
  int t = 0;
  TLT_ASSERT_OK(tl_optim_freeze_to(opt, -1)); /* only the head trains */
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, enc, 0));
  ck_assert_int_eq(t, 0);
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, enc, 1));
  ck_assert_int_eq(t, 0);
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, head, 0));
  ck_assert_int_eq(t, 1);
  /* a step changes only the head */
  float *g = NULL, *w = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, enc));
  for (size_t i = 0; i < n; i++)
    g[i] = 1.0f;
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, head));
  for (size_t i = 0; i < n; i++)
    g[i] = 1.0f;
  TLT_ASSERT_OK(tl_optim_step(opt));
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, enc));
  ck_assert(memcmp(w, optim_p0, sizeof optim_p0) == 0);
  uint64_t steps = 0;
  TLT_ASSERT_OK(tl_optim_step_count(&steps, opt));
  ck_assert_uint_eq(steps, 1);
  TLT_ASSERT_OK(tl_optim_freeze_to(opt, -2));
  TLT_ASSERT_OK(tl_optim_step_count(&steps, opt));
  ck_assert_uint_eq(steps, 0); /* fastai resets the state on freeze_to */
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, enc, 1));
  ck_assert_int_eq(t, 1);
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, enc, 0));
  ck_assert_int_eq(t, 0);
  TLT_ASSERT_OK(tl_optim_set_group_trainable(opt, 0, 1)); /* chain-thaw */
  TLT_ASSERT_OK(tl_model_get_group_trainable(&t, enc, 0));
  ck_assert_int_eq(t, 1);
  TLT_ASSERT_FAILS(tl_optim_freeze_to(opt, 4), TL_E_INVALID_ARG, "n = 4");
  TLT_ASSERT_FAILS(tl_optim_set_group_trainable(opt, 3, 1), TL_E_INVALID_ARG,
                   "group 3");
  tl_optim_free(opt);
  tl_model_free(enc);
  tl_model_free(head);
}
END_TEST

START_TEST(state_save_and_load_resume_exactly) {
  tl_model *a = two_layers(), *b = two_layers();
  tl_optim_options o;
  TLT_ASSERT_OK(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  tl_optim *oa = NULL, *ob = NULL;
  TLT_ASSERT_OK(tl_optim_create(&oa, &a, 1, &o));
  TLT_ASSERT_OK(tl_optim_create(&ob, &b, 1, &o));
  float *wa = NULL, *ga = NULL, *wb = NULL, *gb = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&wa, &n, a));
  TLT_ASSERT_OK(tl_model_flat_grads(&ga, &n, a));
  TLT_ASSERT_OK(tl_model_flat_params(&wb, &n, b));
  TLT_ASSERT_OK(tl_model_flat_grads(&gb, &n, b));
  for (size_t t = 0; t < 2; t++) {
    memcpy(ga, optim_grads + t * N, N * sizeof(float));
    TLT_ASSERT_OK(tl_optim_step(oa));
  }
  size_t size = 0;
  TLT_ASSERT_OK(tl_optim_state_size(&size, oa));
  unsigned char *buf = malloc(size);
  TLT_ASSERT_FAILS(tl_optim_state_save(buf, size - 1, oa), TL_E_INVALID_ARG,
                   "size");
  TLT_ASSERT_OK(tl_optim_state_save(buf, size, oa));
  TLT_ASSERT_OK(tl_optim_state_load(ob, buf, size));
  memcpy(wb, wa, N * sizeof(float));
  for (size_t t = 2; t < 5; t++) {
    memcpy(ga, optim_grads + t * N, N * sizeof(float));
    memcpy(gb, optim_grads + t * N, N * sizeof(float));
    TLT_ASSERT_OK(tl_optim_step(oa));
    TLT_ASSERT_OK(tl_optim_step(ob));
  }
  ck_assert(memcmp(wa, wb, N * sizeof(float)) == 0);
  uint64_t steps = 0;
  TLT_ASSERT_OK(tl_optim_step_count(&steps, ob));
  ck_assert_uint_eq(steps, 5);
  /* malformed or mismatched buffers are refused and change nothing */
  TLT_ASSERT_FAILS(tl_optim_state_load(ob, buf, 10), TL_E_FORMAT, "small");
  buf[0] = 'X';
  TLT_ASSERT_FAILS(tl_optim_state_load(ob, buf, size), TL_E_FORMAT, "magic");
  buf[0] = 'T';
  TLT_ASSERT_FAILS(tl_optim_state_load(ob, buf, size - 8), TL_E_FORMAT,
                   "truncated");
  tl_optim *os = NULL;
  tl_optim_options so;
  TLT_ASSERT_OK(
      tl_optim_options_init(&so, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_SGD));
  TLT_ASSERT_OK(tl_optim_create(&os, &b, 1, &so));
  TLT_ASSERT_FAILS(tl_optim_state_load(os, buf, size), TL_E_FORMAT, "kind");
  TLT_ASSERT_OK(tl_optim_step_count(&steps, ob));
  ck_assert_uint_eq(steps, 5);
  /* The layout is little-endian whatever the host: the kind (AdamW = 2)
   * and the step count (2) sit in the low byte of their uint64 fields. */
  const unsigned char kind_le[8] = {2, 0, 0, 0, 0, 0, 0, 0};
  const unsigned char steps_le[8] = {2, 0, 0, 0, 0, 0, 0, 0};
  ck_assert(memcmp(buf + 8, kind_le, 8) == 0);
  ck_assert(memcmp(buf + 40, steps_le, 8) == 0);
  /* A non-finite moment is refused before anything is written. */
  const unsigned char nan_le[4] = {0x00, 0x00, 0xc0, 0x7f};
  memcpy(buf + size - 4 * 3, nan_le, 4);
  TLT_ASSERT_FAILS(tl_optim_state_load(ob, buf, size), TL_E_FORMAT,
                   "not finite");
  TLT_ASSERT_OK(tl_optim_step_count(&steps, ob));
  ck_assert_uint_eq(steps, 5);
  TLT_ASSERT_OK(tl_optim_reset_state(ob));
  TLT_ASSERT_OK(tl_optim_step_count(&steps, ob));
  ck_assert_uint_eq(steps, 0);
  free(buf);
  tl_optim_free(os);
  tl_optim_free(oa);
  tl_optim_free(ob);
  tl_model_free(a);
  tl_model_free(b);
}
END_TEST

START_TEST(non_finite_gradients_and_frozen_models_change_nothing) {
  tl_model *m = two_layers();
  tl_optim_options o;
  TLT_ASSERT_OK(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAM));
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &o));
  float *w = NULL, *g = NULL;
  size_t n = 0;
  TLT_ASSERT_OK(tl_model_flat_params(&w, &n, m));
  TLT_ASSERT_OK(tl_model_flat_grads(&g, &n, m));
  memcpy(g, optim_grads, N * sizeof(float));
  TLT_ASSERT_OK(tl_optim_step(opt));
  float before[N];
  memcpy(before, w, sizeof before);
  size_t ssize = 0;
  TLT_ASSERT_OK(tl_optim_state_size(&ssize, opt));
  unsigned char *s0 = malloc(ssize), *s1 = malloc(ssize);
  TLT_ASSERT_OK(tl_optim_state_save(s0, ssize, opt));
  g[20] = NAN;
  TLT_ASSERT_FAILS(tl_optim_step(opt), TL_E_NUMERIC, "b.weight");
  g[20] = INFINITY;
  double norm = 0.0;
  TLT_ASSERT_FAILS(tl_optim_clip_grad_norm(&norm, opt, 1.0), TL_E_NUMERIC,
                   "norm");
  ck_assert(isinf(g[20])); /* untouched */
  ck_assert(memcmp(before, w, sizeof before) == 0);
  TLT_ASSERT_OK(tl_optim_state_save(s1, ssize, opt));
  ck_assert(memcmp(s0, s1, ssize) == 0);
  /* a non-finite gradient of a frozen parameter does not matter */
  TLT_ASSERT_OK(tl_model_set_param_trainable(m, "b.weight", 0));
  TLT_ASSERT_OK(tl_optim_step(opt));
  /* nothing trainable: TL_E_STATE, nothing changed */
  TLT_ASSERT_OK(tl_model_freeze_to(m, 2));
  memcpy(before, w, sizeof before);
  TLT_ASSERT_FAILS(tl_optim_step(opt), TL_E_STATE, "nothing is trainable");
  ck_assert(memcmp(before, w, sizeof before) == 0);
  TLT_ASSERT_OK(tl_model_unfreeze(m));
  TLT_ASSERT_OK(tl_model_set_mode(m, TL_MODEL_MODE_FEATURE_EXTRACT));
  TLT_ASSERT_FAILS(tl_optim_step(opt), TL_E_STATE, "feature-extraction");
  TLT_ASSERT_OK(tl_model_set_mode(m, TL_MODEL_MODE_FINE_TUNE));
  /* a structural change invalidates the optimizer */
  TLT_ASSERT_OK(tl_model_add_linear(m, "c", 2, 1, TL_ACTIVATION_NONE));
  TLT_ASSERT_FAILS(tl_optim_step(opt), TL_E_STATE, "new optimizer");
  free(s0);
  free(s1);
  tl_optim_free(opt);
  tl_model_free(m);
}
END_TEST

START_TEST(bad_options_are_refused) {
  tl_model *m = two_layers();
  tl_optim_options o;
  tl_optim *opt = NULL;
  TLT_ASSERT_FAILS(tl_optim_options_init(&o, 3, TL_OPTIM_SGD), TL_E_UNSUPPORTED,
                   "version 3");
  TLT_ASSERT_FAILS(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, (tl_optim_kind)5),
      TL_E_INVALID_ARG, "kind");
  TLT_ASSERT_OK(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAMW));
  TLT_ASSERT_CLOSE(o.weight_decay, 1e-2, 0, 0); /* torch's AdamW default */
  TLT_ASSERT_CLOSE(o.beta2, 0.999, 0, 0);
  o.lr = -1.0;
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 1, &o), TL_E_INVALID_ARG, "lr");
  o.lr = 1e-3;
  o.momentum = 1.0;
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 1, &o), TL_E_INVALID_ARG,
                   "momentum");
  o.momentum = 0.9;
  o.beta2 = NAN;
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 1, &o), TL_E_INVALID_ARG, "beta2");
  o.beta2 = 0.999;
  o.eps = 0.0; /* Adam would divide 0 by 0 where a gradient is 0 */
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 1, &o), TL_E_INVALID_ARG, "eps");
  o.eps = 1e-8;
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &o));
  TLT_ASSERT_FAILS(tl_optim_set_group_hparam(opt, 0, TL_OPTIM_EPS, 0.0),
                   TL_E_INVALID_ARG, "eps must be > 0");
  tl_optim_free(opt);
  opt = NULL;
  TLT_ASSERT_OK(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_SGD));
  o.nesterov = 1;
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 1, &o), TL_E_INVALID_ARG,
                   "nesterov");
  o.nesterov = 0;
  o.eps = 0.0; /* SGD has no use for eps */
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &o));
  tl_optim_free(opt);
  opt = NULL;
  o.version = 0;
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 1, &o), TL_E_UNSUPPORTED,
                   "version");
  o.version = TL_OPTIM_OPTIONS_VERSION;
  tl_model *twice[2] = {m, m};
  TLT_ASSERT_FAILS(tl_optim_create(&opt, twice, 2, &o), TL_E_INVALID_ARG,
                   "same model");
  TLT_ASSERT_FAILS(tl_optim_create(&opt, &m, 0, &o), TL_E_INVALID_ARG,
                   "n_models");
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &o));
  TLT_ASSERT_FAILS(tl_optim_set_group_lr(opt, 2, 0.1), TL_E_INVALID_ARG,
                   "group 2");
  TLT_ASSERT_FAILS(tl_optim_set_group_hparam(opt, 0, (tl_optim_hparam)9, 0.1),
                   TL_E_INVALID_ARG, "which");
  TLT_ASSERT_FAILS(
      tl_optim_set_group_hparam(opt, 0, TL_OPTIM_WEIGHT_DECAY, -1.0),
      TL_E_INVALID_ARG, "weight_decay");
  TLT_ASSERT_FAILS(tl_optim_clip_grad_norm(NULL, opt, 0.0), TL_E_INVALID_ARG,
                   "max_norm");
  TLT_ASSERT_OK(tl_optim_set_group_hparam(opt, 1, TL_OPTIM_MOMENTUM, 0.5));
  double v = 0.0;
  TLT_ASSERT_OK(tl_optim_get_group_hparam(&v, opt, 1, TL_OPTIM_MOMENTUM));
  TLT_ASSERT_CLOSE(v, 0.5, 0, 0);
  tl_optim_free(opt);
  tl_optim_free(NULL);
  tl_model_free(m);
}
END_TEST

START_TEST(the_optimizer_keeps_its_models_alive) {
  tl_model *m = two_layers();
  tl_optim_options o;
  TLT_ASSERT_OK(
      tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_SGD));
  tl_optim *opt = NULL;
  TLT_ASSERT_OK(tl_optim_create(&opt, &m, 1, &o));
  tl_model_free(m); /* the caller's reference is gone; the model lives on */
  TLT_ASSERT_OK(tl_optim_zero_grad(opt));
  TLT_ASSERT_OK(tl_optim_step(opt)); /* ASan: no use after free */
  tl_optim_free(opt);                /* frees the model too (leak check) */
}
END_TEST

int main(void) {
  Suite *s = suite_create("optim");
  TCase *tc = tcase_create("optim");
  tcase_add_test(tc, sgd_matches_torch);
  tcase_add_test(tc, sgd_momentum_weight_decay_matches_torch);
  tcase_add_test(tc, sgd_nesterov_matches_torch);
  tcase_add_test(tc, adam_matches_torch);
  tcase_add_test(tc, adamw_matches_torch);
  tcase_add_test(tc, adam_with_a_frozen_group_matches_torch);
  tcase_add_test(tc, adam_with_an_element_mask_matches_torch);
  tcase_add_test(tc, clip_grad_norm_then_sgd_matches_torch);
  tcase_add_test(tc, discriminative_learning_rates);
  tcase_add_test(tc, lr_spreads_span_the_whole_range);
  tcase_add_test(tc, freeze_to_spans_models_and_resets_state);
  tcase_add_test(tc, state_save_and_load_resume_exactly);
  tcase_add_test(tc, non_finite_gradients_and_frozen_models_change_nothing);
  tcase_add_test(tc, bad_options_are_refused);
  tcase_add_test(tc, the_optimizer_keeps_its_models_alive);
  suite_add_tcase(s, tc);
  return tlt_run(s);
}
