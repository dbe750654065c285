/* lib/optim/lr_find.c and plan.c: the LR range test against fastai's
 * LRFinder and suggestion functions (tests/fixtures/gen_sched.py), its
 * restore of weights and optimizer state, plans and their presets, and
 * tl_plan_apply on a real optimizer. */
/* This file tests the experimental tier (docs/api-conventions.md). */
#define TL_EXPERIMENTAL_API
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../fixtures/sched_golden.h"
#include "tl_test.h"

/* Propagates a failing status (the message is already set). */
#define TLI_TRY_T(expr)                                                        \
  do {                                                                         \
    tl_status try_status_ = (expr);                                            \
    if (try_status_ != TL_OK)                                                  \
      return try_status_;                                                      \
  } while (0)

/* ---- a tiny two-group model and one training step ----------------------- */

#define B 8
#define F 4
#define H 5
#define C 3

typedef struct fixture {
  tl_model *model;
  tl_optim *optim;
  float x[B * F];
  int64_t y[B];
  /* What the callback reports: the real loss, or synth_loss(lr) so that
   * the record can be compared with the fastai golden values. */
  int synthetic;
  size_t calls;
  size_t fail_at; /* return an error at this call (SIZE_MAX: never) */
  size_t nan_at;  /* report NaN at this call */
} fixture;

static void fixture_init(fixture *f, tl_optim_kind kind) {
  memset(f, 0, sizeof *f);
  TLT_ASSERT_OK(tl_model_create(&f->model, NULL));
  TLT_ASSERT_OK(tl_model_add_linear(f->model, "a", F, H, TL_ACTIVATION_RELU));
  TLT_ASSERT_OK(tl_model_add_linear(f->model, "b", H, C, TL_ACTIVATION_NONE));
  tl_optim_options o;
  TLT_ASSERT_OK(tl_optim_options_init(&o, TL_OPTIM_OPTIONS_VERSION, kind));
  if (kind == TL_OPTIM_SGD)
    o.momentum = 0.9;
  o.lr = 0.05;
  TLT_ASSERT_OK(tl_optim_create(&f->optim, &f->model, 1, &o));
  for (size_t i = 0; i < B * F; i++)
    f->x[i] = (float)sin(0.7 * (double)i) * 2.0f;
  for (size_t b = 0; b < B; b++)
    f->y[b] = (int64_t)(b % C);
  f->fail_at = f->nan_at = SIZE_MAX;
}

static void fixture_free(fixture *f) {
  tl_optim_free(f->optim);
  tl_model_free(f->model);
}

static double synth_loss(double lr) {
  const double x = log10(lr);
  return 2.0 - 1.0 / (1.0 + exp(-2.0 * (x + 4.0))) + exp(3.0 * (x + 0.5)) +
         0.02 * sin(7.0 * x);
}

static tl_status train_step(fixture *f, float *out_loss) {
  const size_t dims[2] = {B, F};
  const float *logits;
  size_t odims[TL_MODEL_MAX_DIMS], ondim;
  float dlogits[B * C];
  TLI_TRY_T(tl_optim_zero_grad(f->optim));
  TLI_TRY_T(tl_model_forward(&logits, odims, &ondim, f->model, f->x, dims, 2));
  TLI_TRY_T(tl_cross_entropy(out_loss, dlogits, logits, f->y, B, C, -100));
  const size_t ddims[2] = {B, C};
  TLI_TRY_T(tl_model_backward(NULL, f->model, dlogits, ddims, 2));
  return tl_optim_step(f->optim);
}

static tl_status step_cb(void *payload, double *out_loss) {
  fixture *f = payload;
  const size_t call = f->calls++;
  if (call == f->fail_at)
    return tl_set_num_threads(0); /* any libtl failure, with its message */
  float loss;
  const tl_status st = train_step(f, &loss);
  if (st != TL_OK)
    return st;
  double lr;
  TLI_TRY_T(tl_optim_get_group_lr(&lr, f->optim, 0));
  *out_loss = f->synthetic ? synth_loss(lr) : (double)loss;
  if (call == f->nan_at)
    *out_loss = NAN;
  return TL_OK;
}

/* Everything lr_find promises to restore. */
typedef struct saved {
  float params[64];
  size_t n_params;
  unsigned char state[4096];
  size_t state_size;
  double lrs[2], moms[2];
  uint64_t steps;
} saved;

static void save(const fixture *f, saved *s) {
  float *flat;
  TLT_ASSERT_OK(tl_model_flat_params(&flat, &s->n_params, f->model));
  ck_assert_uint_le(s->n_params, 64);
  memcpy(s->params, flat, s->n_params * sizeof(float));
  TLT_ASSERT_OK(tl_optim_state_size(&s->state_size, f->optim));
  ck_assert_uint_le(s->state_size, sizeof s->state);
  memset(s->state, 0, sizeof s->state);
  TLT_ASSERT_OK(tl_optim_state_save(s->state, s->state_size, f->optim));
  for (size_t g = 0; g < 2; g++) {
    TLT_ASSERT_OK(tl_optim_get_group_lr(&s->lrs[g], f->optim, g));
    TLT_ASSERT_OK(
        tl_optim_get_group_hparam(&s->moms[g], f->optim, g, TL_OPTIM_MOMENTUM));
  }
  TLT_ASSERT_OK(tl_optim_step_count(&s->steps, f->optim));
}

static void assert_restored(const fixture *f, const saved *before) {
  saved after;
  save(f, &after);
  ck_assert_uint_eq(after.n_params, before->n_params);
  ck_assert_msg(memcmp(after.params, before->params,
                       before->n_params * sizeof(float)) == 0,
                "weights not restored");
  ck_assert_uint_eq(after.state_size, before->state_size);
  ck_assert_msg(memcmp(after.state, before->state, before->state_size) == 0,
                "optimizer state not restored");
  ck_assert(after.lrs[0] == before->lrs[0] && after.lrs[1] == before->lrs[1]);
  ck_assert(after.moms[0] == before->moms[0]);
  ck_assert_uint_eq(after.steps, before->steps);
  float *grads;
  size_t n;
  TLT_ASSERT_OK(tl_model_flat_grads(&grads, &n, ((fixture *)f)->model));
  for (size_t i = 0; i < n; i++)
    ck_assert(grads[i] == 0.0f);
}

/* ---- LR range test ------------------------------------------------------ */

START_TEST(lr_find_matches_fastai_and_restores_everything) {
  const lr_find_golden *g = &lr_find_golden_cases[_i];
  fixture f;
  fixture_init(&f, TL_OPTIM_SGD);
  f.synthetic = 1;
  float loss;
  TLT_ASSERT_OK(train_step(&f, &loss)); /* non-trivial optimizer state */
  saved before;
  save(&f, &before);

  tl_lr_find_options o;
  TLT_ASSERT_OK(tl_lr_find_options_init(&o, TL_LR_FIND_OPTIONS_VERSION));
  o.start_lr = g->opts[0], o.end_lr = g->opts[1], o.num_it = (size_t)g->opts[2];
  o.beta = g->opts[3], o.stop_factor = g->opts[4];
  double lrs[128], losses[128];
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  TLT_ASSERT_OK(tl_lr_find(&r, lrs, losses, 128, f.optim, step_cb, &f, &o));
  ck_assert_uint_eq(r.n, g->n);
  ck_assert_uint_eq(f.calls, g->n);
  ck_assert_int_eq(r.diverged, g->diverged);
  TLT_ASSERT_ARRAY_CLOSE(lrs, g->lrs, g->n, 1e-14, 0);
  TLT_ASSERT_ARRAY_CLOSE(losses, g->losses, g->n, 1e-12, 0);
  ck_assert_int_eq(r.has_suggestions, g->has_suggestions);
  TLT_ASSERT_CLOSE(r.lr_min, g->lr_min, 1e-14, 0);
  TLT_ASSERT_CLOSE(r.lr_steep, g->lr_steep, 1e-14, 0);
  TLT_ASSERT_CLOSE(r.lr_valley, g->lr_valley, 1e-14, 0);
  assert_restored(&f, &before);
  fixture_free(&f);
}
END_TEST

START_TEST(lr_find_on_a_real_loss_restores_and_suggests) {
  fixture f;
  fixture_init(&f, TL_OPTIM_ADAM);
  saved before;
  save(&f, &before);
  double lrs[100], losses[100];
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  TLT_ASSERT_OK(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, NULL));
  ck_assert_uint_ge(r.n, 20);
  ck_assert(r.has_suggestions);
  ck_assert(r.lr_valley >= 1e-7 && r.lr_valley <= 10.0);
  ck_assert(r.lr_steep >= 1e-7 && r.lr_steep <= 10.0);
  ck_assert(r.lr_min > 0.0 && r.lr_min <= 1.0);
  for (size_t i = 0; i < r.n; i++)
    ck_assert(isfinite(losses[i]));
  assert_restored(&f, &before);
  fixture_free(&f);
}
END_TEST

START_TEST(lr_find_stops_at_nan_and_reports_callback_failures) {
  fixture f;
  fixture_init(&f, TL_OPTIM_SGD);
  f.synthetic = 1;
  saved before;
  save(&f, &before);
  double lrs[100], losses[100];
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  f.nan_at = 40;
  TLT_ASSERT_OK(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, NULL));
  ck_assert_uint_eq(r.n, 40);
  ck_assert(r.diverged);
  TLT_ASSERT_CLOSE(losses[39], lr_find_golden_cases[0].losses[39], 1e-12, 0);
  assert_restored(&f, &before);

  f.calls = 0, f.nan_at = SIZE_MAX, f.fail_at = 7;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, NULL),
                   TL_E_INVALID_ARG, "iteration 7: tl_set_num_threads");
  assert_restored(&f, &before);
  fixture_free(&f);
}
END_TEST

START_TEST(lr_find_rejects_bad_input) {
  fixture f;
  fixture_init(&f, TL_OPTIM_SGD);
  double lrs[100], losses[100];
  tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
  tl_lr_find_options o;
  tl_lr_find_options_init(&o, TL_LR_FIND_OPTIONS_VERSION);
  ck_assert(o.start_lr == 1e-7 && o.end_lr == 10.0 && o.num_it == 100 &&
            o.beta == 0.98 && o.stop_factor == 4.0);
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 99, f.optim, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "capacity");
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, NULL, &f, &o),
                   TL_E_INVALID_ARG, "'step'");
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, NULL, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "'optim'");
  o.start_lr = 0.0;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "start_lr");
  o.start_lr = 1e-3, o.end_lr = 1e-4;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "end_lr");
  o.end_lr = 10.0, o.beta = 1.0;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "beta");
  o.beta = 0.98, o.stop_factor = 0.5;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "stop_factor");
  o.stop_factor = 4.0, o.num_it = 0;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, &o),
                   TL_E_INVALID_ARG, "num_it");
  o.num_it = 100, o.version = 9;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, &o),
                   TL_E_UNSUPPORTED, "version 9");
  r.version = 5;
  TLT_ASSERT_FAILS(tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, NULL),
                   TL_E_UNSUPPORTED, "out->version 5");
  ck_assert_uint_eq(f.calls, 0); /* nothing ran */
  /* Suggestions need two points after trimming. */
  r.version = TL_LR_FIND_RESULT_VERSION;
  const double few_lrs[6] = {1e-3, 1e-2, 1e-1, 1, 2, 3};
  const double few_losses[6] = {1, 0.9, 0.8, 0.7, 0.6, 0.5};
  TLT_ASSERT_OK(tl_lr_find_suggest(&r, few_lrs, few_losses, 6, 6));
  ck_assert(!r.has_suggestions && r.lr_valley == 0.0);
  const double bad_losses[6] = {1, NAN, 0.8, 0.7, 0.6, 0.5};
  TLT_ASSERT_FAILS(tl_lr_find_suggest(&r, few_lrs, bad_losses, 6, 6),
                   TL_E_INVALID_ARG, "losses[1]");
  fixture_free(&f);
}
END_TEST

/* ---- plans ----------------------------------------------------------------
 */

static tl_plan *preset(tl_plan_preset p, size_t n_groups, uint64_t stage_steps,
                       uint64_t final_steps) {
  tl_plan_preset_options o;
  TLT_ASSERT_OK(
      tl_plan_preset_options_init(&o, TL_PLAN_PRESET_OPTIONS_VERSION, p));
  o.n_groups = n_groups, o.stage_steps = stage_steps;
  o.final_steps = final_steps;
  tl_plan *plan = NULL;
  TLT_ASSERT_OK(tl_plan_preset_create(&plan, p, &o));
  return plan;
}

static void assert_trainable(const tl_plan *p, size_t stage, const int *want,
                             size_t n) {
  for (size_t g = 0; g < n; g++) {
    int t;
    TLT_ASSERT_OK(tl_plan_group_trainable(&t, p, stage, g));
    ck_assert_msg(t == want[g], "stage %zu group %zu trainable %d", stage, g,
                  t);
  }
}

START_TEST(ulmfit_gradual_unfreezing) {
  tl_plan *p = preset(TL_PLAN_PRESET_ULMFIT, 4, 10, 40);
  size_t n;
  uint64_t total, start, steps;
  TLT_ASSERT_OK(tl_plan_num_stages(&n, p));
  ck_assert_uint_eq(n, 4);
  TLT_ASSERT_OK(tl_plan_total_steps(&total, p));
  ck_assert_uint_eq(total, 70);
  const int t0[4] = {0, 0, 0, 1}, t1[4] = {0, 0, 1, 1}, t2[4] = {0, 1, 1, 1},
            t3[4] = {1, 1, 1, 1};
  assert_trainable(p, 0, t0, 4);
  assert_trainable(p, 1, t1, 4);
  assert_trainable(p, 2, t2, 4);
  assert_trainable(p, 3, t3, 4);
  TLT_ASSERT_OK(tl_plan_stage_bounds(&start, &steps, p, 3));
  ck_assert(start == 30 && steps == 40);
  /* Each stage: STLR (0.01, cut_frac 0.1, ratio 32) over its steps,
   * group g at lr / 2.6^(3-g). */
  for (uint64_t step = 0; step < 75; step++) {
    double lrs[4];
    TLT_ASSERT_OK(tl_plan_lrs(lrs, 4, p, step));
    const uint64_t T = step < 30 ? 10 : 40;
    const uint64_t t = step < 30 ? step % 10 : step - 30;
    const double cut = floor((double)T * 0.1);
    double q = (double)t < cut ? (double)t / cut
                               : 1 - ((double)t - cut) / (cut * (1 / 0.1 - 1));
    q = q < 0 ? 0 : q;
    const double want = 0.01 * (1 + q * 31) / 32;
    for (int g = 0; g < 4; g++)
      TLT_ASSERT_CLOSE(lrs[g], want / pow(2.6, 3 - g), 1e-14, 0);
  }
  double m;
  TLT_ASSERT_FAILS(tl_plan_momentum(&m, p, 3), TL_E_UNSUPPORTED, "momentum");
  tl_plan_free(p);
}
END_TEST

/* fastai's walk-through rates per stage (issue 13): stage k's top rate is
 * stage_lrs[k], the groups below it divided by 2.6 each, under the same
 * STLR as above. */
START_TEST(ulmfit_with_a_rate_per_stage) {
  const double tops[4] = {2e-2, 1e-2, 5e-3, 1e-3};
  tl_plan_preset_options o;
  TLT_ASSERT_OK(tl_plan_preset_options_init(&o, TL_PLAN_PRESET_OPTIONS_VERSION,
                                            TL_PLAN_PRESET_ULMFIT));
  o.n_groups = 4, o.stage_steps = 10, o.final_steps = 40;
  o.stage_lrs = tops, o.n_stage_lrs = 4;
  tl_plan *p = NULL;
  TLT_ASSERT_OK(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o));
  for (uint64_t step = 0; step < 70; step++) {
    double lrs[4];
    TLT_ASSERT_OK(tl_plan_lrs(lrs, 4, p, step));
    const size_t k = step < 30 ? step / 10 : 3;
    const uint64_t T = step < 30 ? 10 : 40;
    const uint64_t t = step < 30 ? step % 10 : step - 30;
    const double cut = floor((double)T * 0.1);
    double q = (double)t < cut ? (double)t / cut
                               : 1 - ((double)t - cut) / (cut * (1 / 0.1 - 1));
    q = q < 0 ? 0 : q;
    const double want = tops[k] * (1 + q * 31) / 32;
    for (int g = 0; g < 4; g++)
      TLT_ASSERT_CLOSE(lrs[g], want / pow(2.6, 3 - g), 1e-14, 0);
  }
  tl_plan_free(p);
  /* bad input: a count that is not n_groups, a rate <= 0, another preset */
  o.n_stage_lrs = 3;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "n_stage_lrs 3");
  const double bad[4] = {1e-2, 0.0, 1e-3, 1e-3};
  o.n_stage_lrs = 4, o.stage_lrs = bad;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "stage_lrs[1]");
  o.stage_lrs = tops;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_CHAIN_THAW, &o),
                   TL_E_INVALID_ARG, "ULMFIT only");
}
END_TEST

START_TEST(chain_thaw_trains_one_group_at_a_time_then_all) {
  tl_plan *p = preset(TL_PLAN_PRESET_CHAIN_THAW, 3, 5, 8);
  size_t n;
  TLT_ASSERT_OK(tl_plan_num_stages(&n, p));
  ck_assert_uint_eq(n, 4);
  const int want[4][3] = {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {1, 1, 1}};
  for (size_t s = 0; s < 4; s++)
    assert_trainable(p, s, want[s], 3);
  size_t stage;
  uint64_t local;
  TLT_ASSERT_OK(tl_plan_stage_at(&stage, &local, p, 16));
  ck_assert(stage == 3 && local == 1);
  double lrs[3];
  TLT_ASSERT_OK(tl_plan_lrs(lrs, 3, p, 12));
  ck_assert(lrs[0] == 1e-3 && lrs[1] == 1e-3 && lrs[2] == 1e-3);
  tl_plan_free(p);
}
END_TEST

static double fastai_cos(double a, double b, double c, double pct, double pos) {
  const double pi = 3.14159265358979323846;
#define SCHED_COS(s, e, x) ((s) + (1 + cos(pi * (1 - (x)))) * ((e) - (s)) / 2)
  if (pos >= 1)
    return SCHED_COS(b, c, 1.0);
  if (pos >= pct)
    return SCHED_COS(b, c, (pos - pct) / (1 - pct));
  return SCHED_COS(a, b, pos / pct);
#undef SCHED_COS
}

START_TEST(fine_tune_is_fastai_fine_tune) {
  tl_plan *p = preset(TL_PLAN_PRESET_FINE_TUNE, 3, 20, 50);
  const int frozen[3] = {0, 0, 1}, all[3] = {1, 1, 1};
  assert_trainable(p, 0, frozen, 3);
  assert_trainable(p, 1, all, 3);
  for (uint64_t step = 0; step < 70; step++) {
    double lrs[3], m;
    TLT_ASSERT_OK(tl_plan_lrs(lrs, 3, p, step));
    TLT_ASSERT_OK(tl_plan_momentum(&m, p, step));
    if (step < 20) { /* freeze: one cycle at 2e-3, pct_start .99, div 25 */
      const double pos = (double)step / 20;
      TLT_ASSERT_CLOSE(
          lrs[2], fastai_cos(2e-3 / 25, 2e-3, 2e-3 / 1e5, 0.99, pos), 1e-12, 0);
      TLT_ASSERT_CLOSE(lrs[0], lrs[2] / 10, 1e-12, 0); /* slice(base_lr) */
      TLT_ASSERT_CLOSE(m, fastai_cos(0.95, 0.85, 0.95, 0.99, pos), 1e-12, 0);
    } else { /* unfreeze: base_lr/2, slice(base/2/100, base/2), .3, div 5 */
      const double pos = (double)(step - 20) / 50, hi = 1e-3;
      const double shape = fastai_cos(hi / 5, hi, hi / 1e5, 0.3, pos) / hi;
      TLT_ASSERT_CLOSE(lrs[2], hi * shape, 1e-12, 0);
      TLT_ASSERT_CLOSE(lrs[1], sqrt(hi * hi / 100) * shape, 1e-12, 0);
      TLT_ASSERT_CLOSE(lrs[0], hi / 100 * shape, 1e-12, 0);
      TLT_ASSERT_CLOSE(m, fastai_cos(0.95, 0.85, 0.95, 0.3, pos), 1e-12, 0);
    }
  }
  tl_plan_free(p);
  p = preset(TL_PLAN_PRESET_FEATURE_EXTRACTION, 3, 0, 30);
  size_t n;
  TLT_ASSERT_OK(tl_plan_num_stages(&n, p));
  ck_assert_uint_eq(n, 1);
  assert_trainable(p, 0, frozen, 3);
  tl_plan_free(p);
}
END_TEST

START_TEST(apply_sets_freezing_rates_momentum_and_resets_at_stage_starts) {
  fixture f;
  fixture_init(&f, TL_OPTIM_SGD);
  tl_plan *p = preset(TL_PLAN_PRESET_FINE_TUNE, 2, 4, 6);
  int started = -1;
  float loss;
  for (uint64_t step = 0; step < 10; step++) {
    TLT_ASSERT_OK(tl_plan_apply(&started, p, f.optim, step));
    ck_assert_int_eq(started, step == 0 || step == 4);
    uint64_t count;
    TLT_ASSERT_OK(tl_optim_step_count(&count, f.optim));
    ck_assert_uint_eq(count, step < 4 ? step : step - 4); /* reset at 4 */
    int t0, t1;
    TLT_ASSERT_OK(tl_model_get_group_trainable(&t0, f.model, 0));
    TLT_ASSERT_OK(tl_model_get_group_trainable(&t1, f.model, 1));
    ck_assert(t0 == (step >= 4) && t1 == 1);
    double want[2], got, m, want_m;
    TLT_ASSERT_OK(tl_plan_lrs(want, 2, p, step));
    TLT_ASSERT_OK(tl_plan_momentum(&want_m, p, step));
    for (size_t g = 0; g < 2; g++) {
      TLT_ASSERT_OK(tl_optim_get_group_lr(&got, f.optim, g));
      ck_assert(got == want[g]);
      TLT_ASSERT_OK(
          tl_optim_get_group_hparam(&m, f.optim, g, TL_OPTIM_MOMENTUM));
      ck_assert(m == want_m);
    }
    TLT_ASSERT_OK(train_step(&f, &loss));
  }
  /* Resuming mid-stage keeps the state (a checkpoint restored it). */
  TLT_ASSERT_OK(tl_plan_apply(&started, p, f.optim, 7));
  ck_assert_int_eq(started, 0);
  uint64_t count;
  TLT_ASSERT_OK(tl_optim_step_count(&count, f.optim));
  ck_assert_uint_eq(count, 6);
  tl_plan_free(p);
  p = preset(TL_PLAN_PRESET_ULMFIT, 3, 4, 6);
  TLT_ASSERT_FAILS(tl_plan_apply(NULL, p, f.optim, 0), TL_E_SHAPE, "groups");
  tl_plan_free(p);
  fixture_free(&f);
}
END_TEST

START_TEST(stages_and_presets_reject_bad_input) {
  tl_plan *p = NULL;
  TLT_ASSERT_FAILS(tl_plan_create(&p, 0), TL_E_INVALID_ARG, "n_groups");
  TLT_ASSERT_OK(tl_plan_create(&p, 3));
  double lrs[3], m;
  size_t stage;
  uint64_t local;
  TLT_ASSERT_FAILS(tl_plan_lrs(lrs, 3, p, 0), TL_E_STATE, "no stage");
  TLT_ASSERT_FAILS(tl_plan_momentum(&m, p, 0), TL_E_STATE, "no stage");
  TLT_ASSERT_FAILS(tl_plan_stage_at(&stage, &local, p, 0), TL_E_STATE,
                   "no stage");
  tl_sched_constant_options co;
  tl_sched_constant_options_init(&co, TL_SCHED_CONSTANT_OPTIONS_VERSION);
  tl_sched *s = NULL;
  TLT_ASSERT_OK(tl_sched_constant_create(&s, &co));
  tl_plan_stage st;
  TLT_ASSERT_OK(tl_plan_stage_init(&st, TL_PLAN_STAGE_VERSION));
  ck_assert(st.reset_state == 1 && st.freeze == TL_PLAN_FREEZE_TO);
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_INVALID_ARG, "steps");
  st.steps = 5;
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_INVALID_ARG, "sched");
  st.sched = s;
  st.freeze_arg = -4;
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_INVALID_ARG, "freeze_arg");
  st.freeze = TL_PLAN_ONLY_GROUP, st.freeze_arg = 3;
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_INVALID_ARG, "freeze_arg");
  st.freeze = (tl_plan_freeze)9;
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_INVALID_ARG, "freeze");
  st.freeze = TL_PLAN_FREEZE_TO, st.freeze_arg = -1;
  const double bad[3] = {0.1, -1, 0.1};
  st.base_lrs = bad;
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_INVALID_ARG, "base_lrs[1]");
  st.base_lrs = NULL;
  st.version = 2;
  TLT_ASSERT_FAILS(tl_plan_add_stage(p, &st), TL_E_UNSUPPORTED, "version 2");
  st.version = TL_PLAN_STAGE_VERSION;
  TLT_ASSERT_OK(tl_plan_add_stage(p, &st));
  tl_sched_free(s); /* the plan holds a copy */
  TLT_ASSERT_FAILS(tl_plan_lrs(lrs, 2, p, 0), TL_E_SHAPE, "3 groups");
  TLT_ASSERT_OK(tl_plan_lrs(lrs, 3, p, 1000)); /* past the end: last stage */
  ck_assert(lrs[0] == 0.01);
  int t;
  TLT_ASSERT_FAILS(tl_plan_group_trainable(&t, p, 1, 0), TL_E_INVALID_ARG,
                   "stage 1");
  tl_plan_free(p);
  tl_plan_free(NULL);
  p = NULL;

  tl_plan_preset_options o;
  TLT_ASSERT_FAILS(tl_plan_preset_options_init(&o, 1, (tl_plan_preset)7),
                   TL_E_INVALID_ARG, "preset 7");
  TLT_ASSERT_OK(tl_plan_preset_options_init(&o, 1, TL_PLAN_PRESET_ULMFIT));
  ck_assert(o.lr == 0.01 && o.factor == 2.6 && o.cut_frac == 0.1);
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "n_groups");
  o.n_groups = 4;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "final_steps");
  o.final_steps = 10;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "stage_steps");
  o.stage_steps = 10, o.cut_frac = 2.0;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "cut_frac");
  o.cut_frac = 0.1, o.factor = 0.5;
  TLT_ASSERT_FAILS(tl_plan_preset_create(&p, TL_PLAN_PRESET_ULMFIT, &o),
                   TL_E_INVALID_ARG, "factor");
  ck_assert_ptr_null(p);
  TLT_ASSERT_OK(tl_plan_preset_options_init(&o, 1, TL_PLAN_PRESET_FINE_TUNE));
  ck_assert(o.lr == 2e-3 && o.lr_mult == 100 && o.div == 5 &&
            o.pct_start == 0.3);
}
END_TEST

START_TEST(allocation_failures_are_reported_and_leak_nothing) {
  tlt_counter fa;
  tlt_counter_install(&fa);
  fixture f;
  fixture_init(&f, TL_OPTIM_ADAM);
  f.synthetic = 1;
  tl_plan_preset_options o;
  tl_plan_preset_options_init(&o, 1, TL_PLAN_PRESET_FINE_TUNE);
  o.n_groups = 4, o.stage_steps = 5, o.final_steps = 9;
  size_t failures = 0;
  for (size_t budget = 0;; budget++) {
    fa.budget = budget, fa.allocs = fa.frees = 0;
    tl_plan *p = NULL;
    const tl_status st =
        tl_plan_preset_create(&p, TL_PLAN_PRESET_FINE_TUNE, &o);
    if (st == TL_OK) {
      tl_plan_free(p);
      ck_assert_uint_eq(fa.allocs, fa.frees);
      break;
    }
    ck_assert_int_eq(st, TL_E_NOMEM);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(fa.allocs, fa.frees);
    failures++;
  }
  ck_assert_uint_ge(failures, 6);
  /* lr_find's snapshot: a failed allocation runs no step. */
  double lrs[100], losses[100];
  for (size_t budget = 0; budget < 4; budget++) {
    fa.budget = budget, fa.allocs = fa.frees = 0;
    tl_lr_find_result r = TL_LR_FIND_RESULT_INIT;
    TLT_ASSERT_FAILS(
        tl_lr_find(&r, lrs, losses, 100, f.optim, step_cb, &f, NULL),
        TL_E_NOMEM, "tl_lr_find");
    ck_assert_uint_eq(fa.allocs, fa.frees);
    ck_assert_uint_eq(f.calls, 0);
  }
  fa.budget = SIZE_MAX;
  fixture_free(&f);
  tl_set_allocator(NULL);
}
END_TEST

static Suite *plan_suite(void) {
  Suite *suite = suite_create("plan");
  TCase *tc = tcase_create("plan");
  tcase_add_loop_test(tc, lr_find_matches_fastai_and_restores_everything, 0,
                      LR_FIND_GOLDEN_N_CASES);
  tcase_add_test(tc, lr_find_on_a_real_loss_restores_and_suggests);
  tcase_add_test(tc, lr_find_stops_at_nan_and_reports_callback_failures);
  tcase_add_test(tc, lr_find_rejects_bad_input);
  tcase_add_test(tc, ulmfit_gradual_unfreezing);
  tcase_add_test(tc, ulmfit_with_a_rate_per_stage);
  tcase_add_test(tc, chain_thaw_trains_one_group_at_a_time_then_all);
  tcase_add_test(tc, fine_tune_is_fastai_fine_tune);
  tcase_add_test(tc,
                 apply_sets_freezing_rates_momentum_and_resets_at_stage_starts);
  tcase_add_test(tc, stages_and_presets_reject_bad_input);
  tcase_add_test(tc, allocation_failures_are_reported_and_leak_nothing);
  suite_add_tcase(suite, tc);
  return suite;
}

int main(void) { return tlt_run(plan_suite()); }
