/*
 * libtl training plans: the LR range test (fastai's lr_find) and staged
 * freezing/unfreezing plans (ULMFiT gradual unfreezing, chain-thaw, fastai
 * fine_tune, feature extraction) on top of tl_optim and tl_sched.
 *
 * Thread-safety: tl_lr_find drives one optimizer (and its models) from the
 * calling thread. A tl_plan is immutable after its stages are added: its
 * queries may run from any thread at once; tl_plan_apply changes the
 * optimizer it is given (one thread at a time, as for tl_optim).
 */
#ifndef TL_PLAN_H
#define TL_PLAN_H

#include "tl/core.h"
#include "tl/optim.h"
#include "tl/sched.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef TL_EXPERIMENTAL_API
/* Experimental tier (see docs/api-conventions.md): the LR range test and the
 * plan presets may still change in a minor release. They are declared only
 * when the includer defines TL_EXPERIMENTAL_API before including libtl's
 * headers (zstd's ZSTD_STATIC_LINKING_ONLY habit), their symbols carry the
 * version node TL_EXPERIMENTAL_0.1 and the ABI gate does not hold them. */

/* ------------------------------------------------------------------------
 * LR range test (Smith 2017; fastai Learner.lr_find)
 *
 * Iteration i = 0, 1, ... sets every group's learning rate to
 *   lr_i = start_lr * (end_lr / start_lr)^(i / num_it)
 * and calls step(payload, &loss), which must run one training step with the
 * optimizer (zero_grad, forward, loss, backward, tl_optim_step, as the host
 * likes: clipping, AR/TAR...) and write the loss of that batch. The loss is
 * smoothed as fastai's AvgSmoothLoss (val = loss + beta * (val - loss),
 * smoothed = val / (1 - beta^(i+1))) and (lr_i, smoothed) is recorded. The
 * test stops after num_it iterations, when the smoothed loss exceeds
 * stop_factor x the best so far (the point that exceeded is recorded, as in
 * fastai), or at a non-finite loss (not recorded; fastai trims at the first
 * NaN). Afterwards the weights and buffers (BatchNorm running statistics)
 * of every model of the optimizer, the optimizer state and every group
 * hyperparameter are restored, and the
 * gradients zeroed: the test leaves no trace, whatever happened.
 *
 * Suggestions (tl_lr_find_suggest) use the points [num_it/10, n-5) of the
 * record, as fastai: minimum (lr of the lowest smoothed loss, / 10),
 * steepest (lr where the smoothed loss falls fastest per log lr) and valley
 * (fastai's default: 2/3 into the longest decreasing run).
 * ------------------------------------------------------------------------ */

/* One training step of the host. Returns TL_OK and writes the loss, or a
 * failure status that ends the test (restored, status returned). */
typedef tl_status (*tl_lr_find_step_fn)(void *payload, double *out_loss);

/* Options of tl_lr_find: the rate range, the number of iterations, the
 * loss smoothing and the divergence stop. */
#define TL_LR_FIND_OPTIONS_VERSION 1
typedef struct tl_lr_find_options {
  unsigned int version; /* TL_LR_FIND_OPTIONS_VERSION */
  double start_lr;      /* default 1e-7 */
  double end_lr;        /* default 10 */
  size_t num_it;        /* default 100 */
  double beta;          /* loss smoothing; default 0.98 */
  double stop_factor;   /* stop when smoothed > stop_factor * best; default
                           4; 0 never stops early (fastai stop_div=False) */
} tl_lr_find_options;
/* The defaults of tl_lr_find_options_init as a static initialiser:
 * tl_lr_find_options o = TL_LR_FIND_OPTIONS_INIT; */
#define TL_LR_FIND_OPTIONS_INIT                                                \
  { TL_LR_FIND_OPTIONS_VERSION, 1e-7, 10.0, 100, 0.98, 4.0 }

/* Fills *out with fastai's defaults (1e-7 to 10 over 100 iterations,
 * beta 0.98, stop at 4x the best). Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_lr_find_options_init(tl_lr_find_options *out,
                                         unsigned int version);

/* What tl_lr_find and tl_lr_find_suggest report: the number of points,
 * whether the test stopped early, and the three suggested rates. The caller
 * sets version (TL_LR_FIND_RESULT_INIT does). */
#define TL_LR_FIND_RESULT_VERSION 1
typedef struct tl_lr_find_result {
  unsigned int version; /* set by the caller: TL_LR_FIND_RESULT_VERSION */
  size_t n;             /* points recorded in out_lrs / out_losses */
  int diverged;         /* stopped early (stop_factor or non-finite loss) */
  int has_suggestions;  /* 0 when fewer than 2 points remain after the
                           fastai trimming; the lr_* are then 0 */
  double lr_min;        /* minimum / 10 */
  double lr_steep;      /* steepest descent */
  double lr_valley;     /* valley (fastai's default suggestion) */
} tl_lr_find_result;
/* An initialiser with the version set: tl_lr_find_result r =
 * TL_LR_FIND_RESULT_INIT; */
#define TL_LR_FIND_RESULT_INIT                                                 \
  { TL_LR_FIND_RESULT_VERSION, 0, 0, 0, 0.0, 0.0, 0.0 }

/* Runs the test. out_lrs and out_losses (smoothed) receive up to capacity
 * points (capacity >= num_it). options NULL: defaults. Errors:
 * TL_E_INVALID_ARG (NULL, start_lr <= 0, end_lr <= start_lr, num_it 0,
 * beta outside [0, 1), stop_factor neither 0 nor > 1, NaN/Inf, capacity <
 * num_it), TL_E_UNSUPPORTED (versions), TL_E_NOMEM (the snapshot), a
 * failing status of the callback (everything restored; the message says
 * at which iteration). */
TL_API tl_status tl_lr_find(tl_lr_find_result *out, double *out_lrs,
                            double *out_losses, size_t capacity,
                            tl_optim *optim, tl_lr_find_step_fn step,
                            void *payload, const tl_lr_find_options *options);

/* The suggestions of a recorded test (n points, num_it as run) into out
 * (out->version set by the caller); sets out->n = n, leaves diverged alone.
 * Pure. Errors: TL_E_INVALID_ARG (NULL, lrs not > 0 and finite, losses not
 * finite), TL_E_UNSUPPORTED. */
TL_API tl_status tl_lr_find_suggest(tl_lr_find_result *out, const double *lrs,
                                    const double *losses, size_t n,
                                    size_t num_it);

#endif /* TL_EXPERIMENTAL_API */

/* ------------------------------------------------------------------------
 * Plans: stages of (freezing, steps, schedule, discriminative base rates).
 *
 * A plan over n_groups layer groups (the optimizer's groups) is a list of
 * stages run back to back; stage s covers global steps
 * [start_s, start_s + steps_s). Inside a stage, group g's learning rate at
 * local step u is base_lrs[g] * tl_sched_multiplier(sched, u) (or the
 * schedule's own rate for every group when base_lrs is NULL), and the
 * momentum that of the schedule when it has one. Past the last stage the
 * last stage continues (its schedule's past-the-end behaviour).
 * ------------------------------------------------------------------------ */

/* An opaque plan handle: n_groups and a list of stages, each with its own
 * copy of its schedule and base rates. Immutable once its stages are
 * added; free it with tl_plan_free. */
typedef struct tl_plan tl_plan;

/* How a stage chooses its trainable groups (tl_plan_stage.freeze). */
typedef enum tl_plan_freeze {
  /* fastai freeze_to(arg): groups [arg:] trainable, [:arg] frozen; a
   * negative arg counts from the end. */
  TL_PLAN_FREEZE_TO = 0,
  /* Chain-thaw: only group arg trainable. */
  TL_PLAN_ONLY_GROUP = 1
} tl_plan_freeze;

/* One stage of a plan (tl_plan_add_stage): which groups train, for how
 * many steps, under which schedule and base rates. */
#define TL_PLAN_STAGE_VERSION 1
typedef struct tl_plan_stage {
  unsigned int version;   /* TL_PLAN_STAGE_VERSION */
  tl_plan_freeze freeze;  /* default TL_PLAN_FREEZE_TO */
  int64_t freeze_arg;     /* default 0 (everything trainable) */
  uint64_t steps;         /* > 0; default 0, which add_stage rejects */
  const tl_sched *sched;  /* copied by add_stage; default NULL (rejected) */
  const double *base_lrs; /* n_groups rates, copied; NULL: the schedule's
                             rate for every group (default) */
  int reset_state;        /* clear the optimizer state when the stage starts
                             (fastai's freeze_to does); default 1 */
} tl_plan_stage;
/* The defaults of tl_plan_stage_init as a static initialiser:
 * tl_plan_stage o = TL_PLAN_STAGE_INIT; */
#define TL_PLAN_STAGE_INIT                                                     \
  { TL_PLAN_STAGE_VERSION, TL_PLAN_FREEZE_TO, 0, 0, NULL, NULL, 1 }

/* Fills *out with the defaults above (freeze_to(0), reset_state 1, no
 * steps, no schedule: set steps and sched before adding it). Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_plan_stage_init(tl_plan_stage *out, unsigned int version);

/* An empty plan over n_groups groups (n_groups > 0). */
TL_API tl_status tl_plan_create(tl_plan **out, size_t n_groups);
/* Frees a plan and its copies of the stages' schedules and rates (the
 * caller's schedules are its own); NULL is a no-op. */
TL_API void tl_plan_free(tl_plan *plan);

/* Appends a stage (copies its schedule and base rates). Errors:
 * TL_E_INVALID_ARG (NULL, steps 0, no schedule, freeze kind unknown,
 * freeze_arg out of range for n_groups, base rate negative or not finite,
 * the plan's total steps would overflow), TL_E_UNSUPPORTED, TL_E_NOMEM. */
TL_API tl_status tl_plan_add_stage(tl_plan *plan, const tl_plan_stage *stage);

/* The number of stages added so far into *out. */
TL_API tl_status tl_plan_num_stages(size_t *out, const tl_plan *plan);
/* The plan's group count (n_groups at create) into *out. */
TL_API tl_status tl_plan_num_groups(size_t *out, const tl_plan *plan);
/* Sum of the stages' steps. */
TL_API tl_status tl_plan_total_steps(uint64_t *out, const tl_plan *plan);
/* First global step and length of stage `stage` (early stopping: jump to
 * the next stage's start). */
TL_API tl_status tl_plan_stage_bounds(uint64_t *out_start, uint64_t *out_steps,
                                      const tl_plan *plan, size_t stage);
/* The stage running at a global step and the step inside it. Errors:
 * TL_E_STATE when the plan has no stage. */
TL_API tl_status tl_plan_stage_at(size_t *out_stage, uint64_t *out_local,
                                  const tl_plan *plan, uint64_t step);
/* Whether group `group` is trainable during stage `stage`. */
TL_API tl_status tl_plan_group_trainable(int *out, const tl_plan *plan,
                                         size_t stage, size_t group);
/* Per-group learning rates at a global step (n == n_groups, else
 * TL_E_SHAPE). Errors also: TL_E_STATE when the plan has no stage. */
TL_API tl_status tl_plan_lrs(double *out_lrs, size_t n, const tl_plan *plan,
                             uint64_t step);
/* Momentum at a global step; TL_E_UNSUPPORTED when the running stage's
 * schedule has none; TL_E_STATE when the plan has no stage. */
TL_API tl_status tl_plan_momentum(double *out, const tl_plan *plan,
                                  uint64_t step);

/* Puts the plan's state for global `step` into the optimizer: the running
 * stage's trainable groups (tl_optim_set_group_trainable, state kept), the
 * optimizer state cleared when step is the stage's first step and the stage
 * asks for it, every group's lr, and the momentum (SGD momentum / Adam
 * beta1) when the stage's schedule has one (tl_sched_has_momentum). Call
 * it before every tl_optim_step; resuming at a checkpointed step needs
 * nothing else. Allocates nothing.
 * *out_stage_started (may be NULL) is 1 on a stage's first step. Errors:
 * TL_E_SHAPE (the optimizer's group count differs from the plan's),
 * TL_E_STATE (empty plan), TL_E_INVALID_ARG (a momentum outside [0, 1)
 * for the optimizer), and those of tl_optim. Validates the plan's values
 * before changing the optimizer. */
TL_API tl_status tl_plan_apply(int *out_stage_started, const tl_plan *plan,
                               tl_optim *optim, uint64_t step);

#ifdef TL_EXPERIMENTAL_API
/* ------------------------------------------------------------------------
 * Presets
 *
 * TL_PLAN_PRESET_ULMFIT (Howard & Ruder 2018, gradual unfreezing): n_groups
 *   stages; stage k (k = 0..n-1) trains the last k+1 groups (freeze_to
 *   -(k+1); the last stage unfreezes all), each with STLR (cut_frac,
 *   ratio) over stage_steps (final_steps for the last) and discriminative
 *   rates lr / factor^(n-1-g). Optimizer state cleared at each stage.
 * TL_PLAN_PRESET_CHAIN_THAW (Felbo et al. 2017): the last group (the new head)
 *   alone, then each group alone from 0 to n-2, then all groups; stage_steps
 *   each (final_steps for the last), constant lr, a fresh optimizer state
 *   per stage. Early stopping: jump to the next tl_plan_stage_bounds start.
 * TL_PLAN_PRESET_FINE_TUNE (fastai Learner.fine_tune): freeze (only the last
 *   group) for stage_steps with fastai's one-cycle at lr (pct_start 0.99),
 *   then unfreeze and one-cycle over final_steps at lr / 2 with
 *   discriminative rates even over [lr/2 / lr_mult, lr/2] (fastai
 *   slice(lo, hi)), pct_start and div from the options; momentum (0.95,
 *   0.85, 0.95).
 * TL_PLAN_PRESET_FEATURE_EXTRACTION: one stage of final_steps training only the
 *   last group (the head) with fastai's one-cycle at lr, pct_start and div
 *   from the options.
 * ------------------------------------------------------------------------ */
typedef enum tl_plan_preset {
  /* Gradual unfreezing with STLR and factor rates (above). */
  TL_PLAN_PRESET_ULMFIT = 0,
  /* Chain-thaw: head, then each group alone, then all (above). */
  TL_PLAN_PRESET_CHAIN_THAW = 1,
  /* fastai Learner.fine_tune: frozen, then unfrozen one-cycle (above). */
  TL_PLAN_PRESET_FINE_TUNE = 2,
  /* The head alone, one-cycle (above). */
  TL_PLAN_PRESET_FEATURE_EXTRACTION = 3
} tl_plan_preset;

/* Options of tl_plan_preset_create; tl_plan_preset_options_init fills the
 * preset's defaults, the caller sets n_groups and the step counts. */
#define TL_PLAN_PRESET_OPTIONS_VERSION 1
typedef struct tl_plan_preset_options {
  unsigned int version; /* TL_PLAN_PRESET_OPTIONS_VERSION */
  size_t n_groups;      /* default 0, which create rejects */
  double lr;            /* ULMFiT 0.01, chain-thaw 1e-3, fine_tune 2e-3,
                           feature extraction 2e-3 */
  uint64_t stage_steps; /* steps of each stage but the last; default 0 */
  uint64_t final_steps; /* steps of the last stage; default 0 */
  double factor;        /* ULMFiT discriminative factor; default 2.6 */
  double cut_frac;      /* ULMFiT STLR; default 0.1 */
  double ratio;         /* ULMFiT STLR; default 32 */
  double lr_mult;       /* fine_tune; default 100 */
  double pct_start;     /* fine_tune / feature extraction; default 0.3 */
  double div;           /* fine_tune 5, feature extraction 25 */
} tl_plan_preset_options;
/* The defaults of tl_plan_preset_options_init as a static initialiser:
 * tl_plan_preset_options o =
 * TL_PLAN_PRESET_OPTIONS_INIT(TL_PLAN_PRESET_ULMFIT); */
#define TL_PLAN_PRESET_OPTIONS_INIT(preset)                                    \
  {                                                                            \
    TL_PLAN_PRESET_OPTIONS_VERSION, 0,                                         \
        (preset) == TL_PLAN_PRESET_ULMFIT       ? 0.01                         \
        : (preset) == TL_PLAN_PRESET_CHAIN_THAW ? 1e-3                         \
                                                : 2e-3,                        \
        0, 0, 2.6, 0.1, 32.0, 100.0, 0.3,                                      \
        (preset) == TL_PLAN_PRESET_FINE_TUNE ? 5.0 : 25.0                      \
  }

/* Fills the defaults of `preset`. Errors: TL_E_INVALID_ARG (NULL, unknown
 * preset), TL_E_UNSUPPORTED (version). */
TL_API tl_status tl_plan_preset_options_init(tl_plan_preset_options *out,
                                             unsigned int version,
                                             tl_plan_preset preset);

/* Builds a preset plan. Errors: TL_E_INVALID_ARG (n_groups 0, a needed
 * step count 0, rates or factors out of range, unknown preset),
 * TL_E_UNSUPPORTED, TL_E_NOMEM. */
TL_API tl_status tl_plan_preset_create(tl_plan **out, tl_plan_preset preset,
                                       const tl_plan_preset_options *options);
#endif /* TL_EXPERIMENTAL_API */

#ifdef __cplusplus
}
#endif

#endif /* TL_PLAN_H */
