/*
 * libtl schedules: learning rate (and momentum) as a pure function of the
 * optimizer step.
 *
 * A tl_sched is an immutable description: tl_sched_lr(s, t) depends only on
 * the step t (counted from 0), never on earlier calls, so training resumes at
 * any checkpointed step and one schedule can drive any number of layer groups.
 * Every value is computed in double precision with the closed form of the
 * method, and matches the public implementation named at each constructor
 * (PyTorch's torch.optim.lr_scheduler, fastai, the ULMFiT paper) to a
 * relative error below 1e-9 at every step (tests/sched, docs/schedules.md).
 *
 * Layer groups: tl_sched_multiplier gives the schedule normalised to its
 * reference rate (the lr_max / max_lr / base_lr it was built with), so
 * discriminative fine-tuning is base_lr[g] * multiplier(t):
 * tl_sched_fill_group_lrs fills such an array for an optimizer that takes
 * one learning rate per group. Groups can also each follow a schedule of
 * their own (tl_sched_fill_group_lrs_each).
 *
 * Momentum: one-cycle (both flavours) and cyclical schedules also define a
 * momentum (SGD momentum or Adam's beta1), cycled inversely to the rate.
 * tl_sched_has_momentum says whether a schedule defines one at every step;
 * tl_sched_momentum fails with TL_E_UNSUPPORTED where it does not.
 *
 * Errors: constructors validate every option before allocating (rates must
 * be finite and >= 0, sizes > 0, fractions in range; each constructor lists
 * its rules) and return TL_E_INVALID_ARG with a message naming the option,
 * TL_E_UNSUPPORTED for an unknown options version, TL_E_NOMEM. No query ever
 * returns NaN or Inf: a result that overflows (an exponential growth factor
 * after very many steps) gives TL_E_NUMERIC. Every step is valid input; what
 * a finite schedule does past its end is documented at its constructor.
 *
 * Thread-safety: a tl_sched is never modified after creation, so any number
 * of threads may query the same schedule at once. Creating and freeing
 * follow the usual rule (free only when no other thread uses it).
 */
#ifndef TL_SCHED_H
#define TL_SCHED_H

#include "tl/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque, immutable schedule: its kind and a copy of its options (and
 * of its children, for a sequential one). Created by a tl_sched_*_create
 * constructor, freed by tl_sched_free. */
typedef struct tl_sched tl_sched;

/* The method a schedule implements (tl_sched_kind). Values are ABI. */
typedef enum tl_sched_kind {
  /* tl_sched_stlr_create */
  TL_SCHED_STLR = 0,
  /* tl_sched_cyclic_create */
  TL_SCHED_CYCLIC = 1,
  /* tl_sched_cosine_create */
  TL_SCHED_COSINE = 2,
  /* tl_sched_cosine_restarts_create */
  TL_SCHED_COSINE_RESTARTS = 3,
  /* tl_sched_one_cycle_create */
  TL_SCHED_ONE_CYCLE = 4,
  /* tl_sched_fastai_one_cycle_create */
  TL_SCHED_FASTAI_ONE_CYCLE = 5,
  /* tl_sched_linear_create */
  TL_SCHED_LINEAR = 6,
  /* tl_sched_constant_create */
  TL_SCHED_CONSTANT = 7,
  /* tl_sched_step_create */
  TL_SCHED_STEP = 8,
  /* tl_sched_exponential_create */
  TL_SCHED_EXPONENTIAL = 9,
  /* tl_sched_multi_step_create */
  TL_SCHED_MULTI_STEP = 10,
  /* tl_sched_sequential_create */
  TL_SCHED_SEQUENTIAL = 11
} tl_sched_kind;

/* ------------------------------------------------------------------------
 * Slanted triangular learning rates (ULMFiT, Howard & Ruder 2018, eq. 3):
 *   cut = floor(T * cut_frac)
 *   p   = t / cut                                   if t < cut
 *         1 - (t - cut) / (cut * (1 / cut_frac - 1)) otherwise
 *   lr  = lr_max * (1 + p * (ratio - 1)) / ratio
 * This is the paper's decay denominator (some public copies use
 * cut * (ratio - 1) or 1 / ratio: those are wrong).
 * Guards: p is clamped at 0, so the rate never goes below lr_max / ratio.
 * That matters past the end (t >= T: the rate holds lr_max / ratio) and
 * inside the run when T * cut_frac is not whole (the paper's p reaches 0 at
 * t = cut / cut_frac < T). When cut = 0 (T < 1 / cut_frac) there is no
 * warm-up: p = 1 - t / T.
 * Rules: total_steps > 0, 0 < cut_frac < 1, ratio >= 1, lr_max >= 0.
 * No momentum.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_STLR_OPTIONS_VERSION 1
typedef struct tl_sched_stlr_options {
  unsigned int version; /* TL_SCHED_STLR_OPTIONS_VERSION */
  double lr_max;        /* peak rate; default 0.01 */
  uint64_t total_steps; /* T; default 0, which the constructor rejects */
  double cut_frac;      /* fraction of T spent increasing; default 0.1 */
  double ratio;         /* lr_max / lowest rate; default 32 */
} tl_sched_stlr_options;
/* The defaults of tl_sched_stlr_options_init as a static initialiser:
 * tl_sched_stlr_options o = TL_SCHED_STLR_OPTIONS_INIT; */
#define TL_SCHED_STLR_OPTIONS_INIT                                             \
  { TL_SCHED_STLR_OPTIONS_VERSION, 0.01, 0, 0.1, 32.0 }

/* Fills *out with the ULMFiT paper's defaults (lr_max 0.01, cut_frac 0.1,
 * ratio 32); total_steps is 0 and must be set. Errors: TL_E_INVALID_ARG (out
 * NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_stlr_options_init(tl_sched_stlr_options *out,
                                            unsigned int version);
/* Slanted triangular learning rates, the formula above (ULMFiT eq. 3;
 * neither PyTorch nor fastai v2 ships it: fastai's fit_one_cycle replaced
 * it). kind TL_SCHED_STLR, no momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_stlr_create(tl_sched **out,
                                      const tl_sched_stlr_options *options);

/* ------------------------------------------------------------------------
 * Cyclical learning rates (Smith 2017) = torch.optim.lr_scheduler.CyclicLR:
 *   total = up + down, cycle = floor(1 + t / total), x = 1 + t/total - cycle
 *   s = x / (up/total) if x <= up/total else (x - 1) / (up/total - 1)
 *   lr = base_lr + (max_lr - base_lr) * s * scale
 *   momentum = max_momentum - (max_momentum - base_momentum) * s * scale
 * scale: TRIANGULAR 1, TRIANGULAR2 1 / 2^(cycle - 1), EXP_RANGE gamma^t.
 * Rules: step_size_up > 0 (step_size_down 0 means "= step_size_up"),
 * rates and momenta finite and >= 0, gamma finite and > 0, mode known.
 * Momentum is defined when cycle_momentum is non-zero. Unbounded.
 * ------------------------------------------------------------------------ */
typedef enum tl_sched_cyclic_mode {
  /* scale 1: every cycle reaches max_lr (CyclicLR "triangular"). */
  TL_SCHED_CYCLIC_TRIANGULAR = 0,
  /* scale halves each cycle (CyclicLR "triangular2"). */
  TL_SCHED_CYCLIC_TRIANGULAR2 = 1,
  /* scale gamma^t (CyclicLR "exp_range"). */
  TL_SCHED_CYCLIC_EXP_RANGE = 2
} tl_sched_cyclic_mode;

/* Options of tl_sched_cyclic_create (the formula above). */
#define TL_SCHED_CYCLIC_OPTIONS_VERSION 1
typedef struct tl_sched_cyclic_options {
  unsigned int version;      /* TL_SCHED_CYCLIC_OPTIONS_VERSION */
  double base_lr;            /* default 0.001 */
  double max_lr;             /* default 0.006 */
  uint64_t step_size_up;     /* default 2000 */
  uint64_t step_size_down;   /* default 0 = same as step_size_up */
  tl_sched_cyclic_mode mode; /* default TL_SCHED_CYCLIC_TRIANGULAR */
  double gamma;              /* EXP_RANGE factor per step; default 1 */
  int cycle_momentum;        /* default 1 */
  double base_momentum;      /* default 0.8 */
  double max_momentum;       /* default 0.9 */
} tl_sched_cyclic_options;
/* The defaults of tl_sched_cyclic_options_init as a static initialiser:
 * tl_sched_cyclic_options o = TL_SCHED_CYCLIC_OPTIONS_INIT; */
#define TL_SCHED_CYCLIC_OPTIONS_INIT                                           \
  {                                                                            \
    TL_SCHED_CYCLIC_OPTIONS_VERSION, 0.001, 0.006, 2000, 0,                    \
        TL_SCHED_CYCLIC_TRIANGULAR, 1.0, 1, 0.8, 0.9                           \
  }

/* Fills *out with torch.optim.lr_scheduler.CyclicLR's defaults (2000
 * steps up, triangular, gamma 1, momentum 0.8 to 0.9) and rates 0.001 to
 * 0.006 (CyclicLR has no default rates). Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_cyclic_options_init(tl_sched_cyclic_options *out,
                                              unsigned int version);
/* Cyclical learning rates, the formula above, equal to
 * torch.optim.lr_scheduler.CyclicLR stepped once per step (kind
 * TL_SCHED_CYCLIC). Momentum cycles inversely when cycle_momentum is set.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_cyclic_create(tl_sched **out,
                                        const tl_sched_cyclic_options *options);

/* ------------------------------------------------------------------------
 * Cosine annealing = the closed form of CosineAnnealingLR:
 *   lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2
 * Past t_max the rate rises again along the same cosine, as in PyTorch (to
 * hold eta_min afterwards, follow it with a constant schedule in a
 * sequential one). Rules: t_max > 0, rates finite and >= 0. No momentum.
 * tl_sched_total_steps gives t_max.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_COSINE_OPTIONS_VERSION 1
typedef struct tl_sched_cosine_options {
  unsigned int version; /* TL_SCHED_COSINE_OPTIONS_VERSION */
  double base_lr;       /* default 0.01 */
  uint64_t t_max;       /* default 0, which the constructor rejects */
  double eta_min;       /* default 0 */
} tl_sched_cosine_options;
/* The defaults of tl_sched_cosine_options_init as a static initialiser:
 * tl_sched_cosine_options o = TL_SCHED_COSINE_OPTIONS_INIT; */
#define TL_SCHED_COSINE_OPTIONS_INIT                                           \
  { TL_SCHED_COSINE_OPTIONS_VERSION, 0.01, 0, 0.0 }

/* Fills *out with the defaults (base_lr 0.01, eta_min 0); t_max is 0 and
 * must be set. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_cosine_options_init(tl_sched_cosine_options *out,
                                              unsigned int version);
/* Cosine annealing from base_lr to eta_min over t_max steps, the closed
 * form of torch.optim.lr_scheduler.CosineAnnealingLR (kind
 * TL_SCHED_COSINE), no momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_cosine_create(tl_sched **out,
                                        const tl_sched_cosine_options *options);

/* ------------------------------------------------------------------------
 * SGDR, cosine annealing with warm restarts = CosineAnnealingWarmRestarts
 * stepped once per step: cycle i lasts T_i = t_0 * t_mult^i steps; inside it
 * T_cur counts from 0 and
 *   lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2
 * The cycle is found with integer arithmetic, so restarts land exactly.
 * Rules: t_0 > 0, t_mult >= 1, rates finite and >= 0. No momentum.
 * Unbounded.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION 1
typedef struct tl_sched_cosine_restarts_options {
  unsigned int version; /* TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION */
  double base_lr;       /* default 0.01 */
  uint64_t t_0;         /* default 0, which the constructor rejects */
  uint64_t t_mult;      /* default 1 */
  double eta_min;       /* default 0 */
} tl_sched_cosine_restarts_options;
/* The defaults of tl_sched_cosine_restarts_options_init as a static
 * initialiser: tl_sched_cosine_restarts_options o =
 * TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT; */
#define TL_SCHED_COSINE_RESTARTS_OPTIONS_INIT                                  \
  { TL_SCHED_COSINE_RESTARTS_OPTIONS_VERSION, 0.01, 0, 1, 0.0 }

/* Fills *out with the defaults (base_lr 0.01, t_mult 1, eta_min 0); t_0
 * is 0 and must be set. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_cosine_restarts_options_init(
    tl_sched_cosine_restarts_options *out, unsigned int version);
/* SGDR (Loshchilov & Hutter 2017): cosine annealing restarted every T_i
 * steps, equal to torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
 * stepped once per step (kind TL_SCHED_COSINE_RESTARTS), no momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_cosine_restarts_create(
    tl_sched **out, const tl_sched_cosine_restarts_options *options);

/* ------------------------------------------------------------------------
 * One-cycle, PyTorch's flavour = OneCycleLR: from max_lr / div_factor up to
 * max_lr in the first pct_start of the run, then down to
 * max_lr / div_factor / final_div_factor; phase ends at steps
 * pct_start*T - 1 and T - 1 (three_phase: pct_start*T - 1, 2*pct_start*T - 2,
 * T - 1, going back to the initial rate before the final descent).
 * Momentum moves inversely between max_momentum and base_momentum.
 * Past the end (t >= T) the schedule holds its value at T - 1 (PyTorch
 * raises an error there). A phase of zero length is taken as finished
 * (PyTorch divides by zero). Rules: total_steps > 0, 0 <= pct_start <= 1
 * (<= 0.5 with three_phase), div_factor and final_div_factor finite and > 0,
 * rates and momenta finite and >= 0, anneal known.
 * ------------------------------------------------------------------------ */
typedef enum tl_sched_anneal {
  /* cosine annealing between phase ends (OneCycleLR "cos") */
  TL_SCHED_ANNEAL_COS = 0,
  /* linear interpolation between phase ends (OneCycleLR "linear") */
  TL_SCHED_ANNEAL_LINEAR = 1
} tl_sched_anneal;

/* Options of tl_sched_one_cycle_create (the phases above). */
#define TL_SCHED_ONE_CYCLE_OPTIONS_VERSION 1
typedef struct tl_sched_one_cycle_options {
  unsigned int version;    /* TL_SCHED_ONE_CYCLE_OPTIONS_VERSION */
  double max_lr;           /* default 0.01 */
  uint64_t total_steps;    /* default 0, which the constructor rejects */
  double pct_start;        /* default 0.3 */
  double div_factor;       /* default 25 */
  double final_div_factor; /* default 1e4 */
  int three_phase;         /* default 0 */
  tl_sched_anneal anneal;  /* default TL_SCHED_ANNEAL_COS */
  int cycle_momentum;      /* default 1 */
  double base_momentum;    /* default 0.85 */
  double max_momentum;     /* default 0.95 */
} tl_sched_one_cycle_options;
/* The defaults of tl_sched_one_cycle_options_init as a static initialiser:
 * tl_sched_one_cycle_options o = TL_SCHED_ONE_CYCLE_OPTIONS_INIT; */
#define TL_SCHED_ONE_CYCLE_OPTIONS_INIT                                        \
  {                                                                            \
    TL_SCHED_ONE_CYCLE_OPTIONS_VERSION, 0.01, 0, 0.3, 25.0, 1e4, 0,            \
        TL_SCHED_ANNEAL_COS, 1, 0.85, 0.95                                     \
  }

/* Fills *out with torch.optim.lr_scheduler.OneCycleLR's defaults
 * (max_lr 0.01 here, pct_start 0.3, div_factor 25, final_div_factor 1e4,
 * cosine, momentum 0.85 to 0.95); total_steps is 0 and must be set. Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_one_cycle_options_init(
    tl_sched_one_cycle_options *out, unsigned int version);
/* One-cycle in PyTorch's flavour, the phases above, equal to
 * torch.optim.lr_scheduler.OneCycleLR (kind TL_SCHED_ONE_CYCLE); momentum
 * when cycle_momentum is set.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_one_cycle_create(
    tl_sched **out, const tl_sched_one_cycle_options *options);

/* ------------------------------------------------------------------------
 * One-cycle, fastai's flavour = fit_one_cycle: with pos = t / T,
 *   lr  = combined_cos(pct_start, lr_max/div, lr_max, lr_max/div_final)(pos)
 *   mom = combined_cos(pct_start, moms[0], moms[1], moms[2])(pos)
 * where each half is start + (1 + cos(pi * (1 - p))) * (end - start) / 2, p
 * the position inside the half. Past the end pos is clamped to 1: the rate
 * holds lr_max / div_final and the momentum moms[2]. Rules: total_steps > 0,
 * 0 < pct_start < 1, div and div_final finite and > 0, rates and momenta
 * finite and >= 0. Momentum always defined.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION 1
typedef struct tl_sched_fastai_one_cycle_options {
  unsigned int version; /* TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION */
  double lr_max;        /* default 0.001 (fastai's defaults.lr) */
  uint64_t total_steps; /* default 0, which the constructor rejects */
  double pct_start;     /* default 0.25 */
  double div;           /* default 25 */
  double div_final;     /* default 1e5 */
  double moms[3];       /* default {0.95, 0.85, 0.95} */
} tl_sched_fastai_one_cycle_options;
/* The defaults of tl_sched_fastai_one_cycle_options_init as a static
 * initialiser: tl_sched_fastai_one_cycle_options o =
 * TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT; */
#define TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_INIT                                 \
  {                                                                            \
    TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION, 0.001, 0, 0.25, 25.0, 1e5, {    \
      0.95, 0.85, 0.95                                                         \
    }                                                                          \
  }

/* Fills *out with fastai fit_one_cycle's defaults (lr_max 0.001,
 * pct_start 0.25, div 25, div_final 1e5, moms (0.95, 0.85, 0.95));
 * total_steps is 0 and must be set. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_fastai_one_cycle_options_init(
    tl_sched_fastai_one_cycle_options *out, unsigned int version);
/* One-cycle in fastai's flavour, the formula above, equal to the rates
 * and momenta of fastai's Learner.fit_one_cycle (kind
 * TL_SCHED_FASTAI_ONE_CYCLE); momentum always defined.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_fastai_one_cycle_create(
    tl_sched **out, const tl_sched_fastai_one_cycle_options *options);

/* ------------------------------------------------------------------------
 * Linear warm-up (or decay) = LinearLR:
 *   lr = base_lr * (start + (end - start) * min(total_iters, t) / total_iters)
 * After total_iters the rate holds base_lr * end_factor. Rules:
 * total_iters > 0, start_factor finite and > 0, end_factor finite and >= 0,
 * base_lr finite and >= 0. No momentum. tl_sched_total_steps gives
 * total_iters.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_LINEAR_OPTIONS_VERSION 1
typedef struct tl_sched_linear_options {
  unsigned int version; /* TL_SCHED_LINEAR_OPTIONS_VERSION */
  double base_lr;       /* default 0.01 */
  double start_factor;  /* default 1/3 */
  double end_factor;    /* default 1 */
  uint64_t total_iters; /* default 5 */
} tl_sched_linear_options;
/* The defaults of tl_sched_linear_options_init as a static initialiser:
 * tl_sched_linear_options o = TL_SCHED_LINEAR_OPTIONS_INIT; */
#define TL_SCHED_LINEAR_OPTIONS_INIT                                           \
  { TL_SCHED_LINEAR_OPTIONS_VERSION, 0.01, 1.0 / 3.0, 1.0, 5 }

/* Fills *out with torch.optim.lr_scheduler.LinearLR's defaults (factor
 * 1/3 to 1 over 5 steps) at base_lr 0.01. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_linear_options_init(tl_sched_linear_options *out,
                                              unsigned int version);
/* Linear warm-up or decay, the formula above, equal to
 * torch.optim.lr_scheduler.LinearLR (kind TL_SCHED_LINEAR), no momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_linear_create(tl_sched **out,
                                        const tl_sched_linear_options *options);

/* ------------------------------------------------------------------------
 * Constant rate = ConstantLR: lr * factor for t < total_iters, lr after.
 * The defaults (factor 1, total_iters 0) give a plain constant. Rules: lr
 * finite and >= 0, factor finite and >= 0. No momentum. Unbounded.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_CONSTANT_OPTIONS_VERSION 1
typedef struct tl_sched_constant_options {
  unsigned int version; /* TL_SCHED_CONSTANT_OPTIONS_VERSION */
  double lr;            /* default 0.01 */
  double factor;        /* default 1 */
  uint64_t total_iters; /* default 0 */
} tl_sched_constant_options;
/* The defaults of tl_sched_constant_options_init as a static initialiser:
 * tl_sched_constant_options o = TL_SCHED_CONSTANT_OPTIONS_INIT; */
#define TL_SCHED_CONSTANT_OPTIONS_INIT                                         \
  { TL_SCHED_CONSTANT_OPTIONS_VERSION, 0.01, 1.0, 0 }

/* Fills *out with a plain constant 0.01 (factor 1, total_iters 0). Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_constant_options_init(tl_sched_constant_options *out,
                                                unsigned int version);
/* A constant rate, or lr * factor for the first total_iters steps, equal
 * to torch.optim.lr_scheduler.ConstantLR (kind TL_SCHED_CONSTANT), no
 * momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_constant_create(
    tl_sched **out, const tl_sched_constant_options *options);

/* ------------------------------------------------------------------------
 * Step decay = StepLR: lr = base_lr * gamma^floor(t / step_size).
 * Rules: step_size > 0, base_lr finite and >= 0, gamma finite and > 0.
 * No momentum. Unbounded (gamma > 1 may overflow: TL_E_NUMERIC).
 * ------------------------------------------------------------------------ */
#define TL_SCHED_STEP_OPTIONS_VERSION 1
typedef struct tl_sched_step_options {
  unsigned int version; /* TL_SCHED_STEP_OPTIONS_VERSION */
  double base_lr;       /* default 0.01 */
  uint64_t step_size;   /* default 0, which the constructor rejects */
  double gamma;         /* default 0.1 */
} tl_sched_step_options;
/* The defaults of tl_sched_step_options_init as a static initialiser:
 * tl_sched_step_options o = TL_SCHED_STEP_OPTIONS_INIT; */
#define TL_SCHED_STEP_OPTIONS_INIT                                             \
  { TL_SCHED_STEP_OPTIONS_VERSION, 0.01, 0, 0.1 }

/* Fills *out with the defaults (base_lr 0.01, gamma 0.1 as StepLR);
 * step_size is 0 and must be set. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_step_options_init(tl_sched_step_options *out,
                                            unsigned int version);
/* Step decay, lr = base_lr * gamma^floor(t / step_size), equal to
 * torch.optim.lr_scheduler.StepLR (kind TL_SCHED_STEP), no momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_step_create(tl_sched **out,
                                      const tl_sched_step_options *options);

/* ------------------------------------------------------------------------
 * Exponential decay = ExponentialLR: lr = base_lr * gamma^t.
 * Rules: base_lr finite and >= 0, gamma finite and > 0. No momentum.
 * Unbounded (gamma > 1 may overflow: TL_E_NUMERIC).
 * ------------------------------------------------------------------------ */
#define TL_SCHED_EXPONENTIAL_OPTIONS_VERSION 1
typedef struct tl_sched_exponential_options {
  unsigned int version; /* TL_SCHED_EXPONENTIAL_OPTIONS_VERSION */
  double base_lr;       /* default 0.01 */
  double gamma;         /* default 0.99 */
} tl_sched_exponential_options;
/* The defaults of tl_sched_exponential_options_init as a static initialiser:
 * tl_sched_exponential_options o = TL_SCHED_EXPONENTIAL_OPTIONS_INIT; */
#define TL_SCHED_EXPONENTIAL_OPTIONS_INIT                                      \
  { TL_SCHED_EXPONENTIAL_OPTIONS_VERSION, 0.01, 0.99 }

/* Fills *out with the defaults (base_lr 0.01, gamma 0.99). Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_exponential_options_init(
    tl_sched_exponential_options *out, unsigned int version);
/* Exponential decay, lr = base_lr * gamma^t, equal to
 * torch.optim.lr_scheduler.ExponentialLR (kind TL_SCHED_EXPONENTIAL), no
 * momentum.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_exponential_create(
    tl_sched **out, const tl_sched_exponential_options *options);

/* ------------------------------------------------------------------------
 * Multi-step decay = MultiStepLR: lr = base_lr * gamma^k, k the number of
 * milestones <= t. The constructor copies the milestones (the caller keeps
 * its array). Rules: n_milestones > 0, milestones non-decreasing (a repeated
 * milestone applies gamma twice, as in PyTorch), base_lr finite and >= 0,
 * gamma finite and > 0. No momentum. Unbounded.
 * ------------------------------------------------------------------------ */
#define TL_SCHED_MULTI_STEP_OPTIONS_VERSION 1
typedef struct tl_sched_multi_step_options {
  unsigned int version;       /* TL_SCHED_MULTI_STEP_OPTIONS_VERSION */
  double base_lr;             /* default 0.01 */
  const uint64_t *milestones; /* default NULL, which the constructor rejects */
  size_t n_milestones;        /* default 0 */
  double gamma;               /* default 0.1 */
} tl_sched_multi_step_options;
/* The defaults of tl_sched_multi_step_options_init as a static initialiser:
 * tl_sched_multi_step_options o = TL_SCHED_MULTI_STEP_OPTIONS_INIT; */
#define TL_SCHED_MULTI_STEP_OPTIONS_INIT                                       \
  { TL_SCHED_MULTI_STEP_OPTIONS_VERSION, 0.01, NULL, 0, 0.1 }

/* Fills *out with the defaults (base_lr 0.01, gamma 0.1 as MultiStepLR);
 * milestones is NULL and must be set. Errors: TL_E_INVALID_ARG (out NULL),
 * TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_sched_multi_step_options_init(
    tl_sched_multi_step_options *out, unsigned int version);
/* Multi-step decay, lr = base_lr * gamma^(milestones passed), equal to
 * torch.optim.lr_scheduler.MultiStepLR (kind TL_SCHED_MULTI_STEP), no
 * momentum. The milestones are copied.
 * Errors: TL_E_INVALID_ARG (out or options NULL, an option that breaks a
 * rule above: the message names it), TL_E_UNSUPPORTED (options->version),
 * TL_E_NOMEM. Free *out with tl_sched_free. */
TL_API tl_status tl_sched_multi_step_create(
    tl_sched **out, const tl_sched_multi_step_options *options);

/* ------------------------------------------------------------------------
 * Sequential composition (SequentialLR): scheds[0] runs for
 * t < milestones[0], scheds[i] for milestones[i-1] <= t < milestones[i], the
 * last one from milestones[n-2] on. Each child sees the step relative to its
 * own start (t - milestones[i-1]), as PyTorch's scheduler.step(0) at a
 * milestone does. Ownership: the new schedule holds deep copies, so the
 * caller keeps (and frees) the children it passed, which may be freed at
 * once. Children may themselves be sequential. Rules: n >= 1, no NULL child,
 * n - 1 strictly increasing milestones, the first > 0 (milestones may be
 * NULL when n == 1). Momentum is defined at a step when the active child
 * defines it there. tl_sched_total_steps: the last milestone plus the last
 * child's total, or 0 when the last child is unbounded.
 * ------------------------------------------------------------------------ */
TL_API tl_status tl_sched_sequential_create(tl_sched **out,
                                            const tl_sched *const *scheds,
                                            size_t n,
                                            const uint64_t *milestones);

/* Frees a schedule; NULL is a no-op. */
TL_API void tl_sched_free(tl_sched *sched);

/* ------------------------------------------------------------------------
 * Queries. All are pure functions of (sched, step); none changes sched.
 * ------------------------------------------------------------------------ */

/* The learning rate at `step` into *out. Errors: TL_E_INVALID_ARG (NULL),
 * TL_E_NUMERIC (the value overflows; *out untouched). */
TL_API tl_status tl_sched_lr(double *out, const tl_sched *sched, uint64_t step);

/* The momentum (SGD momentum or Adam beta1) at `step` into *out.
 * Errors: TL_E_INVALID_ARG, TL_E_UNSUPPORTED (the schedule, or the child
 * of a sequential one that is active at `step`, has no momentum). */
TL_API tl_status tl_sched_momentum(double *out, const tl_sched *sched,
                                   uint64_t step);

/* 1 if tl_sched_momentum succeeds at every step, else 0 (also for NULL). */
TL_API int tl_sched_has_momentum(const tl_sched *sched);

/* The kind of a schedule into *out. */
TL_API tl_status tl_sched_get_kind(tl_sched_kind *out, const tl_sched *sched);

/* The natural length in steps into *out: total_steps of STLR and both
 * one-cycles, t_max of cosine, total_iters of linear, see sequential; 0 for
 * unbounded schedules (cyclic, restarts, constant, step, exponential,
 * multi-step). */
TL_API tl_status tl_sched_total_steps(uint64_t *out, const tl_sched *sched);

/* The schedule's reference rate into *out: the lr_max / max_lr / base_lr /
 * lr option it was built with (for sequential: that of the child active at
 * `step`). */
TL_API tl_status tl_sched_reference_lr(double *out, const tl_sched *sched,
                                       uint64_t step);

/* lr(step) / reference_lr(step): the schedule's shape, 1 at the reference
 * rate. Errors: as tl_sched_lr, and TL_E_STATE when the reference rate is
 * 0 (no shape to speak of). */
TL_API tl_status tl_sched_multiplier(double *out, const tl_sched *sched,
                                     uint64_t step);

/* Discriminative rates: out_lrs[g] = base_lrs[g] * multiplier(step) for
 * g < n_groups, e.g. base_lrs from ULMFiT's lr / 2.6^(n-1-g). out_lrs may
 * alias base_lrs. Errors: TL_E_INVALID_ARG (NULL, n_groups 0, a base rate
 * negative or not finite), those of tl_sched_multiplier; on error out_lrs
 * is untouched. */
TL_API tl_status tl_sched_fill_group_lrs(double *out_lrs, size_t n_groups,
                                         const tl_sched *sched,
                                         const double *base_lrs, uint64_t step);

/* One schedule per group: out_lrs[g] = lr of scheds[g] at step. Errors:
 * TL_E_INVALID_ARG (NULL array or child, n_groups 0), TL_E_NUMERIC; on error
 * out_lrs is untouched. */
TL_API tl_status tl_sched_fill_group_lrs_each(double *out_lrs, size_t n_groups,
                                              const tl_sched *const *scheds,
                                              uint64_t step);

/* The momentum at step into every out_momenta[g], g < n_groups (groups
 * share one momentum schedule). Errors: those of tl_sched_momentum, and
 * TL_E_INVALID_ARG for n_groups 0; on error out_momenta is untouched. */
TL_API tl_status tl_sched_fill_group_momenta(double *out_momenta,
                                             size_t n_groups,
                                             const tl_sched *sched,
                                             uint64_t step);

/* One momentum schedule per group: out_momenta[g] = momentum of scheds[g]
 * at step. Errors: TL_E_INVALID_ARG (NULL array or child, n_groups 0),
 * TL_E_UNSUPPORTED (a schedule without momentum), TL_E_NUMERIC; on error
 * out_momenta is untouched. */
TL_API tl_status tl_sched_fill_group_momenta_each(double *out_momenta,
                                                  size_t n_groups,
                                                  const tl_sched *const *scheds,
                                                  uint64_t step);

#ifdef __cplusplus
}
#endif

#endif /* TL_SCHED_H */
