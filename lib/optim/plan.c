/* tl_plan: stages of freezing, schedule and discriminative rates, their
 * queries, tl_plan_apply on a tl_optim, and the presets (ULMFiT gradual
 * unfreezing, chain-thaw, fastai fine_tune, feature extraction). */
/* This file defines the experimental presets (docs/api-conventions.md). */
#define TL_EXPERIMENTAL_API
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/options.h"
#include "tl/plan.h"

typedef struct plan_stage {
  tl_plan_freeze freeze;
  size_t first_trainable; /* FREEZE_TO: groups >= this train */
  size_t only_group;      /* ONLY_GROUP */
  uint64_t start, steps;
  tl_sched *sched;  /* owned copy */
  double *base_lrs; /* owned copy or NULL */
  int reset_state;
} plan_stage;

struct tl_plan {
  size_t n_groups;
  size_t n_stages, cap;
  plan_stage *stages;
};

TLI_VERSION_SIZES(stage_sizes, TL_PLAN_STAGE_VERSION,
                  TLI_FIELD_END(tl_plan_stage, reset_state));
TLI_VERSION_SIZES(preset_options_sizes, TL_PLAN_PRESET_OPTIONS_VERSION,
                  TLI_FIELD_END(tl_plan_preset_options, div),
                  TLI_FIELD_END(tl_plan_preset_options, n_stage_lrs));

tl_status tl_plan_stage_init(tl_plan_stage *out, unsigned int version) {
  static const tl_plan_stage defaults = TL_PLAN_STAGE_INIT;
  return TLI_OPTIONS_INIT(out, &defaults, version, stage_sizes,
                          "tl_plan_stage_init");
}

tl_status tl_plan_create(tl_plan **out, size_t n_groups) {
  static const char fn[] = "tl_plan_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(n_groups > 0, TL_E_INVALID_ARG, "%s: n_groups must be > 0", fn);
  tl_plan *p = NULL;
  TLI_TRY(tli_alloc_checked((void **)&p, 1, sizeof *p, fn));
  memset(p, 0, sizeof *p);
  p->n_groups = n_groups;
  *out = p;
  return TL_OK;
}

void tl_plan_free(tl_plan *plan) {
  if (plan == NULL)
    return;
  for (size_t i = 0; i < plan->n_stages; i++) {
    tl_sched_free(plan->stages[i].sched);
    tli_free(plan->stages[i].base_lrs);
  }
  tli_free(plan->stages);
  tli_free(plan);
}

static uint64_t plan_total(const tl_plan *p) {
  if (p->n_stages == 0)
    return 0;
  const plan_stage *last = &p->stages[p->n_stages - 1];
  return last->start + last->steps;
}

tl_status tl_plan_add_stage(tl_plan *plan, const tl_plan_stage *stage) {
  static const char fn[] = "tl_plan_add_stage";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, stage);
  tl_plan_stage copy = TL_PLAN_STAGE_INIT;
  TLI_TRY(TLI_OPTIONS_COPY(&copy, stage, stage_sizes, fn, "stage"));
  stage = &copy; /* from here on, a complete current stage */
  TLI_CHECK(stage->steps > 0, TL_E_INVALID_ARG,
            "%s: stage->steps must be > 0 (got 0)", fn);
  TLI_CHECK(stage->sched != NULL, TL_E_INVALID_ARG, "%s: stage->sched is NULL",
            fn);
  const int64_t n = (int64_t)plan->n_groups;
  size_t first = 0, only = 0;
  if (stage->freeze == TL_PLAN_FREEZE_TO) {
    TLI_CHECK(stage->freeze_arg >= -n && stage->freeze_arg <= n,
              TL_E_INVALID_ARG,
              "%s: stage->freeze_arg %" PRId64
              " out of range for freeze_to over %" PRId64 " "
              "groups",
              fn, stage->freeze_arg, n);
    first = (size_t)(stage->freeze_arg < 0 ? n + stage->freeze_arg
                                           : stage->freeze_arg);
  } else if (stage->freeze == TL_PLAN_ONLY_GROUP) {
    TLI_CHECK(stage->freeze_arg >= 0 && stage->freeze_arg < n, TL_E_INVALID_ARG,
              "%s: stage->freeze_arg %" PRId64 " is not a group (%" PRId64
              " groups)",
              fn, stage->freeze_arg, n);
    only = (size_t)stage->freeze_arg;
  } else {
    return tli_fail(TL_E_INVALID_ARG,
                    "%s: stage->freeze %d is not a freeze kind", fn,
                    (int)stage->freeze);
  }
  if (stage->base_lrs)
    for (size_t g = 0; g < plan->n_groups; g++)
      TLI_CHECK(isfinite(stage->base_lrs[g]) && stage->base_lrs[g] >= 0.0,
                TL_E_INVALID_ARG,
                "%s: stage->base_lrs[%zu] must be finite and >= 0 (got %g)", fn,
                g, stage->base_lrs[g]);
  const uint64_t start = plan_total(plan);
  TLI_CHECK(stage->steps <= UINT64_MAX - start, TL_E_INVALID_ARG,
            "%s: the plan's total steps would overflow", fn);

  if (plan->n_stages == plan->cap) {
    const size_t cap = plan->cap ? 2 * plan->cap : 4;
    plan_stage *grown = NULL;
    TLI_TRY(tli_alloc_checked((void **)&grown, cap, sizeof *grown, fn));
    if (plan->n_stages)
      memcpy(grown, plan->stages, plan->n_stages * sizeof *grown);
    tli_free(plan->stages);
    plan->stages = grown;
    plan->cap = cap;
  }
  plan_stage s = {stage->freeze, first, only, start,
                  stage->steps,  NULL,  NULL, stage->reset_state != 0};
  const tl_sched *one[1] = {stage->sched};
  TLI_TRY(tl_sched_sequential_create(&s.sched, one, 1, NULL));
  if (stage->base_lrs) {
    const tl_status st = tli_alloc_checked((void **)&s.base_lrs, plan->n_groups,
                                           sizeof(double), fn);
    if (st != TL_OK) {
      tl_sched_free(s.sched);
      return st;
    }
    memcpy(s.base_lrs, stage->base_lrs, plan->n_groups * sizeof(double));
  }
  plan->stages[plan->n_stages++] = s;
  return TL_OK;
}

tl_status tl_plan_num_stages(size_t *out, const tl_plan *plan) {
  TLI_CHECK_PTR("tl_plan_num_stages", plan);
  TLI_CHECK_PTR("tl_plan_num_stages", out);
  *out = plan->n_stages;
  return TL_OK;
}

tl_status tl_plan_num_groups(size_t *out, const tl_plan *plan) {
  TLI_CHECK_PTR("tl_plan_num_groups", plan);
  TLI_CHECK_PTR("tl_plan_num_groups", out);
  *out = plan->n_groups;
  return TL_OK;
}

tl_status tl_plan_total_steps(uint64_t *out, const tl_plan *plan) {
  TLI_CHECK_PTR("tl_plan_total_steps", plan);
  TLI_CHECK_PTR("tl_plan_total_steps", out);
  *out = plan_total(plan);
  return TL_OK;
}

tl_status tl_plan_stage_bounds(uint64_t *out_start, uint64_t *out_steps,
                               const tl_plan *plan, size_t stage) {
  static const char fn[] = "tl_plan_stage_bounds";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, out_start);
  TLI_CHECK_PTR(fn, out_steps);
  TLI_CHECK(stage < plan->n_stages, TL_E_INVALID_ARG,
            "%s: stage %zu out of range (%zu stages)", fn, stage,
            plan->n_stages);
  *out_start = plan->stages[stage].start;
  *out_steps = plan->stages[stage].steps;
  return TL_OK;
}

/* The stage running at `step` (the last one past the end). */
static size_t stage_index(const tl_plan *p, uint64_t step) {
  size_t i = p->n_stages - 1;
  while (i > 0 && step < p->stages[i].start)
    i--;
  return i;
}

tl_status tl_plan_stage_at(size_t *out_stage, uint64_t *out_local,
                           const tl_plan *plan, uint64_t step) {
  static const char fn[] = "tl_plan_stage_at";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, out_stage);
  TLI_CHECK_PTR(fn, out_local);
  TLI_CHECK(plan->n_stages > 0, TL_E_STATE, "%s: the plan has no stage", fn);
  const size_t i = stage_index(plan, step);
  *out_stage = i;
  *out_local = step - plan->stages[i].start;
  return TL_OK;
}

static int trainable(const plan_stage *s, size_t g) {
  return s->freeze == TL_PLAN_ONLY_GROUP ? g == s->only_group
                                         : g >= s->first_trainable;
}

tl_status tl_plan_group_trainable(int *out, const tl_plan *plan, size_t stage,
                                  size_t group) {
  static const char fn[] = "tl_plan_group_trainable";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(stage < plan->n_stages, TL_E_INVALID_ARG,
            "%s: stage %zu out of range (%zu stages)", fn, stage,
            plan->n_stages);
  TLI_CHECK(group < plan->n_groups, TL_E_INVALID_ARG,
            "%s: group %zu out of range (%zu groups)", fn, group,
            plan->n_groups);
  *out = trainable(&plan->stages[stage], group);
  return TL_OK;
}

/* Fills out[0..n_groups) for a global step (validated plan, n_stages > 0). */
static tl_status fill_lrs(const tl_plan *p, double *out, uint64_t step) {
  const size_t i = stage_index(p, step);
  const plan_stage *s = &p->stages[i];
  const uint64_t local = step - s->start;
  if (s->base_lrs)
    return tl_sched_fill_group_lrs(out, p->n_groups, s->sched, s->base_lrs,
                                   local);
  double lr;
  TLI_TRY(tl_sched_lr(&lr, s->sched, local));
  for (size_t g = 0; g < p->n_groups; g++)
    out[g] = lr;
  return TL_OK;
}

tl_status tl_plan_lrs(double *out_lrs, size_t n, const tl_plan *plan,
                      uint64_t step) {
  static const char fn[] = "tl_plan_lrs";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, out_lrs);
  TLI_CHECK(n == plan->n_groups, TL_E_SHAPE,
            "%s: n is %zu but the plan has %zu groups", fn, n, plan->n_groups);
  TLI_CHECK(plan->n_stages > 0, TL_E_STATE, "%s: the plan has no stage", fn);
  return fill_lrs(plan, out_lrs, step);
}

tl_status tl_plan_momentum(double *out, const tl_plan *plan, uint64_t step) {
  static const char fn[] = "tl_plan_momentum";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK(plan->n_stages > 0, TL_E_STATE, "%s: the plan has no stage", fn);
  const plan_stage *s = &plan->stages[stage_index(plan, step)];
  return tl_sched_momentum(out, s->sched, step - s->start);
}

tl_status tl_plan_apply(int *out_stage_started, const tl_plan *plan,
                        tl_optim *optim, uint64_t step) {
  static const char fn[] = "tl_plan_apply";
  TLI_CHECK_PTR(fn, plan);
  TLI_CHECK_PTR(fn, optim);
  TLI_CHECK(plan->n_stages > 0, TL_E_STATE, "%s: the plan has no stage", fn);
  size_t n_groups;
  TLI_TRY(tl_optim_num_groups(&n_groups, optim));
  TLI_CHECK(n_groups == plan->n_groups, TL_E_SHAPE,
            "%s: the optimizer has %zu groups, the plan %zu", fn, n_groups,
            plan->n_groups);
  const plan_stage *s = &plan->stages[stage_index(plan, step)];
  const uint64_t local = step - s->start;
  /* Compute and check every value first so that a failure changes
   * nothing; no buffer is needed (the plan stays read-only and apply
   * allocates nothing). Group g's rate is base_lrs[g] * m, or lr. */
  double m = 1.0, lr = 0.0;
  if (s->base_lrs) {
    TLI_TRY(tl_sched_multiplier(&m, s->sched, local));
    for (size_t g = 0; g < n_groups; g++)
      TLI_CHECK(isfinite(s->base_lrs[g] * m), TL_E_NUMERIC,
                "%s: base_lrs[%zu] * multiplier overflows", fn, g);
  } else {
    TLI_TRY(tl_sched_lr(&lr, s->sched, local));
  }
  const int has_mom = tl_sched_has_momentum(s->sched);
  double mom = 0.0;
  if (has_mom) {
    TLI_TRY(tl_sched_momentum(&mom, s->sched, local));
    TLI_CHECK(mom >= 0.0 && mom < 1.0, TL_E_INVALID_ARG,
              "%s: the schedule's momentum %g at step %llu is outside [0, 1)",
              fn, mom, (unsigned long long)step);
  }
  for (size_t g = 0; g < n_groups; g++)
    TLI_TRY(tl_optim_set_group_trainable(optim, g, trainable(s, g)));
  if (local == 0 && s->reset_state)
    TLI_TRY(tl_optim_reset_state(optim));
  for (size_t g = 0; g < n_groups; g++) {
    TLI_TRY(
        tl_optim_set_group_lr(optim, g, s->base_lrs ? s->base_lrs[g] * m : lr));
    if (has_mom)
      TLI_TRY(tl_optim_set_group_hparam(optim, g, TL_OPTIM_MOMENTUM, mom));
  }
  if (out_stage_started)
    *out_stage_started = local == 0;
  return TL_OK;
}

/* ---- presets ------------------------------------------------------------ */

tl_status tl_plan_preset_options_init(tl_plan_preset_options *out,
                                      unsigned int version,
                                      tl_plan_preset preset) {
  static const char fn[] = "tl_plan_preset_options_init";
  TLI_CHECK_PTR(fn, out);
  TLI_TRY(tli_version_check(version, TL_PLAN_PRESET_OPTIONS_VERSION, fn,
                            "version"));
  TLI_CHECK(preset >= TL_PLAN_PRESET_ULMFIT &&
                preset <= TL_PLAN_PRESET_FEATURE_EXTRACTION,
            TL_E_INVALID_ARG, "%s: preset %d is not a plan preset", fn,
            (int)preset);
  const tl_plan_preset_options defaults = TL_PLAN_PRESET_OPTIONS_INIT(preset);
  return TLI_OPTIONS_INIT(out, &defaults, version, preset_options_sizes, fn);
}

/* Adds one stage; frees nothing (the caller frees sched). */
static tl_status add(tl_plan *p, tl_plan_freeze freeze, int64_t arg,
                     uint64_t steps, const tl_sched *sched,
                     const double *base_lrs) {
  tl_plan_stage st;
  tl_plan_stage_init(&st, TL_PLAN_STAGE_VERSION);
  st.freeze = freeze, st.freeze_arg = arg, st.steps = steps;
  st.sched = sched, st.base_lrs = base_lrs, st.reset_state = 1;
  return tl_plan_add_stage(p, &st);
}

static tl_status fastai_cycle(tl_sched **out, double lr, uint64_t steps,
                              double pct_start, double div) {
  tl_sched_fastai_one_cycle_options o;
  tl_sched_fastai_one_cycle_options_init(
      &o, TL_SCHED_FASTAI_ONE_CYCLE_OPTIONS_VERSION);
  o.lr_max = lr, o.total_steps = steps, o.pct_start = pct_start, o.div = div;
  return tl_sched_fastai_one_cycle_create(out, &o);
}

static tl_status build_ulmfit(tl_plan *p, const tl_plan_preset_options *o,
                              double *base) {
  const size_t n = o->n_groups;
  for (size_t k = 0; k < n; k++) {
    const int last = k + 1 == n;
    /* This stage's top rate (fastai's walk-through changes it per stage),
     * the groups below divided by factor each. */
    const double top = o->stage_lrs ? o->stage_lrs[k] : o->lr;
    base[n - 1] = top;
    for (size_t g = n - 1; g-- > 0;)
      base[g] = base[g + 1] / o->factor;
    tl_sched_stlr_options so;
    tl_sched_stlr_options_init(&so, TL_SCHED_STLR_OPTIONS_VERSION);
    so.lr_max = top, so.cut_frac = o->cut_frac, so.ratio = o->ratio;
    so.total_steps = last ? o->final_steps : o->stage_steps;
    tl_sched *s = NULL;
    TLI_TRY(tl_sched_stlr_create(&s, &so));
    const tl_status st = add(p, TL_PLAN_FREEZE_TO, last ? 0 : -(long)(k + 1),
                             so.total_steps, s, base);
    tl_sched_free(s);
    TLI_TRY(st);
  }
  return TL_OK;
}

static tl_status build_chain_thaw(tl_plan *p, const tl_plan_preset_options *o) {
  tl_sched_constant_options co;
  tl_sched_constant_options_init(&co, TL_SCHED_CONSTANT_OPTIONS_VERSION);
  co.lr = o->lr;
  tl_sched *s = NULL;
  TLI_TRY(tl_sched_constant_create(&s, &co));
  const long n = (long)o->n_groups;
  tl_status st = add(p, TL_PLAN_ONLY_GROUP, n - 1, o->stage_steps, s, NULL);
  for (long g = 0; st == TL_OK && g < n - 1; g++)
    st = add(p, TL_PLAN_ONLY_GROUP, g, o->stage_steps, s, NULL);
  if (st == TL_OK)
    st = add(p, TL_PLAN_FREEZE_TO, 0, o->final_steps, s, NULL);
  tl_sched_free(s);
  return st;
}

static tl_status build_fine_tune(tl_plan *p, const tl_plan_preset_options *o,
                                 double *base) {
  const size_t n = o->n_groups;
  /* fastai: freeze(); fit_one_cycle(freeze_epochs, slice(base_lr),
   * pct_start=0.99). slice(hi): groups 0..n-2 get hi/10, the last hi. */
  for (size_t g = 0; g < n; g++)
    base[g] = g + 1 == n ? o->lr : o->lr / 10.0;
  tl_sched *s = NULL;
  TLI_TRY(fastai_cycle(&s, o->lr, o->stage_steps, 0.99, 25.0));
  tl_status st = add(p, TL_PLAN_FREEZE_TO, -1, o->stage_steps, s, base);
  tl_sched_free(s);
  TLI_TRY(st);
  /* base_lr /= 2; unfreeze(); fit_one_cycle(epochs, slice(base_lr/lr_mult,
   * base_lr), pct_start, div): rates even (geometric) over the groups. */
  const double hi = o->lr / 2.0, lo = hi / o->lr_mult;
  for (size_t g = 0; g < n; g++)
    base[g] = n == 1 ? hi : lo * pow(hi / lo, (double)g / (double)(n - 1));
  s = NULL;
  TLI_TRY(fastai_cycle(&s, hi, o->final_steps, o->pct_start, o->div));
  st = add(p, TL_PLAN_FREEZE_TO, 0, o->final_steps, s, base);
  tl_sched_free(s);
  return st;
}

static tl_status build_feature_extraction(tl_plan *p,
                                          const tl_plan_preset_options *o) {
  tl_sched *s = NULL;
  TLI_TRY(fastai_cycle(&s, o->lr, o->final_steps, o->pct_start, o->div));
  const tl_status st = add(p, TL_PLAN_FREEZE_TO, -1, o->final_steps, s, NULL);
  tl_sched_free(s);
  return st;
}

tl_status tl_plan_preset_create(tl_plan **out, tl_plan_preset preset,
                                const tl_plan_preset_options *options) {
  static const char fn[] = "tl_plan_preset_create";
  TLI_CHECK_PTR(fn, out);
  TLI_CHECK_PTR(fn, options);
  TLI_CHECK(preset >= TL_PLAN_PRESET_ULMFIT &&
                preset <= TL_PLAN_PRESET_FEATURE_EXTRACTION,
            TL_E_INVALID_ARG, "%s: preset %d is not a plan preset", fn,
            (int)preset);
  /* Fields the caller's version lacks take this preset's defaults. */
  tl_plan_preset_options copy = TL_PLAN_PRESET_OPTIONS_INIT(preset);
  TLI_TRY(
      TLI_OPTIONS_COPY(&copy, options, preset_options_sizes, fn, "options"));
  const tl_plan_preset_options *o = &copy;
  TLI_CHECK(o->n_groups > 0, TL_E_INVALID_ARG,
            "%s: options->n_groups must be > 0", fn);
  TLI_CHECK(isfinite(o->lr) && o->lr > 0.0, TL_E_INVALID_ARG,
            "%s: options->lr must be finite and > 0 (got %g)", fn, o->lr);
  TLI_CHECK(o->final_steps > 0, TL_E_INVALID_ARG,
            "%s: options->final_steps must be > 0 (got 0)", fn);
  const int staged = preset != TL_PLAN_PRESET_FEATURE_EXTRACTION &&
                     !(preset == TL_PLAN_PRESET_ULMFIT && o->n_groups == 1);
  TLI_CHECK(!staged || o->stage_steps > 0, TL_E_INVALID_ARG,
            "%s: options->stage_steps must be > 0 (got 0)", fn);
  if (preset == TL_PLAN_PRESET_ULMFIT)
    TLI_CHECK(isfinite(o->factor) && o->factor >= 1.0, TL_E_INVALID_ARG,
              "%s: options->factor must be finite and >= 1 (got %g)", fn,
              o->factor);
  if (o->stage_lrs != NULL || o->n_stage_lrs != 0) {
    TLI_CHECK(preset == TL_PLAN_PRESET_ULMFIT, TL_E_INVALID_ARG,
              "%s: options->stage_lrs is for TL_PLAN_PRESET_ULMFIT only", fn);
    TLI_CHECK(o->stage_lrs != NULL && o->n_stage_lrs == o->n_groups,
              TL_E_INVALID_ARG,
              "%s: options->stage_lrs needs one rate per stage: n_stage_lrs "
              "%zu, n_groups %zu",
              fn, o->n_stage_lrs, o->n_groups);
    for (size_t k = 0; k < o->n_stage_lrs; k++)
      TLI_CHECK(isfinite(o->stage_lrs[k]) && o->stage_lrs[k] > 0.0,
                TL_E_INVALID_ARG,
                "%s: options->stage_lrs[%zu] must be finite and > 0 (got %g)",
                fn, k, o->stage_lrs[k]);
  }
  if (preset == TL_PLAN_PRESET_FINE_TUNE)
    TLI_CHECK(isfinite(o->lr_mult) && o->lr_mult > 0.0, TL_E_INVALID_ARG,
              "%s: options->lr_mult must be finite and > 0 (got %g)", fn,
              o->lr_mult);
  /* cut_frac, ratio, pct_start and div are checked by the schedules. */
  tl_plan *p = NULL;
  TLI_TRY(tl_plan_create(&p, o->n_groups));
  double *base = NULL;
  tl_status st =
      tli_alloc_checked((void **)&base, o->n_groups, sizeof(double), fn);
  if (st == TL_OK) {
    switch (preset) {
    case TL_PLAN_PRESET_ULMFIT: st = build_ulmfit(p, o, base); break;
    case TL_PLAN_PRESET_CHAIN_THAW: st = build_chain_thaw(p, o); break;
    case TL_PLAN_PRESET_FINE_TUNE: st = build_fine_tune(p, o, base); break;
    case TL_PLAN_PRESET_FEATURE_EXTRACTION:
    default: st = build_feature_extraction(p, o); break;
    }
  }
  tli_free(base);
  if (st != TL_OK) {
    tl_plan_free(p);
    return st;
  }
  *out = p;
  return TL_OK;
}
