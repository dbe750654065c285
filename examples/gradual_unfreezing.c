/* ULMFiT-style fine-tuning of a small classifier with the public API only:
 * an LR range test picks the rate, then a gradual-unfreezing plan (the last
 * group first, one more group per stage, STLR and discriminative rates
 * lr / 2.6^(n-1-g) in each stage) drives the optimizer step by step.
 *
 *   ./gradual_unfreezing
 *
 * The data are synthetic (a fixed linear teacher labels random points), so
 * the program runs anywhere in a second. */
/* This file uses lr_find and a preset, both experimental
 * (docs/api-conventions.md). */
#define TL_EXPERIMENTAL_API
#include <stdio.h>
#include <stdlib.h>

#include "tl/tl.h"

#define N 64 /* batch size */
#define IN 6
#define HID 16
#define CLASSES 3

typedef struct task {
  tl_model *model;
  tl_optim *optim;
  float x[N * IN];
  int64_t y[N];
  float last_loss;
} task;

#define TRY(call)                                                              \
  do {                                                                         \
    tl_status try_st_ = (call);                                                \
    if (try_st_ != TL_OK) {                                                    \
      fprintf(stderr, "%s failed: %s\n", #call, tl_last_error());              \
      return try_st_;                                                          \
    }                                                                          \
  } while (0)

/* A small deterministic generator for the synthetic data. */
static float uniform(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f * 2.0f - 1.0f;
}

static void make_data(task *t) {
  uint64_t s = 42;
  float teacher[CLASSES * IN];
  for (int i = 0; i < CLASSES * IN; i++)
    teacher[i] = uniform(&s);
  for (int n = 0; n < N; n++) {
    float best = -1e30f;
    for (int i = 0; i < IN; i++)
      t->x[n * IN + i] = uniform(&s);
    for (int c = 0; c < CLASSES; c++) {
      float z = 0.0f;
      for (int i = 0; i < IN; i++)
        z += teacher[c * IN + i] * t->x[n * IN + i];
      if (z > best) {
        best = z;
        t->y[n] = c;
      }
    }
  }
}

/* One training step: forward, cross-entropy, backward, optimizer step. */
static tl_status train_step(task *t, float *out_acc) {
  const size_t dims[2] = {N, IN}, ldims[2] = {N, CLASSES};
  const float *logits;
  size_t odims[TL_MODEL_MAX_DIMS], ondim;
  float dlogits[N * CLASSES];
  TRY(tl_optim_zero_grad(t->optim));
  TRY(tl_model_forward(&logits, odims, &ondim, t->model, t->x, dims, 2));
  TRY(tl_cross_entropy(&t->last_loss, dlogits, logits, t->y, N, CLASSES, -1));
  if (out_acc)
    TRY(tl_accuracy(out_acc, logits, t->y, N, CLASSES, -1));
  TRY(tl_model_backward(NULL, t->model, dlogits, ldims, 2));
  return tl_optim_step(t->optim);
}

/* The LR range test's callback: one step, report its loss. */
static tl_status lr_find_step(void *payload, double *out_loss) {
  task *t = payload;
  const tl_status st = train_step(t, NULL);
  *out_loss = t->last_loss;
  return st;
}

static tl_status run(task *t) {
  /* Three layer groups: two encoder layers and the new head. */
  TRY(tl_model_create(&t->model, NULL));
  TRY(tl_model_add_linear(t->model, "enc1", IN, HID, TL_ACTIVATION_RELU));
  TRY(tl_model_add_linear(t->model, "enc2", HID, HID, TL_ACTIVATION_RELU));
  TRY(tl_model_add_linear(t->model, "head", HID, CLASSES, TL_ACTIVATION_NONE));
  tl_optim_options oo;
  TRY(tl_optim_options_init(&oo, TL_OPTIM_OPTIONS_VERSION, TL_OPTIM_ADAM));
  TRY(tl_optim_create(&t->optim, &t->model, 1, &oo));
  make_data(t);

  /* 1. LR range test; the model and optimizer come back untouched. */
  double lrs[100], losses[100];
  tl_lr_find_result found = TL_LR_FIND_RESULT_INIT;
  TRY(tl_lr_find(&found, lrs, losses, 100, t->optim, lr_find_step, t, NULL));
  printf("lr_find: %zu points%s; suggestions minimum/10 %.3g, steep %.3g, "
         "valley %.3g\n",
         found.n, found.diverged ? " (stopped at divergence)" : "",
         found.lr_min, found.lr_steep, found.lr_valley);
  /* minimum/10: the conservative fastai rule (valley is another choice). */
  double lr = found.has_suggestions ? found.lr_min : 1e-2;

  /* 2. Gradual unfreezing: 3 stages of 40, 40 and 120 steps. */
  tl_plan_preset_options po;
  TRY(tl_plan_preset_options_init(&po, TL_PLAN_PRESET_OPTIONS_VERSION,
                                  TL_PLAN_PRESET_ULMFIT));
  po.n_groups = 3, po.lr = lr, po.stage_steps = 40, po.final_steps = 120;
  tl_plan *plan = NULL;
  TRY(tl_plan_preset_create(&plan, TL_PLAN_PRESET_ULMFIT, &po));
  uint64_t total;
  TRY(tl_plan_total_steps(&total, plan));
  float acc = 0.0f;
  tl_status st = TL_OK;
  for (uint64_t step = 0; step < total && st == TL_OK; step++) {
    int started;
    st = tl_plan_apply(&started, plan, t->optim, step);
    if (st == TL_OK && started) {
      size_t stage;
      uint64_t local;
      double g[3];
      int tr[3];
      tl_plan_stage_at(&stage, &local, plan, step);
      tl_plan_lrs(g, 3, plan, step);
      for (size_t k = 0; k < 3; k++)
        tl_plan_group_trainable(&tr[k], plan, stage, k);
      printf("step %3llu: stage %zu, trainable groups [%d %d %d], "
             "start lrs %.3g %.3g %.3g\n",
             (unsigned long long)step, stage, tr[0], tr[1], tr[2], g[0], g[1],
             g[2]);
    }
    if (st == TL_OK)
      st = train_step(t, &acc);
    if (st == TL_OK && (step + 1) % 40 == 0)
      printf("step %3llu: loss %.4f, accuracy %.3f\n",
             (unsigned long long)step + 1, t->last_loss, acc);
  }
  tl_plan_free(plan);
  if (st != TL_OK)
    fprintf(stderr, "training failed: %s\n", tl_last_error());
  return st;
}

int main(void) {
  task t = {0};
  const tl_status st = run(&t);
  tl_optim_free(t.optim);
  tl_model_free(t.model);
  return st == TL_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
